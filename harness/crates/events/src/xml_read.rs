//! Reading Windows event XML: `wevtutil qe /f:xml` (a bare sequence of `<Event>` elements, one
//! per line), the same wrapped in a root element (`/e:Events`), PowerShell's
//! `EventLogRecord.ToXml()` lines, and the per-record XML the .evtx reader renders.
//!
//! The text is cut into `<Event>` elements and each is parsed on its own, so one malformed
//! event is one unreadable item, not a lost file. Named `<Data Name='…'>` items (manifest
//! style) are read by name; unnamed items (a classic event log) by position: the diagnostic
//! code, then the event's details in catalog order (`docs/event-log.md`).

use std::ops::ControlFlow;

use roxmltree::{Document, Node, ParsingOptions};

use super::decode::decode;
use super::problem::{Origin, RecordProblem};
use super::raw::{is_connector, Item, Payload, RawEvent, RawLevel, Spelling, MAX_DATA_ITEMS};
use super::record::EventRecord;
use super::xml::{DATA_CODE, DATA_CODE_NAME, DATA_MESSAGE, PROVIDER};
use super::StreamError;

/// Nodes one `<Event>` may have: a connector event has about forty; this keeps a hostile
/// element from costing more than a little memory.
const MAX_NODES: u32 = 4_096;

pub(crate) fn options() -> ParsingOptions {
    ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    }
}

/// Reads the connector's events (provider [`PROVIDER`]) from Windows event XML bytes in
/// UTF-8 or UTF-16, strictly: the first malformed event or record problem is an error.
/// Events of other providers are skipped.
pub fn from_xml(bytes: &[u8]) -> Result<Vec<EventRecord>, StreamError> {
    let decoded = decode(bytes);
    if let Some(p) = decoded.problem {
        return Err(StreamError::Encoding(format!("line {}: {}", p.line, p.why)));
    }
    let providers = [PROVIDER.to_string()];
    super::strict::collect("XML", true, |visit| {
        read_events(&decoded.text, &providers, visit)
    })
}

/// Tracks the line of a byte offset, moving forward only.
struct Lines<'t> {
    text: &'t str,
    at: usize,
    line: u64,
}

impl Lines<'_> {
    fn line_at(&mut self, offset: usize) -> u64 {
        if offset > self.at {
            let upto = offset.min(self.text.len());
            self.line += self.text.as_bytes()[self.at..upto]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.at = upto;
        }
        self.line
    }
}

/// Reads every `<Event>` in `text`, handing each on as an [`Item`]; `visit` may stop early.
pub(crate) fn read_events(
    text: &str,
    providers: &[String],
    visit: &mut dyn FnMut(Item) -> ControlFlow<()>,
) {
    let mut lines = Lines {
        text,
        at: 0,
        line: 1,
    };
    let mut pos = 0;
    let mut index = 0u64;
    loop {
        let start = find_start(text, pos);
        let outside_end = start.unwrap_or(text.len());
        if let Some(junk) = junk_in(&text[pos..outside_end]) {
            index += 1;
            let origin = Origin {
                index,
                line: Some(lines.line_at(pos + junk)),
                ..Origin::default()
            };
            let why = "text outside any <Event> element".to_string();
            if visit(Item::Unreadable { origin, why }).is_break() {
                return;
            }
        }
        let Some(start) = start else { return };
        index += 1;
        let line = lines.line_at(start);
        let origin = Origin {
            index,
            line: Some(line),
            ..Origin::default()
        };
        let next_start = find_start(text, start + 1);
        let end = find_end(text, start).filter(|e| next_start.is_none_or(|n| *e <= n));
        let Some(end) = end else {
            let why = "an <Event> element that never ends (a file cut short?)".to_string();
            if visit(Item::Unreadable { origin, why }).is_break() {
                return;
            }
            match next_start {
                Some(n) => {
                    pos = n;
                    continue;
                }
                None => return,
            }
        };
        let item = match Document::parse_with_options(&text[start..end], options()) {
            Ok(doc) => parse_event(doc.root_element(), origin, providers),
            Err(e) => {
                let p = e.pos();
                let origin = Origin {
                    line: Some(line + u64::from(p.row.saturating_sub(1))),
                    ..origin
                };
                Item::Unreadable {
                    origin,
                    why: format!("malformed XML: {e}"),
                }
            }
        };
        if visit(item).is_break() {
            return;
        }
        pos = end;
    }
}

