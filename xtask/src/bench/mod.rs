//! `cargo xtask bench [--quick] [--debug-build] [--json PATH]`: performance figures from a
//! release build (or, `--debug-build`, the debug build the tests already made).
//!
//! (a) SCEP enrollments/s of our NDES (`serve`, minted challenges) and micromdm's
//!     `scepserver` (2048-bit CA, static challenge) at concurrency 1, 4 and 16, runs
//!     interleaved, medians, and the ratio ours ÷ micromdm;
//! (b) the RSA-2048 private-operation rate of our backend on one core, and our enrollment
//!     rate as a fraction of the bound it sets (three private operations per enrollment);
//! (c) PKCS requests through download → issue → upload: wall, requests/s, peak RSS, and
//!     whether every request was uploaded exactly once;
//! (d) the scenario suite's wall time and per-scenario cost.
//!
//! Prints a table and writes JSON (default `target/bench/report.json`). `--quick` is the CI
//! size. Without `scepserver` part (a) is skipped with the install command, unless
//! `HARNESS_REQUIRE_PEERS=1`.

mod peers;
mod table;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// Sizes of one bench run.
struct Plan {
    devices: usize,
    repeats: usize,
    concurrency: &'static [usize],
    rsa_millis: u64,
    pkcs: &'static [usize],
    suite_runs: usize,
}

const FULL: Plan = Plan {
    devices: 300,
    repeats: 5,
    concurrency: &[1, 4, 16],
    rsa_millis: 2000,
    pkcs: &[1_000, 10_000, 100_000],
    suite_runs: 3,
};

const QUICK: Plan = Plan {
    devices: 100,
    repeats: 3,
    concurrency: &[1, 4, 16],
    rsa_millis: 300,
    pkcs: &[1_000, 10_000],
    suite_runs: 1,
};

