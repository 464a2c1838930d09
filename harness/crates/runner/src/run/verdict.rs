//! The verdict of a run: it passed only when nothing went wrong, and when it failed it carries
//! every reason, each typed — a failed scenario, a catalog pair no scenario reached, a pair
//! outside the catalog, a snapshot with no scenario, a file that cannot be loaded, two files
//! with one name, or a run that could not start. Reports and the exit code all read this one
//! list, so they cannot disagree.

use std::path::Path;

use serde::Serialize;

use super::coverage::Coverage;
use super::{Outcome, Status};
use crate::scenario::LibraryError;

/// What kind of reason a run failed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// A scenario failed (a check, a step, a panic, its budget).
    ScenarioFailed,
    /// A catalog pair no scenario reached, in a run that gates on coverage.
    CoverageGap,
    /// A reference-connector cause no scenario reached, in a run that gates on coverage.
    CauseGap,
    /// A scenario's stream carries a pair outside the catalog.
    InvalidPair,
    /// A snapshot file whose scenario does not exist.
    OrphanSnapshot,
    /// A scenario file (or the folder) cannot be used.
    LoadError,
    /// Several files name one scenario.
    DuplicateName,
    /// The run could not start (bad arguments, nothing selected).
    RunError,
}

impl ReasonKind {
    /// Whether this reason is bad input (exit code 2) rather than a failed check (1).
    pub fn is_bad_input(self) -> bool {
        matches!(
            self,
            ReasonKind::LoadError | ReasonKind::DuplicateName | ReasonKind::RunError
        )
    }
}

/// One reason a run failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Its kind.
    pub kind: ReasonKind,
    /// What it is about: a scenario, a pair, a file.
    pub subject: String,
    /// What is wrong, in a sentence or an error with its location.
    pub message: String,
}

impl Reason {
    /// A reason of `kind`.
    pub fn new(kind: ReasonKind, subject: impl Into<String>, message: impl Into<String>) -> Reason {
        Reason {
            kind,
            subject: subject.into(),
            message: message.into(),
        }
    }

    /// The reason a failed scenario gives.
    pub fn scenario_failed(o: &Outcome) -> Reason {
        Reason::new(
            ReasonKind::ScenarioFailed,
            &o.name,
            format!(
                "scenario {} failed: {}",
                o.name,
                o.problem_lines().join("; ")
            ),
        )
    }

    /// A snapshot with no scenario.
    pub fn orphan_snapshot(path: &Path) -> Reason {
        Reason::new(
            ReasonKind::OrphanSnapshot,
            path.display().to_string(),
            format!(
                "snapshot with no scenario: {} (delete it, or restore its scenario)",
                path.display()
            ),
        )
    }

    /// A folder or file that cannot be loaded.
    pub fn library(e: &LibraryError) -> Reason {
        let kind = match e {
            LibraryError::DuplicateName { .. } => ReasonKind::DuplicateName,
            _ => ReasonKind::LoadError,
        };
        Reason::new(kind, e.subject(), e.to_string())
    }
}

/// Whether the coverage gate applies to a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Gate {
    /// Every scenario ran: each catalog pair must be reached.
    #[default]
    Applied,
    /// Only some scenarios ran (a filter, tag or shard): the matrix is shown, not gated.
    Partial,
    /// `--no-coverage-gate`.
    Off,
}

/// What a library run came to: every selected scenario's outcome, the coverage of the catalog
/// and the reasons the run as a whole failed.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// How many scenarios were selected; every one has an outcome.
    pub selected: usize,
    /// One outcome per selected scenario, by name.
    pub outcomes: Vec<Outcome>,
    /// Coverage of the catalog, when scenarios ran.
    pub coverage: Option<Coverage>,
    /// Whether the coverage gate applied.
    pub gate: Gate,
    /// Every reason the run failed; empty when it passed.
    pub reasons: Vec<Reason>,
    /// The level the scenarios were judged at.
    pub level: super::Level,
}

impl Summary {
    /// A run that stopped before any scenario ran, for `reasons`.
    pub fn stopped(reasons: Vec<Reason>) -> Summary {
        Summary {
            reasons,
            ..Summary::default()
        }
    }

