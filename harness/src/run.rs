//! `connector-harness run`: turn the arguments into the scheduler's [`Plan`]
//! ([`harness_runner::run::schedule`] loads, selects and runs), then report its one [`Summary`]
//! (terminal, JUnit, JSON) — so the reports always agree with the exit code.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::Context;

use harness_runner::run::schedule::{self, Plan, Progress, Selection, Shard};
use harness_runner::run::under_test::Choice;
use harness_runner::run::verdict::{Gate, ReasonKind, Summary};
use harness_runner::run::{report, Level, Outcome, Rerun, RerunStart, RunOptions, Status};

use crate::style::{bold, green, red};

/// Arguments of `run`.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Folder of scenario files.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Folder of snapshot files.
    #[arg(long, default_value = "snapshots")]
    pub snapshots: PathBuf,
    /// Only scenarios whose name contains this text or matches this glob (`pkcs-*`).
    #[arg(long)]
    pub filter: Option<String>,
    /// Only the scenario with exactly this name (repeatable: any of them).
    #[arg(long, value_name = "NAME")]
    pub exact: Vec<String>,
    /// Only scenarios with this tag (repeatable: any of them).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Write snapshots that are missing or differ (refused when CI=true).
    #[arg(long)]
    pub update: bool,
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write one self-contained HTML report here: the verdict, the coverage matrix, each
    /// scenario's timeline (docs/report.md).
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Run shard I of N (1-based), a deterministic split by name.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Scenarios run at once (default: number of CPUs).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Override every scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run each scenario twice and require byte-identical streams.
    #[arg(long)]
    pub check_determinism: bool,
    /// Do not fail on catalog pairs no scenario reached, even when every scenario runs.
    #[arg(long)]
    pub no_coverage_gate: bool,
    /// Drive this connector instead of the reference model: a command run with `sh -c`,
    /// speaking the connector-under-test protocol on stdin and stdout
    /// (docs/vendor-contract.md). `connector-harness connector` is the reference one.
    #[arg(long, value_name = "COMMAND")]
    pub connector_cmd: Option<String>,
    /// How the verdict is reached: `conformance` judges the written contract
    /// (docs/conformance.md); `exact` also requires each stream to be byte-identical to its
    /// snapshot. Default: exact for the reference model, conformance with --connector-cmd.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub verdict: Option<LevelArg>,
    /// Write each scenario's stream (`<name>.events.jsonl`) and what its world recorded
    /// (`<name>.world.json`) into this folder, for `check --events … --scenario … --world …`.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
}

/// The verdict level, as the command line names it.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelArg {
    /// The conformance contract alone.
    Conformance,
    /// The contract, and byte-identical to the snapshots.
    Exact,
}

impl RunArgs {
    /// The level this run judges at.
    pub fn level(&self) -> Level {
        match (self.verdict, &self.connector_cmd) {
            (Some(LevelArg::Conformance), _) | (None, Some(_)) => Level::Conformance,
            (Some(LevelArg::Exact), _) | (None, None) => Level::Exact,
        }
    }
}

/// Runs `run`; returns the exit code. Both reports are written whatever happens after the
/// arguments parse.
pub fn run(args: RunArgs) -> anyhow::Result<u8> {
    let summary = schedule::run_plan(&args.plan(), Rc::new(Terminal::new()));
    if summary.coverage.is_none() {
        print_stopped(&summary);
    }
    if let Some(path) = &args.junit {
        write_file(path, &report::junit(&summary).context("rendering JUnit")?)?;
    }
    if let Some(path) = &args.json {
        write_file(
            path,
            &(serde_json::to_string_pretty(&report::json(&summary))? + "\n"),
        )?;
    }
    if let Some(path) = &args.html {
        harness_runner::html::write(path, &harness_runner::html::run_page::render(&summary))?;
    }
    print_summary(&summary);
    Ok(summary.exit_code())
}

impl RunArgs {
    /// The scheduler's plan for these arguments.
    pub fn plan(&self) -> Plan {
        let level = self.level();
        Plan {
            scenarios: self.scenarios.clone(),
            selection: self.selection(),
            options: RunOptions {
                snapshots: Some(self.snapshots.clone()),
                update: self.update,
                ci: schedule::ci_from_env(),
                seed: self.seed,
                check_determinism: self.check_determinism,
                rerun: Rerun {
                    start: rerun_of(&self.scenarios, &self.snapshots),
                    connector_cmd: self.connector_cmd.clone(),
                    level: self.verdict.map(|_| level),
                },
                level,
                record: self.record.clone(),
                connector: match &self.connector_cmd {
                    Some(cmd) => Choice::Command(cmd.clone()),
                    None => Choice::Reference,
                },
            },
            jobs: self.jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            }),
            coverage_gate: !self.no_coverage_gate,
        }
    }

    /// Which scenarios these arguments select.
    pub fn selection(&self) -> Selection {
        Selection {
            filter: self.filter.clone(),
            exact: self.exact.clone(),
            tags: self.tag.clone(),
            shard: self.shard,
        }
    }
}

