//! Running scenarios: build each scenario's [`world::World`], carry out its steps, then check
//! the stream against the catalog, the scenario's expectations and its snapshot.
//!
//! Data flows one way: [`crate::scenario`] (load) → [`guard`] → [`steps`] (run) → the sink's
//! stream → [`check`] and [`snapshot`] → [`coverage`], [`verdict`] and [`report`].

pub mod check;
pub mod coverage;
pub mod device;
pub mod dialect_snapshot;
pub mod guard;
pub mod observed;
pub mod problem;
pub mod report;
pub mod schedule;
pub mod snapshot;
pub mod steps;
pub mod translate;
pub mod under_test;
pub mod verdict;
pub mod world;

pub use guard::run_guarded;
pub use problem::Problem;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::check::conformance;
use crate::event::EventRecord;
use crate::scenario::Scenario;

/// How a run treats snapshots and seeds.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Folder of the snapshot files; `None` leaves snapshots to the caller (the `cargo test`
    /// target asserts them with insta).
    pub snapshots: Option<PathBuf>,
    /// Write snapshots that differ or are missing.
    pub update: bool,
    /// Running in CI: never write a snapshot, not even a pending one.
    pub ci: bool,
    /// Override every scenario's seed.
    pub seed: Option<u64>,
    /// Run each scenario twice and compare the streams byte for byte.
    pub check_determinism: bool,
    /// How a failure's rerun command starts.
    pub rerun: Rerun,
    /// The connector under test.
    pub connector: under_test::Choice,
    /// How the verdict is reached: the contract alone, or also byte for byte with a snapshot.
    pub level: Level,
    /// Folder to write each scenario's stream and world record into (`run --record`).
    pub record: Option<PathBuf>,
}

/// The two levels of verdict. Both judge the conformance contract
/// ([`crate::check::conformance`]); `exact` also requires the stream to be byte-identical to
/// its snapshot — the record of one implementation, for regressions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The written contract: events, codes, details and orders, values against the world.
    Conformance,
    /// The contract, and the stream byte-identical to its snapshot.
    #[default]
    Exact,
}

impl Level {
    /// How the command line and the reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Conformance => "conformance",
            Level::Exact => "exact",
        }
    }
}

/// How the rerun command of a failed scenario starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rerun {
    /// The program and folders.
    pub start: RerunStart,
    /// The connector under test, when it is not the reference model: the rerun drives it too.
    pub connector_cmd: Option<String>,
    /// The verdict level, when it was given rather than the default.
    pub level: Option<Level>,
}

/// The program part of a rerun command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RerunStart {
    /// `cargo xtask run-scenarios`: the library in this workspace.
    #[default]
    Xtask,
    /// This program with its folders: `<program> run --scenarios … --snapshots …`.
    Program {
        /// How the program was invoked.
        program: String,
        /// Folder of scenario files.
        scenarios: PathBuf,
        /// Folder of snapshots.
        snapshots: PathBuf,
    },
}

impl Rerun {
    /// The command up to (not including) the selection of one scenario.
    pub fn prefix(&self) -> String {
        let start = match &self.start {
            RerunStart::Xtask => "cargo xtask run-scenarios".into(),
            RerunStart::Program {
                program,
                scenarios,
                snapshots,
            } => format!(
                "{} run --scenarios {} --snapshots {}",
                shell_word(program),
                shell_word(&scenarios.display().to_string()),
                shell_word(&snapshots.display().to_string())
            ),
        };
        let start = match &self.connector_cmd {
            Some(cmd) => format!("{start} --connector-cmd {}", shell_word(cmd)),
            None => start,
        };
        match self.level {
            Some(level) => format!("{start} --verdict {}", level.name()),
            None => start,
        }
    }
}

/// `word` as one POSIX shell word: unchanged when it needs no quoting.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// How one scenario ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every check held.
    Passed,
    /// A check failed.
    Failed,
}

/// The result of one scenario.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Scenario name.
    pub name: String,
    /// Its file.
    pub file: PathBuf,
    /// Seed used.
    pub seed: u64,
    /// Passed or failed.
    pub status: Status,
    /// What failed: the findings below, then anything else (a step that could not be carried
    /// out, a harness error, a snapshot that differs).
    pub problems: Vec<Problem>,
    /// The broken rules of the contract, typed.
    pub findings: Vec<conformance::Violation>,
    /// The level the verdict was reached at.
    pub level: Level,
    /// Snapshot diff, when the stream differs from the snapshot.
    pub diff: Option<String>,
    /// Wall-clock duration of the run (reports only; never in the stream).
    pub duration: Duration,
    /// The event stream.
    pub events: Vec<EventRecord>,
    /// Whether the snapshot file was written.
    pub snapshot_written: bool,
    /// The connector causes the run reached, when the connector names them (the reference
    /// connector does); beside the stream, not in it.
    pub causes: Vec<String>,
    /// How the rerun command starts.
    pub rerun: Rerun,
    /// Each step carried out (or begun), with the events it wrote: where the HTML report
    /// draws faults and clock advances on the timeline.
    pub steps: Vec<conformance::StepMark>,
}

