//! `cargo xtask conformance`: the contract proven from outside. The whole scenario library runs
//! through the second connector (`harness/tests/peers/contoso_connector.py`, Python standard
//! library, written from the docs alone) under `--verdict conformance` and must pass; then every
//! mutant of it (`--list-mutants`, each one real bug) runs the library again and must fail at
//! least one scenario. Prints the mutation table: mutant, scenarios failed, first finding.
//! Exits 1 when the second connector fails or a mutant survives.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

const CONNECTOR: &str = "harness/tests/peers/contoso_connector.py";

struct Options {
    python: String,
    jobs: usize,
    only: Vec<String>,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        python: std::env::var("HARNESS_PYTHON_CONNECTOR").unwrap_or_else(|_| "python3".into()),
        jobs: 2,
        only: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--python" => o.python = it.next().context("--python needs a program")?.clone(),
            "--jobs" => {
                o.jobs = it
                    .next()
                    .context("--jobs needs a number")?
                    .parse()
                    .context("--jobs needs a number")?
            }
            "--mutant" => o
                .only
                .push(it.next().context("--mutant needs a name")?.clone()),
            "-h" | "--help" => {
                println!("usage: cargo xtask conformance [--python PROGRAM] [--jobs N] [--mutant NAME]...\n\n  runs the library through the second connector under --verdict conformance (must pass),\n  then each of its mutants (each must fail a scenario); prints the mutation table");
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}` (see --help)"),
        }
    }
    Ok(o)
}

/// What one library run through a connector command gave.
struct Run {
    /// The whole run's verdict (scenarios, coverage gate, load errors).
    verdict: bool,
    /// Its reasons, as JSON, for a failed verdict.
    reasons: String,
    passed: u64,
    failed: u64,
    first: Option<String>,
    /// Every problem of every failed scenario, with the scenario's name.
    problems: Vec<(String, String)>,
    seconds: f64,
}

fn library(
    root: &Path,
    bin: &Path,
    connector: Option<&str>,
    jobs: usize,
    report: &Path,
    gate: bool,
) -> Result<Run> {
    let mut cmd = Command::new(bin);
    cmd.current_dir(root)
        .args([
            "run",
            "--scenarios",
            "scenarios",
            "--snapshots",
            "snapshots",
        ])
        .args(["--jobs", &jobs.to_string(), "--json"])
        .arg(report)
        .env("NO_COLOR", "1");
    if let Some(c) = connector {
        cmd.args(["--verdict", "conformance", "--connector-cmd", c]);
    }
    if !gate {
        cmd.arg("--no-coverage-gate");
    }
    let started = Instant::now();
    let out = cmd.output().context("starting the harness")?;
    let seconds = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(report).with_context(|| {
        format!(
            "no report at {}: {}",
            report.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let json: serde_json::Value = serde_json::from_str(&text).context("reading the report")?;
    let first = json["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["status"] == "failed")
        .map(|s| {
            let problem = s["problems"][0].as_str().unwrap_or("(no problem recorded)");
            let line = problem.lines().next().unwrap_or_default();
            let short: String = line.chars().take(150).collect();
            format!("{}: {short}", s["name"].as_str().unwrap_or("?"))
        });
    let problems = json["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["status"] == "failed")
        .flat_map(|s| {
            let name = s["name"].as_str().unwrap_or("?").to_string();
            s["problems"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str())
                .map(move |p| (name.clone(), p.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let run = Run {
        problems,
        verdict: json["verdict"] == "passed",
        reasons: json["reasons"].to_string(),
        passed: json["passed"].as_u64().unwrap_or(0),
        failed: json["failed"].as_u64().unwrap_or(0),
        first,
        seconds,
    };
    Ok(run)
}

/// For each known mutant, the findings that name its bug (a rule id in brackets, or the
/// protocol's words): a mutant is caught only when one of them is among its failures, so a
/// mutant that merely crashed the connector does not count.
const NAMED_BY: &[(&str, &[&str])] = &[
    ("wrong-code", &["[expect.sequence]"]),
    ("wrong-event", &["[revoke.truthful]"]),
    ("wrong-device", &["[pkcs.values]"]),
    ("other-thumbprint", &["[pkcs.thumbprint]"]),
    ("upload-before-issue", &["[request.order]"]),
    ("no-upload-event", &["[upload.truthful]"]),
    ("duplicate-upload", &["[intune.exactly-once]"]),
    ("extra-failure", &["[upload.truthful]"]),
    ("no-stop-event", &["[lifecycle.stop]"]),
    ("allow-refused", &["[scep.decision]"]),
    ("no-notify", &["[scep.notify]"]),
    ("no-renewal", &["[expect.sequence] expected 10100"]),
    ("lose-one", &["[intune.exactly-once]"]),
    ("wrong-serial", &["[revoke.values]"]),
    ("stray-reply", &["protocol violation"]),
];

/// Runs the proof; `Ok(false)` when the second connector failed or a mutant survived.
pub fn run(root: &Path, args: &[String]) -> Result<bool> {
    let o = options(args)?;
    let bin = crate::build_harness(root, false)?;
    let out = bin
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join("conformance"))
        .unwrap_or_else(|| root.join("target/conformance"));
    std::fs::create_dir_all(&out)?;
    let script = root.join(CONNECTOR);
    let base = format!("{} {}", o.python, script.display());

    let reference = library(root, &bin, None, o.jobs, &out.join("reference.json"), true)?;
    let second = library(
        root,
        &bin,
        Some(&base),
        o.jobs,
        &out.join("second.json"),
        true,
    )?;
    println!(
        "second connector ({CONNECTOR}) under conformance: {} passed, {} failed, {:.1} s (the reference model in-process, exact: {} passed in {:.1} s)",
        second.passed, second.failed, second.seconds, reference.passed, reference.seconds
    );
    if !reference.verdict {
        bail!(
            "the reference model failed the library: {}",
            reference.reasons
        );
    }
    let mut ok = second.verdict && second.passed > 0;
    if let Some(f) = &second.first {
        println!("  first failure: {f}");
    }
    if !second.verdict {
        println!("  the second connector's run failed: {}", second.reasons);
    }

    let listed = Command::new(&o.python)
        .arg(&script)
        .arg("--list-mutants")
        .output()
        .context("listing the mutants")?;
    let mut mutants: Vec<(String, String)> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(n, d)| (n.trim().to_string(), d.trim().to_string()))
        .collect();
    if !o.only.is_empty() {
        mutants.retain(|(n, _)| o.only.contains(n));
    }
    if mutants.is_empty() {
        bail!("the second connector lists no mutants (--list-mutants)");
    }
    println!(
        "\n| mutant | bug | scenarios failed | the finding that names it |\n|---|---|---|---|"
    );
    let mut survivors = Vec::new();
    for (name, what) in &mutants {
        let cmd = format!("{base} --mutant {name}");
        let report = out.join(format!("mutant-{name}.json"));
        let run = library(root, &bin, Some(&cmd), o.jobs, &report, false)?;
        let markers = NAMED_BY
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| *m)
            .unwrap_or(&[]);
        let named = run
            .problems
            .iter()
            .find(|(_, p)| markers.is_empty() || markers.iter().any(|m| p.contains(m)))
            .map(|(scenario, p)| {
                let line = p.lines().next().unwrap_or_default();
                format!("{scenario}: {}", line.chars().take(150).collect::<String>())
            });
        let shown = match (&named, &run.first) {
            (Some(n), _) => n.clone(),
            (None, Some(f)) => format!("NOT NAMED (expected {}): {f}", markers.join(" or ")),
            (None, None) => "SURVIVED".into(),
        };
        println!(
            "| {name} | {what} | {} of {} | {} |",
            run.failed,
            run.failed + run.passed,
            shown.replace('|', "\\|")
        );
        if run.failed == 0 || named.is_none() {
            survivors.push(name.clone());
        }
    }
    if !survivors.is_empty() {
        println!(
            "\nsurvived or not named: {} (a mutant no finding names is a rule missing)",
            survivors.join(", ")
        );
        ok = false;
    } else {
        println!(
            "\nevery mutant was caught ({} of {})",
            mutants.len(),
            mutants.len()
        );
    }
    Ok(ok)
}
