//! Writing the 2021 connector's events as Windows event XML, in the three shapes an admin's
//! export comes in: `wevtutil qe <channel> /f:xml` (single quotes, one event per line),
//! `/f:RenderedXml` (the same with a `RenderingInfo` block: message, level, channel names), and
//! the XML the `evtx` crate renders for each record of an .evtx file (a declaration per record,
//! double quotes, explicit end tags), which is what the .evtx reader parses.
//!
//! What is not published is made up here and documented in `docs/event-log.md`: the provider
//! Guid, the Task numbers (0: the category strings are unpublished), the keywords, and the
//! `EventData` item names (the harness's detail names: `DeviceId`, `RequestId`, …).

use std::fmt::Write as _;

use super::super::xml::{escape, XmlLayout, COMPUTER, EVENT_NS};
use super::{UnifiedRecord, PROVIDER, PROVIDER_GUID};
use crate::catalog::unified::Channel;

/// Which export the XML imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnifiedXmlForm {
    /// `wevtutil qe "Microsoft-Intune-CertificateConnectors/Admin" /f:xml`.
    Plain,
    /// `wevtutil qe … /f:RenderedXml`: also the rendered message and names.
    Rendered,
    /// One record as the `evtx` crate renders it from an .evtx file.
    EvtxRecord,
}

fn keywords(channel: Channel) -> &'static str {
    match channel {
        Channel::Admin => "0x8000000000000000",
        Channel::Operational => "0x4000000000000000",
    }
}

/// `TimeCreated/@SystemTime` with seven fractional digits, as Windows writes it.
pub(crate) fn system_time(r: &UnifiedRecord) -> String {
    let t = r.time.to_offset(time::UtcOffset::UTC);
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

/// One `<Event>` element (no trailing newline; an [`UnifiedXmlForm::EvtxRecord`] starts with
/// its own declaration line).
pub(super) fn event_xml(r: &UnifiedRecord, form: UnifiedXmlForm) -> String {
    let q = if form == UnifiedXmlForm::EvtxRecord {
        '"'
    } else {
        '\''
    };
    let spec = r.event.spec();
    let mut x = String::new();
    if form == UnifiedXmlForm::EvtxRecord {
        x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    }
    let empty = |x: &mut String, tag: &str, attrs: &str| {
        if form == UnifiedXmlForm::EvtxRecord {
            let _ = write!(x, "<{tag}{attrs}></{tag}>");
        } else {
            let _ = write!(x, "<{tag}{attrs}/>");
        }
    };
    let _ = write!(x, "<Event xmlns={q}{EVENT_NS}{q}><System>");
    empty(
        &mut x,
        "Provider",
        &format!(" Name={q}{PROVIDER}{q} Guid={q}{PROVIDER_GUID}{q}"),
    );
    let _ = write!(
        x,
        "<EventID>{}</EventID><Version>0</Version><Level>{}</Level><Task>0</Task><Opcode>0</Opcode><Keywords>{}</Keywords>",
        spec.id,
        r.level().windows_value(),
        keywords(spec.channel)
    );
    empty(
        &mut x,
        "TimeCreated",
        &format!(" SystemTime={q}{}{q}", system_time(r)),
    );
    let _ = write!(x, "<EventRecordID>{}</EventRecordID>", r.sequence);
    empty(&mut x, "Correlation", "");
    empty(
        &mut x,
        "Execution",
        &format!(" ProcessID={q}0{q} ThreadID={q}0{q}"),
    );
    let _ = write!(
        x,
        "<Channel>{}</Channel><Computer>{COMPUTER}</Computer>",
        spec.channel.log_name()
    );
    empty(&mut x, "Security", "");
    x.push_str("</System><EventData>");
    for (k, v) in r.details.iter() {
        let _ = write!(x, "<Data Name={q}{}{q}>{}</Data>", k.xml_name(), escape(v));
    }
    x.push_str("</EventData>");
    if form == UnifiedXmlForm::Rendered {
        let _ = write!(
            x,
            "<RenderingInfo Culture='en-US'><Message>{}</Message><Level>{}</Level><Task></Task><Opcode>Info</Opcode><Channel>{}</Channel><Provider>{PROVIDER}</Provider><Keywords/></RenderingInfo>",
            escape(spec.description),
            r.level().name(),
            spec.channel.log_name()
        );
    }
    x.push_str("</Event>");
    x
}

/// Writes records in a form and layout, one event per line (`EvtxRecord` ignores the layout:
/// each record is its own document).
pub fn write_unified_xml(
    records: &[UnifiedRecord],
    form: UnifiedXmlForm,
    layout: XmlLayout,
) -> String {
    let wrapped = layout == XmlLayout::Wrapped && form != UnifiedXmlForm::EvtxRecord;
    let mut out = String::new();
    if wrapped {
        out.push_str("<Events>\n");
    }
    for r in records {
        out.push_str(&event_xml(r, form));
        out.push('\n');
    }
    if wrapped {
        out.push_str("</Events>\n");
    }
    out
}
