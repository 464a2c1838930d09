//! `cargo xtask fuzz`: runs every fuzz target of `fuzz/` (libFuzzer, through libfuzzer-sys)
//! for a while and fails on any crash, naming the input that crashed and the command that
//! reproduces it.
//!
//! The build: the targets are a member of the workspace, built in its dev profile with this
//! binary as cargo's `RUSTC_WORKSPACE_WRAPPER` ([`wrap_rustc`]), which adds libFuzzer's
//! coverage instrumentation to the workspace's own crates only. Cargo keeps a wrapped crate
//! apart from the unwrapped one (the wrapper is part of its metadata), and every dependency is
//! the one the tests already built: only the harness's crates are compiled again. What is
//! traced is therefore the harness's own code, where every reader under test lives; a
//! third-party parser it calls (der, serde-saphyr, evtx) runs at full speed, uninstrumented.
//!
//! For each target: its seeds are written afresh into `fuzz/target/seeds/<target>` (by the
//! target itself, from the repository's and the shared fixtures), then libFuzzer runs with
//! `fuzz/corpus/<target>` as its growing corpus (kept between local runs) and the seeds and
//! `harness/tests/fuzz_regressions/<target>` as read-only inputs. See `fuzz/README.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use clap::Parser;

/// Set (to anything) when this binary runs as cargo's workspace rustc wrapper.
pub const WRAP_ENV: &str = "CONNECTOR_HARNESS_FUZZ_WRAP";
/// The workspace wrapper that was set when `cargo xtask fuzz` started (`.ci/run` sets
/// clippy-driver, so every build of our crates is linted): the wrapper runs rustc through it.
const INNER_ENV: &str = "CONNECTOR_HARNESS_FUZZ_INNER_WRAPPER";

/// What the wrapper adds to a workspace crate's compilation: the coverage instrumentation
/// libFuzzer feeds on (`-Cpasses=sancov-module` and its options, all stable codegen flags,
/// the set cargo-fuzz passes with `--sanitizer none`) and `--cfg fuzzing`. Debug assertions
/// and overflow checks are the dev profile's.
const INSTRUMENT: [&str; 8] = [
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Cllvm-args=-sanitizer-coverage-stack-depth",
    "--cfg",
    "fuzzing",
];

/// The workspace crates' optimisation in the fuzz build (their dependencies keep the dev
/// profile's opt-level 1): more executions per second than opt-level 0 for a short compile.
const OPT_LEVEL: &str = "1";

/// Seconds one input may take before libFuzzer calls it a hang (a crash here).
const INPUT_TIMEOUT_SECS: u32 = 10;

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask fuzz",
    about = "Run the fuzz targets of fuzz/ (libFuzzer) and fail on any crash"
)]
struct Args {
    /// Seconds to fuzz each target.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Only this target (repeatable); default: every target.
    #[arg(long = "target", value_name = "NAME")]
    targets: Vec<String>,
    /// Targets fuzzed at once (each libFuzzer process uses one core).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Instead of fuzzing: run the target(s) once on this input (a crash file, say) and show
    /// what happens.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
}

/// What one target's run gave.
struct Outcome {
    target: String,
    crashed: Vec<PathBuf>,
    execs: Option<u64>,
    execs_per_sec: Option<u64>,
    new_units: Option<u64>,
    coverage: Option<String>,
    corpus_before: usize,
    corpus_after: usize,
    elapsed: Duration,
    log: PathBuf,
}

