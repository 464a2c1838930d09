//! Property tests over random worlds: proptest draws a [`world::World`] (a setup, PKCS and
//! revocation requests, enrollments with random challenges, clock moves, syncs, start and
//! stop, interleaved with faults on all three fakes), [`lower`] turns it into a scenario file
//! with a liveness phase, the harness runs that file twice through its public API, and
//! [`invariants`] judges the runs. A failing world is shrunk by proptest and written as a
//! scenario file (with the stream it wrote as its snapshot) that the harness's CLI reruns.

pub mod invariants;
pub mod lower;
pub mod world;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connector_harness::catalog::Pair;
use connector_harness::run::{run_recorded, snapshot, Outcome, Recorded, RunOptions};
use connector_harness::scenario;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

use invariants::{Invariant, Runs, Violation};
use lower::Plan;
use world::World;

/// Set (to anything) to add an invariant no stream keeps: every world fails, and the failure
/// path (shrink, write the file, print the rerun command) runs for real.
pub const FORCE_ENV: &str = "PROPS_FORCE_FAILURE";

/// A world slower than this is printed in full under [`TRACE_ENV`].
const SLOW_WORLD: Duration = Duration::from_secs(5);

/// Set (to anything) to print each world's name, size and time (and the slow ones' text).
pub const TRACE_ENV: &str = "PROPS_TRACE";

/// Cases under a plain `cargo test` (`PROPTEST_CASES` overrides; CI asks for 1,000).
pub const DEFAULT_CASES: u32 = 12;

/// Most shrink steps after a failure (each runs the world twice).
const MAX_SHRINK_ITERS: u32 = 300;

/// Real time one run of a world may take before it counts as hung.
const RUN_BUDGET: Duration = Duration::from_secs(60);

/// The case count: `PROPTEST_CASES`, else [`DEFAULT_CASES`].
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// The generator's seed: `PROPTEST_RNG_SEED`, else a fresh one (printed, so a run repeats).
pub fn rng_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x5eed);
            h.finish()
        })
}

/// One world run twice and judged.
pub struct Judged {
    /// The world as a scenario.
    pub plan: Plan,
    /// What it broke.
    pub violations: Vec<Violation>,
    /// The first run's stream as snapshot YAML.
    pub yaml: String,
    /// The first run.
    pub outcome: Option<Outcome>,
    /// What the fakes recorded in it.
    pub recorded: Option<Recorded>,
}

/// What the worlds of the search reached (shrink steps are not counted).
#[derive(Default)]
pub struct Stats {
    /// Worlds run, each twice.
    pub worlds: u64,
    /// A world failed: what follows is shrinking.
    pub shrinking: bool,
    /// Faults injected, by target, kind and whether `times` was given.
    pub faults: BTreeMap<(String, String, bool), u64>,
    /// Catalog pairs the streams reached.
    pub pairs: BTreeSet<Pair>,
    /// Enrollments, and those that reached the policy module.
    pub enrollments: (u64, u64),
}

/// The lab: one runtime for every world of a test.
pub struct Lab {
    runtime: tokio::runtime::Runtime,
    /// Add the impossible invariant.
    pub force: bool,
    /// What the runs reached.
    pub stats: Mutex<Stats>,
}

impl Lab {
    /// A lab with a two-worker runtime (the CI machine has two cores).
    pub fn new(force: bool) -> Lab {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Lab {
            runtime,
            force,
            stats: Mutex::new(Stats::default()),
        }
    }

