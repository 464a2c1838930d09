//! Binary .evtx files, as `wevtutil epl` exports them: read-only, through the `evtx` crate.
//!
//! Each record's XML goes through the same reader as [`super::from_xml`], so the same rules
//! apply: only the connector's provider counts, everything else is skipped. A damaged chunk
//! or record is one unreadable item; the parser goes on with the next.

use std::error::Error as _;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use evtx::err::EvtxError;
use evtx::{EvtxParser, HeaderFlags, ParserSettings};

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

/// Reads every record of an .evtx image, chunk by chunk, handing each on as an [`Item`]. A
/// file that is not .evtx at all (no file header) is one unreadable item; so is a damaged
/// chunk, a damaged record, and a chunk whose header names records that could not be read
/// (the parser stops quietly at zeroed record space; the loss is reported here).
pub(crate) fn read_records(
    bytes: Vec<u8>,
    providers: &[String],
    visit: &mut dyn FnMut(Item) -> ControlFlow<()>,
) {
    // The parser is a third party's code fed hostile bytes: a panic in it is one unreadable
    // item, not a crashed checker.
    let mut index = 0u64;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_chunks(bytes, providers, &mut index, visit)
    }));
    if outcome.is_err() {
        let origin = Origin {
            index: index.saturating_add(1),
            ..Origin::default()
        };
        let why = "the .evtx parser gave up on this file (it panicked)".to_string();
        let _ = visit(Item::Unreadable { origin, why });
    }
}

fn read_chunks(
    bytes: Vec<u8>,
    providers: &[String],
    index: &mut u64,
    visit: &mut dyn FnMut(Item) -> ControlFlow<()>,
) {
    let settings = Arc::new(settings());
    let mut parser = match EvtxParser::from_buffer(bytes) {
        Ok(p) => p.with_configuration((*settings).clone()),
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
    // A log copied while open is marked dirty: its chunk headers may name records that were
    // never written, so a shortfall there is a warning, not damage.
    let dirty = parser.header().flags.contains(HeaderFlags::DIRTY);
    for chunk in parser.chunks() {
        let mut chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                *index = index.saturating_add(1);
                let item = Item::Unreadable {
                    origin: origin_of(&e, *index),
                    why: chain(&e),
                };
                if visit(item).is_break() {
                    return;
                }
                continue;
            }
        };
        let number = chunk.number;
        let (first, last) = (
            chunk.header.first_event_record_id,
            chunk.header.last_event_record_id,
        );
        let chunk_origin = |index| Origin {
            index,
            chunk: number,
            ..Origin::default()
        };
        let mut parsed = match chunk.parse(Arc::clone(&settings)) {
            Ok(p) => p,
            Err(e) => {
                *index = index.saturating_add(1);
                let why = format!("the chunk does not parse: {e}");
                if visit(Item::Unreadable {
                    origin: chunk_origin(*index),
                    why,
                })
                .is_break()
                {
                    return;
                }
                continue;
            }
        };
        let mut highest: Option<u64> = None;
        for record in parsed.iter() {
            *index = index.saturating_add(1);
            let item = match record.and_then(|r| r.into_xml()) {
                Err(e) => Item::Unreadable {
                    origin: origin_of(&e, *index),
                    why: chain(&e),
                },
                Ok(r) => {
                    highest = highest.max(Some(r.event_record_id));
                    let origin = Origin {
                        index: *index,
                        record_id: Some(r.event_record_id),
                        ..Origin::default()
                    };
                    record_item(&r.data, origin, providers)
                }
            };
            if visit(item).is_break() {
                return;
            }
        }
        let read_up_to = highest.unwrap_or(first.saturating_sub(1));
        if first <= last && read_up_to < last {
            *index = index.saturating_add(1);
            let lost = last - read_up_to.max(first.saturating_sub(1));
            let origin = chunk_origin(*index);
            let item = if dirty {
                let why = format!(
                    "its header names records {first} to {last}, but none after {read_up_to} is there; the file is marked dirty (copied while the log was open), so {lost} records may never have been written"
                );
                Item::Warning { origin, why }
            } else {
                let why = format!(
                    "its header names records {first} to {last}, but no record after {read_up_to} can be read: {lost} records lost"
                );
                Item::Unreadable { origin, why }
            };
            if visit(item).is_break() {
                return;
            }
        }
    }
}

/// One record as the `evtx` crate renders it (its XML), read as every record of a file is.
pub(crate) fn record_item(xml: &str, origin: Origin, providers: &[String]) -> Item {
    match roxmltree::Document::parse_with_options(xml, super::xml_read::options()) {
        Ok(doc) => super::xml_read::parse_event(doc.root_element(), origin, providers),
        Err(e) => Item::Unreadable {
            origin,
            why: format!("the record's XML does not parse: {e}"),
        },
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
