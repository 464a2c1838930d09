//! `connector-harness gateway`: runs the gateway scenarios (`scenarios/gateway/`) against the
//! reference gateway (optionally with `--bug`s switched on) or a vendor's (`--scep-url`, with
//! `--command` to have the harness start it), and prints each scenario's verdict with every
//! finding named by its rule. Exit 0 when every scenario passed, 1 when one failed, 2 on bad
//! input.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use harness_runner::gateway::report;
use harness_runner::gateway::scenario::{self, ScenarioOutcome};
use harness_runner::gateway::{GatewayBug, GatewayUnderTest};

/// Arguments of `gateway`.
#[derive(Args, Debug, Clone)]
pub struct GatewayArgs {
    /// The folder of gateway scenarios.
    #[arg(long, default_value = "scenarios/gateway")]
    pub scenarios: PathBuf,
    /// Only the scenario named exactly NAME (repeatable).
    #[arg(long)]
    pub exact: Vec<String>,
    /// Switch on a bug of the reference gateway (repeatable): cert-after-failed-notification,
    /// challenge-as-transaction-id, reused-client-request-id,
    /// failure-notification-after-refusal, ignores-notification-answer, issues-before-validating.
    #[arg(long, conflicts_with = "scep_url")]
    pub bug: Vec<GatewayBug>,
    /// A vendor's gateway: its SCEP URL.
    #[arg(long)]
    pub scep_url: Option<String>,
    /// A shell command that starts the vendor's gateway; it gets its configuration in
    /// `HARNESS_GATEWAY_CONFIG` (a JSON file) and `HARNESS_*` variables (see docs/gateway.md).
    #[arg(long, requires = "scep_url")]
    pub command: Option<String>,
    /// Write a JSON report here (the verdict, each scenario and its findings by rule).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report here (one test case per scenario).
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
}

/// Writes `text` to `path`, creating its folder.
fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn print(o: &ScenarioOutcome) {
    let verdict = if o.passed() { "passed" } else { "FAILED" };
    println!("{verdict}: {}", o.name);
    for p in &o.problems {
        println!("  {p}");
    }
}

/// Runs `gateway`; returns the exit code.
pub fn gateway(args: GatewayArgs) -> u8 {
    let under_test = match &args.scep_url {
        Some(url) => GatewayUnderTest::External {
            scep_url: url.clone(),
            command: args.command.clone(),
        },
        None => GatewayUnderTest::Reference(args.bug.iter().copied().collect::<BTreeSet<_>>()),
    };
    let files = match scenario::files(&args.scenarios) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {}: {e}", args.scenarios.display());
            return EXIT_USAGE;
        }
    };
    let mut loaded = Vec::new();
    for file in files {
        match scenario::load(&file) {
            Ok(s) if args.exact.is_empty() || args.exact.contains(&s.name) => loaded.push(s),
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        }
    }
    if loaded.is_empty() {
        eprintln!("error: no gateway scenario selected");
        return EXIT_USAGE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let mut ran = Vec::new();
    for s in &loaded {
        match runtime.block_on(scenario::run(s, &under_test)) {
            Ok(o) => {
                print(&o);
                ran.push(o);
            }
            Err(e) => {
                println!("FAILED: {}\n  {e}", s.name);
                ran.push(ScenarioOutcome::not_run(&s.name, e.to_string()));
            }
        }
    }
    let failed = ran.iter().filter(|r| !r.passed()).count();
    println!(
        "{} passed, {failed} failed",
        ran.len().saturating_sub(failed)
    );
    let mut written = Ok(());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report::json(&ran)).map_err(|e| e.to_string());
        written = written.and(text.and_then(|t| write(path, &(t + "\n"))));
    }
    if let Some(path) = &args.junit {
        let text = report::junit(&ran).map_err(|e| format!("rendering JUnit: {e}"));
        written = written.and(text.and_then(|t| write(path, &t)));
    }
    if let Err(e) = written {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    if failed == 0 {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}