impl Outcome {
    /// Each problem as the sentence people read.
    pub fn problem_lines(&self) -> Vec<String> {
        self.problems.iter().map(Problem::to_string).collect()
    }

    /// The command that reruns just this scenario (by exact name) with the same seed.
    pub fn rerun_command(&self) -> String {
        format!(
            "{} --exact {} --seed {}",
            self.rerun.prefix(),
            self.name,
            self.seed
        )
    }
}

/// What the fakes recorded in a run, beyond the event stream: for checks of their own (the
/// property tests read the upload ledger and the issued certificates).
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    /// Every certificate the CA issued, with the digest of the request it was issued for.
    pub issued: Vec<crate::fakes::ca::IssuedCert>,
    /// What the conformance rules read: the steps' requests and marks, the CA's and Intune's
    /// records (Intune's queues and upload ledger at the end of the run among them), the policy
    /// seam's enrollments.
    pub world: conformance::WorldRecord,
}

/// The world's record for the conformance rules.
fn world_record(
    world: &world::World,
    ledger: steps::Ledger,
    issued: &[crate::fakes::ca::IssuedCert],
) -> conformance::WorldRecord {
    conformance::WorldRecord {
        ca_name: world.ca_name.clone(),
        steps: ledger.marks,
        pkcs: ledger.pkcs_requests,
        revocations: ledger.revocations,
        issued: issued
            .iter()
            .map(|c| conformance::IssuedCertificate {
                serial_number: c.serial.clone(),
                thumbprint: c.thumbprint.clone(),
                not_after: crate::sim::format_time(c.not_after),
                csr_sha256: c.request_digest.clone(),
                revoked: c.revoked,
            })
            .collect(),
        ca_journal: world.ca.journal(),
        intune: world.intune.state(),
        enrollments: world.policy.enrollments(),
    }
}

/// One execution of a scenario: its stream (as snapshot YAML), the problems found and what the
/// fakes recorded (`None` when the world could not be set up).
struct Execution {
    events: Vec<EventRecord>,
    yaml: String,
    problems: Vec<Problem>,
    findings: Vec<conformance::Violation>,
    /// The connector's causes, when it names them.
    causes: Vec<String>,
    recorded: Option<Recorded>,
}

async fn execute(scenario: &Scenario, seed: u64, choice: &under_test::Choice) -> Execution {
    guard::test_panic_hook(&scenario.name);
    let world = match world::World::start(scenario, seed, choice).await {
        Ok(w) => w,
        Err(e) => {
            return Execution {
                events: Vec::new(),
                yaml: String::new(),
                problems: vec![Problem::Setup(e.to_string())],
                findings: Vec::new(),
                causes: Vec::new(),
                recorded: None,
            }
        }
    };
    let mut problems = Vec::new();
    let mut ledger = steps::Ledger::default();
    if let Err(e) = steps::run_steps(&world, scenario, &mut ledger).await {
        problems.push(Problem::Step(e.to_string()));
    }
    let events = world.sink.records();
    let issued = world.ca.issued();
    let record = world_record(&world, ledger, &issued);
    let findings = check::check(&events, &world.sink.violations(), &scenario.expect, &record);
    let recorded = Recorded {
        issued,
        world: record,
    };
    problems.extend(findings.iter().cloned().map(Problem::Finding));
    for incident in world
        .ca
        .incidents()
        .into_iter()
        .chain(world.intune.incidents())
        .chain(world.ndes.incidents())
        .chain(world.identity.incidents())
    {
        problems.push(Problem::Harness(incident.to_string()));
    }
    let causes = world.sink.causes();
    if let Err(f) = world.shutdown().await {
        problems.push(Problem::Connector(f.to_string()));
    }
    let yaml = crate::event::to_yaml(&events);
    Execution {
        events,
        yaml,
        problems,
        findings,
        causes,
        recorded: Some(recorded),
    }
}

/// Runs one scenario and checks it.
pub async fn run_scenario(scenario: &Scenario, file: &Path, options: &RunOptions) -> Outcome {
    run_recorded(scenario, file, options).await.0
}

