//! The invariants every random world must keep, each able to fail on its own: checked on the
//! run's event stream, on what the fakes recorded (Intune's upload ledger, the CA's issued
//! certificates) and against what the scenario's own steps promise ([`Plan`]).

use std::collections::BTreeMap;
use std::fmt;

use connector_harness::catalog::{Detail, EventId};
use connector_harness::event::EventRecord;
use connector_harness::run::{Outcome, Recorded};

use super::lower::Plan;

/// Which invariant a violation breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Invariant {
    /// The harness's own checks (catalog, expectations, step errors, harness errors) passed.
    HarnessChecks,
    /// Only (event, code) pairs of the catalog are in the stream.
    CatalogPairs,
    /// Sequence numbers start at 1 and go up by one.
    Sequence,
    /// Every queued request has its final result recorded (after the liveness phase).
    Lost,
    /// No request has more than one final result, and none was uploaded again after it.
    Duplicated,
    /// No result was uploaded for an id Intune never queued.
    Unexpected,
    /// No result contradicts itself.
    Contradictory,
    /// The CA never issued twice for one certificate request.
    IssuedTwice,
    /// Each request's events agree with Intune's ledger: one outcome event (20100 / 20102,
    /// 20200 / 20202) before its final result, at most one success, and a 20300 for each
    /// result Intune kept.
    Terminal,
    /// The stream's successes agree with the CA: every 20100 and 20600 names a certificate the
    /// CA issued to that device, every 20200 one it revoked, and the CA issued to no enrolling
    /// device more often than the policy module verified it (20500).
    CaAgrees,
    /// Every enrollment that reaches the policy module has one verify event, the others none.
    Verify,
    /// At most one notify event per enrollment, and only after a successful verification.
    Notify,
    /// 10010 opens every run of the service and 10020 closes it; nothing happens outside one.
    Lifecycle,
    /// The same seed twice writes a byte-identical stream.
    Determinism,
    /// An invariant no stream keeps, forced on to prove the failure path (see `FORCE_ENV`).
    Forced,
}

impl Invariant {
    /// A short name, used in file names and reports.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::HarnessChecks => "harness-checks",
            Invariant::CatalogPairs => "catalog-pairs",
            Invariant::Sequence => "sequence",
            Invariant::Lost => "lost",
            Invariant::Duplicated => "duplicated",
            Invariant::Unexpected => "unexpected",
            Invariant::Contradictory => "contradictory",
            Invariant::IssuedTwice => "issued-twice",
            Invariant::Terminal => "terminal",
            Invariant::CaAgrees => "ca-agrees",
            Invariant::Verify => "verify",
            Invariant::Notify => "notify",
            Invariant::Lifecycle => "lifecycle",
            Invariant::Determinism => "determinism",
            Invariant::Forced => "forced",
        }
    }
}

/// One broken invariant, with what broke it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant.
    pub invariant: Invariant,
    /// What was seen.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.invariant.name(), self.detail)
    }
}

fn v(invariant: Invariant, detail: impl Into<String>) -> Violation {
    Violation {
        invariant,
        detail: detail.into(),
    }
}

/// What one world's two runs gave.
pub struct Runs<'a> {
    /// The first run.
    pub outcome: &'a Outcome,
    /// What the fakes recorded in it (`None` if its world could not be set up).
    pub recorded: Option<&'a Recorded>,
    /// The first run's stream as snapshot YAML.
    pub yaml: &'a str,
    /// The second run's.
    pub second_yaml: &'a str,
}

/// Every invariant `runs` breaks; `force` adds one no stream keeps.
pub fn check(plan: &Plan, runs: &Runs<'_>, force: bool) -> Vec<Violation> {
    let events = &runs.outcome.events;
    let mut out: Vec<Violation> = runs
        .outcome
        .problems
        .iter()
        .map(|p| v(Invariant::HarnessChecks, p.clone()))
        .collect();
    out.extend(catalog_pairs(events));
    out.extend(sequence(events));
    match runs.recorded {
        Some(r) => {
            out.extend(exactly_once(plan, r));
            out.extend(terminal(events, r));
            out.extend(ca_agrees(plan, events, r));
        }
        None => out.push(v(Invariant::HarnessChecks, "the world was not set up")),
    }
    out.extend(enrollments(plan, events));
    out.extend(lifecycle(plan, events));
    if runs.yaml != runs.second_yaml {
        out.push(v(
            Invariant::Determinism,
            first_difference(runs.yaml, runs.second_yaml),
        ));
    }
    if force
        && events
            .iter()
            .any(|r| r.event == EventId::StartedConnectorService)
    {
        out.push(v(
            Invariant::Forced,
            "the stream has a 10010 StartedConnectorService (an impossible invariant, forced on)",
        ));
    }
    out
}

