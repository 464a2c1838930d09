//! One event as a log wrote it, before the catalog has judged it; and that judgement
//! ([`interpret`]), shared by the strict readers and by `check`, so both read every format the
//! same way.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use crate::catalog::{Detail, DiagnosticCode, EventId, Level};
use crate::sim::{format_time, parse_time, END_OF_TIME, START_OF_TIME};

use super::problem::{Origin, RecordProblem};
use super::record::{Details, EventRecord};

/// The most data items read from one event: the widest catalog event has nine positions
/// (code and eight details), so anything far beyond is not a connector event.
pub const MAX_DATA_ITEMS: usize = 64;

/// How a log spells the level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawLevel {
    /// Not written.
    Missing,
    /// Windows' number (`2`, `3`, `4`), as in XML and .evtx.
    Windows(String),
    /// A name (`Error`), as in JSON Lines and YAML.
    Name(String),
}

/// How the payload names its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// `device_id`, as in JSON Lines and YAML.
    Key,
    /// `DeviceId`, as in `<Data Name='DeviceId'>`.
    Xml,
}

/// The data items besides the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Payload {
    /// Named items, in the order written.
    Named(Vec<(String, String)>, Spelling),
    /// Unnamed items after the code, in the documented order: the event's details as the
    /// catalog lists them; an empty item is an absent detail.
    Positional(Vec<String>),
}

/// One event of the connector's provider, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEvent {
    pub origin: Origin,
    pub event_id: Option<String>,
    pub event_name: Option<String>,
    pub level: RawLevel,
    pub time: Option<String>,
    pub code: Option<String>,
    pub code_name: Option<String>,
    pub payload: Payload,
    /// Problems the format reader already found (too many items, mixed items, duplicates).
    pub problems: Vec<RecordProblem>,
    /// `System/Provider/@Name` (or `@EventSourceName`), where the format has one.
    pub provider: Option<String>,
    /// `System/Channel`, where the format has one.
    pub channel: Option<String>,
}

impl RawEvent {
    pub(crate) fn new(origin: Origin) -> RawEvent {
        RawEvent {
            origin,
            event_id: None,
            event_name: None,
            level: RawLevel::Missing,
            time: None,
            code: None,
            code_name: None,
            payload: Payload::Named(Vec::new(), Spelling::Xml),
            problems: Vec::new(),
            provider: None,
            channel: None,
        }
    }
}

/// What a format reader hands on for each item of a log.
// One item at a time flows from a reader to its visitor: boxing each event would cost an
// allocation per event for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// An event of the connector's provider.
    Event(RawEvent),
    /// An event of another provider: skipped.
    Foreign(Origin),
    /// Something that cannot be read as an event at all (a bad JSON line, malformed XML, a
    /// damaged .evtx chunk).
    Unreadable { origin: Origin, why: String },
    /// Something the reader should know that is not wrong for sure (a dirty .evtx file whose
    /// chunk header names records that are not there).
    Warning { origin: Origin, why: String },
}

/// A provider list entry that matches every provider: the profile-detecting reader
/// (`event::unified`) reads every event and sorts them by provider and channel itself.
pub(crate) const ANY_PROVIDER: &str = "\u{0}any provider";

/// Whether a provider name is one of the connector's (Windows compares source names without
/// regard to case).
pub(crate) fn is_connector(providers: &[String], name: &str) -> bool {
    providers
        .iter()
        .any(|p| p == ANY_PROVIDER || p.eq_ignore_ascii_case(name.trim()))
}

/// One record of the connector's provider, judged against the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreted {
    /// Where it is in the log.
    pub origin: Origin,
    /// The record, when its event and code could be told (even if the pair or level is wrong).
    pub record: Option<EventRecord>,
    /// Everything wrong with it, in the order found.
    pub problems: Vec<RecordProblem>,
    /// Why the time could not be read, if it could not (the record then carries the Unix
    /// epoch; `check` ignores time).
    pub bad_time: Option<String>,
}

/// Judges one raw event against the catalog.
pub(crate) fn interpret(raw: RawEvent) -> Interpreted {
    let mut problems = raw.problems;
    let event = resolve_event(
        raw.event_id.as_deref(),
        raw.event_name.as_deref(),
        &mut problems,
    );
    if let Some(event) = event {
        check_level(event, &raw.level, &mut problems);
    }
    let code = match raw.code.as_deref().map(str::trim) {
        None => {
            problems.push(RecordProblem::NoCode);
            None
        }
        Some(text) => match text.parse::<DiagnosticCode>() {
            Ok(code) => Some(code),
            Err(_) => {
                problems.push(RecordProblem::BadCode {
                    text: text.to_string(),
                });
                None
            }
        },
    };
    if let (Some(code), Some(written)) = (code, raw.code_name.as_deref()) {
        if !written.trim().eq_ignore_ascii_case(code.name()) {
            problems.push(RecordProblem::CodeNameMismatch {
                code,
                written: written.to_string(),
            });
        }
    }
    if let (Some(event), Some(code)) = (event, code) {
        if !event.allows(code) {
            problems.push(RecordProblem::PairNotAllowed { event, code });
        }
    }
    let details = event
        .map(|e| details(e, raw.payload, &mut problems))
        .unwrap_or_default();
    let (time, bad_time) = match raw.time.as_deref() {
        Some(t) => match parse_time(t.trim()) {
            Ok(time) => match scenario_time(time) {
                Some(time) => (time, None),
                None => (
                    OffsetDateTime::UNIX_EPOCH,
                    Some(format!(
                        "time `{t}` is outside scenario time ({} to {})",
                        format_time(START_OF_TIME),
                        format_time(END_OF_TIME)
                    )),
                ),
            },
            Err(e) => (OffsetDateTime::UNIX_EPOCH, Some(format!("time `{t}`: {e}"))),
        },
        None => (OffsetDateTime::UNIX_EPOCH, Some("no time".to_string())),
    };
    let record = match (event, code) {
        (Some(event), Some(code)) => Some(EventRecord {
            sequence: raw.origin.record_id.unwrap_or(raw.origin.index),
            time,
            event,
            code,
            details,
        }),
        _ => None,
    };
    Interpreted {
        origin: raw.origin,
        record,
        problems,
        bad_time,
    }
}

