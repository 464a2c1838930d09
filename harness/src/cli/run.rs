//! `connector-harness run`: load the scenarios, select them, run them in parallel (each under
//! guard: a panic or an overrun budget is a failure), check, and report (terminal summary,
//! JUnit, JSON) with the coverage gate over the 48 catalog pairs. Every exit — a load error
//! included — goes through one [`Summary`], so the reports always agree with the exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::run::verdict::{Gate, Reason, ReasonKind, Summary};
use crate::run::{report, run_guarded, Level, Outcome, Rerun, RerunStart, RunOptions, Status};

pub use crate::scenario::{load_all, Loaded};

use super::style::{bold, green, red};

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
    /// Run shard I of N (1-based), a deterministic split by name.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
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

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or("write the shard as I/N, such as 2/3")?;
    let i: usize = i
        .trim()
        .parse()
        .map_err(|_| format!("`{i}` is not a number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a number"))?;
    if n == 0 || i == 0 || i > n {
        return Err(format!(
            "shard {i}/{n} does not exist: I must be between 1 and N"
        ));
    }
    Ok((i, n))
}

/// Whether `name` is selected by `filter` (substring, or glob when it has `*?[`).
pub fn matches_filter(name: &str, filter: &str) -> bool {
    if filter.contains(['*', '?', '[']) {
        globset::Glob::new(filter)
            .map(|g| g.compile_matcher().is_match(name))
            .unwrap_or(false)
    } else {
        name.contains(filter)
    }
}

/// The scenarios a run selects, in name order; `full` says whether that is all of them.
pub fn select(all: Vec<Loaded>, args: &RunArgs) -> (Vec<Loaded>, bool) {
    let total = all.len();
    let mut chosen: Vec<Loaded> = all
        .into_iter()
        .filter(|l| {
            args.filter
                .as_deref()
                .is_none_or(|f| matches_filter(&l.scenario.name, f))
        })
        .filter(|l| args.exact.is_empty() || args.exact.contains(&l.scenario.name))
        .filter(|l| args.tag.is_empty() || l.scenario.tags.iter().any(|t| args.tag.contains(t)))
        .collect();
    chosen.sort_by(|a, b| a.scenario.name.cmp(&b.scenario.name));
    if let Some((i, n)) = args.shard {
        chosen = chosen
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i - 1)
            .map(|(_, l)| l)
            .collect();
    }
    let full = chosen.len() == total;
    (chosen, full)
}

/// Runs `run`; returns the exit code. Both reports are written whatever happens after the
/// arguments parse.
pub fn run(args: RunArgs) -> anyhow::Result<u8> {
    let mut summary = summarise(&args);
    summary.level = args.level();
    if let Some(path) = &args.junit {
        write_file(path, &report::junit(&summary).context("rendering JUnit")?)?;
    }
    if let Some(path) = &args.json {
        write_file(
            path,
            &(serde_json::to_string_pretty(&report::json(&summary))? + "\n"),
        )?;
    }
    print_summary(&summary);
    Ok(summary.exit_code())
}