/// [`run_scenario`], also returning what the fakes recorded in the (first) run.
pub async fn run_recorded(
    scenario: &Scenario,
    file: &Path,
    options: &RunOptions,
) -> (Outcome, Option<Recorded>) {
    let started = Instant::now();
    let seed = options.seed.unwrap_or(scenario.seed);
    let first = execute(scenario, seed, &options.connector).await;
    let mut problems = first.problems;
    let findings = first.findings;
    if options.check_determinism {
        let second = execute(scenario, seed, &options.connector).await;
        if second.yaml != first.yaml {
            problems.push(Problem::NotDeterministic {
                seed,
                diff: snapshot::diff(&first.yaml, &second.yaml),
            });
        }
    }
    if let (Some(dir), Some(recorded)) = (&options.record, &first.recorded) {
        let dialect = scenario.setup.connector.dialect;
        if let Err(e) = write_record(dir, &scenario.name, &first.events, &recorded.world)
            .and_then(|()| dialect_snapshot::record(dialect, dir, &scenario.name, &first.events))
        {
            problems.push(Problem::Record {
                dir: dir.clone(),
                error: e.to_string(),
            });
        }
    }
    let (diff, snapshot_written) = match (&options.snapshots, options.level) {
        (Some(dir), Level::Exact) => {
            compare_snapshot(dir, &scenario.name, &first.yaml, options, &mut problems)
        }
        // The contract alone: a snapshot is only recorded, when asked and the contract holds.
        (Some(dir), Level::Conformance) if options.update && !options.ci && problems.is_empty() => {
            record_snapshot(dir, &scenario.name, &first.yaml, &mut problems)
        }
        _ => (None, false),
    };
    // The 2021-dialect snapshot goes with the scenario's own: compared at `exact`, and also
    // recorded where a vendor records its own at the conformance level (`--update`).
    let recording = options.update && !options.ci && problems.is_empty();
    let dialect = scenario.setup.connector.dialect;
    if let Some(dir) = options
        .snapshots
        .as_ref()
        .filter(|_| options.level == Level::Exact || recording)
    {
        dialect_snapshot::compare(
            dialect,
            dir,
            &scenario.name,
            &first.events,
            options,
            &mut problems,
        );
    }
    let outcome = Outcome {
        name: scenario.name.clone(),
        file: file.to_path_buf(),
        seed,
        status: if problems.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        },
        problems,
        findings,
        level: options.level,
        diff,
        duration: started.elapsed(),
        events: first.events,
        snapshot_written,
        causes: first.causes,
        rerun: options.rerun.clone(),
        steps: first
            .recorded
            .as_ref()
            .map(|r| r.world.steps.clone())
            .unwrap_or_default(),
    };
    (outcome, first.recorded)
}

/// Writes `<name>.events.jsonl` and `<name>.world.json` into `dir`.
fn write_record(
    dir: &Path,
    name: &str,
    events: &[EventRecord],
    world: &conformance::WorldRecord,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(format!("{name}.events.jsonl")),
        crate::event::to_jsonl(events),
    )?;
    let json = serde_json::to_string_pretty(world).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(format!("{name}.world.json")), json)
}

/// Writes the snapshot of `name` when it is missing or differs.
fn record_snapshot(
    dir: &Path,
    name: &str,
    yaml: &str,
    problems: &mut Vec<Problem>,
) -> (Option<String>, bool) {
    let path = snapshot::path(dir, name);
    let body = yaml.trim_end_matches('\n');
    match snapshot::read(&path) {
        Ok(Some(old)) if old == body => (None, false),
        _ => match snapshot::write(dir, name, body) {
            Ok(()) => (None, true),
            Err(e) => {
                problems.push(Problem::SnapshotWrite {
                    path: path.clone(),
                    error: e.to_string(),
                });
                (None, false)
            }
        },
    }
}

fn compare_snapshot(
    dir: &Path,
    name: &str,
    yaml: &str,
    options: &RunOptions,
    problems: &mut Vec<Problem>,
) -> (Option<String>, bool) {
    let path = snapshot::path(dir, name);
    let body = yaml.trim_end_matches('\n');
    let old = match snapshot::read(&path) {
        Ok(old) => old,
        Err(e) => {
            problems.push(Problem::SnapshotRead {
                path,
                error: e.to_string(),
            });
            return (None, false);
        }
    };
    if old.as_deref() == Some(body) {
        return (None, false);
    }
    let can_write = options.update && !options.ci;
    if can_write && problems.is_empty() {
        return match snapshot::write(dir, name, body) {
            Ok(()) => (None, true),
            Err(e) => {
                problems.push(Problem::SnapshotWrite {
                    path: path.clone(),
                    error: e.to_string(),
                });
                (None, false)
            }
        };
    }
    if !options.ci {
        // Leave a pending snapshot for `cargo insta review`, as insta does.
        let pending = path.with_extension("snap.new");
        let _ = std::fs::write(&pending, snapshot::render(name, body));
    }
    match old {
        None => {
            problems.push(Problem::NoSnapshot {
                path,
                ci: options.ci,
            });
            (None, false)
        }
        Some(old) => {
            let d = snapshot::diff(&format!("{old}\n"), &format!("{body}\n"));
            problems.push(Problem::SnapshotDiffers { path });
            (Some(d), false)
        }
    }
}
