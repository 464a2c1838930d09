//! A scenario file that cannot be used: where (file, line, column), what, and the fix — with a
//! window of the offending line, so an error in a long line stays short.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::Location;

use super::limits::clip;

/// Characters of the offending line shown on each side of the column.
const WINDOW: usize = 60;
/// Most characters of a message or help text (they may echo a value from the file).
const MAX_MESSAGE: usize = 1_000;

/// A scenario file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column, in characters (0 when unknown).
    pub column: u64,
    /// What is wrong.
    pub message: String,
    /// The offending line of the file, when known; a window around the column when the line is
    /// long.
    pub source_line: Option<String>,
    /// Where the caret goes under `source_line` (1-based, in characters).
    pub caret: u64,
    /// What to write instead.
    pub help: Option<String>,
}

impl std::error::Error for ScenarioError {}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        write!(
            f,
            "  --> {}:{}:{}",
            self.file.display(),
            self.line,
            self.column
        )?;
        if let Some(src) = &self.source_line {
            let n = self.line.to_string();
            let pad = " ".repeat(n.len());
            write!(
                f,
                "\n{pad} |\n{n} | {src}\n{pad} | {}^",
                " ".repeat(self.caret.saturating_sub(1) as usize)
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

impl ScenarioError {
    /// An error about the file as a whole (no position).
    pub fn whole_file(file: &Path, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
            source_line: None,
            caret: 0,
            help: None,
        }
    }
}

/// The part of `line` shown under an error at `column`, and where the caret goes in it.
pub(super) fn window(line: &str, column: u64) -> (String, u64) {
    let chars = line.chars().count();
    if chars <= 2 * WINDOW {
        return (line.to_string(), column);
    }
    let at = (column.max(1) - 1).min(chars as u64) as usize;
    let from = at.saturating_sub(WINDOW);
    let to = (at + WINDOW).min(chars);
    let mut shown: String = line.chars().skip(from).take(to - from).collect();
    let mut caret = (at - from) as u64 + 1;
    if from > 0 {
        shown.insert(0, '…');
        caret += 1;
    }
    if to < chars {
        shown.push('…');
    }
    (shown, caret)
}

/// A file's text, for errors that point into it.
pub(super) struct Source<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
}

impl Source<'_> {
    pub(super) fn error(
        &self,
        line: u64,
        column: u64,
        message: impl Into<String>,
        help: Option<String>,
    ) -> ScenarioError {
        let shown = (line > 0)
            .then(|| self.text.lines().nth(line as usize - 1))
            .flatten()
            .map(|l| window(l, column));
        ScenarioError {
            file: self.file.to_path_buf(),
            line,
            column,
            message: clip(&message.into(), MAX_MESSAGE),
            caret: shown.as_ref().map(|s| s.1).unwrap_or(column),
            source_line: shown.map(|s| s.0),
            help: help.map(|h| clip(&h, MAX_MESSAGE)),
        }
    }

    pub(super) fn at(
        &self,
        loc: Location,
        message: impl Into<String>,
        help: Option<String>,
    ) -> ScenarioError {
        self.error(loc.line(), loc.column(), message, help)
    }
}
