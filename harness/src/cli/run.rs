//! `connector-harness run`: load the scenarios, select them, run them in parallel, check, and
//! report (terminal summary, JUnit, JSON), with the coverage gate over the 48 catalog pairs.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::run::coverage::Coverage;
use crate::run::{report, run_scenario, Outcome, RunOptions, Status};
use crate::scenario::{self, Scenario};

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

/// A loaded scenario and its file.
pub struct Loaded {
    /// The file.
    pub file: PathBuf,
    /// The scenario.
    pub scenario: Scenario,
}

/// Loads every scenario in `dir`; all errors, not just the first.
pub fn load_all(dir: &Path) -> Result<Vec<Loaded>, Vec<String>> {
    let files = scenario::scenario_files(dir).map_err(|e| {
        vec![format!(
            "cannot read the scenario folder {}: {e}",
            dir.display()
        )]
    })?;
    if files.is_empty() {
        return Err(vec![format!(
            "no scenario files (*.yaml) in {}",
            dir.display()
        )]);
    }
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match scenario::load_file(&file) {
            Ok(scenario) => loaded.push(Loaded { file, scenario }),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
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

/// Runs `run`; returns the exit code.
pub fn run(args: RunArgs) -> anyhow::Result<u8> {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if args.update && ci {
        eprintln!(
            "{}",
            red("error: --update is refused when CI=true: snapshots are never written in CI")
        );
        return Ok(super::EXIT_USAGE);
    }
    let all = match load_all(&args.scenarios) {
        Ok(all) => all,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}\n");
            }
            eprintln!("{} scenario file(s) cannot be used", errors.len());
            return Ok(super::EXIT_USAGE);
        }
    };
    let names: Vec<String> = all.iter().map(|l| l.scenario.name.clone()).collect();
    let orphans = orphan_snapshots(&args.snapshots, &names)?;
    let (chosen, full) = select(all, &args);
    if chosen.is_empty() {
        eprintln!("error: no scenario matches the filter, tags and shard given");
        return Ok(super::EXIT_USAGE);
    }
    let options = RunOptions {
        snapshots: Some(args.snapshots.clone()),
        update: args.update,
        ci,
        seed: args.seed,
        check_determinism: args.check_determinism,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcomes = runtime.block_on(run_many(chosen, options, jobs));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));

    let coverage = Coverage::of(&outcomes);
    let mut failed_gate = Vec::new();
    if full {
        for p in coverage.unreached() {
            failed_gate.push(format!(
                "pair not reached by any scenario: {} {} with {} {}",
                p.event.id(),
                p.event.name(),
                p.code,
                p.code.name()
            ));
        }
    }
    for (s, p) in &coverage.invalid {
        failed_gate.push(format!("pair outside the catalog in {s}: {p}"));
    }
    for o in &orphans {
        failed_gate.push(format!(
            "snapshot with no scenario: {} (delete it, or restore its scenario)",
            o.display()
        ));
    }

    for o in outcomes.iter().filter(|o| o.status == Status::Failed) {
        eprintln!("\n{} {}", red("FAILED"), bold(&o.name));
        for p in &o.problems {
            eprintln!("  {p}");
        }
        if let Some(d) = &o.diff {
            eprintln!("{d}");
        }
        eprintln!("  seed: {}\n  rerun: {}", o.seed, o.rerun_command());
    }
    if let Some(path) = &args.junit {
        write_file(path, &report::junit(&outcomes).context("rendering JUnit")?)?;
    }
    if let Some(path) = &args.json {
        write_file(
            path,
            &(serde_json::to_string_pretty(&report::json(&outcomes, &coverage, full))? + "\n"),
        )?;
    }

    let passed = outcomes
        .iter()
        .filter(|o| o.status == Status::Passed)
        .count();
    let failed = outcomes.len() - passed;
    let written = outcomes.iter().filter(|o| o.snapshot_written).count();
    println!(
        "\n{}",
        bold("Coverage of the catalog's (event, code) pairs")
    );
    print!("{}", coverage.render());
    for g in &failed_gate {
        eprintln!("{} {g}", red("error:"));
    }
    let summary = format!(
        "{passed} passed, {failed} failed; coverage {}/{} pairs{}; {} invalid pairs{}",
        coverage.reached(),
        coverage.matrix.len(),
        if full {
            ""
        } else {
            " (partial run: not gated)"
        },
        coverage.invalid.len(),
        if written > 0 {
            format!("; {written} snapshot(s) written")
        } else {
            String::new()
        }
    );
    if failed == 0 && failed_gate.is_empty() {
        println!("{}", green(&summary));
        Ok(super::EXIT_OK)
    } else {
        println!("{}", red(&summary));
        Ok(super::EXIT_FAILED)
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

async fn run_many(chosen: Vec<Loaded>, options: RunOptions, jobs: usize) -> Vec<Outcome> {
    let progress = progress_bar(chosen.len());
    let gate = Arc::new(tokio::sync::Semaphore::new(jobs));
    let options = Arc::new(options);
    let mut tasks = Vec::new();
    for loaded in chosen {
        let gate = gate.clone();
        let options = options.clone();
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            let outcome = run_scenario(&loaded.scenario, &loaded.file, &options).await;
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
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        match t.await {
            Ok(o) => outcomes.push(o),
            Err(e) => eprintln!("{} a scenario task crashed: {e}", red("error:")),
        }
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
