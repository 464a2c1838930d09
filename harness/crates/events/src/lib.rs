//! The event stream: records, the sink that owns them, and the formats they travel in
//! (YAML for snapshots, JSON Lines for machines, Windows event XML and .evtx for people who
//! compare with a real connector's log).
//!
//! Every reader cuts its format into items and hands each on as a format-neutral raw event;
//! one judgement against the catalog (`raw::interpret`) serves both the strict readers the
//! harness uses on its own streams (`from_*`: the first problem is an error) and the loose
//! reading `check` does of a log someone else wrote ([`scan_file`]: every problem is reported
//! with the record it belongs to, and reading goes on).
//!
//! Depends on the contract (the catalog) and the simulation core (the clock) only: the
//! reference connector writes its events through it, and the harness reads and checks them.

#![warn(missing_docs, unreachable_pub)]

// The lower crates' modules, under the names this crate's paths use (`crate::sim::Clock`).
use harness_contract::catalog;
use harness_sim::sim;

mod decode;
mod evtx;
mod jsonl;
mod problem;
mod raw;
mod record;
mod scan;
mod sink;
mod strict;
pub mod unified;
mod wire;
mod xml;
mod xml_read;
mod yaml;

use std::path::Path;

pub use self::evtx::{count_records as count_evtx_records, from_evtx};
pub use jsonl::{from_jsonl, to_jsonl};
pub use problem::{Origin, RecordProblem};
pub use raw::{Interpreted, MAX_DATA_ITEMS};
pub use record::{Details, EventRecord};
pub use scan::{
    detect, read_capped, scan_bytes, scan_file, Format, ScanOptions, Scanned, DEFAULT_MAX_BYTES,
};
pub use sink::{check_contract, ContractViolation, Hold, Released, Sink};
pub use wire::WireRecord;
pub use xml::{
    event_to_xml, event_to_xml_in, to_xml, write_xml, XmlForm, XmlLayout, CHANNEL, COMPUTER,
    EVENT_NS, PROVIDER, PROVIDER_GUID,
};
pub use xml_read::from_xml;
pub use yaml::{from_yaml, to_yaml};

/// Errors reading a stream.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The text is not valid in its format.
    #[error("{format} syntax error at line {line}, column {column}: {why}")]
    Syntax {
        /// Format name.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What went wrong.
        why: String,
    },
    /// A record that parses but does not agree with the catalog.
    #[error("event record {seq}: {why}")]
    Record {
        /// The record's sequence number.
        seq: u64,
        /// What is wrong with it.
        why: String,
    },
    /// One item of a log that cannot be read as an event.
    #[error("{format} {at}: {why}")]
    Item {
        /// Format name.
        format: &'static str,
        /// Where (line, record or chunk).
        at: String,
        /// What went wrong.
        why: String,
    },
    /// A file larger than the reader accepts.
    #[error("{path}: {size} bytes is more than the {limit} bytes read at most (raise the limit with --max-bytes)")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Structurally wrong XML.
    #[error("event XML: {0}")]
    Xml(String),
    /// Bytes that are not text.
    #[error("event XML is not UTF-8 or UTF-16 text: {0}")]
    Encoding(String),
    /// An .evtx file that cannot be read.
    #[error("{path}: cannot read as .evtx: {why}")]
    Evtx {
        /// The file.
        path: String,
        /// What went wrong.
        why: String,
    },
    /// A file that cannot be opened.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file whose format cannot be told from its name.
    #[error("{0}: cannot tell the event log format; name it with --format, or use a .jsonl, .json, .xml, .yaml/.yml or .evtx file")]
    UnknownFormat(String),
}

/// Reads a stream from a file, choosing the format by extension.
pub fn read_stream(path: &Path) -> Result<Vec<EventRecord>, StreamError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if ext == "evtx" {
        return from_evtx(path);
    }
    let bytes = std::fs::read(path).map_err(|source| StreamError::Io {
        path: path.display().to_string(),
        source,
    })?;
    match ext.as_str() {
        "xml" => from_xml(&bytes),
        "jsonl" | "json" | "ndjson" => from_jsonl(&String::from_utf8_lossy(&bytes)),
        "yaml" | "yml" => from_yaml(&String::from_utf8_lossy(&bytes)),
        _ => Err(StreamError::UnknownFormat(path.display().to_string())),
    }
}
