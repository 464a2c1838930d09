//! The serialised shape of one record in YAML and JSON Lines, and its strict conversion back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{Detail, DiagnosticCode, EventId};
use crate::sim::{format_time, parse_time};

use super::record::{Details, EventRecord};
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
        let bad = |why: String| StreamError::Record { seq: w.seq, why };
        let event = EventId::from_id(w.event_id)
            .ok_or_else(|| bad(format!("unknown event id {}", w.event_id)))?;
        let by_name: EventId = w.event.parse().map_err(|e| bad(format!("{e}")))?;
        if by_name != event {
            return Err(bad(format!(
                "event id {} is {}, but the record names {}",
                w.event_id,
                event.name(),
                w.event
            )));
        }
        if w.level != event.level().name() {
            return Err(bad(format!(
                "{} is level {}, but the record says {}",
                event.name(),
                event.level().name(),
                w.level
            )));
        }
        let code: DiagnosticCode = w.code.parse().map_err(|e| bad(format!("{e}")))?;
        if !w.code_name.eq_ignore_ascii_case(code.name()) {
            return Err(bad(format!(
                "code {code} is {}, but the record names {}",
                code.name(),
                w.code_name
            )));
        }
        let time = parse_time(&w.time).map_err(|e| bad(format!("time `{}`: {e}", w.time)))?;
        Ok(EventRecord {
            sequence: w.seq,
            time,
            event,
            code,
            details: w.details.into_iter().collect::<Details>(),
        })
    }
}
