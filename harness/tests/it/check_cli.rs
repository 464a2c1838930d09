//! The `check` binary: exit codes, the printed verdict, `--json`, the printing cap, bad input.

use crate::common::*;

#[test]
fn the_binary_passes_and_fails_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    for form in [Form::Jsonl, Form::XmlWrapped, Form::ToXmlUtf16] {
        let clean = write(dir.path(), form, &text(form, stream()));
        let clean = clean.to_str().unwrap();
        let (code, out, err) = harness(&["check", "--events", clean, "--scenario", STORY]);
        assert_eq!(code, 0, "{form:?}\n{out}\n{err}");
        assert!(
            out.contains("PASSED: no findings; 19 events of the connector checked"),
            "{out}"
        );
        assert!(out.contains("`drained: true` is not checked"), "{out}");
    }
    let (text, seq, ..) = corrupt(Form::Classic, Corruption::CodeToAnotherAllowed);
    let path = write(dir.path(), Form::Classic, &text);
    let path = path.to_str().unwrap();
    let (code, out, _) = harness(&["check", "--events", path, "--scenario", STORY]);
    assert_eq!(code, 1, "{out}");
    let seq = seq.unwrap();
    assert!(
        out.contains(&format!("wrong code       record {seq} (line {seq}): 20501 CRPVerifyMetric_Warning carries 0x00000000 Success; the scenario (line 31) expects 0x00000411 CRPSCEPChallenge_Expired")),
        "{out}"
    );
    assert!(out.contains("FAILED: 1 finding; 19 events"), "{out}");
    // Against the catalog alone the same log passes: the code is an allowed one.
    let (code, out, _) = harness(&["check", "--events", path]);
    assert_eq!(code, 0, "{out}");

    let (code, out, _) = harness(&["check", "--events", path, "--scenario", STORY, "--json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["passed"], false);
    let finding = &json["verdict"]["findings"][0];
    assert_eq!(finding["kind"], "wrong_code", "{json:#}");
    assert_eq!(finding["at"]["record_id"], seq, "{json:#}");
    assert_eq!(finding["found"], "0x00000000");
    assert_eq!(finding["expected"]["line"], 31);
    assert_eq!(json["verdict"]["format"], "xml");
}

#[test]
fn the_binary_caps_what_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.jsonl");
    std::fs::write(&path, "x\n".repeat(30)).unwrap();
    let (code, out, _) = harness(&[
        "check",
        "--events",
        path.to_str().unwrap(),
        "--max-findings",
        "3",
    ]);
    assert_eq!(code, 1);
    assert_eq!(out.matches("unreadable  ").count(), 3, "{out}");
    assert!(out.contains("… and 27 more findings"), "{out}");
    assert!(out.contains("FAILED: 30 findings"), "{out}");
}

#[test]
fn bad_input_exits_2_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), Form::Jsonl, &text(Form::Jsonl, stream()));
    let log = log.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["check", "--events", "no/such/file.xml"],
            "no/such/file.xml",
        ),
        (
            vec!["check", "--events", log, "--scenario", "no-such-scenario"],
            "unknown scenario `no-such-scenario`",
        ),
        (
            vec!["check", "--events", log, "--scenario", "pkcs-issue-ca"],
            "did you mean pkcs-issue-ca-denied",
        ),
        (
            vec!["check", "--events", log, "--format", "csv"],
            "invalid value 'csv'",
        ),
        (
            vec!["check", "--events", log, "--max-bytes", "100"],
            "more than the 100 bytes",
        ),
    ];
    for (args, want) in cases {
        let (code, out, err) = harness(&args);
        assert_eq!(code, 2, "{args:?}\n{out}\n{err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // A scenario that does not load: its error, located, once.
    let scenarios = tempfile::tempdir().unwrap();
    std::fs::write(
        scenarios.path().join("broken.yaml"),
        "name: broken\nsummary: s\nsteps: [start]\nexpect:\n  sequence:\n    - {event: NoSuchEvent}\n",
    )
    .unwrap();
    let dir_arg = scenarios.path().to_str().unwrap();
    let (code, _, err) = harness(&[
        "check",
        "--events",
        log,
        "--scenario",
        "broken",
        "--scenarios",
        dir_arg,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("error: unknown event `NoSuchEvent`"),
        "{err}"
    );
    assert!(err.contains("broken.yaml:6:"), "{err}");
    let unknown = dir.path().join("log.txt");
    std::fs::write(&unknown, "hello").unwrap();
    let (code, _, err) = harness(&["check", "--events", unknown.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot tell the event log format"), "{err}");
}
