//! The command line's view of the `unified-2021` profile: `catalog --profile unified-2021`
//! (and `--paths`, the mapping from the legacy events), `explain` for its ids and names, and
//! `check`'s verdict when a log holds the 2021 connector's channels.

use serde_json::json;

use harness_runner::catalog::unified::{Area, Basis, UnifiedEvent, PROVIDER, UNIFIED_EVENTS};
use harness_runner::catalog::Profile;
use harness_runner::check::unified::LogVerdict;
use harness_runner::check::Note;
use harness_runner::connector::dialect::{rows_writing, Row, MAPPING};

use crate::catalog::CatalogFormat;
use crate::check::CheckArgs;
use crate::style::{bold, green, red};

/// The profile as one JSON value.
pub fn catalog_json() -> serde_json::Value {
    let events: Vec<_> = UNIFIED_EVENTS
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "name": e.name,
                "channel": e.channel.log_name(),
                "channel_basis": e.channel_basis.name(),
                "area": e.area().name(),
                "range": e.area().range(),
                "task": serde_json::Value::Null,
                "level": e.level().name(),
                "level_basis": e.level_basis.name(),
                "outcome": e.outcome,
                "support_failure": e.is_support_failure(),
                "description": e.description,
                "check": e.check,
                "source": e.source,
            })
        })
        .collect();
    json!({
        "profile": Profile::Unified2021.name(),
        "connector": Profile::Unified2021.describe(),
        "provider": PROVIDER,
        "task_note": "Task Category strings are not published; only the id ranges are.",
        "events": events,
    })
}

/// Renders the profile in `format`.
pub fn render_catalog(format: CatalogFormat) -> String {
    match format {
        CatalogFormat::Json => {
            serde_json::to_string_pretty(&catalog_json()).unwrap_or_default() + "\n"
        }
        CatalogFormat::Markdown => {
            let mut s = String::from("| Id | Name | Channel | Range | Level | Description | Source |\n|---|---|---|---|---|---|---|\n");
            for e in UNIFIED_EVENTS.iter() {
                s += &format!(
                    "| {} | {} | {}{} | {} {} | {} ({}) | {} | {} |\n",
                    e.id,
                    e.name,
                    e.channel.name(),
                    if e.channel_basis == Basis::Inferred {
                        " (inferred)"
                    } else {
                        ""
                    },
                    e.area().range(),
                    e.area().name(),
                    e.level().name(),
                    e.level_basis.name(),
                    e.description,
                    e.source.describe()
                );
            }
            s += &format!(
                "\n{} events in profile unified-2021.\n",
                UNIFIED_EVENTS.len()
            );
            s
        }
        CatalogFormat::Table => {
            let mut s = format!("{} (provider {PROVIDER})\n", bold("PROFILE unified-2021"));
            for area in Area::ALL {
                s += &format!("\n  {} {}\n", bold(area.range()), area.name());
                for e in UNIFIED_EVENTS.iter().filter(|e| e.area() == area) {
                    s += &format!(
                        "    {:<5} {:<34} {:<12} {:<12} {}\n",
                        e.id,
                        e.name,
                        e.channel.name(),
                        e.level().name(),
                        if e.level_basis == Basis::Inferred {
                            "level inferred"
                        } else {
                            "level published"
                        }
                    );
                }
            }
            s += &format!(
                "\n{} events; Task Category strings are not published.\n",
                UNIFIED_EVENTS.len()
            );
            s
        }
    }
}

