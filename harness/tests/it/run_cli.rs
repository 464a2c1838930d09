//! The `run` command end to end: selection by shard, reports, and the failures it must catch
//! (a changed snapshot, an orphan snapshot).

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use connector_harness::{Cli, Command as Sub};
use harness_runner::run::schedule::select;
use harness_runner::scenario::load_all;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn harness(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .args(args)
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("the harness binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn shards_together_select_every_scenario_once() {
    let dir = root().join("scenarios");
    let all = load_all(&dir).expect("the library loads");
    let total = all.len();
    let mut seen: Vec<String> = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let cli = Cli::parse_from(["connector-harness", "run", "--shard", shard.as_str()]);
        let Sub::Run(args) = cli.command else {
            panic!("parsed as run")
        };
        let (chosen, full) = select(load_all(&dir).expect("loads"), &args.selection());
        assert!(
            !full && !chosen.is_empty(),
            "shard {shard} is a proper part"
        );
        seen.extend(chosen.into_iter().map(|l| l.scenario.name));
    }
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!(before, seen.len(), "no scenario runs in two shards");
    assert_eq!(seen.len(), total, "the shards cover the whole set");
}

#[test]
fn reports_have_one_entry_per_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("j.xml");
    let json = tmp.path().join("r.json");
    let scenarios = root().join("scenarios");
    let snapshots = root().join("snapshots");
    let (code, out, err) = harness(&[
        "run",
        "--scenarios",
        scenarios.to_str().unwrap(),
        "--snapshots",
        snapshots.to_str().unwrap(),
        "--filter",
        "pkcs-issue*",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("6 passed, 0 failed"), "{out}");
    assert!(out.contains("partial run: not gated"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("suite {name}:\n{xml}"))
    };
    let cases = |name: &str| {
        suite(name)
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .count()
    };
    assert_eq!(cases("scenarios"), 6, "{xml}");
    // The run's own checks: only the coverage gate, skipped in a partial run.
    assert_eq!(cases("run"), 1, "{xml}");
    assert!(xml.contains("<skipped message=\"partial run"), "{xml}");
    assert_eq!(report_verdict(&json), "passed");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let list = report["scenarios"].as_array().unwrap();
    assert_eq!(list.len(), 6);
    assert!(list
        .iter()
        .all(|s| s["status"] == "passed" && s["event_count"].as_u64().unwrap() > 0));
    assert_eq!(report["coverage"]["matrix"].as_array().unwrap().len(), 48);
}

fn report_verdict(json: &Path) -> String {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    report["verdict"].as_str().unwrap_or_default().to_string()
}

/// A copy of one scenario and its snapshot in a temporary tree.
fn one_scenario_tree(name: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let sc = tmp.path().join("scenarios");
    let sn = tmp.path().join("snapshots");
    std::fs::create_dir_all(&sc).unwrap();
    std::fs::create_dir_all(&sn).unwrap();
    std::fs::copy(
        root().join(format!("scenarios/{name}.yaml")),
        sc.join(format!("{name}.yaml")),
    )
    .unwrap();
    std::fs::copy(
        root().join(format!("snapshots/{name}.snap")),
        sn.join(format!("{name}.snap")),
    )
    .unwrap();
    (tmp, sc, sn)
}

#[test]
fn a_changed_snapshot_fails_with_a_diff_and_the_rerun_command() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    let snap = sn.join("pkcs-issue.snap");
    let text = std::fs::read_to_string(&snap)
        .unwrap()
        .replace("laptop-1", "laptop-2");
    std::fs::write(&snap, text).unwrap();
    let (code, out, err) = harness(&[
        "run",
        "--scenarios",
        sc.to_str().unwrap(),
        "--snapshots",
        sn.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("-  device_id: laptop-2") || err.contains("-    device_id: laptop-2"),
        "{err}"
    );
    // The rerun command names this run's own folders and the one scenario, by exact name.
    assert!(
        err.contains(&format!(
            "run --scenarios {} --snapshots {} --exact pkcs-issue --seed 1",
            sc.display(),
            sn.display()
        )),
        "{err}"
    );
    assert!(
        !sn.join("pkcs-issue.snap.new").exists(),
        "nothing is written in CI"
    );
}

#[test]
fn an_orphan_snapshot_fails_the_run() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    std::fs::write(sn.join("gone.snap"), "---\n---\n").unwrap();
    let (code, out, err) = harness(&[
        "run",
        "--scenarios",
        sc.to_str().unwrap(),
        "--snapshots",
        sn.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("snapshot with no scenario") && err.contains("gone.snap"),
        "{err}"
    );
}

