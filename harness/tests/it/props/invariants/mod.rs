//! The invariants every random world must keep, each able to fail on its own: checked on the
//! run's event stream, on what the fakes recorded (Intune's upload ledger, the CA's issued
//! certificates) and against what the scenario's own steps promise ([`Plan`]).

mod ledger;
mod policy;
mod stream;

use std::fmt;

use harness_runner::catalog::{Detail, EventId};
use harness_runner::event::EventRecord;
use harness_runner::run::{Outcome, Recorded};

use super::lower::Plan;
use ledger::{ca_agrees, exactly_once, terminal};
use policy::enrollments;
use stream::{catalog_pairs, first_difference, lifecycle, sequence};

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

pub(super) fn v(invariant: Invariant, detail: impl Into<String>) -> Violation {
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
        .problem_lines()
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
pub(super) fn shown(r: &EventRecord) -> String {
    format!(
        "#{} {} {} {}",
        r.sequence,
        r.event.id(),
        r.event.name(),
        r.details.get(Detail::DeviceId).unwrap_or("")
    )
}
