//! The scheduler of a library run: load the folder, select (filter, exact names, tags, shard),
//! find orphan snapshots, run the chosen scenarios a few at a time (each under guard) and gather
//! one [`Summary`]. It prints nothing: what a run looks like on a terminal is the caller's
//! [`Progress`] and its rendering of the summary.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;
use std::sync::Arc;

use super::verdict::{Gate, Reason, ReasonKind, Summary};
use super::{run_guarded, Level, Outcome, Problem, RunOptions, Status};
use crate::scenario::{load_all, Loaded};

/// Shard `index` of `count` (1-based): a deterministic split of the selection by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 1.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N`, with `1 ≤ I ≤ N`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or("write the shard as I/N, such as 2/3")?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| format!("`{i}` is not a number"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` is not a number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "shard {index}/{count} does not exist: I must be between 1 and N"
            ));
        }
        Ok(Shard { index, count })
    }
}

/// Which scenarios of the library a run takes; every criterion given must hold.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// A name substring, or a glob when it has `*?[`.
    pub filter: Option<String>,
    /// Exactly these names (any of them); empty takes all.
    pub exact: Vec<String>,
    /// Any of these tags; empty takes all.
    pub tags: Vec<String>,
    /// One part of the selection.
    pub shard: Option<Shard>,
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

/// The scenarios `selection` takes, in name order; `full` says whether that is all of them.
pub fn select(all: Vec<Loaded>, selection: &Selection) -> (Vec<Loaded>, bool) {
    let total = all.len();
    let mut chosen: Vec<Loaded> = all
        .into_iter()
        .filter(|l| {
            selection
                .filter
                .as_deref()
                .is_none_or(|f| matches_filter(&l.scenario.name, f))
        })
        .filter(|l| selection.exact.is_empty() || selection.exact.contains(&l.scenario.name))
        .filter(|l| {
            selection.tags.is_empty() || l.scenario.tags.iter().any(|t| selection.tags.contains(t))
        })
        .collect();
    chosen.sort_by(|a, b| a.scenario.name.cmp(&b.scenario.name));
    if let Some(Shard { index, count }) = selection.shard {
        chosen = chosen
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % count == index - 1)
            .map(|(_, l)| l)
            .collect();
    }
    let full = chosen.len() == total;
    (chosen, full)
}

/// Snapshot files in `dir` whose scenario is not among `names`, sorted. A missing folder has
/// none.
pub fn orphan_snapshots(dir: &Path, names: &[String]) -> std::io::Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut orphans = Vec::new();
    for e in entries {
        let path = e?.path();
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

/// Whether the environment says this is CI (`CI` set, and not `false` or `0`).
pub fn ci_from_env() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Told of each scenario as it finishes (on the scheduler's thread, in completion order).
pub trait Progress {
    /// The run is about to start `scenarios` scenarios.
    fn start(&self, scenarios: usize) {
        let _ = scenarios;
    }
    /// One scenario finished.
    fn finished(&self, outcome: &Outcome);
    /// Every scenario finished.
    fn done(&self) {}
}

/// A [`Progress`] that says nothing.
pub struct Silent;

impl Progress for Silent {
    fn finished(&self, _: &Outcome) {}
}

/// A whole library run, as `run` and `cargo xtask run-scenarios` ask for it.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Folder of scenario files.
    pub scenarios: PathBuf,
    /// Which of them.
    pub selection: Selection,
    /// How each runs; `options.snapshots` is where orphans are looked for.
    pub options: RunOptions,
    /// Scenarios run at once (at least one).
    pub jobs: usize,
    /// Gate on coverage when every scenario runs (`false`: `--no-coverage-gate`).
    pub coverage_gate: bool,
}

/// Runs `plan` and returns its verdict. Every way the run can stop early (the folder does not
/// load, `--exact` names nothing, nothing is selected, `--update` in CI) is a reason in the
/// summary, never a panic or a lost outcome.
pub fn run_plan(plan: &Plan, progress: Rc<dyn Progress>) -> Summary {
    let mut summary = summarise(plan, progress);
    summary.level = plan.options.level;
    summary
}

fn summarise(plan: &Plan, progress: Rc<dyn Progress>) -> Summary {
    let stopped =
        |message: String| Summary::stopped(vec![Reason::new(ReasonKind::RunError, "", message)]);
    if plan.options.update && plan.options.ci {
        return stopped(
            "--update is refused when CI=true: snapshots are never written in CI".into(),
        );
    }
    let all = match load_all(&plan.scenarios) {
        Ok(all) => all,
        Err(errors) => return Summary::stopped(errors.iter().map(Reason::library).collect()),
    };
    let unknown: Vec<&str> = plan
        .selection
        .exact
        .iter()
        .filter(|n| !all.iter().any(|l| &l.scenario.name == *n))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return stopped(format!(
            "--exact names no scenario in {}: {}",
            plan.scenarios.display(),
            unknown.join(", ")
        ));
    }
    let names: Vec<String> = all.iter().map(|l| l.scenario.name.clone()).collect();
    // Orphans matter only where snapshots are the verdict.
    let orphans = match (plan.options.level, &plan.options.snapshots) {
        (Level::Exact, Some(dir)) => match orphan_snapshots(dir, &names) {
            Ok(o) => o,
            Err(e) => return stopped(format!("reading {}: {e}", dir.display())),
        },
        _ => Vec::new(),
    };
    let (chosen, full) = select(all, &plan.selection);
    let selected = chosen.len();
    if chosen.is_empty() {
        return stopped("no scenario matches the filter, names, tags and shard given".into());
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return stopped(format!("cannot start the async runtime: {e}")),
    };
    // The guards run on this thread (a LocalSet), the scenarios on the runtime's workers: a
    // scenario that hogs the workers cannot keep its guard from failing it.
    let local = tokio::task::LocalSet::new();
    let outcomes = local.block_on(
        &runtime,
        run_many(chosen, plan.options.clone(), plan.jobs.max(1), progress),
    );
    drop(local);
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let orphans = orphans.iter().map(|p| Reason::orphan_snapshot(p)).collect();
    let gate = if !plan.coverage_gate {
        Gate::Off
    } else if full {
        Gate::Applied
    } else {
        Gate::Partial
    };
    Summary::of(selected, outcomes, gate, orphans)
}

/// Runs every chosen scenario, `jobs` at once, each under guard. Must run inside a `LocalSet`;
/// returns exactly one outcome per chosen scenario, in name order.
pub async fn run_many(
    chosen: Vec<Loaded>,
    options: RunOptions,
    jobs: usize,
    progress: Rc<dyn Progress>,
) -> Vec<Outcome> {
    progress.start(chosen.len());
    let gate = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
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
            progress.finished(&outcome);
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
                problems: vec![Problem::Lost(e.to_string())],
                diff: None,
                duration: std::time::Duration::ZERO,
                events: Vec::new(),
                snapshot_written: false,
                findings: Vec::new(),
                level: options.level,
                causes: Vec::new(),
                rerun: options.rerun.clone(),
                steps: Vec::new(),
            },
        });
    }
    progress.done();
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_one_based_parts() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("3/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    #[test]
    fn filters_take_substrings_and_globs() {
        assert!(matches_filter("pkcs-issue", "issue"));
        assert!(matches_filter("pkcs-issue", "pkcs-*"));
        assert!(!matches_filter("revoke", "pkcs-*"));
    }
}
