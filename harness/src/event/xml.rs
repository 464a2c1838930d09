//! Windows event XML: the `Event/System/EventData` schema that `wevtutil qe /f:xml` and
//! `Get-WinEvent … ToXml()` print, for people who compare with a real connector's log.
//!
//! The writer produces a well-formed document wrapped in `<Events>` (as `wevtutil qe /e:Events`
//! does). The reader accepts that, a single `<Event>`, or wevtutil's bare concatenation of
//! `<Event>` elements, in UTF-8 or UTF-16 (PowerShell's redirection default); events from other
//! providers are skipped.

use std::fmt::Write as _;

use crate::catalog::{Detail, DiagnosticCode, EventId, Level};
use crate::sim::parse_time;

use super::record::{Details, EventRecord};
use super::StreamError;

/// The event provider name the connector registers.
pub const PROVIDER: &str = "Microsoft Intune Connector";
/// The channel (log) the connector writes to.
pub const CHANNEL: &str = "Microsoft Intune Connector";
/// The computer name written into `System/Computer`.
pub const COMPUTER: &str = "ndes01.harness.test";
/// The event schema namespace.
pub const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

const DATA_CODE: &str = "DiagnosticCode";
const DATA_CODE_NAME: &str = "DiagnosticName";
const DATA_MESSAGE: &str = "DiagnosticMessage";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Windows prints `TimeCreated/@SystemTime` with seven fractional digits.
fn system_time(r: &EventRecord) -> String {
    let t = r.time;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

/// Writes one `<Event>` element (no trailing newline).
pub fn event_to_xml(r: &EventRecord) -> String {
    let mut x = String::new();
    let _ = write!(x, "<Event xmlns=\"{EVENT_NS}\">");
    x.push_str("<System>");
    let _ = write!(x, "<Provider Name=\"{}\" />", escape(PROVIDER));
    let _ = write!(x, "<EventID Qualifiers=\"0\">{}</EventID>", r.event.id());
    x.push_str("<Version>0</Version>");
    let _ = write!(x, "<Level>{}</Level>", r.level().windows_value());
    x.push_str("<Task>0</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords>");
    let _ = write!(x, "<TimeCreated SystemTime=\"{}\" />", system_time(r));
    let _ = write!(x, "<EventRecordID>{}</EventRecordID>", r.sequence);
    let _ = write!(x, "<Channel>{}</Channel>", escape(CHANNEL));
    let _ = write!(x, "<Computer>{}</Computer>", escape(COMPUTER));
    x.push_str("<Security /></System><EventData>");
    let mut data = |name: &str, value: &str| {
        let _ = write!(x, "<Data Name=\"{name}\">{}</Data>", escape(value));
    };
    data(DATA_CODE, &r.code.hex());
    data(DATA_CODE_NAME, r.code.name());
    data(DATA_MESSAGE, r.code.message());
    for (k, v) in r.details.iter() {
        data(k.xml_name(), v);
    }
    x.push_str("</EventData></Event>");
    x
}

/// Writes a whole stream as an `<Events>` document, one event per line.
pub fn to_xml(records: &[EventRecord]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>\n");
    for r in records {
        out.push_str(&event_to_xml(r));
        out.push('\n');
    }
    out.push_str("</Events>\n");
    out
}

/// Decodes UTF-8 (with or without BOM) or UTF-16 (with BOM).
fn decode(bytes: &[u8]) -> Result<String, StreamError> {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| StreamError::Encoding("invalid UTF-16".into()))
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|e| StreamError::Encoding(e.to_string()))
        }
        _ => String::from_utf8(bytes.to_vec()).map_err(|e| StreamError::Encoding(e.to_string())),
    }
}

/// Reads events from Windows event XML bytes; see the module docs for the accepted shapes.
pub fn from_xml(bytes: &[u8]) -> Result<Vec<EventRecord>, StreamError> {
    let text = decode(bytes)?;
    let body = strip_declaration(&text);
    // Wrap so that a bare concatenation of <Event> elements is one document too.
    let wrapped = format!("<HarnessWrapper>{body}</HarnessWrapper>");
    let doc = roxmltree::Document::parse(&wrapped).map_err(|e| {
        let pos = e.pos();
        StreamError::Syntax {
            format: "XML",
            line: pos.row as usize,
            column: pos.col as usize,
            why: e.to_string(),
        }
    })?;
    let mut out = Vec::new();
    for node in doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Event")
    {
        if let Some(r) = parse_event(node)? {
            out.push(r);
        }
    }
    Ok(out)
}

fn strip_declaration(text: &str) -> &str {
    let t = text.trim_start();
    if t.starts_with("<?xml") {
        if let Some(end) = t.find("?>") {
            return &t[end + 2..];
        }
    }
    t
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Parses one `<Event>`; `None` when it belongs to another provider.
pub(crate) fn parse_event(
    node: roxmltree::Node<'_, '_>,
) -> Result<Option<EventRecord>, StreamError> {
    let system = child(node, "System")
        .ok_or_else(|| StreamError::Xml("an <Event> has no <System>".into()))?;
    let provider = child(system, "Provider")
        .and_then(|p| p.attribute("Name"))
        .unwrap_or_default();
    if provider != PROVIDER {
        return Ok(None);
    }
    let text = |name: &str| child(system, name).and_then(|n| n.text()).map(str::trim);
    let seq: u64 = text("EventRecordID")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| StreamError::Xml("an <Event> has no numeric <EventRecordID>".into()))?;
    let bad = |why: String| StreamError::Record { seq, why };
    let id: u16 = text("EventID")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| bad("no numeric <EventID>".into()))?;
    let event =
        EventId::from_id(id).ok_or_else(|| bad(format!("<EventID> {id} is not in the catalog")))?;
    let level = text("Level")
        .and_then(|t| t.parse::<u8>().ok())
        .and_then(Level::from_windows_value)
        .ok_or_else(|| bad("no <Level> 2, 3 or 4".into()))?;
    if level != event.level() {
        return Err(bad(format!(
            "{} is level {}, but <Level> says {}",
            event.name(),
            event.level().name(),
            level.name()
        )));
    }
    let when = child(system, "TimeCreated")
        .and_then(|n| n.attribute("SystemTime"))
        .ok_or_else(|| bad("no <TimeCreated SystemTime=…>".into()))?;
    let time = parse_time(when).map_err(|e| bad(format!("TimeCreated `{when}`: {e}")))?;
    let mut code = None;
    let mut details = Details::new();
    if let Some(data) = child(node, "EventData") {
        for d in data
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "Data")
        {
            let name = d
                .attribute("Name")
                .ok_or_else(|| bad("a <Data> item has no Name".into()))?;
            let value = d.text().unwrap_or_default();
            match name {
                DATA_CODE => {
                    code = Some(
                        value
                            .parse::<DiagnosticCode>()
                            .map_err(|e| bad(e.to_string()))?,
                    )
                }
                DATA_CODE_NAME | DATA_MESSAGE => {}
                other => {
                    let key = Detail::from_xml_name(other)
                        .ok_or_else(|| bad(format!("unknown <Data Name=\"{other}\">")))?;
                    details.insert(key, value);
                }
            }
        }
    }
    let code = code.ok_or_else(|| bad(format!("no <Data Name=\"{DATA_CODE}\">")))?;
    Ok(Some(EventRecord {
        sequence: seq,
        time,
        event,
        code,
        details,
    }))
}
