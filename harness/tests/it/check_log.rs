//! `check` on logs the harness wrote itself: a real scenario's stream, written as JSON Lines,
//! XML bare and wrapped (manifest form), classic form, and PowerShell's UTF-16 `ToXml()`
//! lines, must pass with its scenario; each corruption a real connector could commit must be
//! named, with the record it is in.

use crate::common::*;
use harness_runner::catalog::{DiagnosticCode as C, EventId as E};
use harness_runner::check::{check_file, CheckOptions, Finding};
use harness_runner::event::{self, RecordProblem, XmlForm, XmlLayout};

#[test]
fn the_harness_own_logs_pass_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    for form in FORMS {
        let path = write(dir.path(), form, &text(form, stream()));
        for with_scenario in [false, true] {
            let v = check(&path, with_scenario);
            assert!(v.passed(), "{form:?}: {:#?}", v.findings);
            assert_eq!(v.events, stream().len() as u64, "{form:?}");
        }
    }
}

#[test]
fn every_corruption_is_named_with_its_record_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    for form in FORMS {
        for c in CORRUPTIONS {
            let (text, record, with, without) = corrupt(form, c);
            let path = write(dir.path(), form, &text);
            let v = check(&path, true);
            assert_eq!(labels(&v), with, "{form:?} {c:?}: {:#?}", v.findings);
            for f in &v.findings {
                if let Finding::Contract(rule) = f {
                    // Only a dropped revoke event breaks a contract rule: its upload now
                    // comes without it.
                    assert_eq!(c, Corruption::DropExpected, "{form:?} {c:?}: {f}");
                    assert_eq!(rule.rule.id(), "request.order", "{f}");
                    assert!(rule.found.contains("Upload_Success"), "{f}");
                    continue;
                }
                assert_eq!(finding_record(f), record, "{form:?} {c:?}: {f}");
            }
            let v = check(&path, false);
            assert_eq!(labels(&v), without, "{form:?} {c:?} without the scenario");
        }
    }
}

#[test]
fn findings_say_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let (text, seq, ..) = corrupt(Form::Classic, Corruption::Detail);
    let v = check(&write(dir.path(), Form::Classic, &text), true);
    let line = v.findings[0].to_string();
    let seq = seq.unwrap();
    assert!(
        line.contains(&format!("record {seq} (line {seq})"))
            && line.contains("20600 CRPNotifyMetric_Success has device_id=tablet-8")
            && line.contains("expects device_id=tablet-7"),
        "{line}"
    );
    let (text, ..) = corrupt(Form::Jsonl, Corruption::CodeOutsideCatalog);
    let v = check(&write(dir.path(), Form::Jsonl, &text), true);
    assert!(matches!(
        &v.findings[0],
        Finding::Record {
            problem: RecordProblem::PairNotAllowed {
                event: E::StartedConnectorService,
                code: C::PkcsIssueCaUnavailable
            },
            ..
        }
    ));
    let line = v.findings[1].to_string();
    assert!(
        line.contains("record 1 (line 1): 10010 StartedConnectorService carries 0x00000400")
            && line.contains("expects 0x00000000 Success"),
        "{line}"
    );
    let (text, ..) = corrupt(Form::XmlWrapped, Corruption::DropExpected);
    let v = check(&write(dir.path(), Form::XmlWrapped, &text), true);
    let line = v.findings[0].to_string();
    assert!(
        line.contains("20200 RevokeCert_Success (scenario line 30) never appears"),
        "{line}"
    );
}

