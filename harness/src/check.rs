//! `connector-harness check`: a connector's exported event log against the catalog and,
//! with `--scenario`, against that scenario's expectations. The verdict comes from
//! [`harness_runner::check`]; this file only reads the arguments and prints.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use harness_runner::check::{CheckOptions, Note, Verdict};
use harness_runner::event::{Format, ScanOptions, DEFAULT_MAX_BYTES, PROVIDER};
use harness_runner::scenario::{self, Scenario};

use crate::style::{bold, green, red};
use crate::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// The log's format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    /// Tell from the file: the .evtx signature, then the extension, then the first character.
    Auto,
    /// The harness's JSON Lines wire record.
    Jsonl,
    /// Windows event XML: `wevtutil qe /f:xml` (bare or `/e:Events`), PowerShell `ToXml()`.
    Xml,
    /// Binary .evtx (`wevtutil epl`).
    Evtx,
    /// The harness's YAML snapshot form.
    Yaml,
}

impl FormatArg {
    fn format(self) -> Option<Format> {
        match self {
            FormatArg::Auto => None,
            FormatArg::Jsonl => Some(Format::Jsonl),
            FormatArg::Xml => Some(Format::Xml),
            FormatArg::Evtx => Some(Format::Evtx),
            FormatArg::Yaml => Some(Format::Yaml),
        }
    }
}

/// Arguments of `check`.
#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    /// The exported log: JSON Lines, Windows event XML (UTF-8 or UTF-16), .evtx or YAML.
    #[arg(long, value_name = "FILE")]
    pub events: PathBuf,
    /// Also check this scenario's `expect.sequence` and `expect.absent`.
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Folder of scenario files.
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// The world the run that wrote the log recorded (`run --record DIR` writes
    /// `<scenario>.world.json`): with --scenario, the log is judged by the whole conformance
    /// contract, as `run` judged it.
    #[arg(long, value_name = "FILE", requires = "scenario")]
    pub world: Option<PathBuf>,
    /// The log's format.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub format: FormatArg,
    /// The connector's event provider (source) name; repeat for several. Events of other
    /// providers are ignored.
    #[arg(long = "provider", value_name = "NAME", default_value = PROVIDER)]
    pub providers: Vec<String>,
    /// Print the verdict as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Findings printed at most; the rest are counted.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub max_findings: usize,
    /// Largest log read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BYTES)]
    pub max_bytes: u64,
    /// Also write the verdict as one self-contained HTML page here: findings, a summary per
    /// area and the log's timeline (docs/report.md).
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
}

/// The file of the scenario called `name` in `dir`.
pub fn find_scenario(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let files = scenario::scenario_files(dir)
        .with_context(|| format!("cannot read the scenario folder {}", dir.display()))?;
    let stem = |f: &PathBuf| {
        f.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string()
    };
    if let Some(file) = files.iter().find(|f| stem(f) == name) {
        return Ok(file.clone());
    }
    let mut near: Vec<String> = files
        .iter()
        .map(stem)
        .filter(|s| s.contains(name) || name.contains(s.as_str()))
        .collect();
    near.truncate(5);
    let hint = if near.is_empty() {
        "`ls` the folder, or point --scenarios at another".to_string()
    } else {
        format!("did you mean {}?", near.join(", "))
    };
    bail!(
        "unknown scenario `{name}`: no {name}.yaml in {}; {hint}",
        dir.display()
    )
}

