//! The coverage matrix, rendered on the server so it reads without script: the 19 events ×
//! 12 codes grid, each cell marked by a symbol and a word as well as a colour (`✓` covered,
//! `—` unreached, `✗` invalid, `·` not a catalog pair), then each allowed pair with the
//! scenarios that reached it and the connector causes that write it.

use std::collections::BTreeSet;

use crate::catalog::{DiagnosticCode, EventId, Pair};
use crate::connector::Cause;
use crate::run::coverage::Coverage;
use crate::run::verdict::Gate;

use super::escape::{id, text};

/// Scenario links shown per pair; the rest are counted (the JSON blob has them all).
const SHOWN: usize = 40;

/// How one cell of the grid stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellState {
    /// An allowed pair some scenario reached.
    Covered,
    /// An allowed pair no scenario reached.
    Unreached,
    /// A pair outside the catalog that a stream carried.
    Invalid,
    /// A pair outside the catalog, not seen.
    NotAllowed,
}

impl CellState {
    /// The name the DOM carries (`data-state`) and the stylesheet's class.
    pub fn name(self) -> &'static str {
        match self {
            CellState::Covered => "covered",
            CellState::Unreached => "unreached",
            CellState::Invalid => "invalid",
            CellState::NotAllowed => "not-allowed",
        }
    }

    /// Its symbol, for readers who cannot tell the colours.
    pub fn symbol(self) -> &'static str {
        match self {
            CellState::Covered => "✓",
            CellState::Unreached => "—",
            CellState::Invalid => "✗",
            CellState::NotAllowed => "·",
        }
    }
}

/// The anchor of a pair's entry.
pub fn pair_anchor(p: Pair) -> String {
    format!("pair-{}-{}", p.event.id(), p.code.hex())
}

/// The `data-pair` text of a pair: `"10010 0x00000000"`.
pub fn pair_key(p: Pair) -> String {
    format!("{} {}", p.event.id(), p.code.hex())
}

/// The grid, its legend, the invalid pairs and the per-pair entries.
pub fn render(coverage: &Coverage, gate: Gate) -> String {
    let invalid: BTreeSet<&str> = coverage.invalid.iter().map(|(_, p)| p.as_str()).collect();
    let codes: Vec<DiagnosticCode> = DiagnosticCode::all().collect();
    let mut s = String::from("<section id=\"coverage\"><h2>Coverage of the catalog</h2>");
    s += &format!(
        "<p id=\"coverage-line\"><strong data-count=\"reached\">{}</strong> of <strong data-count=\"pairs\">{}</strong> allowed pairs reached{}; <strong data-count=\"invalid\">{}</strong> invalid pair(s) seen.</p>",
        coverage.reached(),
        coverage.matrix.len(),
        match gate {
            Gate::Applied => " (gated: every pair must be reached)",
            Gate::Partial => " (partial run: not gated)",
            Gate::Off => " (--no-coverage-gate: not gated)",
        },
        coverage.invalid.len()
    );
    s += "<p class=\"legend\"><span class=\"cell covered\">✓ covered</span> <span class=\"cell unreached\">— unreached</span> <span class=\"cell invalid\">✗ invalid</span> <span class=\"cell not-allowed\">· not a catalog pair</span></p>";
    s += "<div class=\"scroll\"><table id=\"matrix\"><thead><tr><th scope=\"col\">event \\ code</th>";
    for c in &codes {
        s += &format!(
            "<th scope=\"col\"><abbr title=\"{}\">{}</abbr></th>",
            text(c.name()),
            text(&c.hex())
        );
    }
    s += "</tr></thead><tbody>";
    for e in EventId::all() {
        s += &format!(
            "<tr><th scope=\"row\">{} <span class=\"name\">{}</span></th>",
            e.id(),
            text(e.name())
        );
        for &c in &codes {
            let p = Pair { event: e, code: c };
            let who = coverage.matrix.get(&p);
            let state = match who {
                Some(w) if !w.is_empty() => CellState::Covered,
                Some(_) => CellState::Unreached,
                None if invalid.contains(p.to_string().as_str()) => CellState::Invalid,
                None => CellState::NotAllowed,
            };
            let label = match (state, who) {
                (CellState::Covered, Some(w)) => format!("✓ {}", w.len()),
                (CellState::Unreached, _) => "— none".into(),
                (CellState::Invalid, _) => "✗ invalid".into(),
                _ => "·".into(),
            };
            let body = if who.is_some() {
                format!("<a href=\"#{}\">{label}</a>", pair_anchor(p))
            } else {
                label
            };
            s += &format!(
                "<td class=\"cell {0}\" data-state=\"{0}\" data-pair=\"{1}\" title=\"{2}: {0}\">{body}</td>",
                state.name(),
                pair_key(p),
                text(&p.to_string())
            );
        }
        s += "</tr>";
    }
    s += "</tbody></table></div>";
    if !coverage.invalid.is_empty() {
        s += "<h3>Invalid pairs</h3><ul id=\"invalid-pairs\">";
        for (scenario, pair) in &coverage.invalid {
            s += &format!(
                "<li>✗ <a href=\"#scenario-{}\">{}</a>: {}</li>",
                id(scenario),
                text(scenario),
                text(pair)
            );
        }
        s += "</ul>";
    }
    s += &pairs(coverage);
    s += "</section>";
    s
}

/// Each allowed pair: who reached it, and the causes that write it.
fn pairs(coverage: &Coverage) -> String {
    let mut s = String::from(
        "<details id=\"pairs\"><summary>Each pair: its scenarios and causes</summary>",
    );
    for (p, who) in &coverage.matrix {
        let state = if who.is_empty() {
            CellState::Unreached
        } else {
            CellState::Covered
        };
        s += &format!(
            "<div class=\"pair\" id=\"{}\"><h3><span class=\"cell {}\">{} {}</span> {}</h3>",
            pair_anchor(*p),
            state.name(),
            state.symbol(),
            state.name(),
            text(&p.to_string())
        );
        let links: Vec<String> = who
            .iter()
            .take(SHOWN)
            .map(|n| format!("<a href=\"#scenario-{}\">{}</a>", id(n), text(n)))
            .collect();
        let more = who.len().saturating_sub(SHOWN);
        s += &format!(
            "<p>Scenarios ({}): {}{}</p>",
            who.len(),
            if links.is_empty() {
                "none".into()
            } else {
                links.join(", ")
            },
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        let causes: Vec<String> = Cause::ALL
            .iter()
            .filter(|c| c.pair() == *p)
            .map(|c| {
                let reached = coverage
                    .causes
                    .as_ref()
                    .and_then(|m| m.get(c.name()))
                    .map(|w| format!(" — reached by {}", w.len()))
                    .unwrap_or_default();
                format!(
                    "<li><code>{}</code>{}: {} (reproduced by <code>{}</code>)</li>",
                    text(c.name()),
                    reached,
                    text(c.description()),
                    text(c.scenario())
                )
            })
            .collect();
        s += &format!("<ul class=\"causes\">{}</ul></div>", causes.join(""));
    }
    s += "</details>";
    s
}