fn shown(r: &EventRecord) -> String {
    format!(
        "#{} {} {} {}",
        r.sequence,
        r.event.id(),
        r.event.name(),
        r.details.get(Detail::DeviceId).unwrap_or("")
    )
}

fn catalog_pairs(events: &[EventRecord]) -> Vec<Violation> {
    events
        .iter()
        .filter(|r| !r.pair().is_allowed())
        .map(|r| {
            v(
                Invariant::CatalogPairs,
                format!("event #{} is {}, not a catalog pair", r.sequence, r.pair()),
            )
        })
        .collect()
}

fn sequence(events: &[EventRecord]) -> Vec<Violation> {
    events
        .iter()
        .zip(1u64..)
        .find(|(r, want)| r.sequence != *want)
        .map(|(r, want)| {
            v(
                Invariant::Sequence,
                format!(
                    "event {want} of the stream has sequence number {}",
                    r.sequence
                ),
            )
        })
        .into_iter()
        .collect()
}

/// After Jepsen's total-queue checker: lost, duplicated and unexpected reported apart, from
/// Intune's ledger; and the CA's issuance once per request.
fn exactly_once(plan: &Plan, r: &Recorded) -> Vec<Violation> {
    use connector_harness::contract::intune::admin::Queue;
    let mut out = Vec::new();
    for (queue, want, what) in [
        (Queue::Pkcs, plan.pkcs_requests, "PKCS requests"),
        (Queue::Revocation, plan.revocations, "revocations"),
    ] {
        let got = r.intune.ledger.iter().filter(|e| e.queue == queue).count();
        if got < want {
            out.push(v(
                Invariant::Lost,
                format!("the steps queued {want} {what}, Intune's ledger knows {got}"),
            ));
        } else if got > want {
            out.push(v(
                Invariant::Unexpected,
                format!("the steps queued {want} {what}, Intune's ledger has {got}"),
            ));
        }
    }
    for e in &r.intune.ledger {
        if plan.usable && e.recorded == 0 {
            out.push(v(
                Invariant::Lost,
                format!(
                    "{:?} {} has no final result after the liveness phase ({} requeued, {})",
                    e.queue,
                    e.request_id,
                    e.requeued,
                    if e.pending {
                        "still queued"
                    } else {
                        "not queued"
                    }
                ),
            ));
        }
        if e.recorded > 1 || e.duplicates > 0 {
            out.push(v(
                Invariant::Duplicated,
                format!(
                    "{:?} {}: {} final results recorded, {} more refused as duplicates",
                    e.queue, e.request_id, e.recorded, e.duplicates
                ),
            ));
        }
        if e.contradictory > 0 {
            out.push(v(
                Invariant::Contradictory,
                format!(
                    "{:?} {}: {} results contradicted themselves",
                    e.queue, e.request_id, e.contradictory
                ),
            ));
        }
    }
    if r.intune.unknown_uploads > 0 {
        out.push(v(
            Invariant::Unexpected,
            format!(
                "{} results uploaded for ids never queued (e.g. {:?})",
                r.intune.unknown_uploads, r.intune.unknown_examples
            ),
        ));
    }
    let mut by_request: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &r.issued {
        by_request
            .entry(&c.request_digest)
            .or_default()
            .push(&c.serial);
    }
    for (digest, serials) in by_request.into_iter().filter(|(_, s)| s.len() > 1) {
        out.push(v(
            Invariant::IssuedTwice,
            format!("the CA issued {serials:?} for one request (SHA-256 {digest})"),
        ));
    }
    out
}