/// Runs `check`; an `Err` is bad input (exit 2).
pub fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let scenario: Option<Scenario> = match &args.scenario {
        Some(name) => match scenario::load_file(&find_scenario(&args.scenarios, name)?) {
            Ok(s) => Some(s),
            Err(e) => {
                // Located and with its fix, as `run` prints it.
                eprintln!("{e}");
                return Ok(EXIT_USAGE);
            }
        },
        None => None,
    };
    let world = match &args.world {
        Some(path) => {
            // A scenario's world is kilobytes; a file past this is not one.
            const MAX_WORLD: u64 = 256 << 20;
            let size = std::fs::metadata(path)
                .with_context(|| format!("cannot read the world file {}", path.display()))?
                .len();
            if size > MAX_WORLD {
                bail!(
                    "the world file {} has {size} bytes; a world record has at most {MAX_WORLD}",
                    path.display()
                );
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the world file {}", path.display()))?;
            let world: harness_runner::check::conformance::WorldRecord =
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{} is not a world record (write one with `run --record DIR`)",
                        path.display()
                    )
                })?;
            Some(world)
        }
        None => None,
    };
    let options = CheckOptions {
        scan: ScanOptions {
            providers: args.providers.clone(),
            max_bytes: args.max_bytes,
        },
        format: args.format.format(),
        world,
        ..CheckOptions::default()
    };
    let log = harness_runner::check::unified::check_log(
        &args.events,
        scenario.as_ref().map(|s| &s.expect),
        &options,
    )
    .with_context(|| format!("cannot check {}", args.events.display()))?;
    if let Some(path) = &args.html {
        let page = harness_runner::html::check_page::render(
            &args.events,
            args.scenario.as_deref(),
            &log.legacy,
            &harness_runner::html::check_page::records(
                &args.events,
                args.format.format(),
                &options.scan,
            ),
        );
        harness_runner::html::write(path, &page)?;
    }
    if log.involves_unified() {
        return crate::unified::print_log(&args, log);
    }
    let mut verdict = log.legacy;
    let passed = verdict.passed();
    if verdict.findings.len() > args.max_findings {
        let cut = verdict.findings.split_off(args.max_findings);
        verdict.more_findings = verdict.more_findings.saturating_add(cut.len() as u64);
    }
    if args.json {
        let json = serde_json::json!({
            "events_file": args.events.display().to_string(),
            "scenario": args.scenario,
            "providers": args.providers,
            "passed": passed,
            "verdict": verdict,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", render(&args, &verdict));
    }
    Ok(if passed { EXIT_OK } else { EXIT_FAILED })
}

/// The first line of `check`'s text: the file, its format, the providers read (and `also`,
/// another profile's part), and the scenario.
pub(super) fn header(args: &CheckArgs, format: &str, also: &str) -> String {
    let mut s = format!(
        "{} {} ({format}), provider {}{also}",
        bold("check"),
        args.events.display(),
        args.providers
            .iter()
            .map(|p| format!("'{p}'"))
            .collect::<Vec<_>>()
            .join(" or ")
    );
    if let Some(name) = &args.scenario {
        s += &format!(", scenario {name}");
    }
    s.push('\n');
    s
}

/// The verdict as text: a header, one line per finding, notes, and a summary line.
pub fn render(args: &CheckArgs, verdict: &Verdict) -> String {
    let mut s = header(args, verdict.format.describe(), "");
    for f in &verdict.findings {
        s += &format!("  {} {f}\n", red(&format!("{:<16}", f.label())));
    }
    if verdict.more_findings > 0 {
        s += &format!(
            "  … and {} more findings (raise --max-findings, or use --json)\n",
            verdict.more_findings
        );
    }
    for n in &verdict.notes {
        let kind = match n {
            Note::Warning { .. } => "warning",
            _ => "note",
        };
        s += &format!("  {kind}: {n}\n");
    }
    let counts = format!(
        "{} events of the connector checked, {} of other providers ignored, {} unreadable",
        verdict.events, verdict.other_providers, verdict.unreadable
    );
    let total = verdict.finding_count();
    if total == 0 {
        s += &format!("{}: no findings; {counts}\n", green("PASSED"));
    } else {
        let noun = if total == 1 { "finding" } else { "findings" };
        s += &format!("{}: {total} {noun}; {counts}\n", red("FAILED"));
    }
    s
}