#[test]
fn update_is_refused_in_ci() {
    let (code, _, err) = harness(&["run", "--update"]);
    assert_eq!(code, 2);
    assert!(err.contains("never written in CI"), "{err}");
}

#[test]
fn the_committed_schema_is_what_schema_prints() {
    let (code, out, _) = harness(&["schema"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(root().join("scenarios/scenario.schema.json")).unwrap();
    assert_eq!(
        out, committed,
        "regenerate: cargo run -p connector-harness -- schema > scenarios/scenario.schema.json"
    );
    let first_lines: Vec<String> = load_all(&root().join("scenarios"))
        .unwrap()
        .iter()
        .map(|l| {
            std::fs::read_to_string(&l.file)
                .unwrap()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        first_lines
            .iter()
            .all(|l| l == "# yaml-language-server: $schema=./scenario.schema.json"),
        "every scenario points editors at the schema"
    );
}

/// What one run of the binary left behind: exit code, output, and both reports when written.
struct Ran {
    code: i32,
    out: String,
    err: String,
    json: Option<serde_json::Value>,
    junit: Option<String>,
}

impl Ran {
    fn show(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- json\n{}\n--- junit\n{}",
            self.code,
            self.out,
            self.err,
            self.json
                .as_ref()
                .map(|j| serde_json::to_string_pretty(j).unwrap())
                .unwrap_or_default(),
            self.junit.clone().unwrap_or_default()
        )
    }

    /// The JSON report's reasons of `kind`.
    fn reasons(&self, kind: &str) -> Vec<serde_json::Value> {
        self.json
            .as_ref()
            .and_then(|j| j["reasons"].as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r["kind"] == kind)
            .collect()
    }

    /// Asserts exit ≠ 0, a failed verdict in the JSON report and failures in JUnit.
    fn assert_failed_everywhere(&self) {
        let shown = self.show();
        assert_ne!(self.code, 0, "{shown}");
        let json = self.json.as_ref().expect("a JSON report is written");
        assert_eq!(json["verdict"], "failed", "{shown}");
        assert!(
            !json["reasons"].as_array().expect("reasons").is_empty(),
            "{shown}"
        );
        let xml = self.junit.as_deref().expect("a JUnit report is written");
        let doc = roxmltree::Document::parse(xml).expect("JUnit parses");
        let failures: u64 = doc
            .root_element()
            .attribute("failures")
            .and_then(|f| f.parse().ok())
            .unwrap_or(0);
        assert!(failures > 0, "JUnit reports no failure:\n{shown}");
    }

    /// Whether JUnit has a failed test case whose name contains `needle`.
    fn junit_fails(&self, needle: &str) -> bool {
        let Some(xml) = self.junit.as_deref() else {
            return false;
        };
        let Ok(doc) = roxmltree::Document::parse(xml) else {
            return false;
        };
        doc.descendants().any(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name").is_some_and(|s| s.contains(needle))
                && n.children().any(|c| c.has_tag_name("failure"))
        })
    }
}

/// Runs the binary on `sc`/`sn` with both reports, `extra` arguments and `env`; kills it after
/// `limit` so a hanging run fails the test instead of hanging it.
fn run_tree(
    sc: &Path,
    sn: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
    limit: std::time::Duration,
) -> Ran {
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("out/report.json");
    let junit = reports.path().join("out/junit.xml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_connector-harness"));
    cmd.args(["run", "--scenarios"])
        .arg(sc)
        .arg("--snapshots")
        .arg(sn)
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .args(extra)
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the harness binary starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = read(Box::new(stdout));
    let err = read(Box::new(stderr));
    let started = std::time::Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the run did not end within {limit:?}\n{}",
                err.join().unwrap()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Ran {
        code,
        out: out.join().unwrap(),
        err: err.join().unwrap(),
        json: std::fs::read_to_string(&json)
            .ok()
            .map(|t| serde_json::from_str(&t).expect("the JSON report parses")),
        junit: std::fs::read_to_string(&junit).ok(),
    }
}

const LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Replaces the `steps:` line of a scenario file with `extra` followed by it.
fn insert_before_steps(file: &Path, extra: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("\nsteps:\n"));
    std::fs::write(
        file,
        text.replace("\nsteps:\n", &format!("\n{extra}\nsteps:\n")),
    )
    .unwrap();
}

