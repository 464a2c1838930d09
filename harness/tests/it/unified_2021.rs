//! Profile `unified-2021` (issue 16): the 2021+ Certificate Connector's events in the catalog,
//! `explain` and `check`, and the reference connector writing them. Each check of `check` is
//! shown failing on a log that breaks it (a tampered export), not only passing on a good one.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::common::{harness, root, stream};
use harness_runner::catalog::unified::{Area, Basis, Channel, UnifiedEvent, UNIFIED_EVENTS};
use harness_runner::catalog::{Detail, Profile};
use harness_runner::check::unified::{
    check_log, judge_items, LogVerdict, ProfileVerdict, SupportRule, UnifiedFinding,
};
use harness_runner::check::CheckOptions;
use harness_runner::connector::dialect::translate;
use harness_runner::event::unified::{
    evtx_json::write_evtx_json, scan_evtx_rendered, write_unified_xml, UnifiedRecord,
    UnifiedXmlForm,
};
use harness_runner::event::{self, Details, EventRecord, XmlForm, XmlLayout};
use harness_runner::run::{run_scenario, RunOptions, Status};
use harness_runner::scenario;

/// The library scenarios that keep a second snapshot in the 2021 dialect.
const DIALECT_SCENARIOS: [&str; 5] = [
    "pkcs-issue-ca-unavailable",
    "revoke",
    "scep-enroll",
    "scep-notify-error",
    "scep-notify-retried",
];

