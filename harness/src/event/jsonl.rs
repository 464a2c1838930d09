//! JSON Lines: one record per line, for machines.

use super::record::EventRecord;
use super::wire::WireRecord;
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

/// Reads JSON Lines; blank lines are skipped. Errors name the line.
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