/// A record's time is scenario time, so that every writer of the harness can write it back
/// as it was read: UTC, between [`START_OF_TIME`] and [`END_OF_TIME`] (`None` outside, where
/// a time such as `9999-12-31T23:59:59-01:00` is in the year 10000 in UTC), to the
/// millisecond (a finer fraction, a Windows log's 100 ns, is dropped).
fn scenario_time(time: OffsetDateTime) -> Option<OffsetDateTime> {
    let utc = time.checked_to_offset(time::UtcOffset::UTC)?;
    let whole = utc.nanosecond() - utc.nanosecond() % 1_000_000;
    let utc = utc.replace_nanosecond(whole).ok()?;
    (START_OF_TIME..=END_OF_TIME).contains(&utc).then_some(utc)
}

fn resolve_event(
    id: Option<&str>,
    name: Option<&str>,
    problems: &mut Vec<RecordProblem>,
) -> Option<EventId> {
    let by_name = |n: &str| {
        crate::catalog::EVENTS
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(n.trim()))
            .map(|e| e.event)
    };
    let Some(id) = id.map(str::trim) else {
        return match name {
            Some(n) => {
                let found = by_name(n);
                if found.is_none() {
                    problems.push(RecordProblem::UnknownEventName {
                        name: n.to_string(),
                    });
                }
                found
            }
            None => {
                problems.push(RecordProblem::NoEventId);
                None
            }
        };
    };
    let Ok(number) = id.parse::<u64>() else {
        problems.push(RecordProblem::BadEventId {
            text: id.to_string(),
        });
        return None;
    };
    let Some(event) = u16::try_from(number).ok().and_then(EventId::from_id) else {
        problems.push(RecordProblem::UnknownEvent { id: number });
        return None;
    };
    if let Some(n) = name {
        if by_name(n) != Some(event) {
            problems.push(RecordProblem::EventNameMismatch {
                event,
                written: n.to_string(),
            });
        }
    }
    Some(event)
}

fn check_level(event: EventId, level: &RawLevel, problems: &mut Vec<RecordProblem>) {
    let (found, written) = match level {
        RawLevel::Missing => (None, "none".to_string()),
        RawLevel::Windows(t) => (
            t.trim()
                .parse::<u8>()
                .ok()
                .and_then(Level::from_windows_value),
            t.trim().to_string(),
        ),
        RawLevel::Name(t) => (
            [Level::Error, Level::Warning, Level::Information]
                .into_iter()
                .find(|l| l.name().eq_ignore_ascii_case(t.trim())),
            t.trim().to_string(),
        ),
    };
    if found != Some(event.level()) {
        let written = match found {
            Some(l) if written != l.name() => format!("{written} ({})", l.name()),
            _ => written,
        };
        problems.push(RecordProblem::WrongLevel { event, written });
    }
}

fn details(event: EventId, payload: Payload, problems: &mut Vec<RecordProblem>) -> Details {
    let mut out = Details::new();
    match payload {
        Payload::Named(items, spelling) => {
            let mut seen = BTreeSet::new();
            for (name, value) in items {
                let detail = match spelling {
                    Spelling::Key => name.parse::<Detail>().ok(),
                    Spelling::Xml => Detail::from_xml_name(&name),
                };
                let Some(detail) = detail else {
                    problems.push(RecordProblem::UnknownData { name });
                    continue;
                };
                if !seen.insert(detail) {
                    problems.push(RecordProblem::DuplicateData { name });
                    continue;
                }
                if !event.carries(detail) {
                    problems.push(RecordProblem::DetailNotCarried { event, detail });
                }
                out.insert(detail, value);
            }
        }
        Payload::Positional(items) => {
            let order = event.spec().details;
            for (i, value) in items.into_iter().enumerate() {
                match order.get(i) {
                    Some(_) if value.is_empty() => {}
                    Some(detail) => out.insert(*detail, value),
                    None if value.is_empty() => {}
                    None => problems.push(RecordProblem::ExtraData {
                        event,
                        // The code is position 1.
                        position: i + 2,
                        value,
                    }),
                }
            }
        }
    }
    out
}
