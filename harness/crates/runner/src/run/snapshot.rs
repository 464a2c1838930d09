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

/// Most changed lines (both sides together, after the common start and end are set aside) that
/// are diffed line by line; a larger change is shown by its first lines instead. This bounds
/// the work (Myers' diff is quadratic in the change) without a wall-clock deadline, so the same
/// streams always give the same diff.
pub const MAX_DIFF_LINES: usize = 4_000;
/// Most lines of a diff shown.
pub const MAX_SHOWN_LINES: usize = 400;
/// Lines of each side shown when a change is too large to diff.
const HEAD_LINES: usize = 40;

/// A unified diff from the snapshot to the new stream, bounded in work and in size.
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    let (changed_a, changed_b) = (a.len() - prefix - suffix, b.len() - prefix - suffix);
    let text = if changed_a + changed_b <= MAX_DIFF_LINES {
        // similar sets the common start and end aside itself, so only the change is diffed.
        similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header("snapshot", "this run")
            .to_string()
    } else {
        let from = prefix.saturating_sub(3);
        let mut out = format!(
            "--- snapshot\n+++ this run\n@@ from line {}: {changed_a} line(s) of the snapshot differ from {changed_b} of this run, too many to diff line by line (over {MAX_DIFF_LINES}); the first {HEAD_LINES} of each @@\n",
            prefix + 1
        );
        let mut push = |mark: char, line: &str| {
            out.push(mark);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push('\n');
            }
        };
        for line in &a[from..prefix] {
            push(' ', line);
        }
        for line in a[prefix..].iter().take(changed_a.min(HEAD_LINES)) {
            push('-', line);
        }
        for line in b[prefix..].iter().take(changed_b.min(HEAD_LINES)) {
            push('+', line);
        }
        out
    };
    cap_lines(text, MAX_SHOWN_LINES)
}

fn cap_lines(text: String, max: usize) -> String {
    let total = text.lines().count();
    if total <= max {
        return text;
    }
    let mut kept: String = text.split_inclusive('\n').take(max).collect();
    kept += &format!("… {} more line(s) of diff not shown\n", total - max);
    kept
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

    /// 15 MB of stream against 15 MB in which every other line differs (every event got another
    /// code): the diff is bounded in size, and in work — it must end at all.
    #[test]
    fn a_huge_diff_is_bounded() {
        let old: String = (0..400_000)
            .map(|i| format!("- seq: {i}\n  event: a{i}\n  code: 0x00000000\n"))
            .collect();
        let new: String = (0..400_000)
            .map(|i| format!("- seq: {i}\n  event: b{i}\n  code: 0x00000000\n"))
            .collect();
        assert!(old.len() > 15_000_000);
        let d = diff(&old, &new);
        assert!(d.len() < 200_000, "{} bytes of diff", d.len());
        assert!(
            d.contains("-  event: a0") && d.contains("+  event: b0"),
            "{}",
            &d[..d.len().min(2000)]
        );
        assert_eq!(d, diff(&old, &new), "deterministic");
    }

    #[test]
    fn a_small_diff_is_a_unified_diff() {
        let d = diff("a\nb\nc\n", "a\nx\nc\n");
        assert!(
            d.contains("@@ -1,3 +1,3 @@") && d.contains("-b") && d.contains("+x"),
            "{d}"
        );
    }
}
