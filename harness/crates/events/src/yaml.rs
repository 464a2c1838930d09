//! YAML: the snapshot form of a stream, a sequence of records.

use std::ops::ControlFlow;

use super::problem::Origin;
use super::raw::Item;
use super::record::EventRecord;
use super::wire::{LooseWire, WireRecord};
use super::StreamError;

/// Writes records as a YAML sequence (`[]` when empty).
pub fn to_yaml(records: &[EventRecord]) -> String {
    let wire: Vec<WireRecord> = records.iter().map(WireRecord::from).collect();
    // Strings, integers and string maps always serialise.
    serde_yaml::to_string(&wire).unwrap_or_default()
}

fn syntax(e: &serde_yaml::Error) -> StreamError {
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    StreamError::Syntax {
        format: "YAML",
        line,
        column,
        why: e.to_string(),
    }
}

/// Reads a YAML sequence of records strictly.
pub fn from_yaml(text: &str) -> Result<Vec<EventRecord>, StreamError> {
    let wire: Vec<WireRecord> = serde_yaml::from_str(text).map_err(|e| syntax(&e))?;
    wire.into_iter().map(EventRecord::try_from).collect()
}

/// Reads a YAML sequence loosely for `check`: each element is one item (YAML values keep no
/// line, so items are named by position). A document that is not a sequence of mappings is
/// one unreadable item.
pub(crate) fn read_items(text: &str, visit: &mut dyn FnMut(Item) -> ControlFlow<()>) {
    let items: Vec<serde_yaml::Value> = match serde_yaml::from_str(text) {
        Ok(items) => items,
        Err(e) => {
            let origin = Origin {
                index: 1,
                line: e.location().map(|l| l.line() as u64),
                ..Origin::default()
            };
            let why = format!("not a YAML sequence of event records: {e}");
            let _ = visit(Item::Unreadable { origin, why });
            return;
        }
    };
    for (i, value) in items.into_iter().enumerate() {
        let origin = Origin {
            index: i as u64 + 1,
            ..Origin::default()
        };
        let item = match serde_yaml::from_value::<LooseWire>(value) {
            Ok(wire) => Item::Event(wire.into_raw(origin)),
            Err(e) => Item::Unreadable {
                origin,
                why: format!("not an event record: {e}"),
            },
        };
        if visit(item).is_break() {
            return;
        }
    }
}
