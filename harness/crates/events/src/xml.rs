//! Writing Windows event XML: the `Event/System/EventData` schema that `wevtutil qe /f:xml` and
//! PowerShell's `EventLogRecord.ToXml()` print, for people who compare with a real connector's
//! log, and for testing `check` on every shape a real log comes in.
//!
//! Two forms ([`XmlForm`]): a manifest-based provider's (named `<Data Name='…'>` items) and a
//! classic event log's, as the legacy connector's "Microsoft Intune Connector" log renders
//! (no provider Guid, `Qualifiers='0'`, whole-second times, unnamed `<Data>` in the order
//! `docs/event-log.md` documents). Two layouts ([`XmlLayout`]): wevtutil's bare sequence of
//! events, one per line, and the same wrapped in `<Events>` (`/e:Events`). Both are read back
//! by [`super::from_xml`].

use std::fmt::Write as _;

use super::record::EventRecord;

/// The event provider name the connector registers (the source name of the legacy connector's
/// classic log; the real one is not published, so `check --provider` can name another).
pub const PROVIDER: &str = "Microsoft Intune Connector";
/// The harness's own provider Guid for the manifest form. Made up here: the real connector's
/// manifest is not published.
pub const PROVIDER_GUID: &str = "{7A3C5E1F-2B4D-4C6E-9F80-1A2B3C4D5E6F}";
/// The channel (log) the connector writes to.
pub const CHANNEL: &str = "Microsoft Intune Connector";
/// The computer name written into `System/Computer`.
pub const COMPUTER: &str = "ndes01.harness.test";
/// The event schema namespace.
pub const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

pub(crate) const DATA_CODE: &str = "DiagnosticCode";
pub(crate) const DATA_CODE_NAME: &str = "DiagnosticName";
pub(crate) const DATA_MESSAGE: &str = "DiagnosticMessage";

/// Which kind of event log the XML imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XmlForm {
    /// A manifest-based provider: a provider Guid, a plain `<EventID>`, seven fractional digits
    /// of time, and named items: `DiagnosticCode`, `DiagnosticName`, `DiagnosticMessage`, then
    /// each detail by its XML name (`DeviceId`).
    Manifest,
    /// A classic event log: no Guid, `<EventID Qualifiers='0'>`, a whole-second time, and
    /// unnamed items: the code, then every detail the event can carry in catalog order, empty
    /// where absent.
    Classic,
}

/// How the events are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XmlLayout {
    /// One `<Event>` per line, nothing else (`wevtutil qe /f:xml`, `ToXml()` per event).
    Bare,
    /// The same inside `<Events>…</Events>` (`wevtutil qe /f:xml /e:Events`).
    Wrapped,
}

/// Escapes text for content and single-quoted attributes. A carriage return is written as a
/// character reference so that it survives; other control characters cannot appear in XML 1.0
/// and become U+FFFD.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push(char::REPLACEMENT_CHARACTER)
            }
            c => out.push(c),
        }
    }
    out
}

/// `TimeCreated/@SystemTime`: seven fractional digits (manifest), or a whole second written
/// with nine zero digits (classic, as newer Windows prints it).
fn system_time(r: &EventRecord, form: XmlForm) -> String {
    let t = r.time.to_offset(time::UtcOffset::UTC);
    let date = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match form {
        XmlForm::Manifest => format!("{date}.{:07}Z", t.nanosecond() / 100),
        XmlForm::Classic => format!("{date}.000000000Z"),
    }
}

/// Writes one `<Event>` element in the given form (no trailing newline).
pub fn event_to_xml_in(r: &EventRecord, form: XmlForm) -> String {
    let mut x = String::new();
    let _ = write!(x, "<Event xmlns='{EVENT_NS}'><System>");
    match form {
        XmlForm::Manifest => {
            let _ = write!(
                x,
                "<Provider Name='{}' Guid='{PROVIDER_GUID}'/><EventID>{}</EventID>",
                escape(PROVIDER),
                r.event.id()
            );
        }
        XmlForm::Classic => {
            let _ = write!(
                x,
                "<Provider Name='{}'/><EventID Qualifiers='0'>{}</EventID>",
                escape(PROVIDER),
                r.event.id()
            );
        }
    }
    let keywords = match form {
        XmlForm::Manifest => "0x8000000000000000",
        XmlForm::Classic => "0x80000000000000",
    };
    let _ = write!(
        x,
        "<Version>0</Version><Level>{}</Level><Task>0</Task><Opcode>0</Opcode><Keywords>{keywords}</Keywords>",
        r.level().windows_value()
    );
    let _ = write!(
        x,
        "<TimeCreated SystemTime='{}'/><EventRecordID>{}</EventRecordID>",
        system_time(r, form),
        r.sequence
    );
    x.push_str("<Correlation/><Execution ProcessID='0' ThreadID='0'/>");
    let _ = write!(
        x,
        "<Channel>{}</Channel><Computer>{}</Computer><Security/></System><EventData>",
        escape(CHANNEL),
        escape(COMPUTER)
    );
    match form {
        XmlForm::Manifest => {
            let mut data = |name: &str, value: &str| {
                let _ = write!(x, "<Data Name='{name}'>{}</Data>", escape(value));
            };
            data(DATA_CODE, &r.code.hex());
            data(DATA_CODE_NAME, r.code.name());
            data(DATA_MESSAGE, r.code.message());
            for (k, v) in r.details.iter() {
                data(k.xml_name(), v);
            }
        }
        XmlForm::Classic => {
            let _ = write!(x, "<Data>{}</Data>", r.code.hex());
            for detail in r.event.spec().details {
                match r.details.get(*detail) {
                    Some(v) if !v.is_empty() => {
                        let _ = write!(x, "<Data>{}</Data>", escape(v));
                    }
                    _ => x.push_str("<Data/>"),
                }
            }
        }
    }
    x.push_str("</EventData></Event>");
    x
}

/// Writes one manifest-form `<Event>` element (no trailing newline).
pub fn event_to_xml(r: &EventRecord) -> String {
    event_to_xml_in(r, XmlForm::Manifest)
}

/// Writes a stream in a form and layout, one event per line.
pub fn write_xml(records: &[EventRecord], form: XmlForm, layout: XmlLayout) -> String {
    let mut out = String::new();
    if layout == XmlLayout::Wrapped {
        out.push_str("<Events>\n");
    }
    for r in records {
        out.push_str(&event_to_xml_in(r, form));
        out.push('\n');
    }
    if layout == XmlLayout::Wrapped {
        out.push_str("</Events>\n");
    }
    out
}

/// Writes a whole stream as a manifest-form `<Events>` document, one event per line.
pub fn to_xml(records: &[EventRecord]) -> String {
    write_xml(records, XmlForm::Manifest, XmlLayout::Wrapped)
}
