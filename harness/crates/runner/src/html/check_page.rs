//! The page of a checked log: the verdict of [`crate::check`] (the same one `check` prints),
//! its counts, a summary per area of the connector (service, registration, PKCS, revocation,
//! transfer, SCEP) and per kind of finding, every finding, and the log's timeline.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;

use serde_json::json;

use crate::catalog::{EventId, Level};
use crate::check::Verdict;
use crate::event::{scan_file, EventRecord, Format, ScanOptions, Scanned};

use super::escape::text;
use super::page::{Page, Reach};
use super::timeline;

/// The part of the connector an event belongs to.
pub fn area(e: EventId) -> &'static str {
    match e.id() {
        10010 | 10020 => "service",
        10100..=10399 => "registration",
        20100..=20199 => "PKCS",
        20200..=20299 => "revocation",
        20300..=20499 => "transfer",
        _ => "SCEP",
    }
}

/// The records of the log at `path` that could be read, in log order (for the timeline; the
/// verdict comes from `check` itself). A log that cannot be read gives none.
pub fn records(path: &Path, format: Option<Format>, options: &ScanOptions) -> Vec<EventRecord> {
    let mut out = Vec::new();
    let _ = scan_file(path, format, options, |item| {
        if let Scanned::Record(i) = item {
            if let Some(r) = i.record {
                out.push(r);
            }
        }
        ControlFlow::Continue(())
    });
    out
}

/// The page of `verdict`, the check of `file` (optionally against `scenario`), with the
/// log's `events`.
pub fn render(
    file: &Path,
    scenario: Option<&str>,
    verdict: &Verdict,
    events: &[EventRecord],
) -> String {
    let passed = verdict.passed();
    let (class, word) = if passed {
        ("pass", "✓ PASSED")
    } else {
        ("fail", "✗ FAILED")
    };
    let mut body = format!(
        "<section id=\"summary\"><p class=\"muted\">{} ({}){}</p><p id=\"verdict\" class=\"verdict {class}\" data-verdict=\"{}\">{word}</p><dl id=\"counts\" class=\"counts\">",
        text(&file.display().to_string()),
        text(verdict.format.describe()),
        scenario.map(|s| format!(", scenario {}", text(s))).unwrap_or_default(),
        if passed { "passed" } else { "failed" }
    );
    for (key, label, n) in [
        ("events", "events checked", verdict.events),
        ("other", "other providers", verdict.other_providers),
        ("unreadable", "unreadable", verdict.unreadable),
        ("findings", "findings", verdict.finding_count()),
    ] {
        body += &format!("<div><dt>{label}</dt><dd data-count=\"{key}\">{n}</dd></div>");
    }
    body += "</dl></section>";
    body += &areas(verdict, events);
    body += "<section id=\"findings\"><h2>Findings</h2>";
    if verdict.findings.is_empty() {
        body += "<p>✓ None.</p>";
    } else {
        body += "<ol>";
        for f in &verdict.findings {
            body += &format!(
                "<li class=\"finding\" data-label=\"{0}\"><span class=\"tag fail\">✗ {0}</span> <div class=\"msg\">{1}</div></li>",
                text(f.label()),
                text(&f.to_string())
            );
        }
        body += "</ol>";
        if verdict.more_findings > 0 {
            body += &format!("<p>… and {} more findings.</p>", verdict.more_findings);
        }
    }
    for n in &verdict.notes {
        body += &format!("<p class=\"note\">note: {}</p>", text(&n.to_string()));
    }
    body += "</section>";
    body += "<section id=\"scenarios\"><h2>Timeline</h2><details class=\"scenario\" open data-index=\"0\" data-name=\"log\" data-status=\"";
    body += if passed { "passed" } else { "failed" };
    body += &format!(
        "\"><summary>{} events</summary><div class=\"body\"><div class=\"timeline\" data-index=\"0\"><noscript>The timeline needs JavaScript.</noscript></div></div></details></section>",
        events.len()
    );
    let data = json!({
        "kind": "check",
        "verdict": {"passed": passed, "verdict": verdict},
        "timelines": [timeline::data(events, &[], &BTreeMap::new())],
        "catalog": timeline::catalog(),
    });
    Page {
        title: "Connector Harness — checked log".into(),
        body,
        data,
        extra_script: "",
        reach: Reach::Nothing,
    }
    .render()
}

/// Events per area and level, and findings per kind.
fn areas(verdict: &Verdict, events: &[EventRecord]) -> String {
    let mut by_area: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    for r in events {
        let slot = match r.level() {
            Level::Information => 0,
            Level::Warning => 1,
            Level::Error => 2,
        };
        by_area.entry(area(r.event)).or_default()[slot] += 1;
    }
    let mut s = String::from("<section id=\"areas\"><h2>Per area</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">area</th><th scope=\"col\">ℹ information</th><th scope=\"col\">⚠ warning</th><th scope=\"col\">✗ error</th></tr></thead><tbody>");
    for (a, [i, w, e]) in &by_area {
        s += &format!("<tr data-area=\"{a}\"><th scope=\"row\">{a}</th><td>{i}</td><td>{w}</td><td>{e}</td></tr>");
    }
    s += "</tbody></table></div>";
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &verdict.findings {
        *kinds.entry(f.label()).or_default() += 1;
    }
    if !kinds.is_empty() {
        s += "<h3>Findings per kind</h3><ul id=\"finding-kinds\">";
        for (k, n) in kinds {
            s += &format!("<li data-label=\"{0}\">✗ {0}: {n}</li>", text(k));
        }
        s += "</ul>";
    }
    s + "</section>"
}