    /// The summary of `outcomes` of the `selected` scenarios, with the coverage gate as `gate`
    /// says, plus `other` reasons found outside the scenarios (orphan snapshots). Every selected
    /// scenario must have exactly one outcome; a shortfall is itself a reason to fail.
    pub fn of(selected: usize, outcomes: Vec<Outcome>, gate: Gate, other: Vec<Reason>) -> Summary {
        let coverage = Coverage::of(&outcomes);
        let mut reasons: Vec<Reason> = outcomes
            .iter()
            .filter(|o| o.status == Status::Failed)
            .map(Reason::scenario_failed)
            .collect();
        if outcomes.len() != selected {
            reasons.push(Reason::new(
                ReasonKind::ScenarioFailed,
                "",
                format!(
                    "{selected} scenario(s) were selected but {} ended with an outcome",
                    outcomes.len()
                ),
            ));
        }
        if gate == Gate::Applied {
            for p in coverage.unreached() {
                reasons.push(Reason::new(
                    ReasonKind::CoverageGap,
                    format!("{} {}", p.event.id(), p.code),
                    format!(
                        "pair not reached by any scenario: {} {} with {} {}",
                        p.event.id(),
                        p.event.name(),
                        p.code,
                        p.code.name()
                    ),
                ));
            }
            for c in coverage.unreached_causes() {
                reasons.push(Reason::new(
                    ReasonKind::CauseGap,
                    c,
                    format!("connector cause not reached by any scenario: {c}"),
                ));
            }
        }
        for (s, p) in &coverage.invalid {
            reasons.push(Reason::new(
                ReasonKind::InvalidPair,
                format!("{s} {p}"),
                format!("pair outside the catalog in {s}: {p}"),
            ));
        }
        reasons.extend(other);
        Summary {
            level: outcomes.first().map(|o| o.level).unwrap_or_default(),
            selected,
            outcomes,
            coverage: Some(coverage),
            gate,
            reasons,
        }
    }

    /// Whether the run passed: no reason to fail.
    pub fn passed(&self) -> bool {
        self.reasons.is_empty()
    }

    /// Scenarios that passed.
    pub fn passed_count(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.status == Status::Passed)
            .count()
    }

    /// Scenarios that failed.
    pub fn failed_count(&self) -> usize {
        self.outcomes.len() - self.passed_count()
    }

    /// The reasons of `kind`.
    pub fn reasons_of(&self, kind: ReasonKind) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(move |r| r.kind == kind)
    }

    /// The process exit code: 0 passed, 2 bad input, 1 any other failure.
    pub fn exit_code(&self) -> u8 {
        if self.passed() {
            0
        } else if self.reasons.iter().any(|r| r.kind.is_bad_input()) {
            2
        } else {
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Problem;

    fn outcome(name: &str, status: Status) -> Outcome {
        Outcome {
            name: name.into(),
            file: format!("{name}.yaml").into(),
            seed: 1,
            status,
            problems: match status {
                Status::Passed => vec![],
                Status::Failed => vec![Problem::Step("it broke".into())],
            },
            diff: None,
            duration: std::time::Duration::ZERO,
            events: Vec::new(),
            snapshot_written: false,
            findings: Vec::new(),
            level: Default::default(),
            causes: Vec::new(),
            rerun: Default::default(),
            steps: Vec::new(),
        }
    }

    #[test]
    fn passes_only_without_reasons() {
        let s = Summary::of(1, vec![outcome("a", Status::Passed)], Gate::Off, vec![]);
        assert!(s.passed());
        assert_eq!(s.exit_code(), 0);
        let s = Summary::of(1, vec![outcome("a", Status::Failed)], Gate::Off, vec![]);
        assert_eq!((s.passed(), s.exit_code()), (false, 1));
        assert_eq!(s.reasons_of(ReasonKind::ScenarioFailed).count(), 1);
    }

    #[test]
    fn a_scenario_without_an_outcome_fails_the_run() {
        let s = Summary::of(2, vec![outcome("a", Status::Passed)], Gate::Off, vec![]);
        assert!(!s.passed());
        assert_eq!(s.exit_code(), 1);
    }

    #[test]
    fn the_gate_counts_only_when_applied() {
        let one = || vec![outcome("a", Status::Passed)];
        assert_eq!(
            Summary::of(1, one(), Gate::Applied, vec![]).reasons.len(),
            48
        );
        assert!(Summary::of(1, one(), Gate::Partial, vec![]).passed());
    }

    #[test]
    fn bad_input_exits_2() {
        let s = Summary::stopped(vec![Reason::new(ReasonKind::LoadError, "x.yaml", "bad")]);
        assert_eq!(s.exit_code(), 2);
        let s = Summary::of(
            1,
            vec![outcome("a", Status::Passed)],
            Gate::Off,
            vec![Reason::orphan_snapshot(std::path::Path::new("gone.snap"))],
        );
        assert_eq!(s.exit_code(), 1);
    }
}
