//! Why a scenario failed, typed: a broken rule of the contract, a step that could not be
//! carried out, a snapshot that differs, a run the harness lost. Each reads as the sentence
//! people see in the terminal, the JUnit text and the JSON report's `problems`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::check::conformance::Violation;
use crate::scenario::Span;

/// One reason a scenario failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The world could not be set up (a fake would not start, the connector would not begin).
    Setup(String),
    /// A step could not be carried out.
    Step(String),
    /// A rule of the contract or one of the scenario's expectations broke (the same finding is
    /// in the outcome's `findings`).
    Finding(Violation),
    /// A fake saw something it must never see: a harness bug, not the connector's.
    Harness(String),
    /// The connector under test failed on the way out (crashed, broke the protocol, hung).
    Connector(String),
    /// A second run with the same seed wrote a different stream.
    NotDeterministic {
        /// The seed both runs used.
        seed: u64,
        /// The two streams' diff.
        diff: String,
    },
    /// `--record DIR` could not write the run.
    Record {
        /// The folder.
        dir: PathBuf,
        /// What went wrong.
        error: String,
    },
    /// A snapshot could not be read.
    SnapshotRead {
        /// The snapshot file.
        path: PathBuf,
        /// What went wrong.
        error: String,
    },
    /// A snapshot could not be written.
    SnapshotWrite {
        /// The snapshot file.
        path: PathBuf,
        /// What went wrong.
        error: String,
    },
    /// The scenario has no snapshot to compare with.
    NoSnapshot {
        /// Where it would be.
        path: PathBuf,
        /// Whether this is CI (which never writes one).
        ci: bool,
    },
    /// The stream differs from its snapshot (the outcome's `diff` shows how).
    SnapshotDiffers {
        /// The snapshot file.
        path: PathBuf,
    },
    /// The scenario keeps a 2021-dialect snapshot and it is missing.
    NoDialectSnapshot {
        /// Where it would be.
        path: PathBuf,
    },
    /// The 2021-dialect stream differs from its snapshot.
    DialectDiffers {
        /// The snapshot file.
        path: PathBuf,
        /// How.
        diff: String,
    },
    /// The harness panicked while running the scenario.
    Panicked {
        /// Where, when known.
        at: Option<String>,
        /// The panic's message.
        message: String,
    },
    /// The run was cancelled before it ended.
    Cancelled,
    /// The run took longer than its real-time budget and was stopped.
    OverBudget {
        /// The budget.
        budget: Duration,
    },
    /// The scheduler lost the scenario's run (its task failed outside the guard).
    Lost(String),
}

impl Problem {
    /// A short name for the kind of problem (`snapshot_differs`, `finding`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::Setup(_) => "setup",
            Problem::Step(_) => "step",
            Problem::Finding(_) => "finding",
            Problem::Harness(_) => "harness",
            Problem::Connector(_) => "connector",
            Problem::NotDeterministic { .. } => "not_deterministic",
            Problem::Record { .. } => "record",
            Problem::SnapshotRead { .. } => "snapshot_read",
            Problem::SnapshotWrite { .. } => "snapshot_write",
            Problem::NoSnapshot { .. } => "no_snapshot",
            Problem::SnapshotDiffers { .. } => "snapshot_differs",
            Problem::NoDialectSnapshot { .. } => "no_dialect_snapshot",
            Problem::DialectDiffers { .. } => "dialect_differs",
            Problem::Panicked { .. } => "panicked",
            Problem::Cancelled => "cancelled",
            Problem::OverBudget { .. } => "over_budget",
            Problem::Lost(_) => "lost",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Setup(s) | Problem::Step(s) | Problem::Connector(s) => f.write_str(s),
            Problem::Finding(v) => write!(f, "{v}"),
            Problem::Harness(s) => write!(f, "harness error: {s}"),
            Problem::NotDeterministic { seed, diff } => write!(
                f,
                "not deterministic: a second run with seed {seed} wrote a different stream:\n{diff}"
            ),
            Problem::Record { dir, error } => {
                write!(f, "cannot record the run into {}: {error}", dir.display())
            }
            Problem::SnapshotRead { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            Problem::SnapshotWrite { path, error } => {
                write!(f, "cannot write {}: {error}", path.display())
            }
            Problem::NoSnapshot { path, ci } => write!(
                f,
                "no snapshot {}: run with --update to record it{}",
                path.display(),
                if *ci { " (never written in CI)" } else { "" }
            ),
            Problem::SnapshotDiffers { path } => {
                write!(f, "the event stream differs from {}", path.display())
            }
            Problem::NoDialectSnapshot { path } => write!(
                f,
                "no 2021-dialect snapshot {}: run with --update to record it",
                path.display()
            ),
            Problem::DialectDiffers { path, diff } => write!(
                f,
                "the 2021-dialect stream differs from {}:\n{diff}",
                path.display()
            ),
            Problem::Panicked { at, message } => write!(
                f,
                "the harness panicked while running this scenario{}: {message}",
                at.as_ref().map(|a| format!(" (at {a})")).unwrap_or_default()
            ),
            Problem::Cancelled => f.write_str("the run was cancelled before it ended"),
            Problem::OverBudget { budget } => write!(
                f,
                "the run took longer than its real-time budget of {} and was stopped; if it needs longer, set `budget:` in the scenario (at most 1h)",
                Span(*budget)
            ),
            Problem::Lost(e) => write!(f, "the harness lost this scenario's run: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_reads_as_the_sentence_people_saw_before_it_was_typed() {
        let path = PathBuf::from("snapshots/upload.snap");
        let cases = [
            (
                Problem::NoSnapshot {
                    path: path.clone(),
                    ci: true,
                },
                "no snapshot snapshots/upload.snap: run with --update to record it (never written in CI)",
            ),
            (
                Problem::SnapshotDiffers { path: path.clone() },
                "the event stream differs from snapshots/upload.snap",
            ),
            (
                Problem::Harness("the CA saw a request twice".into()),
                "harness error: the CA saw a request twice",
            ),
            (
                Problem::OverBudget {
                    budget: Duration::from_secs(60),
                },
                "the run took longer than its real-time budget of 1m and was stopped; if it needs longer, set `budget:` in the scenario (at most 1h)",
            ),
            (
                Problem::Panicked {
                    at: Some("src/run/mod.rs:1".into()),
                    message: "boom".into(),
                },
                "the harness panicked while running this scenario (at src/run/mod.rs:1): boom",
            ),
        ];
        for (problem, text) in cases {
            assert_eq!(problem.to_string(), text, "{}", problem.kind());
        }
    }
}
