//! Every conformance rule can fail: a real run of a library scenario, judged clean, then one
//! mutation of its stream or of its world at a time, each caught by the rule it breaks. And
//! the other half: rewording every reason and adding every optional detail, over the whole
//! library, changes no verdict.

use std::path::{Path, PathBuf};

use harness_runner::catalog::{Detail, EventId as E};
use harness_runner::check::conformance::{judge, WorldRecord};
use harness_runner::event::EventRecord;
use harness_runner::run::{check::check, run_recorded, RunOptions, Status};
use harness_runner::scenario::{self, Scenario};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A passing run of `name`: its scenario, stream and world.
fn run(name: &str) -> (Scenario, Vec<EventRecord>, WorldRecord) {
    let file = root().join(format!("scenarios/{name}.yaml"));
    let scenario = scenario::load_file(&file).expect("loads");
    let options = RunOptions {
        ci: true,
        ..RunOptions::default()
    };
    let (outcome, recorded) = runtime().block_on(run_recorded(&scenario, &file, &options));
    assert_eq!(outcome.status, Status::Passed, "{:?}", outcome.problems);
    let world = recorded.expect("the world was set up").world;
    (scenario, outcome.events, world)
}

/// The rule ids broken by `records` in `world`.
fn broken(s: &Scenario, records: &[EventRecord], world: &WorldRecord) -> Vec<String> {
    check(records, &[], &s.expect, world)
        .iter()
        .map(|v| format!("{} | {v}", v.rule))
        .collect()
}

fn assert_caught(what: &str, rule: &str, found: &[String]) {
    assert!(
        found.iter().any(|f| f.starts_with(&format!("{rule} |"))),
        "{what}: expected rule {rule} to catch it; found {found:#?}"
    );
}

fn renumber(records: &mut [EventRecord]) {
    for (i, r) in records.iter_mut().enumerate() {
        r.sequence = i as u64 + 1;
    }
}

fn position(records: &[EventRecord], event: E) -> usize {
    records
        .iter()
        .position(|r| r.event == event)
        .unwrap_or_else(|| panic!("no {event} in the stream"))
}

#[test]
fn pkcs_rules_catch_their_mutants() {
    let (s, records, world) = run("pkcs-issue");
    assert!(broken(&s, &records, &world).is_empty());
    let issue = position(&records, E::PkcsCertIssueSuccess);
    let upload = position(&records, E::UploadSuccess);

    let mut m = records.clone();
    m[issue].details.insert(
        Detail::Thumbprint,
        "0123456789ABCDEF0123456789ABCDEF01234567",
    );
    let found = broken(&s, &m, &world);
    assert_caught("a thumbprint of no certificate", "pkcs.thumbprint", &found);
    assert!(
        found
            .iter()
            .any(|f| f.contains("matches no certificate the CA issued")
                && f.contains(&world.issued[0].thumbprint)),
        "{found:#?}"
    );

    let mut m = records.clone();
    m[issue].details.insert(Detail::DeviceId, "1-potpal");
    assert_caught("another device", "pkcs.values", &broken(&s, &m, &world));

    let mut m = records.clone();
    m.swap(issue, upload);
    renumber(&mut m);
    assert_caught(
        "upload event before the issue event",
        "request.order",
        &broken(&s, &m, &world),
    );

    let mut m = records.clone();
    m.remove(upload);
    renumber(&mut m);
    assert_caught(
        "no upload event",
        "upload.truthful",
        &broken(&s, &m, &world),
    );

    let mut m = records.clone();
    let mut failure = m[upload].clone();
    failure.event = E::UploadFailure;
    m.push(failure);
    renumber(&mut m);
    assert_caught(
        "an extra failure",
        "upload.truthful",
        &broken(&s, &m, &world),
    );

    let mut m = records.clone();
    m[issue]
        .details
        .insert(Detail::RequestId, "no-such-request");
    assert_caught(
        "an unknown request",
        "request.known",
        &broken(&s, &m, &world),
    );

    let mut m = records.clone();
    m[issue].details.remove(Detail::RequestId);
    assert_caught("no request_id", "details.required", &broken(&s, &m, &world));

    let mut m = records.clone();
    m[upload]
        .details
        .insert(Detail::UploadState, "uploaded-ish");
    assert_caught("a made-up state", "details.value", &broken(&s, &m, &world));

    let mut m = records.clone();
    m[issue].details.insert(Detail::CaName, "SOME-OTHER-CA");
    assert_caught("another CA", "pkcs.values", &broken(&s, &m, &world));

    // Intune's ledger says the result came twice: the exactly-once rule.
    let mut w = world.clone();
    w.intune.ledger[0].duplicates = 1;
    assert_caught(
        "a duplicated upload",
        "intune.exactly-once",
        &broken(&s, &records, &w),
    );
}

