//! The page of a run: the verdict and every reason (read from the [`Summary`], as the JSON
//! report and the exit code are), the counts, the coverage matrix, the conformance findings
//! per rule, and each scenario with its timeline and, when it failed, its problems, findings,
//! snapshot diff and rerun command. The JSON report itself, without the parts that would make
//! the page differ between two runs (wall-clock durations), is embedded as its data.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::check::conformance::{Rule, Violation};
use crate::run::verdict::Summary;
use crate::run::{report, Outcome, Status};

use super::escape::{id, text};
use super::page::{diff, Page, Reach};
use super::{matrix, timeline};

/// Failed scenarios shown open when the page loads; the others open on a click.
const OPEN_FAILED: usize = 20;

/// The page of `summary`.
pub fn render(summary: &Summary) -> String {
    let mut body = verdict(summary);
    body += &reasons(summary);
    if let Some(coverage) = &summary.coverage {
        body += &matrix::render(coverage, summary.gate);
    }
    if !summary.outcomes.is_empty() {
        body += &rules(&summary.outcomes);
        body += &scenarios(&summary.outcomes);
    }
    Page {
        title: "Connector Harness — run report".into(),
        body,
        data: data(summary),
        extra_script: "",
        reach: Reach::Nothing,
    }
    .render()
}

/// The JSON report without wall-clock durations, each scenario's events replaced by its
/// timeline, plus the catalog the timelines index into.
fn data(summary: &Summary) -> Value {
    let mut report = report::json(summary);
    if let Some(list) = report.get_mut("scenarios").and_then(Value::as_array_mut) {
        for s in list.iter_mut().filter_map(Value::as_object_mut) {
            s.remove("duration_ms");
            s.remove("events");
        }
    }
    let timelines: Vec<Value> = summary
        .outcomes
        .iter()
        .map(|o| {
            let labels = crate::scenario::load_file(&o.file)
                .map(|s| timeline::step_labels(&s))
                .unwrap_or_default();
            timeline::data(&o.events, &o.steps, &labels)
        })
        .collect();
    json!({"kind": "run", "report": report, "timelines": timelines, "catalog": timeline::catalog()})
}

fn verdict(summary: &Summary) -> String {
    let passed = summary.passed();
    let (class, word) = if passed {
        ("pass", "✓ PASSED")
    } else {
        ("fail", "✗ FAILED")
    };
    let mut s = format!(
        "<section id=\"summary\"><p id=\"verdict\" class=\"verdict {class}\" data-verdict=\"{}\">{word}</p>",
        if passed { "passed" } else { "failed" }
    );
    s += "<dl id=\"counts\" class=\"counts\">";
    let mut count = |key: &str, label: &str, value: String| {
        s += &format!("<div><dt>{label}</dt><dd data-count=\"{key}\">{value}</dd></div>");
    };
    count("level", "verdict level", summary.level.name().into());
    count("selected", "selected", summary.selected.to_string());
    count("passed", "passed", summary.passed_count().to_string());
    count("failed", "failed", summary.failed_count().to_string());
    count("reasons", "reasons", summary.reasons.len().to_string());
    if let Some(c) = &summary.coverage {
        count(
            "coverage",
            "pairs reached",
            format!("{}/{}", c.reached(), c.matrix.len()),
        );
        if let Some((n, of)) = c.causes_reached() {
            count("causes", "causes reached", format!("{n}/{of}"));
        }
    }
    s += "</dl></section>";
    s
}

