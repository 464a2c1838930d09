//! Snapshots: `snapshots/<scenario>.snap`, in insta's file format (a YAML header between `---`
//! lines, then the body), so `cargo insta review` and the runner read the same files.

use std::path::{Path, PathBuf};

/// The snapshot file of `scenario` under `dir`.
pub fn path(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.snap"))
}

/// The body of a snapshot file (without insta's header), trimmed of trailing newlines.
pub fn read(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(body(&text).to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn body(text: &str) -> &str {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(rest) = text.strip_prefix("---\n") {
        if let Some(end) = rest.find("\n---\n") {
            return rest[end + 5..].trim_end_matches('\n');
        }
    }
    text.trim_end_matches('\n')
}

/// The file text for `body`, with the header insta writes.
pub fn render(scenario: &str, body: &str) -> String {
    format!(
        "---\nsource: scenarios/{scenario}.yaml\nexpression: event stream\n---\n{}\n",
        body.trim_end_matches('\n')
    )
}

/// Writes the snapshot of `scenario`.
pub fn write(dir: &Path, scenario: &str, body: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(path(dir, scenario), render(scenario, body))
}

/// A unified diff from the snapshot to the new stream.
pub fn diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header("snapshot", "this run")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_through_render() {
        let b = "- seq: 1\n  event: x";
        assert_eq!(body(&render("s", b)), b);
        assert_eq!(body("no header\n\n"), "no header");
    }
}