/// Runs `cargo xtask fuzz ARGS`.
pub fn run(root: &Path, args: &[String]) -> Result<ExitCode> {
    let args = match Args::try_parse_from(
        std::iter::once("cargo xtask fuzz".into()).chain(args.iter().cloned()),
    ) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return Ok(ExitCode::from(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    if args.seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    let started = Instant::now();
    let built = build(root)?;
    let all: Vec<String> = built.keys().cloned().collect();
    let targets = select(&all, &args.targets)?;
    if let Some(input) = &args.input {
        return reproduce(&built, &targets, input);
    }
    let outcomes = fuzz_all(root, &built, &targets, args.seconds, args.jobs.max(1))?;
    print_summary(&outcomes);
    eprintln!("   fuzz step took {:.0?} in all", started.elapsed());
    let crashed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.crashed.is_empty()).collect();
    if crashed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("\nFUZZING FOUND CRASHES:");
    for o in crashed {
        for input in &o.crashed {
            eprintln!("  {}: {}", o.target, input.display());
            eprintln!(
                "    reproduce: cargo xtask fuzz --target {} --input {}",
                o.target,
                input.display()
            );
        }
        eprintln!("    log: {}", o.log.display());
    }
    eprintln!(
        "  Fix the reader, then keep the input as a regression test: copy it to \
         harness/tests/fuzz_regressions/<target>/ and add a case to harness/tests/it/fuzz_regressions.rs."
    );
    Ok(ExitCode::from(1))
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The built targets: name to executable.
type Built = std::collections::BTreeMap<String, PathBuf>;

/// Builds every target, instrumented, and answers where each executable is (from cargo's
/// own messages: the executables cargo leaves in `target/debug/` are shared with any
/// uninstrumented build of the same names).
fn build(root: &Path) -> Result<Built> {
    eprintln!(
        "== fuzz: building the targets (the workspace's crates instrumented at opt-level {OPT_LEVEL}, dependencies as the tests built them)"
    );
    let started = Instant::now();
    let wrapper = std::env::current_exe().context("finding this program to wrap rustc with")?;
    let out = cargo()
        .current_dir(root)
        .args([
            "build",
            "--package",
            "connector-harness-fuzz",
            "--bins",
            "--features",
            "intune",
            "--message-format",
            "json-render-diagnostics",
            "--config",
        ])
        .arg(format!("profile.dev.opt-level={OPT_LEVEL}"))
        .env("RUSTC_WORKSPACE_WRAPPER", &wrapper)
        .env(WRAP_ENV, "1")
        .envs(
            std::env::var_os("RUSTC_WORKSPACE_WRAPPER")
                .filter(|inner| !inner.is_empty())
                .map(|inner| (INNER_ENV, inner)),
        )
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build for the fuzz targets")?;
    if !out.status.success() {
        bail!("building the fuzz targets failed ({})", out.status);
    }
    let mut built = Built::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_bin = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "bin"));
        if msg["reason"] == "compiler-artifact"
            && msg["package_id"]
                .as_str()
                .is_some_and(|p| p.contains("connector-harness-fuzz"))
            && is_bin
        {
            if let (Some(name), Some(exe)) =
                (msg["target"]["name"].as_str(), msg["executable"].as_str())
            {
                built.insert(name.to_string(), PathBuf::from(exe));
            }
        }
    }
    if built.is_empty() {
        bail!("cargo built no fuzz target in fuzz/");
    }
    eprintln!(
        "   built {} targets in {:.0?}",
        built.len(),
        started.elapsed()
    );
    Ok(built)
}

/// Runs each of `targets` once on `input`; fails when one crashes.
fn reproduce(built: &Built, targets: &[String], input: &Path) -> Result<ExitCode> {
    let mut failed = false;
    for target in targets {
        let exe = built
            .get(target)
            .with_context(|| format!("{target} was not built"))?;
        eprintln!(
            "== fuzz: {target} ({}) on {}",
            exe.display(),
            input.display()
        );
        let status = Command::new(exe)
            .arg(input)
            .status()
            .with_context(|| format!("running {target}"))?;
        failed |= !status.success();
    }
    Ok(ExitCode::from(u8::from(failed)))
}

/// Runs as cargo's `RUSTC_WORKSPACE_WRAPPER` (when [`WRAP_ENV`] is set): `ARGS` are rustc's
/// path and its arguments. A workspace crate's library or binary gets [`INSTRUMENT`]; its
/// build script, a proc macro and cargo's own probes (`--crate-name ___`) run unchanged, as
/// none of them links libFuzzer. A workspace wrapper that was set before ([`INNER_ENV`]: clippy-driver in
/// CI) runs rustc, so chaining keeps what it does.
pub fn wrap_rustc(args: &[std::ffi::OsString]) -> ExitCode {
    let Some((rustc, rest)) = args.split_first() else {
        eprintln!("{WRAP_ENV} is set, but no rustc was given to run");
        return ExitCode::from(2);
    };
    let arg = |name: &str| {
        rest.iter()
            .position(|a| a == name)
            .and_then(|i| rest.get(i + 1))
            .and_then(|v| v.to_str())
    };
    let crate_name = arg("--crate-name").unwrap_or("___");
    let instrument = crate_name != "___"
        && !crate_name.starts_with("build_script_")
        && arg("--crate-type") != Some("proc-macro");
    let mut cmd = match std::env::var_os(INNER_ENV) {
        Some(inner) => {
            let mut cmd = Command::new(inner);
            cmd.arg(rustc);
            cmd
        }
        None => Command::new(rustc),
    };
    cmd.args(rest);
    if instrument {
        cmd.args(INSTRUMENT);
    }
    match cmd.status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("cannot run {}: {e}", rustc.to_string_lossy());
            ExitCode::from(2)
        }
    }
}

fn select(all: &[String], wanted: &[String]) -> Result<Vec<String>> {
    if wanted.is_empty() {
        return Ok(all.to_vec());
    }
    for w in wanted {
        if !all.contains(w) {
            bail!("no fuzz target `{w}`; the targets are: {}", all.join(", "));
        }
    }
    Ok(wanted.to_vec())
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .count()
        })
        .unwrap_or(0)
}

/// Files in `dir` changed since `since`.
fn new_files(dir: &Path, since: SystemTime) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    e.metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t >= since)
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Fuzzes `targets`, `jobs` at a time; outcomes in the targets' order.
fn fuzz_all(
    root: &Path,
    built: &Built,
    targets: &[String],
    seconds: u64,
    jobs: usize,
) -> Result<Vec<Outcome>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Outcome>>>> = targets
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(targets.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(target) = targets.get(i) else {
                    break;
                };
                let outcome = fuzz_one(root, built, target, seconds);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(outcome);
                }
            });
        }
    });
    results
        .into_iter()
        .zip(targets)
        .map(|(slot, target)| {
            slot.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err(anyhow::anyhow!("{target}: the fuzzing thread died")))
        })
        .collect()
}

