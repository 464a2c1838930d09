//! Running a scenario under guard: whatever happens inside — a panic, a run over its real-time
//! budget — ends as a failed [`Outcome`] that carries its message, never as a lost scenario.
//!
//! The scenario runs as its own task on the runtime's workers; the guard waits for it beside a
//! watchdog thread that measures the budget. The watchdog is a plain thread so that it fires
//! even when every worker is busy (a scenario stuck in CPU work cannot stop its own clock), and
//! the guard is polled by whoever awaits it (`block_on`'s thread in the CLI), not by a worker.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use crate::scenario::limits::DEFAULT_BUDGET;
use crate::scenario::Scenario;

use super::{run_scenario, Outcome, Problem, RunOptions, Status};

/// Test hook: a run of the scenario named by this environment variable panics on purpose, so
/// tests can prove a panic becomes a failure. Nothing else reads it.
pub const TEST_PANIC_ENV: &str = "HARNESS_TEST_PANIC";

/// Panics if [`TEST_PANIC_ENV`] names `scenario` (see there).
pub(crate) fn test_panic_hook(scenario: &str) {
    if std::env::var_os(TEST_PANIC_ENV).is_some_and(|v| v == scenario) {
        panic!("forced by {TEST_PANIC_ENV}={scenario} (a test hook)");
    }
}

/// The real time `scenario` may take under `options` (its budget, once per run).
pub fn budget_of(scenario: &Scenario, options: &RunOptions) -> Duration {
    let runs = if options.check_determinism { 2 } else { 1 };
    scenario
        .budget
        .unwrap_or(DEFAULT_BUDGET)
        .get()
        .saturating_mul(runs)
}

/// Runs `scenario` as [`run_scenario`] does, but a panic or a run over its budget ends as a
/// failed outcome with the reason.
pub async fn run_guarded(
    scenario: Arc<Scenario>,
    file: PathBuf,
    options: Arc<RunOptions>,
) -> Outcome {
    install_panic_hook();
    let started = Instant::now();
    let budget = budget_of(&scenario, &options);
    let seed = options.seed.unwrap_or(scenario.seed);
    let task = {
        let (scenario, file, options) = (scenario.clone(), file.clone(), options.clone());
        tokio::spawn(async move { run_scenario(&scenario, &file, &options).await })
    };
    let abort = task.abort_handle();
    let (_cancel, expired) = watchdog(budget);
    let failure = tokio::select! {
        biased;
        joined = task => match joined {
            Ok(outcome) => return outcome,
            Err(e) if e.is_panic() => {
                let at = take_location(e.id());
                let payload = panic_text(e.into_panic());
                Problem::Panicked {
                    at: at.map(|a| a.to_string()),
                    message: payload,
                }
            }
            Err(_) => Problem::Cancelled,
        },
        () = expired => {
            abort.abort();
            Problem::OverBudget { budget }
        }
    };
    Outcome {
        name: scenario.name.clone(),
        file,
        seed,
        status: Status::Failed,
        problems: vec![failure],
        diff: None,
        duration: started.elapsed(),
        events: Vec::new(),
        snapshot_written: false,
        findings: Vec::new(),
        level: options.level,
        causes: Vec::new(),
        rerun: options.rerun.clone(),
        steps: Vec::new(),
    }
}

/// A future that ends once `budget` has passed, and a sender whose drop ends the watch.
fn watchdog(
    budget: Duration,
) -> (
    std::sync::mpsc::Sender<()>,
    Pin<Box<dyn Future<Output = ()> + Send>>,
) {
    let (cancel, cancelled) = std::sync::mpsc::channel::<()>();
    let (fire, fired) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("scenario-budget".into())
        .spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = cancelled.recv_timeout(budget) {
                let _ = fire.send(());
            }
        });
    let expired: Pin<Box<dyn Future<Output = ()> + Send>> = match spawned {
        Ok(_) => Box::pin(async move {
            // The thread only ends without sending once the watch is over (the guard has
            // returned): never resolve then.
            if fired.await.is_err() {
                std::future::pending::<()>().await;
            }
        }),
        // No thread to spare: the runtime's timer is the next best clock.
        Err(_) => Box::pin(tokio::time::sleep(budget)),
    };
    (cancel, expired)
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_string(),
            Err(_) => "(a panic without a message)".to_string(),
        },
    }
}

/// Where panics in tasks happened, by task id, until a guard reads them. Bounded: a panic in
/// a task nobody guards (a fake's handler) must not grow it forever.
static LOCATIONS: Mutex<Option<HashMap<tokio::task::Id, String>>> = Mutex::new(None);
const MAX_LOCATIONS: usize = 64;

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let (Some(id), Some(at)) = (tokio::task::try_id(), info.location()) {
                if let Ok(mut map) = LOCATIONS.lock() {
                    let map = map.get_or_insert_with(HashMap::new);
                    if map.len() < MAX_LOCATIONS {
                        map.insert(id, at.to_string());
                    }
                }
            }
            previous(info);
        }));
    });
}

fn take_location(id: tokio::task::Id) -> Option<String> {
    LOCATIONS
        .lock()
        .ok()
        .and_then(|mut map| map.as_mut().and_then(|m| m.remove(&id)))
}