fn legacy_names(row: &Row) -> String {
    row.legacy
        .iter()
        .map(|e| format!("{} {}", e.id(), e.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn writes(row: &Row) -> String {
    if row.writes.is_empty() {
        return "nothing".into();
    }
    row.writes
        .iter()
        .map(|s| s.describe())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The mapping from the legacy events to the profile's, in `format`.
pub fn render_paths(format: CatalogFormat) -> String {
    match format {
        CatalogFormat::Json => {
            let rows: Vec<_> = MAPPING
                .iter()
                .map(|r| {
                    json!({
                        "legacy": r.legacy.iter().map(|e| e.id()).collect::<Vec<_>>(),
                        "when": r.when.describe(),
                        "writes": r.writes.iter().map(|s| s.describe()).collect::<Vec<_>>(),
                        "basis": r.basis.name(),
                        "scenario": r.scenario,
                        "note": r.note,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
        }
        CatalogFormat::Markdown => mapping_markdown(),
        CatalogFormat::Table => {
            let mut s = String::new();
            for r in MAPPING {
                s += &format!(
                    "{} {}\n  writes:   {}\n  basis:    {}: {}\n",
                    bold(&legacy_names(r)),
                    r.when.describe(),
                    writes(r),
                    r.basis.name(),
                    r.note
                );
                if let Some(sc) = r.scenario {
                    s += &format!("  scenario: scenarios/{sc}.yaml\n");
                }
                s.push('\n');
            }
            s
        }
    }
}

/// The mapping as the Markdown table `docs/event-log.md` holds.
pub fn mapping_markdown() -> String {
    let mut s = String::from(
        "| legacy event | when | 2021 events written | basis | scenario |\n|---|---|---|---|---|\n",
    );
    for r in MAPPING {
        s += &format!(
            "| {} | {} | {} | {}: {} | {} |\n",
            legacy_names(r),
            r.when.describe(),
            writes(r),
            r.basis.name(),
            r.note,
            r.scenario.map(|s| format!("`{s}`")).unwrap_or_default()
        );
    }
    s
}

/// The explanation of a term that names an event of the profile (`4005`, `ScepVerifyFailure`),
/// or `None`.
pub fn explain_term(terms: &[String]) -> Option<String> {
    let [term] = terms else { return None };
    let event = term.parse::<UnifiedEvent>().ok()?;
    Some(explain_event(event))
}

fn explain_event(e: UnifiedEvent) -> String {
    let spec = e.spec();
    let mut s = format!(
        "{} {} {} (profile unified-2021: {})\n  {}\n\n",
        bold("Event"),
        spec.id,
        spec.name,
        Profile::Unified2021.describe(),
        spec.description
    );
    s += &format!(
        "  Channel: {} ({})\n",
        spec.channel.log_name(),
        spec.channel_basis.name()
    );
    s += &format!(
        "  Range: {} {}; Task Category: not published\n",
        spec.area().range(),
        spec.area().name()
    );
    s += &format!(
        "  Level: {} (Windows level {}; {})\n",
        spec.level().name(),
        spec.level().windows_value(),
        match spec.level_basis {
            Basis::Published => "published",
            Basis::Inferred => "inferred from the name, not published",
        }
    );
    s += &format!("  Source: {}\n", spec.source.describe());
    s += &format!(
        "  Support tools: {}\n",
        if spec.is_support_failure() {
            "count it as a failure (`check` reports it)"
        } else {
            "do not count it as a failure"
        }
    );
    s += &format!("  What to check: {}\n\n", spec.check);
    s += &format!(
        "  {}\n",
        bold("The legacy events it corresponds to (the harness's mapping, docs/event-log.md):")
    );
    let rows: Vec<&Row> = rows_writing(e).collect();
    if rows.is_empty() {
        s += "    none: the reference connector never writes it (the legacy connector has no such step), so no scenario reproduces it\n";
    }
    for r in rows {
        s += &format!(
            "    {}{}: writes {}\n      {}: {}\n",
            legacy_names(r),
            if r.when.describe().is_empty() {
                String::new()
            } else {
                format!(" ({})", r.when.describe())
            },
            writes(r),
            match r.basis {
                Basis::Published => "published descriptions",
                Basis::Inferred => "inference",
            },
            r.note
        );
        match r.scenario {
            Some(sc) => {
                s += &format!(
                    "      reproduce: cargo xtask run-scenarios --exact {sc} --connector-cmd \"connector-harness connector --dialect unified-2021 --log log.xml\"   (log.xml is then in this dialect)\n"
                )
            }
            None => s += "      reproduce: no library scenario reaches it\n",
        }
    }
    s
}

/// `check`'s text when the 2021 profile has something to say.
pub fn render_log(args: &CheckArgs, log: &LogVerdict, max_findings: usize) -> String {
    let legacy = &log.legacy;
    let format = if log.evtx_json {
        "evtx_dump JSON"
    } else {
        legacy.format.describe()
    };
    let mut s = crate::check::header(
        args,
        format,
        &format!(", and profile unified-2021 (provider {PROVIDER})"),
    );
    for f in &legacy.findings {
        s += &format!("  {} {f}\n", red(&format!("{:<16}", f.label())));
    }
    let u = &log.unified;
    let listed: Vec<_> = u
        .findings
        .iter()
        .chain(log.nothing_checked.iter())
        .collect();
    for f in listed.iter().take(max_findings) {
        s += &format!("  {} {f}\n", red(&format!("{:<16}", f.label())));
    }
    let hidden = legacy
        .more_findings
        .saturating_add(u.more_findings)
        .saturating_add(listed.len().saturating_sub(max_findings) as u64);
    if hidden > 0 {
        s += &format!("  … and {hidden} more findings (raise --max-findings, or use --json)\n");
    }
    for n in &legacy.notes {
        // Of course there is none of the legacy provider in a 2021 export.
        if u.events > 0 && matches!(n, Note::NoConnectorEvents { .. }) {
            continue;
        }
        let kind = if matches!(n, Note::Warning { .. }) {
            "warning"
        } else {
            "note"
        };
        s += &format!("  {kind}: {n}\n");
    }
    for n in &u.notes {
        s += &format!("  note: {n}\n");
    }
    if u.events > 0 {
        s += "  unified-2021 by area:\n";
        for (area, t) in &u.summary {
            s += &format!(
                "    {:<8} requests {:>4}  successes {:>4}  failures {:>4}  retries {:>4}\n",
                area.name(),
                t.requests,
                t.successes,
                t.failures,
                t.retries
            );
        }
    }
    let channels: Vec<String> = u.channels.iter().map(|(c, n)| format!("{n} {c}")).collect();
    let others = if log.evtx_json {
        u.providers
            .iter()
            .filter(|(p, _)| !p.eq_ignore_ascii_case(PROVIDER))
            .map(|(_, n)| *n)
            .sum()
    } else {
        legacy.other_providers.saturating_sub(u.events)
    };
    let counts = format!(
        "{} events of the connector checked, {} of unified-2021{}, {} of other providers ignored, {} unreadable",
        legacy.events,
        u.events,
        if channels.is_empty() { String::new() } else { format!(" ({})", channels.join(", ")) },
        others,
        legacy.unreadable
    );
    let total = log.finding_count();
    if log.passed() {
        s += &format!("{}: no findings; {counts}\n", green("PASSED"));
    } else {
        let noun = if total == 1 { "finding" } else { "findings" };
        s += &format!("{}: {total} {noun}; {counts}\n", red("FAILED"));
    }
    s
}

/// A profile on the command line (`--profile`, `--dialect`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProfileArg {
    /// The seed's table: the legacy connector's 19 events, 12 codes, 48 pairs.
    #[default]
    Legacy,
    /// The 2021+ Certificate Connector's 61 published ids and event 2.
    #[value(name = "unified-2021")]
    Unified2021,
}

impl ProfileArg {
    /// The catalog's profile.
    pub fn profile(self) -> Profile {
        match self {
            ProfileArg::Legacy => Profile::Legacy,
            ProfileArg::Unified2021 => Profile::Unified2021,
        }
    }
}

/// Prints `check`'s verdict on a log the 2021 profile has something to say about (text or
/// `--json`); returns the exit code.
pub fn print_log(args: &CheckArgs, mut log: LogVerdict) -> anyhow::Result<u8> {
    let passed = log.passed();
    if log.legacy.findings.len() > args.max_findings {
        let cut = log.legacy.findings.split_off(args.max_findings);
        log.legacy.more_findings = log.legacy.more_findings.saturating_add(cut.len() as u64);
    }
    if args.json {
        let json = json!({
            "events_file": args.events.display().to_string(),
            "scenario": args.scenario,
            "providers": args.providers,
            "passed": passed,
            "verdict": log.legacy,
            "unified_2021": log.unified,
            "nothing_checked": log.nothing_checked,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", render_log(args, &log, args.max_findings));
    }
    Ok(if passed {
        crate::EXIT_OK
    } else {
        crate::EXIT_FAILED
    })
}