#[test]
fn a_panicking_scenario_fails_the_run_and_both_reports() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    let ran = run_tree(
        &sc,
        &sn,
        &[],
        &[("HARNESS_TEST_PANIC", "pkcs-issue")],
        LIMIT,
    );
    ran.assert_failed_everywhere();
    let shown = ran.show();
    assert!(ran.out.contains("0 passed, 1 failed"), "{shown}");
    let failed = ran.reasons("scenario_failed");
    assert_eq!(failed.len(), 1, "{shown}");
    assert!(
        failed[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("panicked") && m.contains("HARNESS_TEST_PANIC")),
        "the panic's own message is in the report:\n{shown}"
    );
    assert!(ran.junit_fails("pkcs-issue"), "{shown}");
    let json = ran.json.as_ref().unwrap();
    assert_eq!(json["selected"], 1, "{shown}");
    assert_eq!(json["failed"], 1, "{shown}");
}

#[test]
fn a_failing_coverage_gate_fails_both_reports() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    let ran = run_tree(&sc, &sn, &[], &[], LIMIT);
    ran.assert_failed_everywhere();
    let shown = ran.show();
    assert_eq!(ran.code, 1, "{shown}");
    assert!(ran.out.contains("1 passed, 0 failed"), "{shown}");
    assert_eq!(ran.reasons("coverage_gap").len(), 44, "{shown}");
    assert!(ran.junit_fails("coverage-gate"), "{shown}");
}

#[test]
fn no_coverage_gate_turns_the_gate_off() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    let ran = run_tree(&sc, &sn, &["--no-coverage-gate"], &[], LIMIT);
    let shown = ran.show();
    assert_eq!(ran.code, 0, "{shown}");
    assert!(ran.out.contains("not gated"), "{shown}");
    let json = ran.json.as_ref().expect("JSON report");
    assert_eq!(json["verdict"], "passed", "{shown}");
    assert_eq!(json["reasons"].as_array().map(Vec::len), Some(0), "{shown}");
    assert!(!ran.junit_fails(""), "{shown}");
}

#[test]
fn an_orphan_snapshot_fails_both_reports() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    std::fs::write(sn.join("gone.snap"), "---\n---\n").unwrap();
    let ran = run_tree(&sc, &sn, &[], &[], LIMIT);
    ran.assert_failed_everywhere();
    let shown = ran.show();
    let orphans = ran.reasons("orphan_snapshot");
    assert_eq!(orphans.len(), 1, "{shown}");
    assert!(
        orphans[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("gone.snap")),
        "{shown}"
    );
    assert!(ran.junit_fails("gone.snap"), "{shown}");
}

#[test]
fn a_load_error_still_writes_both_reports() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    std::fs::write(
        sc.join("broken.yaml"),
        "name: broken\nsummary: s\nsteps:\n  - explode\n",
    )
    .unwrap();
    let ran = run_tree(&sc, &sn, &[], &[], LIMIT);
    ran.assert_failed_everywhere();
    let shown = ran.show();
    assert_eq!(ran.code, 2, "{shown}");
    let errors = ran.reasons("load_error");
    assert_eq!(errors.len(), 1, "{shown}");
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("broken.yaml:4:5") && m.contains("explode")),
        "{shown}"
    );
    assert!(ran.junit_fails("broken.yaml"), "{shown}");
}

#[test]
fn two_files_with_one_name_are_an_error_naming_both() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    std::fs::copy(sc.join("pkcs-issue.yaml"), sc.join("pkcs-issue.yml")).unwrap();
    let ran = run_tree(&sc, &sn, &[], &[], LIMIT);
    ran.assert_failed_everywhere();
    let shown = ran.show();
    assert_eq!(ran.code, 2, "{shown}");
    let clash = ran.reasons("duplicate_name");
    assert_eq!(clash.len(), 1, "{shown}");
    let m = clash[0]["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("pkcs-issue.yaml") && m.contains("pkcs-issue.yml"),
        "{shown}"
    );
    assert!(ran.err.contains("pkcs-issue.yml"), "{shown}");
}