fn required_peers() -> bool {
    std::env::var("HARNESS_REQUIRE_PEERS").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Runs `bin ARGS --json FILE` and reads the JSON it wrote; a non-zero exit is acceptable
/// when `any_exit` (a load run that saw failures still reports them).
fn run_json(bin: &Path, args: &[String], json: &Path, any_exit: bool) -> Result<Value> {
    let _ = std::fs::remove_file(json);
    let out = Command::new(bin)
        .args(args)
        .arg("--json")
        .arg(json)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {} {}", bin.display(), args.join(" ")))?;
    let reported = any_exit && json.exists();
    if !(out.status.success() || reported) {
        bail!(
            "{} {} failed: {}{}",
            bin.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text =
        std::fs::read_to_string(json).with_context(|| format!("reading {}", json.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", json.display()))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// (a): every concurrency, `repeats` rounds, ours and micromdm alternating who goes first.
fn scep(bin: &Path, dir: &Path, plan: &Plan) -> Result<Value> {
    let Some(exe) = peers::scepserver_path() else {
        let msg = "micromdm `scepserver` is not installed (Debian/Ubuntu: `apt-get install scep`)";
        if required_peers() {
            bail!("{msg}, and HARNESS_REQUIRE_PEERS=1");
        }
        eprintln!("notice: {msg}; skipping (a), the SCEP comparison");
        return Ok(json!({"skipped": msg}));
    };
    let ours = peers::serve(bin, dir)?;
    let theirs = peers::micromdm(&exe, dir)?;
    let json_path = dir.join("load.json");
    let mut rows = Vec::new();
    for &c in plan.concurrency {
        let mut runs: [Vec<Value>; 2] = [Vec::new(), Vec::new()];
        for round in 0..plan.repeats {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for who in order {
                let server = if who == 0 { &ours } else { &theirs };
                let mut args: Vec<String> = [
                    "load",
                    "scep",
                    "--url",
                    &server.url,
                    "--devices",
                    &plan.devices.to_string(),
                    "--concurrency",
                    &c.to_string(),
                    // Unique per run: micromdm refuses a name that holds a certificate.
                    "--seed",
                    &(c * 1000 + round + 1).to_string(),
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                match (&server.mint, &server.challenge) {
                    (Some(m), _) => args.extend(["--mint".into(), m.clone()]),
                    (None, Some(ch)) => args.extend(["--challenge".into(), ch.clone()]),
                    (None, None) => {}
                }
                runs[who].push(run_json(bin, &args, &json_path, true)?);
            }
        }
        let summary = |runs: &[Value]| {
            let f = |k: &str| median(runs.iter().filter_map(|r| r[k].as_f64()).collect());
            let lat = |k: &str| {
                median(
                    runs.iter()
                        .filter_map(|r| r["latency_ms"][k].as_f64())
                        .collect(),
                )
            };
            let total = |k: &str| runs.iter().filter_map(|r| r[k].as_u64()).sum::<u64>();
            json!({
                "enrollments_per_second": f("enrollments_per_second"),
                "p50_ms": lat("p50"),
                "p99_ms": lat("p99"),
                "runs": runs.len(),
                "attempted": total("devices"),
                "verified": total("enrolled"),
                "duplicate_serials": total("duplicate_serials"),
                "per_run_enrollments_per_second": runs.iter().map(|r| r["enrollments_per_second"].clone()).collect::<Vec<_>>(),
                "refused": runs.iter().map(|r| r["refused"].clone()).collect::<Vec<_>>(),
                "http_errors": runs.iter().map(|r| r["http_errors"].clone()).collect::<Vec<_>>(),
                "transport_errors": runs.iter().map(|r| r["transport_errors"].clone()).collect::<Vec<_>>(),
                "invalid_replies": runs.iter().map(|r| r["invalid_replies"].clone()).collect::<Vec<_>>(),
            })
        };
        let (o, t) = (summary(&runs[0]), summary(&runs[1]));
        let ratio = o["enrollments_per_second"].as_f64().unwrap_or(0.0)
            / t["enrollments_per_second"]
                .as_f64()
                .unwrap_or(0.0)
                .max(f64::MIN_POSITIVE);
        rows.push(json!({"concurrency": c, "ours": o, "micromdm": t, "ratio": ratio}));
    }
    Ok(json!({
        "devices_per_run": plan.devices,
        "repeats": plan.repeats,
        "ours_url": ours.url,
        "micromdm_url": theirs.url,
        "rows": rows,
    }))
}

/// (b): the private-op rates, and each SCEP row's rate against the bound they set.
fn rsa(bin: &Path, dir: &Path, plan: &Plan, scep: &Value) -> Result<Value> {
    let rates = run_json(
        bin,
        &[
            "load".into(),
            "rsa".into(),
            "--millis".into(),
            plan.rsa_millis.to_string(),
        ],
        &dir.join("rsa.json"),
        false,
    )?;
    let per_core = rates["bound_per_core"].as_f64().unwrap_or(0.0);
    let fractions: Vec<Value> = scep["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    let c = row["concurrency"].as_u64().unwrap_or(1) as usize;
                    let used = c.min(cores());
                    let bound = per_core * used as f64;
                    let ours = row["ours"]["enrollments_per_second"].as_f64().unwrap_or(0.0);
                    json!({"concurrency": c, "cores_used": used, "bound": bound, "ours": ours, "fraction": ours / bound.max(f64::MIN_POSITIVE)})
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(
        json!({"rates": rates, "private_ops_per_enrollment": 3, "cores": cores(), "vs_bound": fractions}),
    )
}

/// (c): each size in its own process (peak RSS is per process).
fn pkcs(bin: &Path, dir: &Path, plan: &Plan) -> Result<Value> {
    let mut rows = Vec::new();
    for &n in plan.pkcs {
        let args: Vec<String> = ["load", "pkcs", "--requests", &n.to_string()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        rows.push(run_json(bin, &args, &dir.join("pkcs.json"), true)?);
    }
    Ok(json!({"rows": rows}))
}

/// (d): `run` over the whole library, `runs` times.
fn suite(bin: &Path, dir: &Path, root: &Path, runs: usize) -> Result<Value> {
    let mut walls = Vec::new();
    let mut last = Value::Null;
    for _ in 0..runs.max(1) {
        let json_path = dir.join("suite.json");
        let started = Instant::now();
        let out = Command::new(bin)
            .arg("run")
            .arg("--scenarios")
            .arg(root.join("scenarios"))
            .arg("--snapshots")
            .arg(root.join("snapshots"))
            .arg("--json")
            .arg(&json_path)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .context("running the scenario suite")?;
        walls.push(started.elapsed().as_secs_f64());
        if !out.status.success() {
            bail!(
                "the scenario suite failed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        last = serde_json::from_str(&std::fs::read_to_string(&json_path)?)?;
    }
    let durations: Vec<(f64, String)> = last["scenarios"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|x| {
                    (
                        x["duration_ms"].as_f64().unwrap_or(0.0),
                        x["name"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let slowest = durations
        .iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .cloned()
        .unwrap_or_default();
    Ok(json!({
        "wall_seconds": median(walls.clone()),
        "wall_seconds_runs": walls,
        "scenarios": durations.len(),
        "sum_of_scenario_ms": durations.iter().map(|d| d.0).sum::<f64>(),
        "median_scenario_ms": median(durations.iter().map(|d| d.0).collect()),
        "slowest": {"name": slowest.1, "ms": slowest.0},
    }))
}

/// Builds the binary measured (release unless `debug`); its path.
fn build(root: &Path, debug: bool) -> Result<PathBuf> {
    crate::build_harness(root, !debug)
}

/// Runs the bench; `args` are what follows `bench`.
pub fn bench(root: &Path, args: &[String]) -> Result<()> {
    let mut quick = false;
    let mut debug = false;
    let mut json_out = root.join("target/bench/report.json");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--debug-build" => debug = true,
            "--json" => json_out = PathBuf::from(it.next().context("--json needs a path")?),
            other => {
                bail!("unknown bench flag `{other}` (expected --quick, --debug-build, --json PATH)")
            }
        }
    }
    let plan = if quick { &QUICK } else { &FULL };
    let bin = build(root, debug)?;
    let dir = root.join("target/bench/work");
    std::fs::create_dir_all(&dir)?;
    let started = Instant::now();
    eprintln!("bench: (a) SCEP, ours vs micromdm…");
    let scep = scep(&bin, &dir, plan)?;
    eprintln!("bench: (b) RSA bound…");
    let rsa = rsa(&bin, &dir, plan, &scep)?;
    eprintln!("bench: (c) PKCS pipeline…");
    let pkcs = pkcs(&bin, &dir, plan)?;
    eprintln!("bench: (d) scenario suite…");
    let suite = suite(&bin, &dir, root, plan.suite_runs)?;
    let report = json!({
        "quick": quick,
        "build": if debug { "debug" } else { "release" },
        "cores": cores(),
        "seconds": started.elapsed().as_secs_f64(),
        "scep": scep,
        "rsa": rsa,
        "pkcs": pkcs,
        "suite": suite,
    });
    print!("{}", table::render(&report));
    if let Some(parent) = json_out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&json_out, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", json_out.display()))?;
    println!("\nJSON: {}", json_out.display());
    let problems = table::problems(&report);
    if !problems.is_empty() {
        bail!("the figures show failures: {}", problems.join("; "));
    }
    Ok(())
}