fn summarise(args: &RunArgs) -> Summary {
    let run_error = |message: String| {
        eprintln!("{}", red(&format!("error: {message}")));
        Summary::stopped(vec![Reason::new(ReasonKind::RunError, "", message)])
    };
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if args.update && ci {
        return run_error(
            "--update is refused when CI=true: snapshots are never written in CI".into(),
        );
    }
    let all = match load_all(&args.scenarios) {
        Ok(all) => all,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}\n");
            }
            eprintln!(
                "{} problem(s) with the scenario files; nothing ran",
                errors.len()
            );
            return Summary::stopped(errors.iter().map(Reason::library).collect());
        }
    };
    let unknown: Vec<&String> = args
        .exact
        .iter()
        .filter(|n| !all.iter().any(|l| &l.scenario.name == *n))
        .collect();
    if !unknown.is_empty() {
        return run_error(format!(
            "--exact names no scenario in {}: {}",
            args.scenarios.display(),
            unknown
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let names: Vec<String> = all.iter().map(|l| l.scenario.name.clone()).collect();
    // Orphans matter only where snapshots are the verdict.
    let orphans = match args.level() {
        Level::Exact => match orphan_snapshots(&args.snapshots, &names) {
            Ok(o) => o,
            Err(e) => return run_error(format!("{e:#}")),
        },
        Level::Conformance => Vec::new(),
    };
    let (chosen, full) = select(all, args);
    let selected = chosen.len();
    if chosen.is_empty() {
        return run_error("no scenario matches the filter, names, tags and shard given".into());
    }
    let options = RunOptions {
        snapshots: Some(args.snapshots.clone()),
        update: args.update,
        ci,
        seed: args.seed,
        check_determinism: args.check_determinism,
        rerun: Rerun {
            start: rerun_of(&args.scenarios, &args.snapshots),
            connector_cmd: args.connector_cmd.clone(),
            level: args.verdict.map(|_| args.level()),
        },
        level: args.level(),
        record: args.record.clone(),
        connector: match &args.connector_cmd {
            Some(cmd) => crate::run::under_test::Choice::Command(cmd.clone()),
            None => crate::run::under_test::Choice::Reference,
        },
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
        .max(1);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return run_error(format!("cannot start the async runtime: {e}")),
    };
    // The guards run on this thread (a LocalSet), the scenarios on the runtime's workers: a
    // scenario that hogs the workers cannot keep its guard from failing it.
    let local = tokio::task::LocalSet::new();
    let outcomes = local.block_on(&runtime, run_many(chosen, options, jobs));
    drop(local);
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let orphans = orphans.iter().map(|p| Reason::orphan_snapshot(p)).collect();
    let gate = if args.no_coverage_gate {
        Gate::Off
    } else if full {
        Gate::Applied
    } else {
        Gate::Partial
    };
    Summary::of(selected, outcomes, gate, orphans)
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

fn orphan_snapshots(dir: &Path, names: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut orphans = Vec::new();
    for e in entries {
        let path = e
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|x| x == "snap") {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if !names.iter().any(|n| n == stem) {
                orphans.push(path);
            }
        }
    }
    orphans.sort();
    Ok(orphans)
}

/// Runs every chosen scenario, `jobs` at once, each under guard. Must run inside a `LocalSet`;
/// returns exactly one outcome per chosen scenario, in name order.
async fn run_many(chosen: Vec<Loaded>, options: RunOptions, jobs: usize) -> Vec<Outcome> {
    let progress = progress_bar(chosen.len());
    let gate = Arc::new(tokio::sync::Semaphore::new(jobs));
    let options = Arc::new(options);
    let mut tasks = Vec::new();
    for loaded in chosen {
        let gate = gate.clone();
        let options = options.clone();
        let progress = progress.clone();
        let name = loaded.scenario.name.clone();
        let file = loaded.file.clone();
        let seed = options.seed.unwrap_or(loaded.scenario.seed);
        let task = tokio::task::spawn_local(async move {
            let _permit = gate.acquire_owned().await;
            let outcome = run_guarded(Arc::new(loaded.scenario), loaded.file, options).await;
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
            match &progress {
                Some(bar) => {
                    if outcome.status == Status::Failed {
                        bar.println(line);
                    }
                    bar.inc(1);
                }
                None => println!("{line}"),
            }
            outcome
        });
        tasks.push((name, file, seed, task));
    }
    let mut outcomes = Vec::new();
    for (name, file, seed, task) in tasks {
        outcomes.push(match task.await {
            Ok(o) => o,
            // The guard itself failed: still one failed outcome for the scenario.
            Err(e) => Outcome {
                name,
                file,
                seed,
                status: Status::Failed,
                problems: vec![format!("the harness lost this scenario's run: {e}")],
                diff: None,
                duration: std::time::Duration::ZERO,
                events: Vec::new(),
                snapshot_written: false,
                findings: Vec::new(),
                level: options.level,
                causes: Vec::new(),
                rerun: options.rerun.clone(),
            },
        });
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    outcomes
}

fn progress_bar(len: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} scenarios {elapsed}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_set() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn filters_take_substrings_and_globs() {
        assert!(matches_filter("pkcs-issue", "issue"));
        assert!(matches_filter("pkcs-issue", "pkcs-*"));
        assert!(!matches_filter("revoke", "pkcs-*"));
    }
}
