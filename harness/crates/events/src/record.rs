//! One event record, as the connector wrote it.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::catalog::{Detail, DiagnosticCode, EventId, Level, Pair};

/// The ordered detail fields of one event (ordered by [`Detail`]'s print order).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Details(BTreeMap<Detail, String>);

impl Details {
    /// No details.
    pub fn new() -> Details {
        Details::default()
    }

    /// Builder-style insert.
    pub fn with(mut self, key: Detail, value: impl Into<String>) -> Details {
        self.0.insert(key, value.into());
        self
    }

    /// Builder-style insert of an optional value.
    pub fn with_opt(self, key: Detail, value: Option<impl Into<String>>) -> Details {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    /// Inserts or replaces a value.
    pub fn insert(&mut self, key: Detail, value: impl Into<String>) {
        self.0.insert(key, value.into());
    }

    /// Takes a field away, returning its value.
    pub fn remove(&mut self, key: Detail) -> Option<String> {
        self.0.remove(&key)
    }

    /// The value of a field.
    pub fn get(&self, key: Detail) -> Option<&str> {
        self.0.get(&key).map(String::as_str)
    }

    /// Fields in print order.
    pub fn iter(&self) -> impl Iterator<Item = (Detail, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The details as a map, by detail.
    pub fn into_map(self) -> BTreeMap<Detail, String> {
        self.0
    }
}

impl FromIterator<(Detail, String)> for Details {
    fn from_iter<T: IntoIterator<Item = (Detail, String)>>(iter: T) -> Details {
        Details(iter.into_iter().collect())
    }
}

/// One event in the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// Position in the stream, from 1 (written as `EventRecordID` in XML).
    pub sequence: u64,
    /// Scenario time the event was written.
    pub time: OffsetDateTime,
    /// The event.
    pub event: EventId,
    /// Its diagnostic code.
    pub code: DiagnosticCode,
    /// Detail fields.
    pub details: Details,
}

impl EventRecord {
    /// The (event, code) pair.
    pub fn pair(&self) -> Pair {
        Pair {
            event: self.event,
            code: self.code,
        }
    }

    /// The event's level.
    pub fn level(&self) -> Level {
        self.event.level()
    }
}