fn reasons(summary: &Summary) -> String {
    let mut s = format!(
        "<section id=\"reasons\"><h2>Reasons the run failed ({})</h2>",
        summary.reasons.len()
    );
    if summary.reasons.is_empty() {
        s += "<p>None: every check held.</p>";
    } else {
        s += "<ol>";
        for r in &summary.reasons {
            let kind = serde_json::to_value(r.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            s += &format!(
                "<li data-kind=\"{0}\"><span class=\"tag fail\">✗ {0}</span> <div class=\"msg\">{1}</div></li>",
                text(&kind),
                text(&r.message)
            );
        }
        s += "</ol>";
    }
    s + "</section>"
}

/// Every rule of the conformance contract, with the findings against it and where.
fn rules(outcomes: &[Outcome]) -> String {
    let mut by_rule: BTreeMap<Rule, Vec<(&str, &Violation)>> = BTreeMap::new();
    for o in outcomes {
        for f in &o.findings {
            by_rule.entry(f.rule).or_default().push((&o.name, f));
        }
    }
    let total: usize = by_rule.values().map(Vec::len).sum();
    let mut s = format!(
        "<section id=\"rules\"><h2>Conformance findings per rule ({total})</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">rule</th><th scope=\"col\">findings</th><th scope=\"col\">what it requires</th></tr></thead><tbody>"
    );
    for rule in Rule::ALL {
        let found = by_rule.get(rule).map_or(&[][..], Vec::as_slice);
        let (class, mark) = if found.is_empty() {
            ("pass", "✓ held")
        } else {
            ("fail", "✗ broken")
        };
        let mut cell = format!("<span class=\"tag {class}\">{mark}</span> {}", found.len());
        if !found.is_empty() {
            cell += "<ul>";
            for (name, f) in found.iter().take(20) {
                cell += &format!(
                    "<li><a href=\"#scenario-{}\">{}</a>: {}</li>",
                    id(name),
                    text(name),
                    text(&f.to_string())
                );
            }
            if found.len() > 20 {
                cell += &format!("<li>and {} more</li>", found.len() - 20);
            }
            cell += "</ul>";
        }
        s += &format!(
            "<tr data-rule=\"{0}\" data-findings=\"{1}\"><th scope=\"row\"><code>{0}</code></th><td>{cell}</td><td>{2} <span class=\"muted\">({3})</span></td></tr>",
            text(rule.id()),
            found.len(),
            text(rule.text()),
            text(rule.source().name())
        );
    }
    s + "</tbody></table></div></section>"
}

fn scenarios(outcomes: &[Outcome]) -> String {
    let mut s = format!(
        "<section id=\"scenarios\"><h2>Scenarios ({})</h2>\
<p class=\"controls\"><label>Find <input id=\"filter\" type=\"search\" placeholder=\"name\"></label> \
<label>Show <select id=\"status-filter\"><option value=\"\">all</option><option value=\"failed\">failed</option><option value=\"passed\">passed</option></select></label> \
<span id=\"shown\" class=\"muted\"></span></p>",
        outcomes.len()
    );
    let mut open = 0;
    for (i, o) in outcomes.iter().enumerate() {
        let failed = o.status == Status::Failed;
        let is_open = failed && open < OPEN_FAILED;
        open += usize::from(is_open);
        s += &scenario(i, o, is_open);
    }
    s + "</section>"
}

fn scenario(index: usize, o: &Outcome, open: bool) -> String {
    let (class, word, status) = match o.status {
        Status::Passed => ("pass", "✓ passed", "passed"),
        Status::Failed => ("fail", "✗ failed", "failed"),
    };
    let mut s = format!(
        "<details class=\"scenario\" id=\"scenario-{}\" data-name=\"{}\" data-status=\"{status}\" data-index=\"{index}\"{}>\
<summary><span class=\"tag {class}\">{word}</span> <span class=\"sname\">{}</span> <span class=\"muted\">{} events · seed {}</span></summary>\
<div class=\"body\"><p class=\"muted\">{}</p>",
        id(&o.name),
        text(&o.name),
        if open { " open" } else { "" },
        text(&o.name),
        o.events.len(),
        o.seed,
        text(&o.file.display().to_string())
    );
    if o.status == Status::Failed {
        s += "<h3>What failed</h3><ul class=\"problems\">";
        for p in &o.problems {
            s += &format!("<li><div class=\"msg\">{}</div></li>", text(&p.to_string()));
        }
        s += "</ul>";
        if !o.findings.is_empty() {
            s += "<div class=\"scroll\"><table class=\"findings\"><thead><tr><th scope=\"col\">rule</th><th scope=\"col\">event</th><th scope=\"col\">expected</th><th scope=\"col\">found</th></tr></thead><tbody>";
            for f in &o.findings {
                s += &format!(
                    "<tr data-rule=\"{0}\"><td><code>{0}</code></td><td>{1}</td><td>{2}</td><td>{3}</td></tr>",
                    text(f.rule.id()),
                    f.seq.map(|n| format!("#{n}")).unwrap_or_else(|| "—".into()),
                    text(&f.expected),
                    text(&f.found)
                );
            }
            s += "</tbody></table></div>";
        }
        if let Some(d) = &o.diff {
            s += "<h3>Snapshot diff</h3>";
            s += &diff(d);
        }
        s += &format!(
            "<h3>Rerun</h3><pre class=\"rerun\"><code>{}</code></pre>",
            text(&o.rerun_command())
        );
    }
    s += &format!(
        "<h3>Timeline</h3><div class=\"timeline\" data-scenario=\"{}\" data-index=\"{index}\"><noscript>The timeline needs JavaScript; the JSON report has every event.</noscript></div></div></details>",
        text(&o.name)
    );
    s
}