fn fuzz_one(root: &Path, built: &Built, target: &str, seconds: u64) -> Result<Outcome> {
    let exe = built
        .get(target)
        .with_context(|| format!("{target} was not built"))?;
    let started = Instant::now();
    let seeds = root.join("fuzz/target/seeds").join(target);
    if seeds.exists() {
        std::fs::remove_dir_all(&seeds).with_context(|| format!("clearing {}", seeds.display()))?;
    }
    // The target writes its own seeds (fuzz/src/lib.rs, SEEDS_ENV) and exits.
    let out = Command::new(exe)
        .env("CONNECTOR_HARNESS_FUZZ_SEEDS", &seeds)
        .stdout(Stdio::null())
        .output()
        .with_context(|| format!("running {target} to write its seeds"))?;
    // libFuzzer without a sanitizer warns that the sanitizer's hooks are absent: noise here.
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("WARNING: Failed to find function \"__sanitizer"))
        .for_each(|l| eprintln!("   {l}"));
    if !out.status.success() {
        bail!("{target} could not write its seeds ({})", out.status);
    }
    let corpus = root.join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    let corpus_before = count_files(&corpus);
    let artifacts = root.join("fuzz/artifacts").join(target);
    let logs = root.join("fuzz/target/logs");
    std::fs::create_dir_all(&logs)?;
    let log = logs.join(format!("{target}.log"));
    let log_file = std::fs::File::create(&log)?;
    std::fs::create_dir_all(&artifacts)?;
    let mut cmd = Command::new(exe);
    cmd.arg(&corpus).arg(&seeds);
    let regressions = root.join("harness/tests/fuzz_regressions").join(target);
    if regressions.is_dir() {
        cmd.arg(&regressions);
    }
    cmd.arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
        .arg("-print_final_stats=1");
    eprintln!(
        "== fuzz: {target} for {seconds} s ({} seeds, {corpus_before} in the corpus)",
        count_files(&seeds)
    );
    let since = SystemTime::now();
    let status = cmd
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .status()
        .with_context(|| format!("running {target}"))?;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let mut crashed = new_files(&artifacts, since);
    if !status.success() {
        // Show what the engine said about the crash: from the panic (or libFuzzer's error) on.
        let lines: Vec<&str> = text.lines().collect();
        let from = lines
            .iter()
            .position(|l| l.contains("panicked at") || l.contains("ERROR: libFuzzer"))
            .unwrap_or(lines.len().saturating_sub(40));
        let shown: String = lines[from..]
            .iter()
            .filter(|l| !l.trim_start().starts_with("at ") && !l.contains(": 0x"))
            .take(40)
            .map(|line| format!("   | {target}: {line}\n"))
            .collect();
        eprint!("{shown}");
        if crashed.is_empty() {
            bail!(
                "{target}: libFuzzer failed ({status}) without leaving a crash input; see {}",
                log.display()
            );
        }
    } else {
        crashed.clear();
    }
    let stat = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let coverage = text
        .lines()
        .rev()
        .find(|l| l.contains(" cov: "))
        .and_then(|l| l.split(" cov: ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .map(String::from);
    let outcome = Outcome {
        target: target.to_string(),
        crashed,
        execs: stat("number_of_executed_units"),
        execs_per_sec: stat("average_exec_per_sec"),
        new_units: stat("new_units_added"),
        coverage,
        corpus_before,
        corpus_after: count_files(&corpus),
        elapsed: started.elapsed(),
        log,
    };
    eprintln!(
        "   {target} {}: {} execs ({}/s), {} new inputs, coverage {} edges, corpus {} -> {} files, {:.0?}",
        if outcome.crashed.is_empty() {
            "ok"
        } else {
            "CRASH"
        },
        show(outcome.execs),
        show(outcome.execs_per_sec),
        show(outcome.new_units),
        outcome.coverage.as_deref().unwrap_or("?"),
        outcome.corpus_before,
        outcome.corpus_after,
        outcome.elapsed
    );
    Ok(outcome)
}

fn show(n: Option<u64>) -> String {
    n.map_or_else(|| "?".into(), |n| n.to_string())
}

fn print_summary(outcomes: &[Outcome]) {
    eprintln!(
        "\n{:<18} {:>10} {:>8} {:>6} {:>6} {:>15}  result",
        "target", "execs", "exec/s", "new", "cov", "corpus"
    );
    for o in outcomes {
        eprintln!(
            "{:<18} {:>10} {:>8} {:>6} {:>6} {:>15}  {}",
            o.target,
            show(o.execs),
            show(o.execs_per_sec),
            show(o.new_units),
            o.coverage.as_deref().unwrap_or("?"),
            format!("{} -> {}", o.corpus_before, o.corpus_after),
            if o.crashed.is_empty() { "ok" } else { "CRASH" }
        );
    }
}
