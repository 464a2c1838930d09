//! Vendor mode: the scenario library driven through an outside connector process.
//!
//! - Every library scenario gives the same stream, byte for byte, through
//!   `connector-harness connector` as in-process: the protocol carries everything a scenario
//!   does.
//! - The faulty example connector (`--bug`) is failed with a verdict naming each bug.
//! - A process that crashes, hangs or writes garbage fails its scenario with its stderr, and
//!   the run ends.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness_runner::run::under_test::Choice;
use harness_runner::run::{run_scenario, Outcome, RunOptions, Status};
use harness_runner::scenario;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn binary() -> String {
    env!("CARGO_BIN_EXE_connector-harness").to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn run_file(file: &Path, choice: Choice) -> Outcome {
    let scenario = scenario::load_file(file).expect("scenario loads");
    let options = RunOptions {
        ci: true,
        connector: choice,
        ..RunOptions::default()
    };
    runtime().block_on(run_scenario(&scenario, file, &options))
}

fn library() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_library_scenario_is_byte_identical_through_the_reference_binary() {
    let process = Choice::Command(format!("{} connector", binary()));
    let mut differ = Vec::new();
    for file in library() {
        let inside = run_file(&file, Choice::Reference);
        let outside = run_file(&file, process.clone());
        assert_eq!(
            inside.status,
            Status::Passed,
            "{}: {:?}",
            inside.name,
            inside.problems
        );
        assert_eq!(
            outside.status,
            Status::Passed,
            "{}: {:?}",
            outside.name,
            outside.problems
        );
        if harness_runner::event::to_yaml(&inside.events)
            != harness_runner::event::to_yaml(&outside.events)
        {
            differ.push(inside.name.clone());
        }
        assert_eq!(inside.causes, outside.causes, "{}: causes", inside.name);
    }
    assert!(
        differ.is_empty(),
        "streams differ through the process: {differ:?}"
    );
}

fn faulty(bug: &str, scenario: &str) -> Outcome {
    let file = root().join(format!("scenarios/{scenario}.yaml"));
    let outcome = run_file(
        &file,
        Choice::Command(format!("{} connector --bug {bug}", binary())),
    );
    assert_eq!(outcome.status, Status::Failed, "{bug} on {scenario} passed");
    outcome
}

#[test]
fn the_faulty_connector_is_failed_for_each_of_its_bugs() {
    let twice = faulty("upload-twice", "upload");
    assert!(
        twice
            .problem_lines()
            .iter()
            .any(|p| p.starts_with("[intune.exactly-once]")
                && p.contains("found duplicated: PKCS request")
                && p.contains("uploaded 1 more time(s)")),
        "{:#?}",
        twice.problems
    );
    let lost = faulty("lose-one", "upload");
    assert!(
        lost.problem_lines()
            .iter()
            .any(|p| p.starts_with("[intune.exactly-once]")
                && p.contains("found lost: PKCS request")
                && p.contains("(still queued)")),
        "{:#?}",
        lost.problems
    );
    let wrong = faulty("wrong-code", "pkcs-issue-ca-unavailable");
    assert!(
        wrong
            .problem_lines()
            .iter()
            .any(|p| p.starts_with("[expect.sequence]")
                && p.contains("carries 0x0FFFFFFF Unknown_Error")
                && p.contains("expects 0x00000400 PKCS_Issue_CA_Unavailable")),
        "{:#?}",
        wrong.problems
    );
}

/// Runs `scenarios/upload.yaml` with a connector that misbehaves; returns the outcome and how
/// long it took.
fn misbehaving(command: &str) -> (Outcome, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(root().join("scenarios/upload.yaml"))
        .expect("upload.yaml")
        .replace(
            "steps:",
            "setup:\n  connector: {timeout: 100ms, retries: 0}\nsteps:",
        );
    let file = dir.path().join("upload.yaml");
    std::fs::write(&file, text).expect("write");
    let started = Instant::now();
    let outcome = run_file(&file, Choice::Command(command.into()));
    (outcome, started.elapsed())
}

#[test]
fn a_crashing_hanging_or_babbling_connector_fails_with_its_stderr() {
    let (crashed, _) = misbehaving("echo 'TEST-ONLY boom: cannot load my config' >&2; exit 3");
    assert_eq!(crashed.status, Status::Failed);
    let text = crashed.problem_lines().join("\n");
    assert!(text.contains("TEST-ONLY boom"), "{text}");

    let (garbage, _) = misbehaving(
        r#"read l; echo '{"type":"init_ok","in_reply_to":1}'; read l; echo 'hello, harness'; echo 'TEST-ONLY confused' >&2; sleep 30"#,
    );
    assert_eq!(garbage.status, Status::Failed);
    let text = garbage.problem_lines().join("\n");
    assert!(
        text.contains("not a protocol message") && text.contains("hello, harness"),
        "{text}"
    );

    let (hung, took) = misbehaving(
        r#"read l; echo '{"type":"init_ok","in_reply_to":1}'; echo 'TEST-ONLY waiting forever' >&2; sleep 600"#,
    );
    assert_eq!(hung.status, Status::Failed);
    let text = hung.problem_lines().join("\n");
    assert!(
        text.contains("did not answer `start`") && text.contains("TEST-ONLY waiting forever"),
        "{text}"
    );
    assert!(
        took < Duration::from_secs(30),
        "a hung connector held the run for {took:?}"
    );
}

/// A failure's rerun command drives the same connector: run as printed, it fails the same way.
#[test]
fn the_rerun_command_keeps_the_connector_under_test() {
    let tmp = tempfile::tempdir().unwrap();
    let (sc, sn) = (tmp.path().join("scenarios"), tmp.path().join("snapshots"));
    std::fs::create_dir_all(&sc).unwrap();
    std::fs::create_dir_all(&sn).unwrap();
    for (dir, from, ext) in [(&sc, "scenarios", "yaml"), (&sn, "snapshots", "snap")] {
        std::fs::copy(
            root().join(format!("{from}/pkcs-issue.{ext}")),
            dir.join(format!("pkcs-issue.{ext}")),
        )
        .unwrap();
    }
    let command = format!("{} connector --bug lose-one", binary());
    let out = std::process::Command::new(binary())
        .args(["run", "--no-coverage-gate", "--connector-cmd", &command])
        .arg("--scenarios")
        .arg(&sc)
        .arg("--snapshots")
        .arg(&sn)
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let rerun = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("rerun: "))
        .unwrap_or_else(|| panic!("no rerun line:\n{err}"));
    assert!(
        rerun.contains(&format!("--connector-cmd '{command}'")),
        "{rerun}"
    );
    let again = std::process::Command::new("sh")
        .args(["-c", rerun])
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(1), "{rerun}\n{stdout}");
    assert!(stdout.contains("0 passed, 1 failed"), "{rerun}\n{stdout}");
}