/// The stream's account of each request against Intune's ledger.
fn terminal(events: &[EventRecord], r: &Recorded) -> Vec<Violation> {
    use connector_harness::contract::intune::admin::Queue;
    #[derive(Default)]
    struct Seen {
        successes: u32,
        failures: u32,
        uploaded: u32,
    }
    let mut seen: BTreeMap<(Queue, &str), Seen> = BTreeMap::new();
    for e in events {
        let Some(id) = e.details.get(Detail::RequestId) else {
            continue;
        };
        let (queue, kind) = match e.event {
            EventId::PkcsCertIssueSuccess => (Queue::Pkcs, 0),
            EventId::PkcsCertIssueFailure => (Queue::Pkcs, 1),
            EventId::RevokeCertSuccess => (Queue::Revocation, 0),
            EventId::RevokeCertFailure => (Queue::Revocation, 1),
            EventId::UploadSuccess => match e.details.get(Detail::RequestKind) {
                Some("revoke") => (Queue::Revocation, 2),
                _ => (Queue::Pkcs, 2),
            },
            _ => continue,
        };
        let s = seen.entry((queue, id)).or_default();
        match kind {
            0 => s.successes += 1,
            1 => s.failures += 1,
            _ => s.uploaded += 1,
        }
    }
    let mut out = Vec::new();
    for e in &r.intune.ledger {
        let s = seen
            .remove(&(e.queue, e.request_id.as_str()))
            .unwrap_or_default();
        let what = format!("{:?} {}", e.queue, e.request_id);
        if s.successes > 1 {
            out.push(v(
                Invariant::Terminal,
                format!("{what} has {} success events", s.successes),
            ));
        }
        if e.recorded > 0 && s.successes + s.failures == 0 {
            out.push(v(
                Invariant::Terminal,
                format!("{what} has a final result but no outcome event"),
            ));
        }
        if s.uploaded != e.recorded + e.requeued {
            out.push(v(
                Invariant::Terminal,
                format!(
                    "{what}: {} Upload_Success events, but Intune kept {} results ({} final, {} requeued)",
                    s.uploaded,
                    e.recorded + e.requeued,
                    e.recorded,
                    e.requeued
                ),
            ));
        }
    }
    for ((queue, id), _) in seen {
        out.push(v(
            Invariant::Terminal,
            format!("events name {queue:?} {id}, which Intune never queued"),
        ));
    }
    out
}

/// The stream against the CA's own record of what it issued and revoked.
fn ca_agrees(plan: &Plan, events: &[EventRecord], r: &Recorded) -> Vec<Violation> {
    let mut out = Vec::new();
    fn issued_to<'a>(
        r: &'a Recorded,
        device: &'a str,
    ) -> impl Iterator<Item = &'a connector_harness::fakes::ca::IssuedCert> + 'a {
        r.issued
            .iter()
            .filter(move |c| c.subject_cn.as_deref() == Some(device))
    }
    for e in events {
        let device = e.details.get(Detail::DeviceId).unwrap_or("");
        let serial = e
            .details
            .get(Detail::SerialNumber)
            .map(str::to_ascii_uppercase);
        match e.event {
            EventId::PkcsCertIssueSuccess if issued_to(r, device).next().is_none() => {
                out.push(v(
                    Invariant::CaAgrees,
                    format!("{} but the CA issued nothing to {device}", shown(e)),
                ));
            }
            EventId::CrpNotifyMetricSuccess
                if !issued_to(r, device).any(|c| Some(c.serial.to_ascii_uppercase()) == serial) =>
            {
                out.push(v(
                    Invariant::CaAgrees,
                    format!(
                        "{} names serial {serial:?}, which the CA did not issue to {device}",
                        shown(e)
                    ),
                ));
            }
            EventId::RevokeCertSuccess
                if !r
                    .issued
                    .iter()
                    .any(|c| c.revoked && Some(c.serial.to_ascii_uppercase()) == serial) =>
            {
                out.push(v(
                    Invariant::CaAgrees,
                    format!("{} but the CA has not revoked serial {serial:?}", shown(e)),
                ));
            }
            _ => {}
        }
    }
    let mut devices: Vec<&str> = plan.enrollments.iter().map(|e| e.device.as_str()).collect();
    devices.sort_unstable();
    devices.dedup();
    for device in devices {
        let certificates = issued_to(r, device).count();
        let other = format!("{device}-other");
        let verified = events
            .iter()
            .filter(|e| e.event == EventId::CrpVerifyMetricSuccess)
            .filter(
                |e| matches!(e.details.get(Detail::DeviceId), Some(d) if d == device || d == other),
            )
            .count();
        if certificates > verified {
            out.push(v(
                Invariant::CaAgrees,
                format!("the CA issued {certificates} certificates to {device}, which the policy module verified {verified} times"),
            ));
        }
    }
    out
}

fn is_verify(e: EventId) -> bool {
    matches!(
        e,
        EventId::CrpVerifyMetricSuccess
            | EventId::CrpVerifyMetricWarning
            | EventId::CrpVerifyMetricFailure
    )
}

fn is_notify(e: EventId) -> bool {
    matches!(
        e,
        EventId::CrpNotifyMetricSuccess | EventId::CrpNotifyMetricFailure
    )
}

