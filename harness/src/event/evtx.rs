//! Binary .evtx files, as `wevtutil epl` exports them: read-only, through the `evtx` crate.
//!
//! Each record's XML goes through the same parser as [`super::xml`], so the same rules apply:
//! only the connector's provider counts, everything else is skipped.

use std::path::Path;

use evtx::EvtxParser;

use super::record::EventRecord;
use super::StreamError;

/// Reads the connector's events from an .evtx file, in record order. A damaged chunk or record
/// is an error that names the file and the record, never a panic.
pub fn from_evtx(path: &Path) -> Result<Vec<EventRecord>, StreamError> {
    let fail = |why: String| StreamError::Evtx {
        path: path.display().to_string(),
        why,
    };
    let mut parser = EvtxParser::from_path(path).map_err(|e| fail(e.to_string()))?;
    // More than one thread may hand records back out of order.
    let settings = evtx::ParserSettings::default().num_threads(1);
    parser = parser.with_configuration(settings);
    let mut out = Vec::new();
    for record in parser.records() {
        let record = record.map_err(|e| fail(e.to_string()))?;
        let doc = roxmltree::Document::parse(&record.data)
            .map_err(|e| fail(format!("record {}: {e}", record.event_record_id)))?;
        if let Some(r) = super::xml::parse_event(doc.root_element())? {
            out.push(r);
        }
    }
    Ok(out)
}

/// Counts all records in an .evtx file (any provider); used to prove the reader saw the file.
pub fn count_records(path: &Path) -> Result<usize, StreamError> {
    let fail = |why: String| StreamError::Evtx {
        path: path.display().to_string(),
        why,
    };
    let mut parser = EvtxParser::from_path(path).map_err(|e| fail(e.to_string()))?;
    let mut n = 0;
    for record in parser.records() {
        record.map_err(|e| fail(e.to_string()))?;
        n += 1;
    }
    Ok(n)
}
