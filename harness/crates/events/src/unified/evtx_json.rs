//! The JSON an .evtx file becomes through `evtx_dump -o jsonl` (the `evtx` crate's JSON
//! rendering): one `{"Event": {"System": …, "EventData": …}}` object per line, attributes
//! under `#attributes`, numbers as numbers. The harness writes its 2021-dialect streams in it
//! (the `.evtx`-equivalent of a stream, since no .evtx is written), and `check` reads it.

use std::fmt::Write as _;
use std::ops::ControlFlow;

use serde_json::Value;

use super::super::problem::Origin;
use super::super::xml::{COMPUTER, EVENT_NS};
use super::xml::system_time;
use super::{Observed, Seen, UnifiedRecord, PROVIDER, PROVIDER_GUID};

fn quoted(s: &str) -> String {
    // A string always serialises.
    serde_json::to_string(s).unwrap_or_default()
}

/// One record as one line of `evtx_dump -o jsonl` (no trailing newline), keys in its order.
pub fn record_json(r: &UnifiedRecord) -> String {
    let spec = r.event.spec();
    let mut x = String::new();
    let _ = write!(
        x,
        "{{\"Event\":{{\"#attributes\":{{\"xmlns\":{}}},\"System\":{{\"Provider\":{{\"#attributes\":{{\"Name\":{},\"Guid\":{}}}}},",
        quoted(EVENT_NS),
        quoted(PROVIDER),
        quoted(PROVIDER_GUID)
    );
    let _ = write!(
        x,
        "\"EventID\":{},\"Version\":0,\"Level\":{},\"Task\":0,\"Opcode\":0,\"Keywords\":{},",
        spec.id,
        r.level().windows_value(),
        quoted(match spec.channel {
            crate::catalog::unified::Channel::Admin => "0x8000000000000000",
            crate::catalog::unified::Channel::Operational => "0x4000000000000000",
        })
    );
    let _ = write!(
        x,
        "\"TimeCreated\":{{\"#attributes\":{{\"SystemTime\":{}}}}},\"EventRecordID\":{},\"Correlation\":null,\"Execution\":{{\"#attributes\":{{\"ProcessID\":0,\"ThreadID\":0}}}},\"Channel\":{},\"Computer\":{},\"Security\":null}},",
        quoted(&system_time(r)),
        r.sequence,
        quoted(spec.channel.log_name()),
        quoted(COMPUTER)
    );
    x.push_str("\"EventData\":");
    if r.details.is_empty() {
        x.push_str("null");
    } else {
        x.push('{');
        for (i, (k, v)) in r.details.iter().enumerate() {
            if i > 0 {
                x.push(',');
            }
            let _ = write!(x, "{}:{}", quoted(k.xml_name()), quoted(v));
        }
        x.push('}');
    }
    x.push_str("}}");
    x
}

/// Records as `evtx_dump -o jsonl` prints them, one per line.
pub fn write_evtx_json(records: &[UnifiedRecord]) -> String {
    let mut out = String::new();
    for r in records {
        out.push_str(&record_json(r));
        out.push('\n');
    }
    out
}

/// A scalar as text: a string as it is, a number as written, anything else absent.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An element's text: a scalar, or an object's `#text` (`{"#attributes": …, "#text": 4005}`).
fn text(v: Option<&Value>) -> Option<String> {
    let v = v?;
    scalar(v).or_else(|| v.get("#text").and_then(scalar))
}

fn attribute(v: Option<&Value>, name: &str) -> Option<String> {
    v?.get("#attributes")?.get(name).and_then(scalar)
}

