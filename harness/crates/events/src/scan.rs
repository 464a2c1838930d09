//! Reading a log someone else wrote, for `check`: the format told from the bytes, the size
//! bounded, and every item handed on — a bad record is a problem to report, not an error
//! that hides the rest.

use std::io::Read as _;
use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;

use super::decode::{decode, decode_owned};
use super::problem::Origin;
use super::raw::{interpret, Interpreted, Item};
use super::StreamError;

/// The largest log `check` reads by default (128 MiB): far beyond a connector's default
/// 50 MB log in any export, and a bound on the memory a hostile file can cost.
pub const DEFAULT_MAX_BYTES: u64 = 128 * 1024 * 1024;

/// The formats a log can come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// The harness's wire record, one per line.
    Jsonl,
    /// Windows event XML (wevtutil, `ToXml()`), bare or wrapped, manifest or classic.
    Xml,
    /// Binary .evtx.
    Evtx,
    /// The harness's snapshot form.
    Yaml,
}

impl Format {
    /// How people call it.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Jsonl => "JSON Lines",
            Format::Xml => "Windows event XML",
            Format::Evtx => ".evtx",
            Format::Yaml => "YAML",
        }
    }
}

/// What to read and how much.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanOptions {
    /// Provider (source) names whose events are the connector's; others are skipped.
    pub providers: Vec<String>,
    /// The largest file read, in bytes.
    pub max_bytes: u64,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            providers: vec![super::PROVIDER.to_string()],
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// One item of a log, as `check` sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scanned {
    /// An event of the connector's provider, judged against the catalog.
    Record(Interpreted),
    /// An event of another provider: skipped.
    Foreign(Origin),
    /// Something that cannot be read as an event (a bad line, malformed XML, a damaged chunk,
    /// undecodable bytes).
    Unreadable {
        /// Where.
        origin: Origin,
        /// Why.
        why: String,
    },
    /// Something worth knowing that is not wrong for sure (a dirty .evtx file whose chunk
    /// header names records that are not there).
    Warning {
        /// Where.
        origin: Origin,
        /// What.
        why: String,
    },
}

const EVTX_MAGIC: &[u8] = b"ElfFile\0";

/// Tells the format from the file's first bytes, then its extension, then its first
/// character (`<` XML, `{` JSON Lines, `-` YAML).
pub fn detect(path: &Path, bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(EVTX_MAGIC) {
        return Some(Format::Evtx);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "evtx" => return Some(Format::Evtx),
        "xml" => return Some(Format::Xml),
        "jsonl" | "json" | "ndjson" => return Some(Format::Jsonl),
        "yaml" | "yml" => return Some(Format::Yaml),
        _ => {}
    }
    let head = decode(&bytes[..bytes.len().min(4096)]).text;
    match head.trim_start().chars().next()? {
        '<' => Some(Format::Xml),
        '{' => Some(Format::Jsonl),
        '-' => Some(Format::Yaml),
        _ => None,
    }
}

/// Reads a whole file, refusing one larger than `max_bytes` (also when it grows while read).
pub fn read_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>, StreamError> {
    let io = |source| StreamError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let too_large = |size: u64| StreamError::TooLarge {
        path: path.display().to_string(),
        size,
        limit: max_bytes,
    };
    let size = file.metadata().map_err(io)?.len();
    if size > max_bytes {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads a log image in a known format, handing on every item in order; `visit` may stop.
pub fn scan_bytes(
    bytes: Vec<u8>,
    format: Format,
    providers: &[String],
    mut visit: impl FnMut(Scanned) -> ControlFlow<()>,
) {
    let mut hand_on = |item: Item| match item {
        Item::Event(raw) => visit(Scanned::Record(interpret(raw))),
        Item::Foreign(origin) => visit(Scanned::Foreign(origin)),
        Item::Unreadable { origin, why } => visit(Scanned::Unreadable { origin, why }),
        Item::Warning { origin, why } => visit(Scanned::Warning { origin, why }),
    };
    if format == Format::Evtx {
        super::evtx::read_records(bytes, providers, &mut hand_on);
        return;
    }
    let decoded = decode_owned(bytes);
    if let Some(p) = decoded.problem {
        let origin = Origin {
            index: 0,
            line: Some(p.line),
            ..Origin::default()
        };
        if hand_on(Item::Unreadable { origin, why: p.why }).is_break() {
            return;
        }
    }
    match format {
        Format::Jsonl => super::jsonl::read_lines(&decoded.text, &mut hand_on),
        Format::Xml => super::xml_read::read_events(&decoded.text, providers, &mut hand_on),
        Format::Yaml => super::yaml::read_items(&decoded.text, &mut hand_on),
        Format::Evtx => {}
    }
}

/// Reads a log file: at most `options.max_bytes`, in `format` or the detected one. Only a
/// file that cannot be read, is too large or whose format cannot be told is an error; the
/// format used is returned.
pub fn scan_file(
    path: &Path,
    format: Option<Format>,
    options: &ScanOptions,
    visit: impl FnMut(Scanned) -> ControlFlow<()>,
) -> Result<Format, StreamError> {
    let bytes = read_capped(path, options.max_bytes)?;
    let format = match format.or_else(|| detect(path, &bytes)) {
        Some(f) => f,
        None => return Err(StreamError::UnknownFormat(path.display().to_string())),
    };
    scan_bytes(bytes, format, &options.providers, visit);
    Ok(format)
}
