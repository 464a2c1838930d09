//! Scenario time has an end: a run whose clock is pushed past it (here by the connector's own
//! retry backoff, which no loader can foresee) fails with that reason instead of wrapping around
//! or carrying on in a calendar that cannot be written down.

use std::path::Path;

use harness_runner::run::{run_scenario, RunOptions, Status};
use harness_runner::scenario::load_str;

#[test]
fn backoff_past_the_end_of_scenario_time_fails_the_run() {
    let text = "name: late\nsummary: Retries push the clock past its end.\nsetup:\n  start_time: 9899-12-31T00:00:00Z\n  connector: {backoff: 1d, retries: 2}\nsteps:\n  - queue_pkcs: {device: d, user: u}\n  - start\n  - fault: {target: ca.issue, kind: status, status: 500}\n  - sync\n";
    let scenario = load_str(Path::new("scenarios/late.yaml"), text).expect("loads");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let options = RunOptions {
        ci: true,
        ..RunOptions::default()
    };
    let outcome = runtime.block_on(run_scenario(&scenario, Path::new("late.yaml"), &options));
    assert_eq!(outcome.status, Status::Failed, "{:?}", outcome.problems);
    assert!(
        outcome
            .problem_lines()
            .iter()
            .any(|p| p.contains("scenario time ran past 9899-12-31T23:59:59.999Z")),
        "{:?}",
        outcome.problems
    );
    // Nothing in the stream is stamped after the end.
    assert!(outcome.events.iter().all(|e| e.time.year() <= 9899));
}
