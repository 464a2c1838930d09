//! `cargo xtask fuzz`: runs every fuzz target of `fuzz/` (cargo-fuzz, libFuzzer) for a while
//! and fails on any crash, naming the input that crashed and the command that reproduces it.
//!
//! For each target: its seeds are written afresh into `fuzz/target/seeds/<target>` (by the
//! target itself, from the repository's and the shared fixtures), then libFuzzer runs with
//! `fuzz/corpus/<target>` as its growing corpus (kept between local runs) and the seeds and
//! `harness/tests/fuzz_regressions/<target>` as read-only inputs. cargo-fuzz is installed from
//! crates.io when it is missing. See `fuzz/README.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use clap::Parser;

/// The cargo-fuzz release installed when none is: 0.13 builds with `--sanitizer none`
/// without any `-Z` flag, which is what lets it run on the stable toolchain.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Flags of every build and run: no sanitizer (they need nightly; the targets are safe Rust),
/// and debug assertions on, so integer overflow panics instead of wrapping.
const BUILD_FLAGS: [&str; 3] = ["--sanitizer", "none", "--debug-assertions"];

/// Seconds one input may take before libFuzzer calls it a hang (a crash here).
const INPUT_TIMEOUT_SECS: u32 = 10;

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask fuzz",
    about = "Run the fuzz targets of fuzz/ (cargo-fuzz, libFuzzer) and fail on any crash"
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
    /// Do not install cargo-fuzz when it is missing; fail with the command instead.
    #[arg(long)]
    no_install: bool,
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
    ensure_cargo_fuzz(args.no_install)?;
    let all = list_targets(root)?;
    let targets = select(&all, &args.targets)?;
    eprintln!(
        "== fuzz: building {} target(s) (cargo fuzz build {})",
        all.len(),
        BUILD_FLAGS.join(" ")
    );
    let build_started = Instant::now();
    let status = cargo_fuzz(root)
        .arg("build")
        .args(BUILD_FLAGS)
        .status()
        .context("running cargo fuzz build")?;
    if !status.success() {
        bail!("cargo fuzz build failed ({status})");
    }
    eprintln!("   built in {:.0?}", build_started.elapsed());
    let bin_dir = root
        .join("fuzz/target")
        .join(host_triple()?)
        .join("release");
    let outcomes = fuzz_all(root, &bin_dir, &targets, args.seconds, args.jobs.max(1))?;
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
                "    reproduce: cargo fuzz run {} {} {}",
                BUILD_FLAGS.join(" "),
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

fn cargo_fuzz(root: &Path) -> Command {
    let mut c = cargo();
    c.current_dir(root).arg("fuzz");
    c
}

fn cargo_fuzz_version() -> Option<String> {
    let out = cargo().args(["fuzz", "--version"]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Makes sure `cargo fuzz` runs, installing it from crates.io unless told not to.
fn ensure_cargo_fuzz(no_install: bool) -> Result<()> {
    if let Some(v) = cargo_fuzz_version() {
        eprintln!("== fuzz: using {v}");
        return Ok(());
    }
    let install = format!("cargo install cargo-fuzz --version {CARGO_FUZZ_VERSION} --locked");
    if no_install {
        bail!("cargo-fuzz is not installed; install it with `{install}`");
    }
    eprintln!("== fuzz: cargo-fuzz is not installed; installing it from crates.io: {install}");
    let started = Instant::now();
    let status = cargo()
        .args([
            "install",
            "cargo-fuzz",
            "--version",
            CARGO_FUZZ_VERSION,
            "--locked",
        ])
        .status()
        .context("running cargo install")?;
    if !status.success() || cargo_fuzz_version().is_none() {
        bail!("installing cargo-fuzz failed ({status}); install it by hand with `{install}`");
    }
    eprintln!("   installed in {:.0?}", started.elapsed());
    Ok(())
}

fn list_targets(root: &Path) -> Result<Vec<String>> {
    let out = cargo_fuzz(root)
        .arg("list")
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo fuzz list")?;
    if !out.status.success() {
        bail!("cargo fuzz list failed ({})", out.status);
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if names.is_empty() {
        bail!("cargo fuzz list named no target in fuzz/");
    }
    Ok(names)
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

fn host_triple() -> Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("rustc -vV names no host")
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
    bin_dir: &Path,
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
                let outcome = fuzz_one(root, bin_dir, target, seconds);
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

fn fuzz_one(root: &Path, bin_dir: &Path, target: &str, seconds: u64) -> Result<Outcome> {
    let started = Instant::now();
    let seeds = root.join("fuzz/target/seeds").join(target);
    if seeds.exists() {
        std::fs::remove_dir_all(&seeds).with_context(|| format!("clearing {}", seeds.display()))?;
    }
    // The target writes its own seeds (fuzz/src/lib.rs, SEEDS_ENV) and exits.
    let out = Command::new(bin_dir.join(target))
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
    let mut cmd = cargo_fuzz(root);
    cmd.arg("run")
        .args(BUILD_FLAGS)
        .arg(target)
        .arg(&corpus)
        .arg(&seeds);
    let regressions = root.join("harness/tests/fuzz_regressions").join(target);
    if regressions.is_dir() {
        cmd.arg(&regressions);
    }
    cmd.arg("--")
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
        .with_context(|| format!("running cargo fuzz run {target}"))?;
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