    /// Runs `world` twice and judges it.
    pub fn judge(&self, world: &World) -> Judged {
        let name = name_of(world);
        let plan = lower::lower(world, &name);
        let file = PathBuf::from(format!("{name}.yaml"));
        let started = Instant::now();
        let loaded = match scenario::load_str(&file, &plan.yaml) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                let violations = vec![Violation {
                    invariant: Invariant::HarnessChecks,
                    detail: format!("the loader refused the generated scenario: {e}"),
                }];
                return Judged {
                    plan,
                    violations,
                    yaml: String::new(),
                    outcome: None,
                    recorded: None,
                };
            }
        };
        let first = self.run(&loaded, &file);
        let second = self.run(&loaded, &file);
        let (outcome, recorded) = match first {
            Ok(r) => r,
            Err(why) => {
                let violations = vec![Violation {
                    invariant: Invariant::HarnessChecks,
                    detail: why,
                }];
                return Judged {
                    plan,
                    violations,
                    yaml: String::new(),
                    outcome: None,
                    recorded: None,
                };
            }
        };
        let yaml = connector_harness::event::to_yaml(&outcome.events);
        let second_yaml = match &second {
            Ok((o, _)) => connector_harness::event::to_yaml(&o.events),
            Err(why) => format!("the second run did not end: {why}"),
        };
        let runs = Runs {
            outcome: &outcome,
            recorded: recorded.as_ref(),
            yaml: &yaml,
            second_yaml: &second_yaml,
        };
        let violations = invariants::check(&plan, &runs, self.force);
        self.count(&plan, &outcome);
        if std::env::var_os(TRACE_ENV).is_some() {
            eprintln!(
                "{}: {} steps, {} faults, both runs in {:?}",
                plan.name,
                plan.yaml.lines().filter(|l| l.starts_with("  - ")).count(),
                plan.faults.len(),
                started.elapsed()
            );
            if started.elapsed() > SLOW_WORLD {
                eprintln!("{}", plan.yaml);
            }
        }
        Judged {
            plan,
            violations,
            yaml,
            outcome: Some(outcome),
            recorded,
        }
    }

    /// One guarded run: a panic or a run over [`RUN_BUDGET`] is an `Err` with its reason.
    fn run(
        &self,
        scenario: &Arc<scenario::Scenario>,
        file: &Path,
    ) -> Result<(Outcome, Option<Recorded>), String> {
        let (s, f) = (scenario.clone(), file.to_path_buf());
        self.runtime.block_on(async move {
            let task =
                tokio::spawn(async move { run_recorded(&s, &f, &RunOptions::default()).await });
            match tokio::time::timeout(RUN_BUDGET, task).await {
                Ok(Ok(done)) => Ok(done),
                Ok(Err(e)) if e.is_panic() => Err(format!("the run panicked: {e}")),
                Ok(Err(e)) => Err(format!("the run was cancelled: {e}")),
                Err(_) => Err(format!("the run took longer than {RUN_BUDGET:?}")),
            }
        })
    }

    fn count(&self, plan: &Plan, outcome: &Outcome) {
        let Ok(mut s) = self.stats.lock() else { return };
        if s.shrinking {
            return;
        }
        s.worlds += 1;
        for (t, k, times) in &plan.faults {
            *s.faults
                .entry((t.name().to_string(), k.name().to_string(), *times))
                .or_default() += 1;
        }
        s.pairs.extend(outcome.events.iter().map(|r| r.pair()));
        s.enrollments.0 += plan.enrollments.len() as u64;
        s.enrollments.1 += plan.enrollments.iter().filter(|e| e.reaches_policy).count() as u64;
    }
}

/// A failing world, shrunk and written down.
pub struct Failure {
    /// The scenario file written.
    pub file: PathBuf,
    /// The scenario's name.
    pub name: String,
    /// The command that reruns it with the harness's CLI.
    pub command: String,
    /// Everything to print: violations, file, command.
    pub message: String,
}

/// How to explore.
pub struct Search {
    /// Worlds to draw.
    pub cases: u32,
    /// The generator's seed.
    pub seed: u64,
    /// Most shrink steps after a failure.
    pub shrink_iters: u32,
}

impl Search {
    /// `cases` worlds from `seed`, shrinking as far as [`MAX_SHRINK_ITERS`].
    pub fn new(cases: u32, seed: u64) -> Search {
        Search {
            cases,
            seed,
            shrink_iters: MAX_SHRINK_ITERS,
        }
    }
}