/// The next `<Event` start tag at or after `from` (not `<Events`).
fn find_start(text: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = text.get(at..)?.find("<Event") {
        let start = at + i;
        let after = text.as_bytes().get(start + 6).copied();
        if matches!(after, Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')) {
            return Some(start);
        }
        at = start + 6;
    }
    None
}

/// The end (exclusive) of the `<Event>` element starting at `start`.
fn find_end(text: &str, start: usize) -> Option<usize> {
    let tag_end = start + text[start..].find('>')?;
    if text.as_bytes()[tag_end - 1] == b'/' {
        return Some(tag_end + 1);
    }
    let mut at = tag_end;
    while let Some(i) = text[at..].find("</Event") {
        let close = at + i + 7;
        let rest = &text[close..];
        let trimmed = rest.trim_start();
        if trimmed.starts_with('>') {
            return Some(close + (rest.len() - trimmed.len()) + 1);
        }
        at = close;
    }
    None
}

/// The offset of the first character outside markup that is not white space.
fn junk_in(segment: &str) -> Option<usize> {
    let mut i = 0;
    let bytes = segment.as_bytes();
    while i < bytes.len() {
        let rest = &segment[i..];
        let skip = if rest.starts_with("<!--") {
            rest.find("-->").map(|e| e + 3)
        } else if rest.starts_with("<?") {
            rest.find("?>").map(|e| e + 2)
        } else if rest.starts_with('<') {
            rest.find('>').map(|e| e + 1)
        } else if bytes[i].is_ascii_whitespace() {
            Some(1)
        } else {
            return Some(i);
        };
        // Unclosed markup at the very end: the rest is junk.
        i += skip?;
    }
    None
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn text_of(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// Reads one `<Event>` element; events of other providers are [`Item::Foreign`].
pub(crate) fn parse_event(node: Node<'_, '_>, mut origin: Origin, providers: &[String]) -> Item {
    if node.tag_name().name() != "Event" {
        let why = format!("<{}> where an <Event> was expected", node.tag_name().name());
        return Item::Unreadable { origin, why };
    }
    let Some(system) = child(node, "System") else {
        let why = "an <Event> without <System>".to_string();
        return Item::Unreadable { origin, why };
    };
    let provider = child(system, "Provider");
    let names = ["Name", "EventSourceName"];
    let ours = provider.is_some_and(|p| {
        names
            .iter()
            .filter_map(|a| p.attribute(*a))
            .any(|n| is_connector(providers, n))
    });
    let text = |name: &str| child(system, name).map(text_of);
    // An .evtx record's own header id comes first (the one `evtxexport` prints); in a
    // crafted or carved file the rendered `EventRecordID` can differ from it.
    if origin.record_id.is_none() {
        origin.record_id = text("EventRecordID").and_then(|t| t.trim().parse().ok());
    }
    if !ours {
        return Item::Foreign(origin);
    }
    let mut raw = RawEvent::new(origin);
    raw.provider = provider.and_then(|p| {
        names
            .iter()
            .find_map(|a| p.attribute(*a))
            .map(str::to_string)
    });
    raw.channel = text("Channel");
    raw.event_id = text("EventID");
    raw.level = text("Level").map_or(RawLevel::Missing, RawLevel::Windows);
    raw.time = child(system, "TimeCreated")
        .and_then(|n| n.attribute("SystemTime"))
        .map(str::to_string);
    let items: Vec<Node<'_, '_>> = child(node, "EventData")
        .map(|d| {
            d.children()
                .filter(|c| c.is_element() && c.tag_name().name() == "Data")
                .collect()
        })
        .unwrap_or_default();
    let mut items = items.as_slice();
    if items.len() > MAX_DATA_ITEMS {
        raw.problems.push(RecordProblem::TooManyData {
            limit: MAX_DATA_ITEMS,
        });
        items = &items[..MAX_DATA_ITEMS];
    }
    let named = items
        .iter()
        .filter(|d| d.attribute("Name").is_some())
        .count();
    if named == 0 {
        raw.code = items.first().map(|d| text_of(*d));
        raw.payload = Payload::Positional(items.iter().skip(1).map(|d| text_of(*d)).collect());
    } else {
        if named < items.len() {
            raw.problems.push(RecordProblem::MixedData);
        }
        let mut rest = Vec::new();
        for d in items {
            let Some(name) = d.attribute("Name") else {
                continue;
            };
            let value = text_of(*d);
            let slot = match name {
                DATA_CODE => &mut raw.code,
                DATA_CODE_NAME => &mut raw.code_name,
                DATA_MESSAGE => {
                    continue;
                }
                _ => {
                    rest.push((name.to_string(), value));
                    continue;
                }
            };
            if slot.is_some() {
                raw.problems.push(RecordProblem::DuplicateData {
                    name: name.to_string(),
                });
            } else {
                *slot = Some(value);
            }
        }
        raw.payload = Payload::Named(rest, Spelling::Xml);
    }
    Item::Event(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<Item> {
        let mut out = Vec::new();
        let providers = vec![super::super::PROVIDER.to_string()];
        read_events(text, &providers, &mut |i| {
            out.push(i);
            ControlFlow::Continue(())
        });
        out
    }

    fn origin_line(item: &Item) -> Option<u64> {
        match item {
            Item::Event(r) => r.origin.line,
            Item::Foreign(o)
            | Item::Unreadable { origin: o, .. }
            | Item::Warning { origin: o, .. } => o.line,
        }
    }

    const ONE: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft Intune Connector'/><EventID>10010</EventID><Level>4</Level><EventRecordID>7</EventRecordID></System><EventData><Data>0x0</Data></EventData></Event>";

    #[test]
    fn one_bad_event_does_not_hide_the_others() {
        let text = format!("<Events>\n{ONE}\n<Event><System>\n{ONE}\n</Events>\n");
        let got = items(&text);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(matches!(got[0], Item::Event(_)));
        assert!(matches!(&got[1], Item::Unreadable { why, .. } if why.contains("never ends")));
        assert_eq!(origin_line(&got[1]), Some(3));
        assert!(matches!(got[2], Item::Event(_)));
        assert_eq!(origin_line(&got[2]), Some(4));
    }

    #[test]
    fn malformed_events_and_junk_are_located() {
        let text = format!("{ONE}\nhello\n<Event><System></Sys></Event>\n{ONE}");
        let got = items(&text);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(matches!(&got[1], Item::Unreadable { why, .. } if why.contains("outside")));
        assert_eq!(origin_line(&got[1]), Some(2));
        assert!(matches!(&got[2], Item::Unreadable { why, .. } if why.contains("malformed")));
        assert_eq!(origin_line(&got[2]), Some(3));
    }

    #[test]
    fn other_providers_are_foreign_by_name_or_source_name() {
        let other = ONE.replace("Name='Microsoft Intune Connector'", "Name='Other'");
        assert!(matches!(items(&other)[0], Item::Foreign(_)));
        let source = ONE.replace(
            "Name='Microsoft Intune Connector'",
            "Name='Microsoft-Windows-Something' EventSourceName='microsoft intune connector'",
        );
        assert!(matches!(items(&source)[0], Item::Event(_)));
    }

    #[test]
    fn huge_elements_are_refused_not_built() {
        let data = "<Data>x</Data>".repeat(10_000);
        let text = ONE.replace("<Data>0x0</Data>", &data);
        let got = items(&text);
        assert!(
            matches!(&got[0], Item::Unreadable { why, .. } if why.contains("nodes")),
            "{got:?}"
        );
    }
}
