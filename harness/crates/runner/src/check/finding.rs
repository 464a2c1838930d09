//! What `check` can find wrong with a log: one typed finding per problem, each naming the
//! record (or the scenario line) it is about.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::catalog::{Detail, DiagnosticCode, EventId};
use crate::event::{Origin, RecordProblem};

use super::conformance::{Rule, Violation};
use crate::scenario::model::EventMatch;

/// One expectation of the scenario: where it is written, and what it asks for.
#[derive(Clone, Debug, Serialize)]
pub struct Expected {
    /// 1-based line in the scenario file.
    pub line: u64,
    /// The pattern, as the scenario wrote it.
    #[serde(serialize_with = "as_text")]
    pub pattern: EventMatch,
}

fn as_text<S: Serializer>(m: &EventMatch, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(m)
}

/// One thing wrong with a log.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// An item that cannot be read as an event: a bad JSON line, malformed XML, a damaged
    /// .evtx chunk, undecodable bytes. Its events, if any, could not be checked.
    Unreadable {
        /// Where.
        at: Origin,
        /// Why.
        why: String,
    },
    /// A record of the connector's provider that breaks the catalog: an unknown event id, a
    /// pair outside the 48, a wrong level, an unreadable code, an unknown data item.
    Record {
        /// Where.
        at: Origin,
        /// What.
        #[serde(flatten)]
        problem: RecordProblem,
    },
    /// An expected event that does not appear, not even as a near miss.
    Missing {
        /// The expectation.
        expected: Expected,
    },
    /// An expected event that appears only before the events expected ahead of it.
    OutOfOrder {
        /// The expectation.
        expected: Expected,
        /// The record that matches, too early.
        at: Origin,
    },
    /// The expected event is there, with another code.
    WrongCode {
        /// The expectation.
        expected: Expected,
        /// The record.
        at: Origin,
        /// The code it carries.
        found: DiagnosticCode,
    },
    /// The expected event is there, with another value of a detail (or without it).
    WrongDetail {
        /// The expectation.
        expected: Expected,
        /// The record.
        at: Origin,
        /// The detail.
        detail: Detail,
        /// The value expected.
        wanted: String,
        /// The value found, if any.
        found: Option<String>,
    },
    /// Records past the most a verdict keeps for the scenario's expectations: from `at` on,
    /// the expectations were not checked.
    Unchecked {
        /// The first record not kept.
        at: Origin,
        /// How many are kept.
        limit: u64,
    },
    /// A rule of the conformance contract broken (`crate::check::conformance`).
    Contract(Violation),
    /// An event the scenario forbids.
    Unexpected {
        /// The `absent` entry it matches.
        forbidden: Expected,
        /// The record.
        at: Origin,
        /// Its event.
        event: EventId,
        /// Its code.
        code: DiagnosticCode,
    },
}

impl Finding {
    /// The contract rule this finding breaks.
    pub fn rule(&self) -> Rule {
        match self {
            Finding::Unreadable { .. } => Rule::CatalogRecord,
            Finding::Record { problem, .. } => match problem {
                RecordProblem::PairNotAllowed { .. } => Rule::CatalogPair,
                RecordProblem::DetailNotCarried { .. } | RecordProblem::UnknownData { .. } => {
                    Rule::CatalogDetail
                }
                _ => Rule::CatalogRecord,
            },
            Finding::Missing { .. }
            | Finding::OutOfOrder { .. }
            | Finding::WrongCode { .. }
            | Finding::WrongDetail { .. }
            | Finding::Unchecked { .. } => Rule::ExpectSequence,
            Finding::Unexpected { .. } => Rule::ExpectAbsent,
            Finding::Contract(v) => v.rule,
        }
    }