/// One line's record, or why it is not one.
fn observed(value: &Value, origin: Origin) -> Result<Observed, String> {
    let event = value
        .get("Event")
        .ok_or("not an `evtx_dump` record: no `Event` key")?;
    let system = event.get("System").ok_or("an `Event` without `System`")?;
    let provider = attribute(system.get("Provider"), "Name")
        .or_else(|| attribute(system.get("Provider"), "EventSourceName"))
        .unwrap_or_default();
    let mut origin = origin;
    origin.record_id = text(system.get("EventRecordID")).and_then(|t| t.trim().parse().ok());
    let data = match event.get("EventData") {
        Some(Value::Object(items)) => items
            .iter()
            .take(super::super::raw::MAX_DATA_ITEMS)
            .filter(|(k, _)| !k.starts_with('#'))
            .filter_map(|(k, v)| scalar(v).map(|v| (k.clone(), v)))
            .collect(),
        _ => Vec::new(),
    };
    Ok(Observed {
        origin,
        provider,
        channel: text(system.get("Channel")),
        event_id: text(system.get("EventID")),
        level: text(system.get("Level")),
        data,
    })
}

/// Reads `evtx_dump` JSON Lines (also one pretty-printed object per record is not read: use
/// `-o jsonl`); a line that is not a record is an unreadable item and the next is read.
pub(crate) fn read_lines(text: &str, visit: &mut dyn FnMut(Seen) -> ControlFlow<()>) {
    let mut index = 0u64;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        index = index.saturating_add(1);
        let origin = Origin {
            index,
            line: Some(i as u64 + 1),
            ..Origin::default()
        };
        let item = match serde_json::from_str::<Value>(line) {
            Ok(value) => match observed(&value, origin) {
                Ok(o) => Seen::Event(o),
                Err(why) => Seen::Unreadable { origin, why },
            },
            Err(e) => Seen::Unreadable {
                origin,
                why: format!("not JSON: {e}"),
            },
        };
        if visit(item).is_break() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::unified::UnifiedEvent;
    use crate::catalog::Detail;
    use crate::Details;

    fn record() -> UnifiedRecord {
        UnifiedRecord {
            sequence: 7,
            time: crate::sim::DEFAULT_EPOCH,
            event: UnifiedEvent::ScepVerifyFailure,
            details: Details::new().with(Detail::TransactionId, "T\"1"),
        }
    }

    #[test]
    fn a_record_reads_back_with_its_provider_channel_id_level_and_data() {
        let text = write_evtx_json(&[record()]);
        let mut seen = Vec::new();
        read_lines(&text, &mut |s| {
            seen.push(s);
            ControlFlow::Continue(())
        });
        let [Seen::Event(o)] = seen.as_slice() else {
            panic!("{seen:?}")
        };
        assert_eq!(o.provider, PROVIDER);
        assert_eq!(
            o.channel.as_deref(),
            Some("Microsoft-Intune-CertificateConnectors/Operational")
        );
        assert_eq!(o.event_id.as_deref(), Some("4005"));
        assert_eq!(o.level.as_deref(), Some("2"));
        assert_eq!(o.origin.record_id, Some(7));
        assert_eq!(o.request_key(), Some("T\"1"));
    }

    #[test]
    fn lines_that_are_not_records_are_unreadable_and_the_next_is_read() {
        let text = format!(
            "{{\"Event\":1}}\nnot json\n{}",
            write_evtx_json(&[record()])
        );
        let mut seen = Vec::new();
        read_lines(&text, &mut |s| {
            seen.push(s);
            ControlFlow::Continue(())
        });
        assert!(matches!(seen[0], Seen::Unreadable { .. }), "{seen:?}");
        assert!(matches!(seen[1], Seen::Unreadable { .. }), "{seen:?}");
        assert!(matches!(seen[2], Seen::Event(_)), "{seen:?}");
        // An EventID written with its qualifiers, as evtx_dump prints classic events.
        let qualified = text.replace(
            "\"EventID\":4005",
            "\"EventID\":{\"#attributes\":{\"Qualifiers\":0},\"#text\":4005}",
        );
        let mut ids = Vec::new();
        read_lines(&qualified, &mut |s| {
            if let Seen::Event(o) = s {
                ids.push(o.event_id);
            }
            ControlFlow::Continue(())
        });
        assert_eq!(ids, vec![Some("4005".to_string())]);
    }
}