/// Logs from other hands: bad lines and events are findings with their line, and reading
/// goes on to the records after them.
#[test]
fn bad_records_are_findings_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = event::to_jsonl(&stream()[..2]);
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    lines.insert(1, "not json at all".into());
    lines.insert(
        2,
        lines[0].replace("\"event_id\":10010", "\"event_id\":10011"),
    );
    lines.insert(
        3,
        lines[0].replace("\"code\":\"0x00000000\"", "\"code\":\"0x12345\""),
    );
    // A vendor's line may name the event instead of numbering it.
    lines.push(r#"{"event":"NoSuchEvent","code":"0x0"}"#.into());
    lines.push(r#"{"event":"StartedConnectorService","level":"Information","code":"0x0"}"#.into());
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let v = check(&path, false);
    assert_eq!(
        labels(&v),
        ["unreadable", "unknown event", "bad code", "unknown event"],
        "{:#?}",
        v.findings
    );
    let at: Vec<_> = v.findings.iter().map(|f| f.to_string()).collect();
    assert!(at[0].starts_with("line 2: cannot be read"), "{at:?}");
    assert!(
        at[1].starts_with("record 1 (line 3): event id 10011"),
        "{at:?}"
    );
    assert!(at[2].contains("`0x12345`"), "{at:?}");
    assert!(
        at[3].starts_with("line 6: event `NoSuchEvent` is not in the catalog"),
        "{at:?}"
    );
    assert_eq!(v.events, 6, "the good records after the bad ones were read");

    // XML: a malformed event, an unknown data item, a data item past the last position.
    let classic = event::write_xml(&stream()[..3], XmlForm::Classic, XmlLayout::Bare);
    let mut lines: Vec<String> = classic.lines().map(str::to_string).collect();
    lines[0] = lines[0].replace("</System>", "</Sys>");
    lines[1] = lines[1].replace("</EventData>", "<Data>surplus</Data></EventData>");
    lines[2] = event::event_to_xml(&stream()[2]).replace("Name='DiagnosticName'", "Name='Colour'");
    let path = dir.path().join("mixed.xml");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let v = check(&path, false);
    assert_eq!(
        labels(&v),
        ["unreadable", "bad record", "bad record"],
        "{:#?}",
        v.findings
    );
    let at: Vec<_> = v.findings.iter().map(|f| f.to_string()).collect();
    assert!(
        at[0].starts_with("line 1: cannot be read: malformed XML"),
        "{at:?}"
    );
    assert!(
        at[1].starts_with("record 2 (line 2): unnamed data item"),
        "{at:?}"
    );
    assert!(at[2].contains("unknown data item `Colour`"), "{at:?}");
}

#[test]
fn findings_kept_are_bounded_and_the_rest_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.jsonl");
    std::fs::write(&path, "x\n".repeat(500)).unwrap();
    let options = CheckOptions {
        keep: 100,
        ..CheckOptions::default()
    };
    let v = check_file(&path, None, &options).unwrap();
    assert_eq!(v.findings.len(), 100);
    assert_eq!(v.more_findings, 400);
    assert_eq!(v.finding_count(), 500);
    // A file over the size limit is refused before it is read.
    let options = CheckOptions {
        scan: event::ScanOptions {
            max_bytes: 999,
            ..event::ScanOptions::default()
        },
        ..CheckOptions::default()
    };
    let err = check_file(&path, None, &options).unwrap_err().to_string();
    assert!(err.contains("1000 bytes is more than the 999"), "{err}");
    // Records kept for the scenario are bounded too, and what is past the bound is a
    // finding, not a silent pass.
    let path = write(dir.path(), Form::Jsonl, &text(Form::Jsonl, stream()));
    let options = CheckOptions {
        max_records: 5,
        ..CheckOptions::default()
    };
    let v = check_file(&path, Some(&story().expect), &options).unwrap();
    assert_eq!(labels(&v)[0], "not checked", "{:#?}", v.findings);
    assert!(v.findings[0]
        .to_string()
        .contains("and after: not checked against the scenario; more than 5 events"));
}

#[test]
fn the_provider_name_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let text = text(Form::Classic, stream()).replace(event::PROVIDER, "NDESConnector");
    let path = write(dir.path(), Form::Classic, &text);
    let v = check(&path, true);
    assert_eq!(v.events, 0);
    assert_eq!(v.other_providers, stream().len() as u64);
    assert_eq!(labels(&v).iter().filter(|l| **l == "missing").count(), 8);
    let options = CheckOptions {
        scan: event::ScanOptions {
            providers: vec!["ndesconnector".into()],
            ..event::ScanOptions::default()
        },
        ..CheckOptions::default()
    };
    let v = check_file(&path, Some(&story().expect), &options).unwrap();
    assert!(v.passed(), "{:#?}", v.findings);
}