    /// This finding as a rule violation: the record it is about, what was expected, what came.
    pub fn to_violation(&self) -> Violation {
        if let Finding::Contract(v) = self {
            return v.clone();
        }
        let seq = match self {
            Finding::Unreadable { at, .. }
            | Finding::Record { at, .. }
            | Finding::OutOfOrder { at, .. }
            | Finding::WrongCode { at, .. }
            | Finding::WrongDetail { at, .. }
            | Finding::Unchecked { at, .. }
            | Finding::Unexpected { at, .. } => at.record_id.or(Some(at.index)),
            Finding::Missing { .. } | Finding::Contract(_) => None,
        };
        let expected = match self {
            Finding::Missing { expected }
            | Finding::OutOfOrder { expected, .. }
            | Finding::WrongCode { expected, .. }
            | Finding::WrongDetail { expected, .. } => {
                format!("{} (scenario line {})", expected.pattern, expected.line)
            }
            Finding::Unexpected { forbidden, .. } => format!(
                "no {} (scenario line {}: absent)",
                forbidden.pattern, forbidden.line
            ),
            _ => self.rule().text().to_string(),
        };
        let found = match self {
            Finding::Missing { .. } => "it never appears".to_string(),
            other => other.to_string(),
        };
        Violation::new(self.rule(), seq, expected, found)
    }

    /// A short label for the kind of finding, for a column in a report.
    pub fn label(&self) -> &'static str {
        match self {
            Finding::Unreadable { .. } => "unreadable",
            Finding::Record { problem, .. } => match problem {
                RecordProblem::UnknownEvent { .. } | RecordProblem::UnknownEventName { .. } => {
                    "unknown event"
                }
                RecordProblem::PairNotAllowed { .. } => "pair not allowed",
                RecordProblem::WrongLevel { .. } => "wrong level",
                RecordProblem::NoCode | RecordProblem::BadCode { .. } => "bad code",
                _ => "bad record",
            },
            Finding::Missing { .. } => "missing",
            Finding::OutOfOrder { .. } => "out of order",
            Finding::WrongCode { .. } => "wrong code",
            Finding::WrongDetail { .. } => "wrong detail",
            Finding::Unexpected { .. } => "unexpected",
            Finding::Unchecked { .. } => "not checked",
            Finding::Contract(_) => "contract",
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Unreadable { at, why } => write!(f, "{at}: cannot be read: {why}"),
            Finding::Contract(v) => write!(f, "{v}"),
            Finding::Record { at, problem } => write!(f, "{at}: {problem}"),
            Finding::Missing { expected } => write!(
                f,
                "{} (scenario line {}) never appears",
                expected.pattern, expected.line
            ),
            Finding::OutOfOrder { expected, at } => write!(
                f,
                "{} (scenario line {}) appears only at {at}, before the events expected ahead of it",
                expected.pattern, expected.line
            ),
            Finding::WrongCode {
                expected,
                at,
                found,
            } => {
                let want = expected.pattern.code.map(|c| (c, c.name()));
                write!(
                    f,
                    "{at}: {} {} carries {found} {}",
                    expected.pattern.event.id(),
                    expected.pattern.event.name(),
                    found.name()
                )?;
                if let Some((c, name)) = want {
                    write!(f, "; the scenario (line {}) expects {c} {name}", expected.line)?;
                }
                Ok(())
            }
            Finding::WrongDetail {
                expected,
                at,
                detail,
                wanted,
                found,
            } => write!(
                f,
                "{at}: {} {} has {}; the scenario (line {}) expects {detail}={wanted} (this is the nearest record to the expected event)",
                expected.pattern.event.id(),
                expected.pattern.event.name(),
                found
                    .as_ref()
                    .map_or(format!("no {detail}"), |v| format!("{detail}={v}")),
                expected.line
            ),
            Finding::Unchecked { at, limit } => write!(
                f,
                "{at} and after: not checked against the scenario; more than {limit} events it names are kept (a log this size is not a scenario's)"
            ),
            Finding::Unexpected {
                forbidden,
                at,
                event,
                code,
            } => write!(
                f,
                "{at}: {} {event} with {code} {} must not appear (scenario line {}: absent {})",
                event.id(),
                code.name(),
                forbidden.line,
                forbidden.pattern
            ),
        }
    }
}
