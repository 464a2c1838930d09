//! Every scenario in `scenarios/` as its own test (libtest-mimic, so `cargo test`, nextest's
//! listing, filtering and partitioning all see them). Each test runs the scenario against its
//! own fakes, checks the catalog contract and the scenario's expectations, asserts the stream
//! with insta against `snapshots/<name>.snap`, and checks that every connector cause naming this
//! scenario as its reproduction really appears in the stream.

use std::path::{Path, PathBuf};

use harness_runner::catalog::Pair;
use harness_runner::connector::Cause;
use harness_runner::run::{run_guarded, RunOptions, Status};
use harness_runner::scenario;
use libtest_mimic::{Arguments, Failed, Trial};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run_one(file: &Path) -> Result<(), Failed> {
    let scenario = scenario::load_file(file).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let options = RunOptions {
        ci: true,
        ..RunOptions::default()
    };
    // Guarded: a panic or a run over the scenario's budget is this test's failure, not a hang.
    let scenario = std::sync::Arc::new(scenario);
    let outcome = runtime.block_on(run_guarded(
        scenario.clone(),
        file.to_path_buf(),
        std::sync::Arc::new(options),
    ));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    if outcome.status == Status::Failed {
        return Err(format!(
            "{}\nseed {}; rerun: {}",
            outcome.problem_lines().join("\n"),
            outcome.seed,
            outcome.rerun_command()
        )
        .into());
    }
    for cause in Cause::ALL.iter().filter(|c| c.scenario() == scenario.name) {
        let pair = cause.pair();
        if !outcome.events.iter().any(|r| {
            Pair {
                event: r.event,
                code: r.code,
            } == pair
        }) {
            return Err(format!(
                "cause {cause:?} names this scenario, but its pair {pair} is not in the stream"
            )
            .into());
        }
    }
    let yaml = harness_runner::event::to_yaml(&outcome.events);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_input_file(file);
    settings.bind(|| {
        insta::assert_snapshot!(
            scenario.name.as_str(),
            yaml.trim_end_matches('\n'),
            "event stream"
        )
    });
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let dir = root().join("scenarios");
    let files = scenario::scenario_files(&dir).unwrap_or_default();
    let mut trials: Vec<Trial> = files
        .iter()
        .map(|f| {
            let name = f
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("?")
                .to_string();
            let file = f.clone();
            Trial::test(format!("scenario::{name}"), move || run_one(&file))
        })
        .collect();
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect();
    trials.push(Trial::test(
        "library::every_cause_has_its_scenario",
        move || {
            let missing: Vec<String> = Cause::ALL
                .iter()
                .filter(|c| !names.iter().any(|n| n == c.scenario()))
                .map(|c| format!("{c:?} → scenarios/{}.yaml", c.scenario()))
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!("causes whose scenario file is missing: {missing:?}").into())
            }
        },
    ));
    libtest_mimic::run(&args, trials).exit();
}
