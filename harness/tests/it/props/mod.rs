//! Property tests over random worlds: proptest draws a [`world::World`] (a setup, PKCS and
//! revocation requests, enrollments with random challenges, clock moves, syncs, start and
//! stop, interleaved with faults on all three fakes), [`lower`] turns it into a scenario file
//! with a liveness phase, the harness runs that file twice through its public API, and
//! [`invariants`] judges the runs. A failing world is shrunk by proptest and written as a
//! scenario file (with the stream it wrote as its snapshot) that the harness's CLI reruns.

pub mod cost;
mod failure;
pub mod invariants;
pub mod lower;
mod stats;
pub mod world;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness_runner::run::{run_recorded, Outcome, Recorded, RunOptions};
use harness_runner::scenario;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

pub use failure::{default_out_dir, Failure};
use invariants::{Invariant, Runs, Violation};
use lower::Plan;
pub use stats::{summary, Stats};
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
        let yaml = harness_runner::event::to_yaml(&outcome.events);
        let second_yaml = match &second {
            Ok((o, _)) => harness_runner::event::to_yaml(&o.events),
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

/// Generators run at once: `PROPS_LANES`, else 4. A world spends most of its time waiting on
/// real time (a hung call until its timeout, a slow world's budget), not on the CPU: a 100-world
/// run took 20 s of wall time for 6 s of CPU in one lane, 7 s in four.
pub fn lanes() -> u32 {
    std::env::var("PROPS_LANES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(4)
}

/// Explores `search.cases` worlds in `lanes` generators at once, each a proptest runner with its
/// share of the cases and its own seed (lane 0 keeps `search.seed`, so one lane is the plain
/// search, and a seed with a lane count repeats a run). The first lane's failure, in lane
/// order, is the result; every lane runs to its end.
pub fn explore_lanes(lab: &Lab, search: &Search, lanes: u32, out: &Path) -> Result<(), Failure> {
    let lanes = lanes.clamp(1, search.cases.max(1));
    let results: Vec<Result<(), Failure>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..lanes)
            .map(|k| {
                let lane = Search {
                    cases: search.cases / lanes + u32::from(k < search.cases % lanes),
                    seed: search
                        .seed
                        .wrapping_add(u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                    shrink_iters: search.shrink_iters,
                };
                scope.spawn(move || explore(lab, &lane, out))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Failure {
                        file: PathBuf::new(),
                        name: String::new(),
                        command: String::new(),
                        message: "a property lane panicked".into(),
                    })
                })
            })
            .collect()
    });
    results.into_iter().find(Result::is_err).unwrap_or(Ok(()))
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
            Err(failure::write(&judged, !again.violations.is_empty(), out))
        }
    }
}

/// The scenario name of a world.
pub fn name_of(world: &World) -> String {
    format!("props-{:x}", world.seed)
}
