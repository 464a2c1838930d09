//! The `run` command end to end: selection by shard, reports, and the failures it must catch
//! (a changed snapshot, an orphan snapshot).

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use connector_harness::cli::run::{load_all, select};
use connector_harness::cli::{Cli, Command as Sub};

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
        let (chosen, full) = select(load_all(&dir).expect("loads"), &args);
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
    assert_eq!(xml.matches("<testcase ").count(), 6, "{xml}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let list = report["scenarios"].as_array().unwrap();
    assert_eq!(list.len(), 6);
    assert!(list
        .iter()
        .all(|s| s["status"] == "passed" && s["event_count"].as_u64().unwrap() > 0));
    assert_eq!(report["coverage"]["matrix"].as_array().unwrap().len(), 48);
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
    assert!(
        err.contains("rerun: cargo xtask run-scenarios --filter pkcs-issue --seed 1"),
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
