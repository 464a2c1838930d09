//! JSON Lines: one record per line, for machines.

use std::ops::ControlFlow;

use super::problem::Origin;
use super::raw::Item;
use super::record::EventRecord;
use super::wire::{LooseWire, WireRecord};
use super::StreamError;

/// Writes records as JSON Lines (each line ends with `\n`).
pub fn to_jsonl(records: &[EventRecord]) -> String {
    let mut out = String::new();
    for r in records {
        // WireRecord holds only strings, integers and a string map: serialisation cannot fail.
        let line = serde_json::to_string(&WireRecord::from(r)).unwrap_or_default();
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Reads JSON Lines strictly; blank lines are skipped. Errors name the line.
pub fn from_jsonl(text: &str) -> Result<Vec<EventRecord>, StreamError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let wire: WireRecord = serde_json::from_str(line).map_err(|e| StreamError::Syntax {
            format: "JSON Lines",
            line: i + 1,
            column: e.column(),
            why: e.to_string(),
        })?;
        out.push(EventRecord::try_from(wire)?);
    }
    Ok(out)
}

/// Reads JSON Lines loosely for `check`: each line is one item; a line that is not a record
/// is an unreadable item and the next line is read. Blank lines are skipped.
pub(crate) fn read_lines(text: &str, visit: &mut dyn FnMut(Item) -> ControlFlow<()>) {
    let mut index = 0u64;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        index += 1;
        let origin = Origin {
            index,
            line: Some(i as u64 + 1),
            ..Origin::default()
        };
        let item = match serde_json::from_str::<LooseWire>(line) {
            Ok(wire) => Item::Event(wire.into_raw(origin)),
            Err(e) => Item::Unreadable {
                origin,
                why: format!("not a JSON event record: {e}"),
            },
        };
        if visit(item).is_break() {
            return;
        }
    }
}
