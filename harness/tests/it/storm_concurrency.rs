//! An `enroll` step with `concurrency` above 1 writes the same event stream, byte for byte, as
//! the same step one device at a time: the enrollment storm runs with its own concurrency and
//! with every `concurrency` set to 1, and the two streams are compared. Thread timing decides
//! the order in which the connector handles concurrent requests and the order they reach the
//! CA; neither may reach the stream.

use std::path::{Path, PathBuf};

use harness_runner::catalog::Detail;
use harness_runner::run::{run_scenario, RunOptions, Status};
use harness_runner::scenario;

fn storm_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/story-enrollment-storm.yaml")
}

/// The storm's stream (snapshot YAML) with every `concurrency: 8` replaced by `concurrency`,
/// with `seed` (`None`: the scenario's own).
fn stream(concurrency: u32, seed: Option<u64>) -> String {
    let text = std::fs::read_to_string(storm_file()).expect("the storm scenario");
    assert!(
        text.contains("concurrency: 8"),
        "the storm runs concurrently"
    );
    let text = text.replace("concurrency: 8", &format!("concurrency: {concurrency}"));
    let loaded = scenario::load_str(&storm_file(), &text).unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(run_scenario(
        &loaded,
        &storm_file(),
        &RunOptions {
            ci: true,
            seed,
            ..RunOptions::default()
        },
    ));
    assert_eq!(
        outcome.status,
        Status::Passed,
        "concurrency {concurrency}: {:?}",
        outcome.problems
    );
    harness_runner::event::to_yaml(&outcome.events)
}

#[test]
fn the_storm_writes_the_same_stream_with_concurrency_8_as_with_1() {
    for seed in [None, Some(1), Some(2)] {
        let one = stream(1, seed);
        let eight = stream(8, seed);
        if one != eight {
            let at = one
                .lines()
                .zip(eight.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let show = |s: &str| {
                s.lines()
                    .skip(at.saturating_sub(8))
                    .take(16)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            panic!(
                "seed {seed:?}: the streams differ from line {}:\n--- concurrency 1\n{}\n--- concurrency 8\n{}",
                at + 1,
                show(&one),
                show(&eight)
            );
        }
    }
}

#[test]
fn concurrency_is_refused_out_of_range_and_with_expired_challenges() {
    let scenario = |step: &str| {
        format!("name: c\nsummary: s\nsteps:\n  - start\n  - enroll: {{device: d, user: u, count: 4, {step}}}\n  - stop\n")
    };
    for (step, want) in [
        (
            "concurrency: 0",
            "`concurrency: 0` is out of range: concurrency is between 1 and 32",
        ),
        (
            "concurrency: 33",
            "`concurrency: 33` is out of range: concurrency is between 1 and 32",
        ),
        (
            "concurrency: 4, challenge: expired",
            "cannot run with `concurrency: 4`",
        ),
    ] {
        let err = scenario::load_str(Path::new("c.yaml"), &scenario(step))
            .err()
            .unwrap_or_else(|| panic!("`{step}` loads"))
            .to_string();
        assert!(err.contains(want), "{step}: {err}");
        assert!(
            err.contains("c.yaml:5:"),
            "{step}: no line and column: {err}"
        );
    }
    scenario::load_str(Path::new("c.yaml"), &scenario("concurrency: 32"))
        .unwrap_or_else(|e| panic!("{e}"));
}

fn run_text(text: &str) -> harness_runner::run::Outcome {
    let path = Path::new("concurrent.yaml");
    let loaded = scenario::load_str(path, text).unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run_scenario(
        &loaded,
        path,
        &RunOptions {
            ci: true,
            ..RunOptions::default()
        },
    ))
}

#[test]
fn a_concurrent_step_refuses_to_run_beside_faults_and_runs_once_they_are_healed() {
    let text = |heal: &str| {
        format!(
            "name: concurrent\nsummary: s\nsteps:\n  - start\n  - fault: {{target: intune.validate, kind: status, status: 500, times: 1}}\n{heal}  - enroll: {{device: d, user: u, count: 3, concurrency: 3}}\n  - stop\n"
        )
    };
    let refused = run_text(&text(""));
    assert_eq!(refused.status, Status::Failed);
    let problems = refused.problem_lines().join("\n");
    assert!(
        problems.contains("faults are in force (intune.validate)")
            && problems.contains("`heal` them before this step or use `concurrency: 1`"),
        "{problems}"
    );
    let healed = run_text(&text("  - heal: all\n"));
    assert_eq!(healed.status, Status::Passed, "{:?}", healed.problems);
}

#[test]
fn a_concurrent_step_refuses_events_that_name_none_of_its_devices() {
    // The connector names a device by its CSR's common name until Intune answers; without a
    // challenge Intune never does, so these events name `someone-else`.
    let text = |concurrency: u32| {
        format!(
            "name: concurrent\nsummary: s\nsteps:\n  - start\n  - enroll: {{device: d, user: u, count: 3, concurrency: {concurrency}, challenge: missing, csr: {{subject: someone-else}}, expect: rejected}}\n  - stop\n"
        )
    };
    let sequential = run_text(&text(1));
    assert_eq!(
        sequential.status,
        Status::Passed,
        "{:?}",
        sequential.problems
    );
    let refused = run_text(&text(3));
    assert_eq!(refused.status, Status::Failed);
    let problems = refused.problem_lines().join("\n");
    assert!(
        problems.contains("3 of the 3 events written while this step's requests were in flight name no device of the step"),
        "{problems}"
    );
    // Nothing is lost: the held events are in the stream all the same (the run stops at the
    // refused step, before `stop`).
    let named = |o: &harness_runner::run::Outcome| {
        o.events
            .iter()
            .filter(|r| r.details.get(Detail::DeviceId) == Some("someone-else"))
            .count()
    };
    assert_eq!((named(&sequential), named(&refused)), (3, 3));
}