/// A connector behind a shell pipeline (a wrapper that logs or transforms its input) exits once
/// its input ends: the harness closes the process's stdin after `shutdown_ok`.
#[test]
fn a_connector_behind_a_pipeline_is_shut_down_by_closing_its_input() {
    let tmp = tempfile::tempdir().unwrap();
    let seen = tmp.path().join("to-connector.jsonl");
    let command = format!("tee {} | {} connector", seen.display(), binary());
    let (outcome, took) = {
        let started = Instant::now();
        let o = run_file(
            &root().join("scenarios/scep-enroll.yaml"),
            Choice::Command(command),
        );
        (o, started.elapsed())
    };
    assert_eq!(outcome.status, Status::Passed, "{:?}", outcome.problems);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let log = std::fs::read_to_string(&seen).unwrap();
    assert!(
        log.lines()
            .last()
            .is_some_and(|l| l.contains(r#""type":"shutdown""#)),
        "{log}"
    );
}

/// A protocol violation fails the scenario at once, naming what came and with the stderr tail:
/// never a wait for the budget.
#[test]
fn a_protocol_violation_fails_at_once_with_what_happened() {
    let init = r#"read l; echo '{"type":"init_ok","in_reply_to":1}'"#;
    let (twice, took) = misbehaving(&format!(
        r#"{init}; read l; echo 'TEST-ONLY answering twice' >&2; echo '{{"type":"start_ok","in_reply_to":2}}'; echo '{{"type":"start_ok","in_reply_to":2}}'; sleep 30"#
    ));
    assert_eq!(twice.status, Status::Failed);
    let text = twice.problem_lines().join("\n");
    assert!(
        text.contains("protocol violation")
            && text.contains("`start_ok` (in reply to request 2)")
            && text.contains("not waiting")
            && text.contains("TEST-ONLY answering twice"),
        "{text}"
    );
    assert!(
        took < Duration::from_secs(20),
        "a stray reply held the run for {took:?}"
    );

    let (wrong, took) = misbehaving(&format!(
        r#"{init}; read l; echo '{{"type":"stop_ok","in_reply_to":2}}'; sleep 30"#
    ));
    let text = wrong.problem_lines().join("\n");
    assert!(
        text.contains("answered `start` with `stop_ok` (in reply to request 2)")
            && !text.contains("StopOk"),
        "{text}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
}

/// Anything written after `shutdown_ok` fails the scenario.
#[test]
fn an_event_after_shutdown_ok_fails_the_scenario() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("started.yaml");
    std::fs::write(
        &file,
        "name: started\nsummary: The connector starts.\nsteps: [start]\n",
    )
    .expect("write");
    let command = r#"read l; echo '{"type":"init_ok","in_reply_to":1}'; read l; echo '{"type":"event","event_id":10010,"code":"0x0"}'; echo '{"type":"start_ok","in_reply_to":2}'; read l; echo '{"type":"shutdown_ok","in_reply_to":3}'; echo '{"type":"event","event_id":10020,"code":"0x0"}'"#;
    let started = Instant::now();
    let outcome = run_file(&file, Choice::Command(command.into()));
    let text = outcome.problem_lines().join("\n");
    assert_eq!(outcome.status, Status::Failed, "{text}");
    assert!(
        text.contains("protocol violation") && text.contains("`event` after `shutdown_ok`"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A vendor records its own connector's snapshots into its own folder at the conformance level,
/// then enforces them with `--verdict exact`: the same connector passes, a changed one fails
/// with the diff. The JSON report carries the level.
#[test]
fn a_vendor_records_and_enforces_its_own_snapshots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snaps = dir.path().join("my-snaps");
    let report = dir.path().join("report.json");
    let run = |connector: &str, extra: &[&str]| {
        std::process::Command::new(binary())
            .current_dir(root())
            .args([
                "run",
                "--exact",
                "pkcs-issue-ca-unavailable",
                "--connector-cmd",
                connector,
            ])
            .arg("--snapshots")
            .arg(&snaps)
            .arg("--json")
            .arg(&report)
            .args(extra)
            .env_remove("CI")
            .env("NO_COLOR", "1")
            .output()
            .expect("run")
    };
    let good = format!("{} connector", binary());
    let recorded = run(&good, &["--update"]);
    assert_eq!(
        recorded.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    assert!(snaps.join("pkcs-issue-ca-unavailable.snap").exists());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    assert_eq!(json["level"], "conformance");

    let enforced = run(&good, &["--verdict", "exact"]);
    assert_eq!(
        enforced.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&enforced.stdout)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    assert_eq!(json["level"], "exact");

    // Another connector: the stream differs from the vendor's record.
    let other = format!("{} connector --bug wrong-code", binary());
    let changed = run(&other, &["--verdict", "exact"]);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&changed.stdout),
        String::from_utf8_lossy(&changed.stderr)
    );
    assert_eq!(changed.status.code(), Some(1), "{out}");
    assert!(out.contains("the event stream differs from"), "{out}");
}

/// An `error` reply fails the scenario with the connector's own words.
#[test]
fn an_error_reply_fails_the_scenario_with_its_text() {
    let (refused, took) = misbehaving(
        r#"read l; echo '{"type":"init_ok","in_reply_to":1}'; read l; echo '{"type":"error","in_reply_to":2,"text":"TEST-ONLY cannot start: no licence"}'; sleep 30"#,
    );
    assert_eq!(refused.status, Status::Failed);
    let text = refused.problem_lines().join("\n");
    assert!(
        text.contains("could not do request 2: TEST-ONLY cannot start: no licence"),
        "{text}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
}

/// A connector that names no device on its verify and notify events (`device_id` is optional
/// there) still has its concurrent enrollments placed in a deterministic stream, by their
/// transaction ids, and passes the storm under the contract.
#[test]
fn concurrent_enrollments_are_placed_by_transaction_without_a_device_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shim = dir.path().join("strip.py");
    std::fs::write(
        &shim,
        r#"import json, os, subprocess, sys, threading
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def pump():
    for line in sys.stdin.buffer:
        p.stdin.write(line); p.stdin.flush()
    p.stdin.close()
threading.Thread(target=pump, daemon=True).start()
for line in p.stdout:
    m = json.loads(line)
    if m.get("type") == "event" and m.get("event_id") in (20500, 20501, 20502, 20600, 20602):
        m.get("details", {}).pop("device_id", None)
        line = (json.dumps(m) + "\n").encode()
    sys.stdout.buffer.write(line); sys.stdout.buffer.flush()
# os._exit, not sys.exit: the pump thread may still hold stdin's lock, and interpreter shutdown
# with a daemon thread inside a buffered read aborts the process (exit 134).
os._exit(p.wait())
"#,
    )
    .expect("shim");
    let file = root().join("scenarios/story-enrollment-storm.yaml");
    let scenario = scenario::load_file(&file).expect("loads");
    let options = RunOptions {
        ci: true,
        level: harness_runner::run::Level::Conformance,
        connector: Choice::Command(format!("python3 {} {} connector", shim.display(), binary())),
        ..RunOptions::default()
    };
    let outcome = runtime().block_on(run_scenario(&scenario, &file, &options));
    assert_eq!(outcome.status, Status::Passed, "{:#?}", outcome.problems);
}