/// Why a run stopped before any scenario ran, on stderr (load errors with their locations).
fn print_stopped(summary: &Summary) {
    let mut load_errors = 0usize;
    for r in &summary.reasons {
        match r.kind {
            ReasonKind::LoadError | ReasonKind::DuplicateName => {
                load_errors += 1;
                eprintln!("{}\n", r.message);
            }
            _ => eprintln!("{}", red(&format!("error: {}", r.message))),
        }
    }
    if load_errors > 0 {
        eprintln!("{load_errors} problem(s) with the scenario files; nothing ran");
    }
}

fn print_summary(summary: &Summary) {
    for o in summary
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Failed)
    {
        eprintln!("\n{} {}", red("FAILED"), bold(&o.name));
        for p in &o.problems {
            eprintln!("  {p}");
        }
        if let Some(d) = &o.diff {
            eprintln!("{d}");
        }
        eprintln!("  seed: {}\n  rerun: {}", o.seed, o.rerun_command());
    }
    let Some(coverage) = &summary.coverage else {
        println!(
            "{}",
            red(&format!(
                "verdict: failed ({} reason(s)); no scenario ran",
                summary.reasons.len()
            ))
        );
        return;
    };
    println!(
        "\n{}",
        bold("Coverage of the catalog's (event, code) pairs")
    );
    print!("{}", coverage.render());
    for r in summary
        .reasons
        .iter()
        .filter(|r| r.kind != ReasonKind::ScenarioFailed)
    {
        eprintln!("{} {}", red("error:"), r.message);
    }
    let written = summary
        .outcomes
        .iter()
        .filter(|o| o.snapshot_written)
        .count();
    let causes = coverage
        .causes_reached()
        .map(|(n, of)| format!(", {n}/{of} causes"))
        .unwrap_or_default();
    let line = format!(
        "{} passed, {} failed; coverage {}/{} pairs{causes}{}; {} invalid pairs{}",
        summary.passed_count(),
        summary.failed_count(),
        coverage.reached(),
        coverage.matrix.len(),
        match summary.gate {
            Gate::Applied => "",
            Gate::Partial => " (partial run: not gated)",
            Gate::Off => " (--no-coverage-gate: not gated)",
        },
        coverage.invalid.len(),
        if written > 0 {
            format!("; {written} snapshot(s) written")
        } else {
            String::new()
        }
    );
    if summary.passed() {
        println!("{}", green(&line));
    } else {
        println!("{}", red(&line));
    }
}

/// How failures' rerun commands start: `cargo xtask run-scenarios` when this is the library run
/// through cargo in its workspace; otherwise this program with the folders given.
fn rerun_of(scenarios: &Path, snapshots: &Path) -> RerunStart {
    let through_cargo = std::env::var("CARGO_PKG_NAME").is_ok_and(|n| n == "connector-harness");
    let is = |given: &Path, default: &str| {
        let here = std::env::current_dir().map(|d| d.join(default));
        match (given.canonicalize(), here.and_then(|h| h.canonicalize())) {
            (Ok(a), Ok(b)) => a == b,
            _ => given == Path::new(default),
        }
    };
    if through_cargo && is(scenarios, "scenarios") && is(snapshots, "snapshots") {
        return RerunStart::Xtask;
    }
    RerunStart::Program {
        program: std::env::args()
            .next()
            .unwrap_or_else(|| "connector-harness".into()),
        scenarios: scenarios.to_path_buf(),
        snapshots: snapshots.to_path_buf(),
    }
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Progress on a terminal: a bar on an interactive stderr (failures printed above it), one
/// line per scenario otherwise.
struct Terminal {
    bar: RefCell<Option<indicatif::ProgressBar>>,
}

impl Terminal {
    fn new() -> Terminal {
        Terminal {
            bar: RefCell::new(None),
        }
    }
}

impl Progress for Terminal {
    fn start(&self, scenarios: usize) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let bar = indicatif::ProgressBar::new(scenarios as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} scenarios {elapsed}")
        {
            bar.set_style(style);
        }
        *self.bar.borrow_mut() = Some(bar);
    }

    fn finished(&self, outcome: &Outcome) {
        let line = format!(
            "{} {} ({} ms, {} events)",
            if outcome.status == Status::Passed {
                green("ok")
            } else {
                red("FAILED")
            },
            outcome.name,
            outcome.duration.as_millis(),
            outcome.events.len()
        );
        match &*self.bar.borrow() {
            Some(bar) => {
                if outcome.status == Status::Failed {
                    bar.println(line);
                }
                bar.inc(1);
            }
            None => println!("{line}"),
        }
    }

    fn done(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}