/// The policy module's events, in order, against the enrollments that reach it: each has one
/// verify event naming its device (or the device its challenge was minted for), then at most
/// one notify event, and a notify only after a successful verification.
fn enrollments(plan: &Plan, events: &[EventRecord]) -> Vec<Violation> {
    let crp: Vec<&EventRecord> = events
        .iter()
        .filter(|r| is_verify(r.event) || is_notify(r.event))
        .collect();
    let mut out = Vec::new();
    let mut at = 0;
    for (n, e) in plan
        .enrollments
        .iter()
        .enumerate()
        .filter(|(_, e)| e.reaches_policy)
    {
        let names = |r: &EventRecord| {
            let d = r.details.get(Detail::DeviceId).unwrap_or("");
            d == e.device || d == format!("{}-other", e.device)
        };
        let Some(verify) = crp.get(at).filter(|r| is_verify(r.event) && names(r)) else {
            out.push(v(
                Invariant::Verify,
                format!(
                    "enrollment {} ({}) reaches the policy module but the next policy event is {}",
                    n + 1,
                    e.device,
                    crp.get(at)
                        .map(|r| shown(r))
                        .unwrap_or_else(|| "none".into())
                ),
            ));
            return out;
        };
        at += 1;
        let mut notified = 0;
        while let Some(r) = crp.get(at).filter(|r| is_notify(r.event)) {
            notified += 1;
            if verify.event != EventId::CrpVerifyMetricSuccess {
                out.push(v(
                    Invariant::Notify,
                    format!(
                        "{} follows a refused verification {}",
                        shown(r),
                        shown(verify)
                    ),
                ));
            }
            if !names(r) {
                out.push(v(
                    Invariant::Notify,
                    format!("{} is not about {}", shown(r), e.device),
                ));
            }
            at += 1;
        }
        if notified > 1 {
            out.push(v(
                Invariant::Notify,
                format!(
                    "enrollment {} ({}) has {notified} notify events",
                    n + 1,
                    e.device
                ),
            ));
        }
    }
    if let Some(extra) = crp.get(at) {
        let refused: Vec<&str> = plan
            .enrollments
            .iter()
            .filter(|e| !e.reaches_policy)
            .map(|e| e.device.as_str())
            .collect();
        out.push(v(
            Invariant::Verify,
            format!(
                "{} policy events beyond the enrollments that reach the policy module, from {} (NDES refused {refused:?} before it)",
                crp.len() - at,
                shown(extra)
            ),
        ));
    }
    out
}

/// 10010 opens a run and 10020 closes it; every other event lies inside a run, except the
/// start's own report of the registration certificate it found (10301 / 10302), which the
/// service writes just before its 10010.
fn lifecycle(plan: &Plan, events: &[EventRecord]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut running = false;
    let (mut starts, mut stops) = (0, 0);
    for (i, r) in events.iter().enumerate() {
        match r.event {
            EventId::StartedConnectorService => {
                starts += 1;
                if running {
                    out.push(v(
                        Invariant::Lifecycle,
                        format!("{} while the service runs", shown(r)),
                    ));
                }
                running = true;
            }
            EventId::StoppedConnectorService => {
                stops += 1;
                if !running {
                    out.push(v(
                        Invariant::Lifecycle,
                        format!("{} while the service is stopped", shown(r)),
                    ));
                }
                running = false;
            }
            EventId::RetrieveCertificateWarning | EventId::RetrieveCertificateError => {
                let next = events.get(i + 1).map(|n| n.event);
                if running || next != Some(EventId::StartedConnectorService) {
                    out.push(v(
                        Invariant::Lifecycle,
                        format!(
                            "{} is not the report of a start (directly before its 10010)",
                            shown(r)
                        ),
                    ));
                }
            }
            _ if !running => {
                out.push(v(
                    Invariant::Lifecycle,
                    format!("{} outside a run of the service", shown(r)),
                ));
            }
            _ => {}
        }
    }
    if running {
        out.push(v(Invariant::Lifecycle, "the last run has no 10020"));
    }
    if starts != plan.starts || stops != plan.stops {
        out.push(v(
            Invariant::Lifecycle,
            format!(
                "{} start and {} stop steps wrote {starts} 10010 and {stops} 10020",
                plan.starts, plan.stops
            ),
        ));
    }
    out
}

fn first_difference(a: &str, b: &str) -> String {
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()));
    format!(
        "a second run with the same seed differs at line {}: {:?} vs {:?}",
        line + 1,
        a.lines().nth(line).unwrap_or("<end>"),
        b.lines().nth(line).unwrap_or("<end>")
    )
}