/// A library scenario's legacy stream, from a real run (cached).
fn events_of(name: &str) -> Vec<EventRecord> {
    static RUNS: OnceLock<Mutex<BTreeMap<String, Vec<EventRecord>>>> = OnceLock::new();
    let runs = RUNS.get_or_init(|| Mutex::new(BTreeMap::new()));
    if let Some(e) = runs.lock().unwrap().get(name) {
        return e.clone();
    }
    let file = root().join(format!("scenarios/{name}.yaml"));
    let loaded = scenario::load_file(&file).expect("loads");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let options = RunOptions {
        ci: true,
        ..RunOptions::default()
    };
    let outcome = runtime.block_on(run_scenario(&loaded, &file, &options));
    assert_eq!(
        outcome.status,
        Status::Passed,
        "{name}: {:?}",
        outcome.problems
    );
    runs.lock()
        .unwrap()
        .insert(name.to_string(), outcome.events.clone());
    outcome.events
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn check_path(path: &Path) -> LogVerdict {
    check_log(path, None, &CheckOptions::default()).expect("checks")
}

/// The findings as (label, event id) pairs, in order.
fn found(v: &ProfileVerdict) -> Vec<(&'static str, u16)> {
    v.findings
        .iter()
        .map(|f| {
            let id = match f {
                UnifiedFinding::Failure { event, .. }
                | UnifiedFinding::NeverConcluded { event, .. }
                | UnifiedFinding::WrongChannel { event, .. }
                | UnifiedFinding::WrongLevel { event, .. } => event.id(),
                UnifiedFinding::UnknownEvent { id, .. } => id.parse().unwrap_or(0),
                _ => 0,
            };
            (f.label(), id)
        })
        .collect()
}

/// What each dialect scenario caused, as support tools count it.
fn expected_failures(name: &str) -> Vec<(&'static str, u16)> {
    match name {
        "pkcs-issue-ca-unavailable" => vec![
            ("operational", 1051),
            ("operational", 1051),
            ("operational", 1052),
            ("admin failure", 1001),
        ],
        "scep-notify-error" => vec![
            ("operational", 4009),
            ("operational", 4009),
            ("admin failure", 4002),
        ],
        "scep-notify-retried" => vec![("operational", 4009)],
        "revoke" | "scep-enroll" => vec![],
        other => panic!("no expectation for {other}"),
    }
}

/// An NDES event as the Application log holds it beside the connector's.
const NDES: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-NetworkDeviceEnrollmentService' Guid='{6F8C5F39-6D5C-4F3A-8C1E-0B4E1D3C9A01}'/><EventID>29</EventID><Version>0</Version><Level>2</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2026-01-01T00:00:00.0000000Z'/><EventRecordID>900</EventRecordID><Correlation/><Execution ProcessID='0' ThreadID='0'/><Channel>Application</Channel><Computer>ndes01.harness.test</Computer><Security/></System><EventData><Data>The password in the certificate request cannot be verified.</Data></EventData></Event>";

#[test]
fn the_catalog_profile_lists_62_with_microsofts_names() {
    let (code, out, err) = harness(&["catalog", "--profile", "unified-2021", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let events = json["events"].as_array().expect("events");
    assert_eq!(events.len(), 62);
    let by_id = |id: u64| events.iter().find(|e| e["id"] == id).expect("listed");
    assert_eq!(by_id(4000)["name"], "ScrepRequestSuccess");
    assert_eq!(
        by_id(4000)["channel"],
        "Microsoft-Intune-CertificateConnectors/Admin"
    );
    assert_eq!(
        by_id(4005)["channel"],
        "Microsoft-Intune-CertificateConnectors/Operational"
    );
    assert_eq!(by_id(1051)["level"], "Warning");
    assert_eq!(by_id(1051)["level_basis"], "published");
    assert_eq!(by_id(4005)["level_basis"], "inferred");
    assert_eq!(by_id(2)["channel_basis"], "inferred");
    assert_eq!(by_id(2)["source"], "support_wiki");
    assert_eq!(by_id(3032)["name"], "RevokeDigicertRequest");
    assert_eq!(by_id(2202)["range"], "2000-2999");
    for e in events {
        assert!(
            e["description"].as_str().is_some_and(|d| d.len() > 10),
            "{e}"
        );
        assert!(e["check"].as_str().is_some_and(|d| !d.is_empty()), "{e}");
    }
    // Text and Markdown name all 62 too.
    for format in ["table", "markdown"] {
        let (code, out, _) = harness(&["catalog", "--profile", "unified-2021", "--format", format]);
        assert_eq!(code, 0);
        assert!(out.contains("62 events"), "{out}");
        for e in UNIFIED_EVENTS.iter() {
            assert!(out.contains(e.name), "{format}: {}", e.name);
        }
    }
}

#[test]
fn the_seeds_catalog_is_the_default_and_unchanged() {
    let (_, default, _) = harness(&["catalog", "--format", "json"]);
    let (_, legacy, _) = harness(&["catalog", "--profile", "legacy", "--format", "json"]);
    assert_eq!(default, legacy);
    let json: serde_json::Value = serde_json::from_str(&default).unwrap();
    assert_eq!(json["events"].as_array().unwrap().len(), 19);
    assert_eq!(json["codes"].as_array().unwrap().len(), 12);
    assert_eq!(json["pairs"].as_array().unwrap().len(), 48);
    assert!(!default.contains("unified"), "{default}");
}

#[test]
fn explain_answers_every_id_and_name_of_the_profile() {
    for e in UNIFIED_EVENTS.iter() {
        for term in [e.id.to_string(), e.name.to_string()] {
            let out = connector_harness::explain(std::slice::from_ref(&term))
                .unwrap_or_else(|err| panic!("{term}: {err}"));
            assert!(
                out.contains(&format!("{} {}", e.id, e.name)),
                "{term}: {out}"
            );
            assert!(out.contains("profile unified-2021"), "{term}: {out}");
            assert!(out.contains(e.channel.log_name()), "{term}: {out}");
            assert!(out.contains("What to check:"), "{term}: {out}");
            assert!(
                out.contains("legacy events it corresponds to"),
                "{term}: {out}"
            );
            let level = match e.level_basis {
                Basis::Published => "published)",
                Basis::Inferred => "inferred from the name",
            };
            assert!(out.contains(level), "{term}: {out}");
        }
    }
}

#[test]
fn explain_names_the_legacy_events_and_the_scenario() {
    let out = connector_harness::explain(&["ScepVerifyFailure".into()]).unwrap();
    assert!(
        out.starts_with("Event 4005 ScepVerifyFailure (profile unified-2021"),
        "{out}"
    );
    assert!(
        out.contains("20501 CRPVerifyMetric_Warning, 20502 CRPVerifyMetric_Failure"),
        "{out}"
    );
    assert!(out.contains("inference"), "{out}");
    assert!(out.contains("--exact scep-challenge-expired"), "{out}");
    // A step the legacy connector has no counterpart for: said so, no scenario.
    let out = connector_harness::explain(&["1252".into()]).unwrap();
    assert!(
        out.contains("the reference connector never writes it"),
        "{out}"
    );
    // 4002 rests on Microsoft's published description.
    let out = connector_harness::explain(&["4002".into()]).unwrap();
    assert!(out.contains("published descriptions"), "{out}");
    assert!(out.contains("--exact scep-notify-error"), "{out}");
}

#[test]
fn explain_shows_both_meanings_of_a_colliding_number() {
    // 4005 is also Intune's request result code ConflictError, and 1032 the legacy code 0x408.
    for (term, legacy, unified) in [
        ("4005", "ConflictError", "4005 ScepVerifyFailure"),
        ("1032", "0x00000408", "1032 PkcsDigiCertRequest"),
    ] {
        let out = connector_harness::explain(&[term.into()]).unwrap();
        let first = out.find(legacy).unwrap_or_else(|| panic!("{out}"));
        let second = out.find(unified).unwrap_or_else(|| panic!("{out}"));
        assert!(first < second, "{out}");
        assert!(
            out.contains(&format!(
                "{term} also names an event of profile unified-2021"
            )),
            "{out}"
        );
    }
    // A legacy-only term is answered as before.
    let out = connector_harness::explain(&["20502".into()]).unwrap();
    assert!(!out.contains("unified-2021"), "{out}");
}

#[test]
fn check_finds_exactly_the_failures_each_dialect_scenario_caused() {
    let dir = tempfile::tempdir().unwrap();
    for name in DIALECT_SCENARIOS {
        let unified = translate(&events_of(name));
        assert!(!unified.is_empty(), "{name}");
        let want = expected_failures(name);
        for (form, layout) in [
            (UnifiedXmlForm::Plain, XmlLayout::Bare),
            (UnifiedXmlForm::Plain, XmlLayout::Wrapped),
            (UnifiedXmlForm::Rendered, XmlLayout::Bare),
        ] {
            let text = write_unified_xml(&unified, form, layout);
            let path = write_file(dir.path(), &format!("{name}.xml"), &text);
            let v = check_path(&path);
            assert_eq!(found(&v.unified), want, "{name} {form:?} {layout:?}");
            assert_eq!(v.unified.events, unified.len() as u64, "{name}");
            assert_eq!(v.passed(), want.is_empty(), "{name}");
            assert!(v.unified.notes.is_empty(), "{name}: {:?}", v.unified.notes);
        }
        // The .evtx reader's path: each record's own XML document, as the evtx crate renders it.
        let rendered: Vec<(u64, String)> = unified
            .iter()
            .map(|r| {
                let one = std::slice::from_ref(r);
                (
                    r.sequence,
                    write_unified_xml(one, UnifiedXmlForm::EvtxRecord, XmlLayout::Bare),
                )
            })
            .collect();
        let mut items = Vec::new();
        scan_evtx_rendered(&rendered, |s| {
            items.push(s);
            ControlFlow::Continue(())
        });
        assert_eq!(
            found(&judge_items(items, 10_000)),
            want,
            "{name} via the .evtx reader"
        );
        // The .evtx-equivalent JSON (evtx_dump -o jsonl).
        let path = write_file(
            dir.path(),
            &format!("{name}.json"),
            &write_evtx_json(&unified),
        );
        let v = check_path(&path);
        assert!(v.evtx_json, "{name}");
        assert_eq!(found(&v.unified), want, "{name} as evtx_dump JSON");
        assert_eq!(
            v.legacy.findings.len(),
            0,
            "{name}: {:?}",
            v.legacy.findings
        );
    }
}

/// A record of the scenario's stream, tampered: another event, the same details.
fn tampered(base: &[UnifiedRecord], event: UnifiedEvent, details: Details) -> Vec<UnifiedRecord> {
    let mut out = base.to_vec();
    let last = out.last().expect("a stream").clone();
    out.push(UnifiedRecord {
        sequence: last.sequence + 1,
        time: last.time,
        event,
        details,
    });
    out
}

#[test]
fn a_tampered_export_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let good = translate(&events_of("scep-enroll"));
    let text = write_unified_xml(&good, UnifiedXmlForm::Plain, XmlLayout::Bare);
    assert!(check_path(&write_file(dir.path(), "good.xml", &text)).passed());

    // An Admin failure.
    let admin = tampered(
        &good,
        UnifiedEvent::ScepRequestIssuedFailure,
        Details::new().with(Detail::TransactionId, "T-1"),
    );
    let text = write_unified_xml(&admin, UnifiedXmlForm::Plain, XmlLayout::Bare);
    let v = check_path(&write_file(dir.path(), "admin.xml", &text));
    assert_eq!(found(&v.unified), vec![("admin failure", 4001)]);
    assert!(matches!(
        &v.unified.findings[0],
        UnifiedFinding::Failure { rule: SupportRule::AdminFailure, request: Some(r), .. } if r == "T-1"
    ));
    assert!(!v.passed());

    // A failed attempt that never concludes (a warning on Operational, and never concluded).
    let open = tampered(
        &good,
        UnifiedEvent::PkcsIssuedFailedAttempt,
        Details::new().with(Detail::RequestId, "R-9"),
    );
    let text = write_unified_xml(&open, UnifiedXmlForm::Plain, XmlLayout::Bare);
    let v = check_path(&write_file(dir.path(), "open.xml", &text));
    assert_eq!(
        found(&v.unified),
        vec![("operational", 1051), ("never concluded", 1051)]
    );
    let text = v.unified.findings[1].to_string();
    assert!(text.contains("request R-9 is never concluded: no later 1050 PkcsIssuedSuccess or 1052 PkcsIssuedFailure"), "{text}");
    // Concluded for another request does not count; for the same one it does.
    let other = tampered(
        &open,
        UnifiedEvent::PkcsIssuedSuccess,
        Details::new().with(Detail::RequestId, "R-8"),
    );
    let text = write_unified_xml(&other, UnifiedXmlForm::Plain, XmlLayout::Bare);
    let v = check_path(&write_file(dir.path(), "other.xml", &text));
    assert!(found(&v.unified).contains(&("never concluded", 1051)));
    let same = tampered(
        &open,
        UnifiedEvent::PkcsIssuedSuccess,
        Details::new().with(Detail::RequestId, "R-9"),
    );
    let text = write_unified_xml(&same, UnifiedXmlForm::Plain, XmlLayout::Bare);
    let v = check_path(&write_file(dir.path(), "same.xml", &text));
    assert_eq!(found(&v.unified), vec![("operational", 1051)]);

    // An id the profile does not know.
    let text = write_unified_xml(&good, UnifiedXmlForm::Plain, XmlLayout::Bare).replacen(
        "<EventID>4004</EventID>",
        "<EventID>4242</EventID>",
        1,
    );
    let v = check_path(&write_file(dir.path(), "unknown.xml", &text));
    assert_eq!(found(&v.unified), vec![("unknown event", 4242)]);

    // An event on the other channel, a published level changed, an inferred one changed.
    let text: String = write_unified_xml(&good, UnifiedXmlForm::Plain, XmlLayout::Bare)
        .lines()
        .map(|l| {
            let l = if l.contains("<EventID>4004</EventID>") {
                l.replace(
                    "CertificateConnectors/Operational",
                    "CertificateConnectors/Admin",
                )
            } else {
                l.to_string()
            };
            l + "\n"
        })
        .collect();
    let v = check_path(&write_file(dir.path(), "channel.xml", &text));
    assert_eq!(found(&v.unified), vec![("wrong channel", 4004)], "{text}");

    let level = vec![UnifiedRecord {
        sequence: 1,
        time: good[0].time,
        event: UnifiedEvent::PkcsIssuedSuccess,
        details: Details::new(),
    }];
    let text = write_unified_xml(&level, UnifiedXmlForm::Plain, XmlLayout::Bare)
        .replace("<Level>4</Level>", "<Level>5</Level>");
    let v = check_path(&write_file(dir.path(), "level.xml", &text));
    assert_eq!(found(&v.unified), vec![("wrong level", 1050)]);
    let text = text.replace("<EventID>1050</EventID>", "<EventID>4004</EventID>");
    let v = check_path(&write_file(dir.path(), "inferred.xml", &text));
    assert!(
        v.passed(),
        "an inferred level is no finding: {:?}",
        v.unified.findings
    );
    assert_eq!(v.unified.notes.len(), 1, "{:?}", v.unified.notes);
}

#[test]
fn both_channels_in_two_files_or_one_mixed_with_legacy_and_ndes_events() {
    let dir = tempfile::tempdir().unwrap();
    let unified = translate(&events_of("scep-notify-error"));
    let want = expected_failures("scep-notify-error");
    // wevtutil exports one channel per file.
    let mut found_in_files = Vec::new();
    for channel in Channel::ALL {
        let one: Vec<UnifiedRecord> = unified
            .iter()
            .filter(|r| r.channel() == channel)
            .cloned()
            .collect();
        assert!(!one.is_empty(), "{channel:?}");
        let text = write_unified_xml(&one, UnifiedXmlForm::Rendered, XmlLayout::Wrapped);
        let v = check_path(&write_file(
            dir.path(),
            &format!("{}.xml", channel.name()),
            &text,
        ));
        assert_eq!(
            v.unified.channels.get(channel.name()),
            Some(&(one.len() as u64))
        );
        found_in_files.extend(found(&v.unified));
        // The Operational file alone cannot show 4009's Admin conclusion (4002): a note.
        let elsewhere = v.unified.notes.iter().any(|n| {
            n.to_string()
                .contains("may be on Microsoft-Intune-CertificateConnectors/Admin")
        });
        assert_eq!(
            elsewhere,
            channel == Channel::Operational,
            "{:?}",
            v.unified.notes
        );
    }
    found_in_files.sort();
    let mut sorted = want.clone();
    sorted.sort();
    assert_eq!(found_in_files, sorted);

    // One file: the legacy connector's log, NDES's event and both channels, interleaved.
    let legacy = event::write_xml(stream(), XmlForm::Manifest, XmlLayout::Bare);
    let ours = write_unified_xml(&unified, UnifiedXmlForm::Plain, XmlLayout::Bare);
    let text = format!("<Events>\n{NDES}\n{ours}{legacy}</Events>\n");
    let path = write_file(dir.path(), "mixed.xml", &text);
    let v = check_path(&path);
    assert_eq!(found(&v.unified), want);
    assert_eq!(v.legacy.events, stream().len() as u64);
    assert!(v.legacy.passed(), "{:?}", v.legacy.findings);
    assert_eq!(v.unified.events, unified.len() as u64);
    let (code, out, _) = harness(&["check", "--events", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("admin failure    record 7 (line 9): 4002 ScepRequestUploadFailure"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "FAILED: 3 findings; {} events of the connector checked, {} of unified-2021 (",
            stream().len(),
            unified.len()
        )),
        "{out}"
    );
    assert!(out.contains("1 of other providers ignored"), "{out}");
    assert!(
        out.contains("SCEP     requests    1  successes    0  failures    1  retries    2"),
        "{out}"
    );
    let (code, out, _) = harness(&["check", "--events", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["passed"], false);
    assert_eq!(json["unified_2021"]["findings"][2]["kind"], "failure");
    assert_eq!(json["unified_2021"]["findings"][2]["rule"], "admin_failure");
}

#[test]
fn the_summary_counts_requests_successes_failures_and_retries_per_area() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for name in DIALECT_SCENARIOS {
        all.extend(translate(&events_of(name)));
    }
    let text = write_unified_xml(&all, UnifiedXmlForm::Plain, XmlLayout::Bare);
    let v = check_path(&write_file(dir.path(), "all.xml", &text));
    let s = &v.unified.summary;
    let pkcs = s[&Area::Pkcs];
    assert_eq!(
        (pkcs.requests, pkcs.successes, pkcs.failures, pkcs.retries),
        (1, 0, 1, 2)
    );
    let scep = s[&Area::Scep];
    // scep-enroll and scep-notify-retried succeed, scep-notify-error fails (one transaction id
    // each, the same in all three runs: the seed is the same).
    assert_eq!(
        (scep.successes + scep.failures, scep.retries),
        (scep.requests, 3),
        "{scep:?}"
    );
    let revoke = s[&Area::Revoke];
    assert_eq!(
        (revoke.requests, revoke.successes, revoke.failures),
        (1, 1, 0)
    );
    let health = s[&Area::Health];
    assert!(health.requests >= 5 && health.failures == 0, "{health:?}");
}

#[test]
fn a_log_in_which_nothing_was_checked_is_a_finding_naming_the_providers() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "ndes.xml", &format!("{NDES}\n"));
    let (code, out, _) = harness(&["check", "--events", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nothing checked  no event of a connector was checked; the providers seen are 'Microsoft-Windows-NetworkDeviceEnrollmentService' (1)"), "{out}");
    assert!(!out.contains("PASSED"), "{out}");
    // A 2021 export with the legacy provider named: before issue 16 "PASSED … 0 events checked".
    let unified = translate(&events_of("scep-enroll"));
    let text = write_unified_xml(&unified, UnifiedXmlForm::Plain, XmlLayout::Bare);
    let path = write_file(dir.path(), "scep.xml", &text);
    let (code, out, _) = harness(&["check", "--events", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "PASSED: no findings; 0 events of the connector checked, {} of unified-2021",
            unified.len()
        )),
        "{out}"
    );
    // Naming the 2021 provider with --provider does not judge its events by the seed's table.
    let (code, out, _) = harness(&[
        "check",
        "--events",
        path.to_str().unwrap(),
        "--provider",
        "Microsoft-Intune-CertificateConnectors",
    ]);
    assert_eq!(code, 0, "{out}");
    // A real .evtx of other providers.
    if let Some(shared) = harness_test_support::shared_dir("fixtures/evtx") {
        let sample = shared.join("fixtures/evtx/Security_short_selected.evtx");
        let (code, out, _) = harness(&["check", "--events", sample.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("'Microsoft-Windows-Security-Auditing' ("),
            "{out}"
        );
    }
}

#[test]
fn the_dialect_snapshots_are_the_translation_of_the_streams() {
    let dir = root().join("snapshots/unified-2021");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("snapshots/unified-2021")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    files.sort();
    let want: Vec<String> = DIALECT_SCENARIOS
        .iter()
        .map(|n| format!("{n}.snap"))
        .collect();
    assert_eq!(files, want, "one per scenario that asks for the dialect");
    for name in DIALECT_SCENARIOS {
        let loaded = scenario::load_file(&root().join(format!("scenarios/{name}.yaml"))).unwrap();
        assert_eq!(
            loaded.setup.connector.dialect,
            Profile::Unified2021,
            "{name}"
        );
        let committed = std::fs::read_to_string(dir.join(format!("{name}.snap"))).unwrap();
        let body = harness_runner::run::dialect_snapshot::body(&events_of(name));
        assert_eq!(
            committed,
            harness_runner::run::dialect_snapshot::render(name, &body),
            "{name}: regenerate with `cargo run -p connector-harness -- run --exact {name} --update`"
        );
    }
}

#[test]
fn the_mapping_table_in_the_docs_is_the_code() {
    let doc = std::fs::read_to_string(root().join("docs/event-log.md")).unwrap();
    let table = connector_harness::unified::mapping_markdown();
    assert!(
        doc.contains(&table),
        "docs/event-log.md lacks the mapping table:\n{table}"
    );
}

#[test]
fn the_reference_connector_process_writes_the_dialect_and_declares_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("connector-log.xml");
    let bin = env!("CARGO_BIN_EXE_connector-harness");
    let cmd = format!(
        "{bin} connector --dialect unified-2021 --log {}",
        log.display()
    );
    let (code, out, err) = harness(&[
        "run",
        "--exact",
        "scep-notify-error",
        "--connector-cmd",
        &cmd,
        "--no-coverage-gate",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let written = std::fs::read_to_string(&log).expect("the connector wrote its log");
    let want = write_unified_xml(
        &translate(&events_of("scep-notify-error")),
        UnifiedXmlForm::Plain,
        XmlLayout::Bare,
    );
    assert_eq!(written, want);
    let v = check_path(&log);
    assert_eq!(found(&v.unified), expected_failures("scep-notify-error"));
    // `init_ok` with a dialect is a protocol message; an unknown dialect is not.
    use harness_runner::contract::process::FromConnector;
    let ok: FromConnector =
        serde_json::from_str(r#"{"type":"init_ok","in_reply_to":1,"dialect":"unified-2021"}"#)
            .unwrap();
    assert!(matches!(
        ok,
        FromConnector::InitOk {
            dialect: Some(Profile::Unified2021),
            ..
        }
    ));
    assert!(serde_json::from_str::<FromConnector>(
        r#"{"type":"init_ok","in_reply_to":1,"dialect":"2021"}"#
    )
    .is_err());
    assert!(serde_json::from_str::<FromConnector>(r#"{"type":"init_ok","in_reply_to":1}"#).is_ok());
}
