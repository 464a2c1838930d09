//! What can be wrong with one record of a log, and where the record is.
//!
//! The strict readers turn the first problem into an error; `check` reports each one.

use std::fmt;

use serde::Serialize;

use crate::catalog::{Detail, DiagnosticCode, EventId};

/// Where an item is in its log. Every field but `index` is optional: a JSON line has a line
/// and a `seq`, an XML event a line and an `EventRecordID`, an .evtx record an id, a damaged
/// .evtx chunk only its number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// Position among the items of the log, from 1.
    pub index: u64,
    /// 1-based line in a text log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The record's own id: `EventRecordID` in XML and .evtx, `seq` in JSON Lines and YAML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
    /// The .evtx chunk, for a damaged chunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk: Option<u64>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.record_id, self.line, self.chunk) {
            (Some(r), Some(l), _) => write!(f, "record {r} (line {l})"),
            (Some(r), None, _) => write!(f, "record {r}"),
            (None, Some(l), _) => write!(f, "line {l}"),
            (None, None, Some(c)) => write!(f, "chunk {c}"),
            (None, None, None) => write!(f, "item {}", self.index),
        }
    }
}

/// A problem with one record of the connector's provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum RecordProblem {
    /// Neither an event id nor an event name.
    #[error("the record has no event id")]
    NoEventId,
    /// An event id that is not a number.
    #[error("event id `{text}` is not a number")]
    BadEventId {
        /// As written.
        text: String,
    },
    /// A number that is not one of the catalog's nineteen events.
    #[error("event id {id} is not in the catalog (see `connector-harness catalog`)")]
    UnknownEvent {
        /// As written.
        id: u64,
    },
    /// An event name (with no id) that is not in the catalog.
    #[error("event `{name}` is not in the catalog (see `connector-harness catalog`)")]
    UnknownEventName {
        /// As written.
        name: String,
    },
    /// An event name that is not in the catalog, or names another event than the id.
    #[error("event id {id} is {event}, but the record names {written}", id = .event.id())]
    EventNameMismatch {
        /// The event the id names.
        event: EventId,
        /// The name as written.
        written: String,
    },
    /// A level other than the catalog's level for the event (or none).
    #[error("{event} is level {expected}, but the record says {written}", expected = .event.level().name())]
    WrongLevel {
        /// The event.
        event: EventId,
        /// The level as written (`4`, `Information`, `none`).
        written: String,
    },
    /// No diagnostic code.
    #[error("the record has no diagnostic code")]
    NoCode,
    /// A code that is none of the catalog's twelve.
    #[error("diagnostic code `{text}` is not in the catalog (expected a code such as 0x00000400 or a name)")]
    BadCode {
        /// As written.
        text: String,
    },
    /// A code name that names another code than the code.
    #[error("code {code} is {name}, but the record names {written}", name = .code.name())]
    CodeNameMismatch {
        /// The code.
        code: DiagnosticCode,
        /// The name as written.
        written: String,
    },
    /// An (event, code) pair outside the catalog's 48.
    #[error("event {id} {event} may not carry {code} {code_name}: the pair is not in the catalog", id = .event.id(), code_name = .code.name())]
    PairNotAllowed {
        /// The event.
        event: EventId,
        /// The code.
        code: DiagnosticCode,
    },
    /// A named data item (or JSON detail key) the catalog does not know.
    #[error("unknown data item `{name}`")]
    UnknownData {
        /// The name as written.
        name: String,
    },
    /// A data item written twice.
    #[error("data item `{name}` appears more than once")]
    DuplicateData {
        /// The name.
        name: String,
    },
    /// A detail the catalog does not give this event.
    #[error("event {id} {event} does not carry the detail `{detail}`", id = .event.id())]
    DetailNotCarried {
        /// The event.
        event: EventId,
        /// The detail.
        detail: Detail,
    },
    /// An unnamed data item past the last position the documented order defines.
    #[error("unnamed data item {position} (`{value}`) is past the event's last detail; {event} has {count} positions", count = .event.spec().details.len() + 1)]
    ExtraData {
        /// The event.
        event: EventId,
        /// 1-based position.
        position: usize,
        /// Its value.
        value: String,
    },
    /// An event with more data items than any catalog event can carry; the rest were not read.
    #[error("the record has more than {limit} data items; the rest were not read")]
    TooManyData {
        /// The limit.
        limit: usize,
    },
    /// Both named and unnamed data items.
    #[error("the record mixes named and unnamed <Data> items")]
    MixedData,
}

impl RecordProblem {
    /// A breach of the catalog's contract by a record that is otherwise readable: the strict
    /// readers let these through (the sink and the run's checks judge them), `check` reports
    /// them.
    pub fn is_contract(&self) -> bool {
        matches!(
            self,
            RecordProblem::PairNotAllowed { .. } | RecordProblem::DetailNotCarried { .. }
        )
    }
}
