//! A stream as the page's timeline data: each event on scenario time (milliseconds after the
//! first), in a lane of its own request or device, and the steps — faults, heals and clock
//! advances among them — at the place in the stream where they ran. The data is compact
//! arrays (a page may carry 100,000 events); `page.js` draws it when its section opens.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::catalog::{Detail, DiagnosticCode, EventId};
use crate::check::conformance::StepMark;
use crate::event::EventRecord;
use crate::scenario::model::Step;
use crate::scenario::Scenario;
use crate::sim::{format_time, DEFAULT_EPOCH};

/// The lane of an event: its request, else its device, else the connector service itself.
pub fn lane(r: &EventRecord) -> String {
    let map = r.details.clone().into_map();
    if let Some(id) = map.get(&Detail::RequestId) {
        format!("request {id}")
    } else if let Some(id) = map.get(&Detail::DeviceId) {
        format!("device {id}")
    } else {
        "connector".to_string()
    }
}

/// What each step of `scenario` did, in words, by its line: the fault and its target, the
/// span a clock advance moved, what was healed; other steps by their keyword.
pub fn step_labels(scenario: &Scenario) -> BTreeMap<u64, String> {
    scenario
        .steps
        .iter()
        .map(|s| {
            let label = match &s.value {
                Step::Fault(f) => {
                    let kind = serde_json::to_value(f.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    let status = f.status.map(|s| format!(" {s}")).unwrap_or_default();
                    let times = f.times.map(|n| format!(" ×{n}")).unwrap_or_default();
                    format!("fault {}: {kind}{status}{times}", f.target)
                }
                Step::Heal(target) => format!("heal {target}"),
                Step::Advance(by) => format!("advance +{by}"),
                Step::Enroll(e) => format!("enroll {}", e.device),
                other => other.keyword().to_string(),
            };
            (s.referenced.line(), label)
        })
        .collect()
}

/// The catalog the timelines index into: codes by position, event names and levels by id,
/// and the allowed pairs (`"10010 0x00000000"`).
pub fn catalog() -> Value {
    let codes: Vec<Value> = DiagnosticCode::all()
        .map(|c| json!([c.hex(), c.name()]))
        .collect();
    let events: serde_json::Map<String, Value> = EventId::all()
        .map(|e| (e.id().to_string(), json!([e.name(), e.level().name()])))
        .collect();
    let pairs: Vec<String> = crate::catalog::pairs()
        .iter()
        .map(|p| format!("{} {}", p.event.id(), p.code.hex()))
        .collect();
    json!({"codes": codes, "events": events, "pairs": pairs})
}

/// One stream's timeline: `t0` (the first event's time), the lanes, the events as
/// `[seq, ms after t0, event id, code index, lane index, details]` and the steps as
/// `[keyword, line, first seq, last seq, label]`.
pub fn data(events: &[EventRecord], steps: &[StepMark], labels: &BTreeMap<u64, String>) -> Value {
    let t0 = events.first().map_or(DEFAULT_EPOCH, |r| r.time);
    let codes: Vec<DiagnosticCode> = DiagnosticCode::all().collect();
    let mut lanes: Vec<String> = Vec::new();
    let mut lane_of: BTreeMap<String, usize> = BTreeMap::new();
    let rows: Vec<Value> = events
        .iter()
        .map(|r| {
            let name = lane(r);
            let next = lane_of.len();
            let index = *lane_of.entry(name.clone()).or_insert_with(|| {
                lanes.push(name);
                next
            });
            let code = codes.iter().position(|c| *c == r.code).unwrap_or(0);
            let details: Vec<String> = r
                .details
                .clone()
                .into_map()
                .iter()
                .map(|(k, v)| format!("{}={v}", k.key()))
                .collect();
            let ms = i64::try_from((r.time - t0).whole_milliseconds()).unwrap_or(i64::MAX);
            json!([
                r.sequence,
                ms,
                r.event.id(),
                code,
                index,
                details.join("; ")
            ])
        })
        .collect();
    let steps: Vec<Value> = steps
        .iter()
        .map(|m| {
            let label = labels
                .get(&m.line)
                .cloned()
                .unwrap_or_else(|| m.keyword.clone());
            json!([m.keyword, m.line, m.first, m.last, label])
        })
        .collect();
    json!({"t0": format_time(t0), "lanes": lanes, "events": rows, "steps": steps})
}
