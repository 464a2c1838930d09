//! The serialised shape of one record in YAML and JSON Lines, its strict conversion back, and
//! the looser shape `check` reads from logs others wrote.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::Detail;
use crate::sim::format_time;

use super::problem::Origin;
use super::raw::{interpret, Payload, RawEvent, RawLevel, Spelling};
use super::record::EventRecord;
use super::StreamError;

/// One record as written to YAML snapshots and JSON Lines.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WireRecord {
    /// Sequence number.
    pub seq: u64,
    /// RFC 3339 scenario time.
    pub time: String,
    /// Windows event id.
    pub event_id: u16,
    /// Event name.
    pub event: String,
    /// Level name.
    pub level: String,
    /// Canonical `0x%08X` code.
    pub code: String,
    /// Code name.
    pub code_name: String,
    /// Code message.
    pub message: String,
    /// Detail fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<Detail, String>,
}

impl From<&EventRecord> for WireRecord {
    fn from(r: &EventRecord) -> WireRecord {
        WireRecord {
            seq: r.sequence,
            time: format_time(r.time),
            event_id: r.event.id(),
            event: r.event.name().to_string(),
            level: r.level().name().to_string(),
            code: r.code.hex(),
            code_name: r.code.name().to_string(),
            message: r.code.message().to_string(),
            details: r.details.clone().into_map(),
        }
    }
}

impl TryFrom<WireRecord> for EventRecord {
    type Error = StreamError;

    /// Parses once and cross-checks: the id must name the same event as the name, and the
    /// level and code name must agree with the catalog. The message text is not checked,
    /// because a vendor's connector words it its own way.
    fn try_from(w: WireRecord) -> Result<EventRecord, StreamError> {
        let origin = Origin {
            index: w.seq,
            record_id: Some(w.seq),
            ..Origin::default()
        };
        super::strict::record(interpret(LooseWire::from(w).into_raw(origin)))
    }
}

/// A number or a string (`20102` or `"20102"`).
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Number(u64),
    Text(String),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(t) => t,
        }
    }
}

/// The wire record as `check` reads it from a log someone else wrote: every field but the
/// event and the code may be missing (a missing one is not cross-checked), numbers may be
/// strings, and detail keys are judged one by one instead of failing the whole line.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct LooseWire {
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    event_id: Option<Scalar>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    code: Option<Scalar>,
    #[serde(default)]
    code_name: Option<String>,
    /// Accepted, never checked: a vendor words its messages its own way.
    #[serde(default)]
    #[allow(dead_code)]
    message: Option<String>,
    #[serde(default)]
    details: BTreeMap<String, Scalar>,
}

impl From<WireRecord> for LooseWire {
    fn from(w: WireRecord) -> LooseWire {
        LooseWire {
            seq: Some(w.seq),
            time: Some(w.time),
            event_id: Some(Scalar::Number(u64::from(w.event_id))),
            event: Some(w.event),
            level: Some(w.level),
            code: Some(Scalar::Text(w.code)),
            code_name: Some(w.code_name),
            message: Some(w.message),
            details: w
                .details
                .into_iter()
                .map(|(k, v)| (k.key().to_string(), Scalar::Text(v)))
                .collect(),
        }
    }
}

impl LooseWire {
    /// The raw event; `origin` gains the record's `seq`.
    pub(crate) fn into_raw(self, mut origin: Origin) -> RawEvent {
        if self.seq.is_some() {
            origin.record_id = self.seq;
        }
        let mut raw = RawEvent::new(origin);
        raw.event_id = self.event_id.map(Scalar::text);
        raw.event_name = self.event;
        raw.level = self.level.map_or(RawLevel::Missing, RawLevel::Name);
        raw.time = self.time;
        raw.code = self.code.map(Scalar::text);
        raw.code_name = self.code_name;
        let items = self
            .details
            .into_iter()
            .map(|(k, v)| (k, v.text()))
            .collect();
        raw.payload = Payload::Named(items, Spelling::Key);
        raw
    }
}