/// Explores random worlds; a failure is shrunk and written into `out`.
pub fn explore(lab: &Lab, search: &Search, out: &Path) -> Result<(), Failure> {
    let config = Config {
        cases: search.cases,
        failure_persistence: None,
        max_shrink_iters: search.shrink_iters,
        rng_seed: RngSeed::Fixed(search.seed),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    // The failing runs, by scenario text: the shrunk world's own failing run is written, not
    // a rerun of it (a failure that depends on timing may not come back).
    let failing: Mutex<HashMap<String, Judged>> = Mutex::new(HashMap::new());
    let result = runner.run(&world::world(), |w| {
        let judged = lab.judge(&w);
        match judged.violations.first().map(|v| v.to_string()) {
            None => Ok(()),
            Some(first) => {
                if let Ok(mut s) = lab.stats.lock() {
                    s.shrinking = true;
                }
                if let Ok(mut f) = failing.lock() {
                    f.insert(judged.plan.yaml.clone(), judged);
                }
                Err(TestCaseError::fail(first))
            }
        }
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Abort(why)) => Err(Failure {
            file: PathBuf::new(),
            name: String::new(),
            command: String::new(),
            message: format!("proptest gave up: {why}"),
        }),
        Err(TestError::Fail(_, minimal)) => {
            let key = lower::lower(&minimal, &name_of(&minimal)).yaml;
            let found = failing.lock().ok().and_then(|mut f| f.remove(&key));
            let judged = found.unwrap_or_else(|| lab.judge(&minimal));
            let again = lab.judge(&minimal);
            Err(write_failure(&judged, !again.violations.is_empty(), out))
        }
    }
}

/// The scenario name of a world.
pub fn name_of(world: &World) -> String {
    format!("props-{:x}", world.seed)
}

/// Writes a failing world, with the stream it wrote, into `out`.
fn write_failure(judged: &Judged, again: bool, out: &Path) -> Failure {
    let plan = &judged.plan;
    let invariants: BTreeSet<Invariant> = judged.violations.iter().map(|v| v.invariant).collect();
    let mut text = String::new();
    text.push_str(
        "# A random world the property tests (harness/tests/properties.rs) found failing,\n",
    );
    text.push_str("# shrunk by proptest. What it broke:\n");
    for v in &judged.violations {
        for (i, line) in v.to_string().lines().enumerate() {
            text.push_str(if i == 0 { "#   - " } else { "#     " });
            text.push_str(line);
            text.push('\n');
        }
    }
    let again = if again {
        "It failed again when run once more."
    } else {
        "It passed when run once more: the failure depends on timing."
    };
    text.push_str(&format!("# {again}\n"));
    text.push_str(
        "# The snapshot beside this file is the stream this world wrote; the expectations\n",
    );
    text.push_str("# below carry what the CLI can check of the broken invariants.\n");
    text.push_str(&plan.yaml);
    if invariants.contains(&Invariant::Forced) {
        if !plan.yaml.contains("\nexpect:\n") {
            text.push_str("expect:\n");
        }
        text.push_str("  absent:\n    - {event: StartedConnectorService}\n");
    }
    let file = out.join(format!("{}.yaml", plan.name));
    let written = std::fs::create_dir_all(out)
        .and_then(|()| std::fs::write(&file, &text))
        .and_then(|()| snapshot::write(out, &plan.name, judged.yaml.trim_end_matches('\n')));
    let shown_dir = shown_path(out);
    let mut command = format!(
        "cargo run -p connector-harness -- run --scenarios {shown_dir} --snapshots {shown_dir} --exact {} --no-coverage-gate",
        plan.name
    );
    if invariants.contains(&Invariant::Determinism) {
        command.push_str(" --check-determinism");
    }
    let mut message = String::new();
    message.push_str("a random world breaks the invariants:\n");
    for v in &judged.violations {
        message.push_str(&format!("  {v}\n"));
    }
    message.push_str(&format!("{again}\n"));
    match written {
        Ok(()) => message.push_str(&format!(
            "shrunk world written to {}\nrerun it: {command}\n",
            file.display()
        )),
        Err(e) => message.push_str(&format!(
            "could not write {}: {e}\n{text}\n",
            file.display()
        )),
    }
    Failure {
        file,
        name: plan.name.clone(),
        command,
        message,
    }
}

/// `dir` relative to the workspace root when it lies inside it (commands run from there).
fn shown_path(dir: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap_or(root);
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.strip_prefix(&root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| dir.display().to_string())
}

/// `target/proptest-scenarios`, beside the build's own files.
pub fn default_out_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|t| t.join("proptest-scenarios"))
        .unwrap_or_else(|| PathBuf::from("target/proptest-scenarios"))
}

/// The statistics as lines for the log.
pub fn summary(stats: &Stats, elapsed: Duration) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "property tests: {} worlds judged (each run twice{}) in {:.1}s; {} of 48 catalog pairs reached; {} enrollments, {} reached the policy module\n",
        stats.worlds,
        if stats.shrinking { ", up to the first failure; shrinking not counted" } else { "" },
        elapsed.as_secs_f64(),
        stats.pairs.len(),
        stats.enrollments.0,
        stats.enrollments.1
    ));
    let mut by_target: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for ((t, k, times), n) in &stats.faults {
        by_target
            .entry(t)
            .or_default()
            .push(format!("{k}{} ×{n}", if *times { "+times" } else { "" }));
    }
    for (t, kinds) in &by_target {
        s.push_str(&format!("  {t}: {}\n", kinds.join(", ")));
    }
    let unreached: Vec<String> = connector_harness::catalog::pairs()
        .into_iter()
        .filter(|p| !stats.pairs.contains(p))
        .map(|p| p.to_string())
        .collect();
    if !unreached.is_empty() {
        s.push_str(&format!(
            "  catalog pairs no world reached: {}\n",
            unreached.join("; ")
        ));
    }
    // Every (target, kind) the loader accepts, with and without `times` (a closed port is
    // only ever until healed).
    let missing: Vec<String> = connector_harness::contract::fault::FaultTarget::all()
        .flat_map(|(t, target)| target.kinds().iter().map(move |k| (t, *k)))
        .flat_map(|(t, k)| {
            let timed = k != connector_harness::contract::fault::KindName::Unavailable;
            [(t, k.name(), false), (t, k.name(), true)]
                .into_iter()
                .filter(move |(_, _, times)| timed || !times)
        })
        .filter(|(t, k, times)| {
            !stats
                .faults
                .contains_key(&(t.to_string(), k.to_string(), *times))
        })
        .map(|(t, k, times)| format!("{t} {k}{}", if times { "+times" } else { "" }))
        .collect();
    if !missing.is_empty() {
        s.push_str(&format!(
            "  faults never injected: {}\n",
            missing.join(", ")
        ));
    }
    s
}
