//! The conformance contract as code: the rules every correct connector meets, whatever its
//! wording, optional details or CSR bytes (`docs/conformance.md` is the same for people).
//!
//! [`judge`] reads a stream and, when it has one, the [`WorldRecord`] of the run that wrote it,
//! and returns a typed [`Violation`] per broken rule, naming the rule, the event by sequence
//! number, what was expected, what came and where the rule comes from. `run` (in-process and
//! through `--connector-cmd`), `check --scenario` and the property tests all call it, so they
//! give the same verdict on the same events.

mod exactly_once;
mod rule;
mod stream;
mod world;
mod world_rules;

pub use rule::{Rule, Source, Violation};
pub use stream::vocabulary;
pub use world::{
    EnrollmentRecord, IssueOutcome, IssuedCertificate, NotifiedCertificate, PkcsRequest,
    PolicyDecision, RevocationRequest, StepMark, WorldRecord,
};

use crate::catalog::{Detail, EventId};
use crate::event::EventRecord;

/// Which queue a request event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Pkcs,
    Revoke,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Pkcs => "pkcs",
            Kind::Revoke => "revoke",
        }
    }

    fn result_events(self) -> &'static str {
        match self {
            Kind::Pkcs => "issue (20100/20102)",
            Kind::Revoke => "revoke (20200/20202)",
        }
    }
}

/// The queue an event is about: PKCS issue and revoke events by their id, upload events by
/// their `request_kind`.
pub(crate) fn kind_of(r: &EventRecord) -> Option<Kind> {
    match r.event {
        EventId::PkcsCertIssueSuccess | EventId::PkcsCertIssueFailure => Some(Kind::Pkcs),
        EventId::RevokeCertSuccess | EventId::RevokeCertFailure => Some(Kind::Revoke),
        EventId::UploadSuccess | EventId::UploadFailure => {
            match r.details.get(Detail::RequestKind) {
                Some("pkcs") => Some(Kind::Pkcs),
                Some("revoke") => Some(Kind::Revoke),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `event #3 20100 PkcsCertIssue_Success with 0x00000000`.
pub(crate) fn describe(r: &EventRecord) -> String {
    format!(
        "event #{} {} {} with {}",
        r.sequence,
        r.event.id(),
        r.event.name(),
        r.code
    )
}

/// Every broken rule of the contract in `records`. Without `world` only the rules of the
/// stream itself are judged (a log checked on its own); `drained` is the scenario's
/// `expect.drained`. The catalog's pairs and the scenario's expectations are judged beside
/// this, by the sink or the log reader and by [`crate::check`]'s expectations.
pub fn judge(
    records: &[EventRecord],
    world: Option<&WorldRecord>,
    drained: bool,
) -> Vec<Violation> {
    let mut out = Vec::new();
    stream::details(records, &mut out);
    stream::request_order(records, &mut out);
    stream::scep_order(records, &mut out);
    if world.is_none() {
        // Without the steps, the stream alone says when the service was stopped.
        stream::after_stop(records, &mut out);
    }
    if let Some(w) = world {
        world_rules::lifecycle(records, w, &mut out);
        world_rules::requests(records, w, &mut out);
        world_rules::uploads(records, w, &mut out);
        world_rules::revocations(records, w, &mut out);
        world_rules::scep(records, w, &mut out);
        world_rules::renewals(records, w, &mut out);
        out.extend(exactly_once::check(&w.intune, &w.issued, drained));
    }
    out
}
