//! YAML: the snapshot form of a stream, a sequence of records.

use super::record::EventRecord;
use super::wire::WireRecord;
use super::StreamError;

/// Writes records as a YAML sequence (`[]` when empty).
pub fn to_yaml(records: &[EventRecord]) -> String {
    let wire: Vec<WireRecord> = records.iter().map(WireRecord::from).collect();
    // Strings, integers and string maps always serialise.
    serde_yaml::to_string(&wire).unwrap_or_default()
}

/// Reads a YAML sequence of records.
pub fn from_yaml(text: &str) -> Result<Vec<EventRecord>, StreamError> {
    let wire: Vec<WireRecord> = serde_yaml::from_str(text).map_err(|e| {
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
    })?;
    wire.into_iter().map(EventRecord::try_from).collect()
}
