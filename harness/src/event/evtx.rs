//! Binary .evtx files, as `wevtutil epl` exports them: read-only, through the `evtx` crate.
//!
//! Each record's XML goes through the same reader as [`super::from_xml`], so the same rules
//! apply: only the connector's provider counts, everything else is skipped. A damaged chunk
//! or record is one unreadable item; the parser goes on with the next.

use std::error::Error as _;
use std::ops::ControlFlow;
use std::path::Path;

use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};

use super::problem::Origin;
use super::raw::Item;
use super::record::EventRecord;
use super::xml::PROVIDER;
use super::StreamError;

fn settings() -> ParserSettings {
    // One thread: more may hand records back out of order.
    ParserSettings::default().num_threads(1).indent(false)
}

/// An error with its causes, which the crate keeps out of its own message.
fn chain(e: &EvtxError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn origin_of(e: &EvtxError, index: u64) -> Origin {
    let mut origin = Origin {
        index,
        ..Origin::default()
    };
    match e {
        EvtxError::FailedToParseChunk { chunk_id, .. } => origin.chunk = Some(*chunk_id),
        EvtxError::FailedToParseRecord { record_id, .. } => origin.record_id = Some(*record_id),
        EvtxError::FailedToReadRecordAt { chunk, .. } => origin.chunk = *chunk,
        _ => {}
    }
    origin
}

/// Reads every record of an .evtx image, handing each on as an [`Item`]. A file that is not
/// .evtx at all (no file header) is one unreadable item.
pub(crate) fn read_records(
    bytes: Vec<u8>,
    providers: &[String],
    visit: &mut dyn FnMut(Item) -> ControlFlow<()>,
) {
    // The parser is a third party's code fed hostile bytes: a panic in it is one unreadable
    // item, not a crashed checker.
    let mut index = 0u64;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut parser = match EvtxParser::from_buffer(bytes) {
            Ok(p) => p.with_configuration(settings()),
            Err(e) => {
                let origin = Origin {
                    index: 1,
                    ..Origin::default()
                };
                let why = format!("not an .evtx file: {}", chain(&e));
                let _ = visit(Item::Unreadable { origin, why });
                return;
            }
        };
        for record in parser.records() {
            index += 1;
            let item = match record {
                Err(e) => Item::Unreadable {
                    origin: origin_of(&e, index),
                    why: chain(&e),
                },
                Ok(r) => {
                    let origin = Origin {
                        index,
                        record_id: Some(r.event_record_id),
                        ..Origin::default()
                    };
                    match roxmltree::Document::parse_with_options(
                        &r.data,
                        super::xml_read::options(),
                    ) {
                        Ok(doc) => {
                            super::xml_read::parse_event(doc.root_element(), origin, providers)
                        }
                        Err(e) => Item::Unreadable {
                            origin,
                            why: format!("the record's XML does not parse: {e}"),
                        },
                    }
                }
            };
            if visit(item).is_break() {
                return;
            }
        }
    }));
    if outcome.is_err() {
        let origin = Origin {
            index: index + 1,
            ..Origin::default()
        };
        let why = "the .evtx parser gave up on this file (it panicked)".to_string();
        let _ = visit(Item::Unreadable { origin, why });
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, StreamError> {
    std::fs::read(path).map_err(|source| StreamError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads the connector's events from an .evtx file strictly, in record order. A damaged
/// chunk or record is an error that names the file and the record, never a panic.
pub fn from_evtx(path: &Path) -> Result<Vec<EventRecord>, StreamError> {
    let bytes = read_file(path)?;
    let providers = [PROVIDER.to_string()];
    super::strict::collect(".evtx", true, |visit| {
        read_records(bytes, &providers, visit)
    })
    .map_err(|e| StreamError::Evtx {
        path: path.display().to_string(),
        why: e.to_string(),
    })
}

/// Counts all records in an .evtx file (any provider); used to prove the reader saw the file.
/// A damaged chunk is an error.
pub fn count_records(path: &Path) -> Result<usize, StreamError> {
    let fail = |why: String| StreamError::Evtx {
        path: path.display().to_string(),
        why,
    };
    let mut parser = EvtxParser::from_path(path).map_err(|e| fail(chain(&e)))?;
    let mut n = 0;
    for record in parser.records() {
        record.map_err(|e| fail(chain(&e)))?;
        n += 1;
    }
    Ok(n)
}