#[test]
fn a_thumbprint_of_another_certificate_says_whose_it_is() {
    let (s, records, world) = run("story-day-in-the-life");
    let issues: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.event == E::PkcsCertIssueSuccess)
        .map(|(i, _)| i)
        .collect();
    if issues.len() < 2 {
        panic!("story-day-in-the-life issues fewer than two certificates");
    }
    let mut m = records.clone();
    let other = m[issues[1]]
        .details
        .get(Detail::Thumbprint)
        .unwrap()
        .to_string();
    m[issues[0]].details.insert(Detail::Thumbprint, other);
    let found = broken(&s, &m, &world);
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("pkcs.thumbprint |") && f.contains("issued for request")),
        "{found:#?}"
    );
}

#[test]
fn lifecycle_rules_catch_their_mutants() {
    let (s, records, world) = run("lifecycle-start-stop");
    assert!(broken(&s, &records, &world).is_empty());
    let mut m = records.clone();
    m.remove(position(&records, E::StoppedConnectorService));
    renumber(&mut m);
    assert_caught("no stop event", "lifecycle.stop", &broken(&s, &m, &world));

    let mut m = records.clone();
    m.remove(position(&records, E::StartedConnectorService));
    renumber(&mut m);
    assert_caught("no start event", "lifecycle.start", &broken(&s, &m, &world));

    let mut m = records.clone();
    let mut late = m[0].clone();
    late.event = E::DownloadFailure;
    late.details.insert(Detail::RequestKind, "pkcs");
    m.push(late);
    renumber(&mut m);
    assert_caught(
        "an event after the stop event",
        "lifecycle.stop",
        &broken(&s, &m, &world),
    );
}

#[test]
fn revocation_rules_catch_their_mutants() {
    let (s, records, world) = run("revoke");
    assert!(broken(&s, &records, &world).is_empty());
    let at = position(&records, E::RevokeCertSuccess);

    let mut m = records.clone();
    m[at].event = E::RevokeCertFailure;
    assert_caught(
        "a failure written for a revocation that succeeded",
        "revoke.truthful",
        &broken(&s, &m, &world),
    );

    let mut m = records.clone();
    m[at].details.insert(Detail::SerialNumber, "0BADC0DE");
    let found = broken(&s, &m, &world);
    assert_caught("another serial", "revoke.values", &found);
    assert_caught("another serial", "revoke.truthful", &found);
}

#[test]
fn scep_rules_catch_their_mutants() {
    let (s, records, world) = run("scep-enroll");
    assert!(broken(&s, &records, &world).is_empty());
    let verify = position(&records, E::CrpVerifyMetricSuccess);
    let notify = position(&records, E::CrpNotifyMetricSuccess);

    let mut m = records.clone();
    m.remove(notify);
    renumber(&mut m);
    assert_caught("no notify event", "scep.notify", &broken(&s, &m, &world));

    let mut m = records.clone();
    m.swap(verify, notify);
    renumber(&mut m);
    assert_caught(
        "notify before verify",
        "scep.order",
        &broken(&s, &m, &world),
    );

    let mut w = world.clone();
    for v in &mut w.intune.validations {
        v.code = "ChallengeExpired".into();
    }
    assert_caught(
        "allowed what Intune refused",
        "scep.decision",
        &broken(&s, &records, &w),
    );

    let mut w = world.clone();
    w.intune.notifications.clear();
    assert_caught(
        "20600 without a recorded notification",
        "scep.notify",
        &broken(&s, &records, &w),
    );

    let mut m = records.clone();
    m[verify].details.insert(Detail::DeviceId, "someone-else");
    assert_caught("another device", "scep.values", &broken(&s, &m, &world));

    let mut m = records.clone();
    m.push(m[verify].clone());
    renumber(&mut m);
    assert_caught("verified twice", "scep.verify", &broken(&s, &m, &world));
}

