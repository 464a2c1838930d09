//! Events in the `unified-2021` dialect (the 2021+ Certificate Connector's two channels): the
//! record, its writers, and the reading `check` does of an export that holds them.
//!
//! Reading sorts every event of a log by provider and channel, so one pass sees the 2021
//! connector's events beside NDES's, the legacy connector's and anyone else's: the XML and
//! .evtx readers are the legacy ones (one parse of each `<Event>`, one of each .evtx record),
//! run with a provider list that matches all; the `.evtx`-equivalent JSON `evtx_dump` prints is
//! read by [`evtx_json`].

pub mod evtx_json;
mod xml;

use std::ops::ControlFlow;

use time::OffsetDateTime;

use crate::catalog::unified::{Channel, UnifiedEvent};
use crate::catalog::{Detail, Level};

use super::problem::Origin;
use super::raw::{Item, Payload, RawLevel, ANY_PROVIDER};
use super::record::Details;

pub use crate::catalog::unified::PROVIDER;
pub use xml::{write_unified_xml, UnifiedXmlForm};

/// The harness's own provider Guid for the 2021 connector's events. Made up: the real one is
/// not published.
pub const PROVIDER_GUID: &str = "{5C1F0B8E-6D2A-4E4B-9A37-2021C0DEC0DE}";

/// One event the 2021+ connector writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnifiedRecord {
    /// Position in the stream, from 1 (`EventRecordID`).
    pub sequence: u64,
    /// Scenario time it was written.
    pub time: OffsetDateTime,
    /// The event.
    pub event: UnifiedEvent,
    /// Its data items, by the harness's names (the real `EventData` names are unpublished).
    pub details: Details,
}

impl UnifiedRecord {
    /// The channel it is written to.
    pub fn channel(&self) -> Channel {
        self.event.spec().channel
    }

    /// Its level.
    pub fn level(&self) -> Level {
        self.event.spec().level()
    }

    /// The request it is about: its `RequestId` (PKCS, revocation) or `TransactionId` (SCEP).
    pub fn request_key(&self) -> Option<&str> {
        self.details
            .get(Detail::RequestId)
            .or_else(|| self.details.get(Detail::TransactionId))
    }
}

/// One event of a log, as `check` sees it before judging it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// Where it is.
    pub origin: Origin,
    /// Its provider as written.
    pub provider: String,
    /// Its `System/Channel`, as written.
    pub channel: Option<String>,
    /// Its `System/EventID`, as written.
    pub event_id: Option<String>,
    /// Its `System/Level`, as written (Windows' number).
    pub level: Option<String>,
    /// Its named data items, in order (unnamed ones are not kept: nothing is known of their
    /// order).
    pub data: Vec<(String, String)>,
}

impl Observed {
    /// The value of the first data item called `name` (any case).
    pub fn data(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request it names: a `RequestId` or `TransactionId` data item (any case).
    pub fn request_key(&self) -> Option<&str> {
        self.data(Detail::RequestId.xml_name())
            .or_else(|| self.data(Detail::TransactionId.xml_name()))
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }
}

/// One item of a log, whatever its provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// An event, with its provider and channel.
    Event(Observed),
    /// Something that is not an event (the legacy pass reports these for XML and .evtx).
    Unreadable {
        /// Where.
        origin: Origin,
        /// Why.
        why: String,
    },
}

/// The formats an export of the 2021 connector's channels is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnifiedFormat {
    /// `wevtutil qe … /f:xml` or `/f:RenderedXml`, bare or wrapped, `ToXml()`.
    Xml,
    /// Binary .evtx (`wevtutil epl`).
    Evtx,
    /// The JSON Lines `evtx_dump -o jsonl` prints of an .evtx.
    EvtxJson,
}