#[test]
fn a_scenario_over_its_budget_fails_without_hanging() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    // A CA that never answers and a connector that waits 20 s for it: far over a 1 s budget.
    insert_before_steps(
        &sc.join("pkcs-issue.yaml"),
        "budget: 1s\nsetup: {connector: {timeout: 20s, retries: 0}}",
    );
    let text = std::fs::read_to_string(sc.join("pkcs-issue.yaml")).unwrap();
    std::fs::write(
        sc.join("pkcs-issue.yaml"),
        text.replace(
            "  - start\n",
            "  - start\n  - fault: {target: ca.issue, kind: hang}\n",
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let ran = run_tree(&sc, &sn, &["--no-coverage-gate"], &[], LIMIT);
    ran.assert_failed_everywhere();
    let shown = ran.show();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "the budget cut the run short: {:?}\n{shown}",
        started.elapsed()
    );
    let failed = ran.reasons("scenario_failed");
    assert_eq!(failed.len(), 1, "{shown}");
    assert!(
        failed[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("budget") && m.contains("1s")),
        "{shown}"
    );
}

#[test]
fn the_rerun_command_names_custom_folders_and_reruns_exactly_one_scenario() {
    let (_tmp, sc, sn) = one_scenario_tree("pkcs-issue");
    // A second scenario whose name contains the first: a substring filter would pick both.
    std::fs::copy(
        root().join("scenarios/pkcs-issue-ca-denied.yaml"),
        sc.join("pkcs-issue-ca-denied.yaml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("snapshots/pkcs-issue-ca-denied.snap"),
        sn.join("pkcs-issue-ca-denied.snap"),
    )
    .unwrap();
    let snap = sn.join("pkcs-issue.snap");
    let text = std::fs::read_to_string(&snap)
        .unwrap()
        .replace("laptop-1", "laptop-2");
    std::fs::write(&snap, text).unwrap();
    let ran = run_tree(&sc, &sn, &["--no-coverage-gate"], &[], LIMIT);
    let shown = ran.show();
    assert_eq!(ran.code, 1, "{shown}");
    let rerun = ran
        .err
        .lines()
        .find_map(|l| l.trim().strip_prefix("rerun: "))
        .unwrap_or_else(|| panic!("no rerun line:\n{shown}"))
        .to_string();
    assert!(
        rerun.contains(&format!("--scenarios {}", sc.display()))
            && rerun.contains(&format!("--snapshots {}", sn.display())),
        "{rerun}"
    );
    assert!(rerun.contains("--exact pkcs-issue"), "{rerun}");
    // The printed command, run as printed, reruns that one scenario and no other.
    let words: Vec<&str> = rerun.split_whitespace().collect();
    let out = Command::new(words[0])
        .args(&words[1..])
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("the rerun command runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 passed, 1 failed"), "{rerun}\n{stdout}");
}

#[test]
fn exact_selects_one_name() {
    let scenarios = root().join("scenarios");
    let snapshots = root().join("snapshots");
    let ran = run_tree(
        &scenarios,
        &snapshots,
        &["--exact", "pkcs-issue"],
        &[],
        LIMIT,
    );
    let shown = ran.show();
    assert_eq!(ran.code, 0, "{shown}");
    assert!(ran.out.contains("1 passed, 0 failed"), "{shown}");
}

/// Two causes share 20602 with 0x00000000: without the scenario of one of them the pairs are
/// all reached, but the gate, which counts causes too, fails.
#[test]
fn the_gate_counts_causes_not_only_pairs() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = tmp.path().join("scenarios");
    let sn = tmp.path().join("snapshots");
    std::fs::create_dir_all(&sc).unwrap();
    std::fs::create_dir_all(&sn).unwrap();
    for e in std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .flatten()
    {
        let p = e.path();
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.extension().is_some_and(|x| x == "yaml") && stem != "scep-notify-ca-denied" {
            std::fs::copy(&p, sc.join(p.file_name().unwrap())).unwrap();
            let snap = root().join(format!("snapshots/{stem}.snap"));
            std::fs::copy(&snap, sn.join(format!("{stem}.snap"))).unwrap();
        }
    }
    let ran = run_tree(&sc, &sn, &[], &[], LIMIT);
    let shown = ran.show();
    assert_eq!(ran.code, 1, "{shown}");
    assert!(
        ran.out.contains("coverage 48/48 pairs, 48/49 causes"),
        "{shown}"
    );
    assert!(ran.reasons("coverage_gap").is_empty(), "{shown}");
    let gaps = ran.reasons("cause_gap");
    assert_eq!(gaps.len(), 1, "{shown}");
    assert_eq!(gaps[0]["subject"], "NotifyCaDenied", "{shown}");
    assert!(ran.junit_fails("coverage-gate"), "{shown}");
}