#[test]
fn the_renewal_rule_catches_another_certificate() {
    let (s, records, world) = run("registration-renewal");
    assert!(broken(&s, &records, &world).is_empty());
    let at = position(&records, E::CertificateRenewalSuccess);
    let mut m = records.clone();
    m[at].details.insert(
        Detail::Thumbprint,
        "FEDCBA9876543210FEDCBA9876543210FEDCBA98",
    );
    assert_caught(
        "another certificate",
        "registration.renewal",
        &broken(&s, &m, &world),
    );
    let mut m = records.clone();
    m[at]
        .details
        .insert(Detail::NotAfter, "2030-01-01T00:00:00Z");
    assert_caught(
        "another expiry",
        "registration.renewal",
        &broken(&s, &m, &world),
    );
}

/// What the contract leaves free changes no verdict: every reason reworded with the vendor's
/// own words, `attempts` added wherever an event may carry it and does not, and the stream
/// judged again, for every scenario in the library.
#[test]
fn rewording_and_optional_details_change_no_verdict() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 60, "the library is there");
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_string();
        let (s, records, world) = run(&name);
        let mut m = records.clone();
        for r in &mut m {
            if let Some(reason) = r.details.get(Detail::Reason).map(str::to_string) {
                r.details.insert(
                    Detail::Reason,
                    format!("Contoso connector: {reason} (see our KB)"),
                );
            }
            if r.event.carries(Detail::Attempts) && r.details.get(Detail::Attempts).is_none() {
                r.details.insert(Detail::Attempts, "1");
            }
        }
        let found = broken(&s, &m, &world);
        assert!(found.is_empty(), "{name}: {found:#?}");
        // The stream alone (a log checked without its world) is judged the same way.
        assert!(judge(&m, None, false).is_empty(), "{name}");

        // And the other way: every optional detail left out (but `reason` and `attempts`,
        // which a scenario may ask for by name).
        let mut bare = records.clone();
        for r in &mut bare {
            let optional: Vec<Detail> = r
                .details
                .iter()
                .map(|(d, _)| d)
                .filter(|d| {
                    !r.event.required_details().contains(d)
                        && !matches!(d, Detail::Reason | Detail::Attempts)
                })
                .collect();
            for d in optional {
                r.details.remove(d);
            }
        }
        let found = broken(&s, &bare, &world);
        assert!(
            found.is_empty(),
            "{name} without optional details: {found:#?}"
        );
    }
}

/// Runs a scenario written here (not in the library) and returns its findings.
fn run_text(yaml: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = yaml
        .lines()
        .find_map(|l| l.strip_prefix("name: "))
        .expect("a name");
    let file = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).expect("write");
    let scenario = scenario::load_file(&file).expect("loads");
    let options = RunOptions {
        ci: true,
        ..RunOptions::default()
    };
    let (outcome, _) = runtime().block_on(run_recorded(&scenario, &file, &options));
    outcome.problem_lines()
}