fn observed(raw: super::raw::RawEvent) -> Observed {
    let data = match raw.payload {
        Payload::Named(items, _) => items,
        Payload::Positional(_) => Vec::new(),
    };
    Observed {
        origin: raw.origin,
        provider: raw.provider.unwrap_or_default(),
        channel: raw.channel,
        event_id: raw.event_id,
        level: match raw.level {
            RawLevel::Windows(t) | RawLevel::Name(t) => Some(t),
            RawLevel::Missing => None,
        },
        data,
    }
}

fn seen(item: Item) -> Option<Seen> {
    match item {
        Item::Event(raw) => Some(Seen::Event(observed(raw))),
        Item::Unreadable { origin, why } => Some(Seen::Unreadable { origin, why }),
        // With every provider matched there is nothing foreign; a dirty .evtx's warning is
        // the legacy pass's to report.
        Item::Foreign(_) | Item::Warning { .. } => None,
    }
}

/// Reads every event of a log image, of any provider, handing each on; `visit` may stop.
pub fn scan(bytes: Vec<u8>, format: UnifiedFormat, mut visit: impl FnMut(Seen) -> ControlFlow<()>) {
    if format == UnifiedFormat::EvtxJson {
        let decoded = super::decode::decode_owned(bytes);
        return evtx_json::read_lines(&decoded.text, &mut visit);
    }
    let any = [ANY_PROVIDER.to_string()];
    let mut hand_on = |item: Item| match seen(item) {
        Some(s) => visit(s),
        None => ControlFlow::Continue(()),
    };
    if format == UnifiedFormat::Evtx {
        return super::evtx::read_records(bytes, &any, &mut hand_on);
    }
    let decoded = super::decode::decode_owned(bytes);
    super::xml_read::read_events(&decoded.text, &any, &mut hand_on)
}

/// Reads records as the .evtx reader gets them from the `evtx` crate (each record's own XML
/// document, with its record id), through the very step the .evtx reader runs on each.
pub fn scan_evtx_rendered(
    records: &[(u64, String)],
    mut visit: impl FnMut(Seen) -> ControlFlow<()>,
) {
    let any = [ANY_PROVIDER.to_string()];
    for (i, (record_id, xml)) in records.iter().enumerate() {
        let origin = Origin {
            index: i as u64 + 1,
            record_id: Some(*record_id),
            ..Origin::default()
        };
        if let Some(s) = seen(super::evtx::record_item(xml, origin, &any)) {
            if visit(s).is_break() {
                return;
            }
        }
    }
}

/// Whether the text looks like `evtx_dump`'s JSON (its first item is an `{"Event": …}`).
pub fn looks_like_evtx_json(bytes: &[u8]) -> bool {
    let head = super::decode::decode(&bytes[..bytes.len().min(256)]).text;
    let t: String = head.chars().filter(|c| !c.is_whitespace()).collect();
    t.starts_with("{\"Event\":")
}

/// A record as the snapshot writes it.
#[derive(serde::Serialize)]
struct SnapshotRecord<'a> {
    seq: u64,
    time: String,
    event_id: u16,
    event: &'static str,
    channel: &'static str,
    level: &'static str,
    #[serde(skip_serializing_if = "DetailMap::is_empty")]
    details: DetailMap<'a>,
}

/// Details in the catalog's print order, by key.
struct DetailMap<'a>(&'a Details);

impl DetailMap<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl serde::Serialize for DetailMap<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k.key(), v)))
    }
}

/// Records as a YAML sequence, the form of `snapshots/unified-2021/<scenario>.snap`.
pub fn to_yaml(records: &[UnifiedRecord]) -> String {
    let wire: Vec<SnapshotRecord<'_>> = records
        .iter()
        .map(|r| SnapshotRecord {
            seq: r.sequence,
            time: crate::sim::format_time(r.time),
            event_id: r.event.id(),
            event: r.event.name(),
            channel: r.channel().name(),
            level: r.level().name(),
            details: DetailMap(&r.details),
        })
        .collect();
    // Strings, integers and string maps always serialise.
    serde_yaml::to_string(&wire).unwrap_or_default()
}
