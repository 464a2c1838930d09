//! One self-contained HTML page for each thing the harness tells: a run (`run --html`), a
//! checked log (`check --html`) and, live, `serve`'s admin port (`GET /ui`).
//!
//! A page is one file with nothing to fetch: the server renders the essentials (verdict,
//! reasons, counts, coverage matrix, findings, diffs) so it reads without script, and embeds
//! its data — the JSON report itself, minus wall-clock durations — for a small script that
//! draws each timeline when its section opens, so 1,000 scenarios or 100,000 events stay
//! usable. The output is deterministic: the same run gives the same bytes. Every colour has
//! WCAG AA contrast ([`palette`]) and comes with a symbol and a word.
//!
//! - [`escape`]: text, ids, and JSON inside `<script>`.
//! - [`palette`]: the colours and their contrast check.
//! - [`page`]: the document every page shares.
//! - [`matrix`]: the coverage grid and each pair's scenarios and causes.
//! - [`timeline`]: a stream as timeline data (lanes, steps, scenario time).
//! - [`run_page`], [`check_page`], [`live`]: the three pages.

pub mod check_page;
pub mod escape;
pub mod live;
pub mod matrix;
pub mod page;
pub mod palette;
pub mod run_page;
pub mod timeline;

use std::path::{Path, PathBuf};

/// A page that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the HTML report {path}: {source}")]
pub struct HtmlError {
    /// Where.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Writes `html` to `path`, creating its folder.
pub fn write(path: &Path, html: &str) -> Result<(), HtmlError> {
    let fail = |source| HtmlError {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, html).map_err(fail)
}