/// Correct behaviour the contract must not fail: a fault that answers validation is Intune's
/// answer as far as the connector can tell; a request whose device nothing names still gets
/// its 20502; a stop and a restart.
#[test]
fn correct_behaviour_at_the_edges_passes() {
    let problems = run_text(
        "name: allowed-by-a-fault\nsummary: s\nsteps:\n  - start\n  - fault: {target: intune.validate, kind: answer, code: Success}\n  - enroll: {device: phone-1, user: bob@contoso.test, challenge: valid, message: valid}\n",
    );
    assert!(problems.is_empty(), "{problems:#?}");
    let problems = run_text(
        "name: restarted\nsummary: s\nsteps:\n  - start\n  - stop\n  - start\n  - queue_pkcs: {device: laptop-1, user: alice@contoso.test, template: IntuneUser}\n  - sync\n  - stop\n",
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

/// `run` and `check --scenario --world` judge with the same code: on the very events and world
/// a run recorded, they agree, scenario by scenario, for the whole library and for a faulty
/// connector.
#[test]
fn run_and_check_agree_on_the_same_events() {
    let bin = env!("CARGO_BIN_EXE_connector-harness");
    let scratch = tempfile::tempdir().expect("tempdir");
    for (label, connector) in [
        ("reference", None),
        (
            "upload-twice",
            Some(format!(
                "{bin} connector --bug upload-twice --bug wrong-code"
            )),
        ),
    ] {
        let dir = scratch.path().join(label);
        let report = scratch.path().join(format!("{label}.json"));
        let mut cmd = std::process::Command::new(bin);
        cmd.current_dir(root())
            .args([
                "run",
                "--verdict",
                "conformance",
                "--no-coverage-gate",
                "--jobs",
                "2",
            ])
            .arg("--record")
            .arg(&dir)
            .arg("--json")
            .arg(&report)
            .env("CI", "true")
            .env("NO_COLOR", "1");
        if let Some(c) = &connector {
            cmd.args(["--connector-cmd", c]);
        }
        let out = cmd.output().expect("run");
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
        assert_eq!(report["level"], "conformance");
        let scenarios = report["scenarios"].as_array().expect("scenarios");
        assert!(
            scenarios.len() >= 60,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut failed = 0;
        for s in scenarios {
            let name = s["name"].as_str().expect("name");
            let mut run_rules: Vec<String> = s["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
                .collect();
            run_rules.sort();
            run_rules.dedup();
            let checked = std::process::Command::new(bin)
                .current_dir(root())
                .args(["check", "--json", "--scenario", name, "--events"])
                .arg(dir.join(format!("{name}.events.jsonl")))
                .arg("--world")
                .arg(dir.join(format!("{name}.world.json")))
                .output()
                .expect("check");
            let verdict: serde_json::Value =
                serde_json::from_slice(&checked.stdout).expect("check --json");
            let mut check_rules: Vec<String> = verdict["verdict"]["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| match f["kind"].as_str() {
                    Some("contract") => f["rule"].as_str().unwrap_or_default().to_string(),
                    Some("missing" | "out_of_order" | "wrong_code" | "wrong_detail") => {
                        "expect.sequence".into()
                    }
                    Some("unexpected") => "expect.absent".into(),
                    other => format!("catalog ({other:?})"),
                })
                .collect();
            check_rules.sort();
            check_rules.dedup();
            let run_passed = s["status"] == "passed";
            if !run_passed {
                failed += 1;
            }
            // A run can fail for a reason outside the stream (a step the connector could not
            // carry out); on the stream both judge alike.
            assert_eq!(
                run_rules, check_rules,
                "{label} {name}: run and check disagree"
            );
            if run_rules.is_empty() {
                assert_eq!(
                    verdict["passed"], run_passed,
                    "{label} {name}: run and check disagree on the verdict"
                );
            }
        }
        match label {
            "reference" => assert_eq!(failed, 0, "the reference passes the contract"),
            _ => assert!(failed > 0, "the faulty connector fails somewhere"),
        }
    }
}

/// `docs/conformance.md` lists every rule the checker has, by id, with its source.
#[test]
fn the_conformance_doc_lists_every_rule() {
    let doc = std::fs::read_to_string(root().join("docs/conformance.md")).expect("the doc");
    for rule in harness_runner::check::conformance::Rule::ALL {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", rule.id())))
            .unwrap_or_else(|| panic!("docs/conformance.md has no row for `{}`", rule.id()));
        let source = match rule.source() {
            harness_runner::check::conformance::Source::Seed => "seed",
            harness_runner::check::conformance::Source::MicrosoftDocs => "Microsoft",
            harness_runner::check::conformance::Source::RealService => "real service",
            harness_runner::check::conformance::Source::Harness => "harness",
        };
        assert!(
            row.rsplit('|').nth(1).is_some_and(|s| s.contains(source)),
            "the row of `{}` names another source than {source}: {row}",
            rule.id()
        );
    }
}
