//! `catalog`: the catalog printed for people and machines.

use serde_json::json;

use harness_runner::catalog::{self, CODES, EVENTS};

use crate::style::bold;

/// Output format of `catalog`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CatalogFormat {
    /// Aligned plain text.
    Table,
    /// GitHub-flavoured Markdown tables.
    Markdown,
    /// One JSON document: events, codes and pairs.
    Json,
}

/// The catalog as one JSON value.
pub fn catalog_json() -> serde_json::Value {
    let events: Vec<_> = EVENTS
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "name": e.name,
                "level": e.level.name(),
                "description": e.description,
                "details": e.details.iter().map(|d| d.key()).collect::<Vec<_>>(),
                "codes": e.codes.iter().map(|c| c.hex()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let codes: Vec<_> = CODES
        .iter()
        .map(|c| {
            json!({
                "code": c.code.hex(),
                "value": c.value,
                "name": c.name,
                "message": c.message,
                "remediation": c.remediation,
            })
        })
        .collect();
    let pairs: Vec<_> = catalog::pairs()
        .iter()
        .map(|p| json!({"event_id": p.event.id(), "event": p.event.name(), "code": p.code.hex(), "code_name": p.code.name()}))
        .collect();
    json!({"events": events, "codes": codes, "pairs": pairs})
}

/// Renders the catalog in `format`.
pub fn render_catalog(format: CatalogFormat) -> String {
    match format {
        CatalogFormat::Json => {
            serde_json::to_string_pretty(&catalog_json()).unwrap_or_default() + "\n"
        }
        CatalogFormat::Markdown => {
            let mut s = String::from("## Events\n\n| Event id | Name | Level | Description | Diagnostic codes |\n|---|---|---|---|---|\n");
            for e in EVENTS.iter() {
                let codes: Vec<_> = e.codes.iter().map(|c| c.hex()).collect();
                s += &format!(
                    "| {} | {} | {} | {} | {} |\n",
                    e.id,
                    e.name,
                    e.level.name(),
                    e.description,
                    codes.join(", ")
                );
            }
            s += "\n## Diagnostic codes\n\n| Code | Name | Message | Remediation |\n|---|---|---|---|\n";
            for c in CODES.iter() {
                s += &format!(
                    "| {} | {} | {} | {} |\n",
                    c.code.hex(),
                    c.name,
                    c.message,
                    c.remediation
                );
            }
            s += &format!(
                "\n{} events, {} codes, {} allowed pairs.\n",
                EVENTS.len(),
                CODES.len(),
                catalog::pairs().len()
            );
            s
        }
        CatalogFormat::Table => {
            let mut s = format!("{}\n", bold("EVENTS"));
            for e in EVENTS.iter() {
                let codes: Vec<_> = e.codes.iter().map(|c| c.hex()).collect();
                s += &format!(
                    "  {:<6} {:<28} {:<12} {}\n",
                    e.id,
                    e.name,
                    e.level.name(),
                    codes.join(" ")
                );
            }
            s += &format!("\n{}\n", bold("DIAGNOSTIC CODES"));
            for c in CODES.iter() {
                s += &format!("  {} {:<32} {}\n", c.code.hex(), c.name, c.message);
            }
            s += &format!(
                "\n{} events, {} codes, {} allowed pairs.\n",
                EVENTS.len(),
                CODES.len(),
                catalog::pairs().len()
            );
            s
        }
    }
}

/// For each catalog pair, the connector's cause and the scenario that reproduces it.
pub(super) fn render_paths(format: CatalogFormat) -> String {
    use harness_runner::connector::Cause;
    match format {
        CatalogFormat::Json => {
            let rows: Vec<_> = Cause::ALL
                .iter()
                .map(|c| json!({"event_id": c.pair().event.id(), "event": c.pair().event.name(), "code": c.pair().code.hex(), "code_name": c.pair().code.name(), "cause": c.description(), "scenario": c.scenario()}))
                .collect();
            serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
        }
        CatalogFormat::Markdown => {
            let mut s = String::from("| Event | Code | Cause | Scenario |\n|---|---|---|---|\n");
            for c in Cause::ALL {
                let p = c.pair();
                s += &format!(
                    "| {} {} | {} {} | {} | `scenarios/{}.yaml` |\n",
                    p.event.id(),
                    p.event.name(),
                    p.code.hex(),
                    p.code.name(),
                    c.description(),
                    c.scenario()
                );
            }
            s
        }
        CatalogFormat::Table => {
            let mut s = String::new();
            for c in Cause::ALL {
                let p = c.pair();
                s += &format!(
                    "{} {} with {} {}\n  cause:    {}\n  scenario: scenarios/{}.yaml\n\n",
                    bold(&p.event.id().to_string()),
                    p.event.name(),
                    p.code.hex(),
                    p.code.name(),
                    c.description(),
                    c.scenario()
                );
            }
            s
        }
    }
}
