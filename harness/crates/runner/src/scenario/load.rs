//! Reading scenario files: bytes (capped, UTF-8 checked with the place of the first bad byte),
//! YAML syntax and shape through serde-saphyr (which rejects duplicate keys and knows where
//! every node is), then the checks of meaning ([`super::check`]). Every error names file, line
//! and column, shows (a window of) the line, and says what was expected.
//!
//! Loading is linear in the file's size, and what a file may ask for is capped
//! ([`super::limits`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::check::check;
use super::error::{window, ScenarioError, Source};
use super::limits::MAX_FILE_BYTES;
use super::model::Scenario;

/// Reads and checks one scenario file (at most [`MAX_FILE_BYTES`]).
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let cannot =
        |e: std::io::Error| ScenarioError::whole_file(path, format!("cannot read the file: {e}"));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_FILE_BYTES {
        let mut e = ScenarioError::whole_file(
            path,
            format!(
                "the file is larger than {} MiB, the cap on scenario files",
                MAX_FILE_BYTES >> 20
            ),
        );
        e.help = Some(
            "split it into several scenarios, or use `count` instead of repeating steps".into(),
        );
        return Err(e);
    }
    load_bytes(path, &bytes)
}

/// Checks that `bytes` are UTF-8, then parses and checks them as [`load_str`] does.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<Scenario, ScenarioError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => load_str(path, text),
        Err(e) => Err(not_utf8(path, bytes, e.valid_up_to())),
    }
}

fn not_utf8(path: &Path, bytes: &[u8], bad: usize) -> ScenarioError {
    let line_start = bytes[..bad]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = bytes[..bad].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    // Everything before `bad` is valid UTF-8, so this prefix is too.
    let before = String::from_utf8_lossy(&bytes[line_start..bad]);
    let column = before.chars().count() as u64 + 1;
    let line_end = bytes[bad..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| bad + i);
    let text = String::from_utf8_lossy(&bytes[line_start..line_end]);
    let (shown, caret) = window(&text, column);
    ScenarioError {
        file: path.to_path_buf(),
        line,
        column,
        message: format!(
            "the file is not UTF-8: byte 0x{:02X} here does not start a UTF-8 character",
            bytes[bad]
        ),
        source_line: Some(shown),
        caret,
        help: Some("save the file as UTF-8 (scenario files are YAML, which is UTF-8)".into()),
    }
}

/// Parses and checks scenario text; `path` is used in errors and for the name check.
pub fn load_str(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let src = Source { file: path, text };
    let scenario: Scenario = serde_saphyr::from_str(text).map_err(|e| syntax_error(&src, &e))?;
    check(&src, &scenario)?;
    Ok(scenario)
}

fn syntax_error(src: &Source<'_>, e: &serde_saphyr::Error) -> ScenarioError {
    let inner = e.without_snippet();
    let mut message = inner.to_string();
    // serde-saphyr appends the position; we print our own.
    for tail in [" at line ", ", set DuplicateKeyPolicy"] {
        if let Some(i) = message.find(tail) {
            message.truncate(i);
        }
    }
    if let Some(ty) = message.strip_prefix("invalid ") {
        if matches!(ty, "u8" | "u16" | "u32" | "u64" | "i64") {
            message = "expected a whole number here".into();
        }
    }
    let help = help_for(&message);
    match e.location() {
        Some(loc) => src.at(loc, message, help),
        None => src.error(0, 0, message, help),
    }
}

fn help_for(message: &str) -> Option<String> {
    let m = message.to_ascii_lowercase();
    if m.contains("unknown field") {
        Some(
            "remove the key or fix its spelling; `connector-harness schema` lists every key".into(),
        )
    } else if m.contains("duplicate") {
        Some("each key may appear once per mapping; delete one of them".into())
    } else if m.contains("unknown variant") {
        Some("use one of the values listed; scenarios/README.md has an example of each step".into())
    } else if m.contains("missing field") {
        Some("add the field; scenarios/README.md shows an example of every step".into())
    } else if m.contains("invalid type") {
        Some("check the value's type against `connector-harness schema`".into())
    } else {
        None
    }
}

/// Every `*.yaml` file under `dir`, sorted by name.
pub fn scenario_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}
