//! What the `check` tests share: a real scenario's stream, the forms a log comes in, the
//! corruptions a connector can commit, and the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use harness_runner::catalog::{Detail, DiagnosticCode as C, EventId as E};
use harness_runner::check::{check_file, CheckOptions, Finding, Verdict};
use harness_runner::event::{self, EventRecord, XmlForm, XmlLayout};
use harness_runner::run::{run_scenario, RunOptions, Status};
use harness_runner::scenario::{self, Scenario};

pub const STORY: &str = "story-day-in-the-life";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn story() -> &'static Scenario {
    static SCENARIO: OnceLock<Scenario> = OnceLock::new();
    SCENARIO.get_or_init(|| {
        scenario::load_file(&root().join(format!("scenarios/{STORY}.yaml"))).expect("loads")
    })
}

/// The story's real stream, from a real run against the fakes.
pub fn stream() -> &'static Vec<EventRecord> {
    static STREAM: OnceLock<Vec<EventRecord>> = OnceLock::new();
    STREAM.get_or_init(|| {
        let file = root().join(format!("scenarios/{STORY}.yaml"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let options = RunOptions {
            ci: true,
            ..RunOptions::default()
        };
        let outcome = runtime.block_on(run_scenario(story(), &file, &options));
        assert_eq!(outcome.status, Status::Passed, "{:?}", outcome.problems);
        outcome.events
    })
}

/// The shapes a log comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Jsonl,
    XmlBare,
    XmlWrapped,
    Classic,
    /// Classic events as `Get-WinEvent … | % { $_.ToXml() } > log.xml` leaves them in
    /// Windows PowerShell 5: UTF-16LE with a BOM, CRLF.
    ToXmlUtf16,
}

pub const FORMS: [Form; 5] = [
    Form::Jsonl,
    Form::XmlBare,
    Form::XmlWrapped,
    Form::Classic,
    Form::ToXmlUtf16,
];

pub fn text(form: Form, records: &[EventRecord]) -> String {
    match form {
        Form::Jsonl => event::to_jsonl(records),
        Form::XmlBare => event::write_xml(records, XmlForm::Manifest, XmlLayout::Bare),
        Form::XmlWrapped => event::write_xml(records, XmlForm::Manifest, XmlLayout::Wrapped),
        Form::Classic | Form::ToXmlUtf16 => {
            event::write_xml(records, XmlForm::Classic, XmlLayout::Bare)
        }
    }
}

pub fn bytes(form: Form, text: &str) -> Vec<u8> {
    match form {
        Form::ToXmlUtf16 => {
            let mut out = vec![0xFF, 0xFE];
            for u in text.replace('\n', "\r\n").encode_utf16() {
                out.extend_from_slice(&u.to_le_bytes());
            }
            out
        }
        _ => text.as_bytes().to_vec(),
    }
}

pub fn write(dir: &Path, form: Form, text: &str) -> PathBuf {
    let ext = if form == Form::Jsonl { "jsonl" } else { "xml" };
    let path = dir.join(format!("{form:?}.{ext}"));
    std::fs::write(&path, bytes(form, text)).unwrap();
    path
}

pub fn check(path: &Path, with_scenario: bool) -> Verdict {
    let expect = with_scenario.then(|| &story().expect);
    check_file(path, expect, &CheckOptions::default()).expect("the log reads")
}

pub fn labels(v: &Verdict) -> Vec<&'static str> {
    v.findings.iter().map(Finding::label).collect()
}

pub fn seq_of(records: &[EventRecord], event: E, pick: impl Fn(&EventRecord) -> bool) -> u64 {
    records
        .iter()
        .find(|r| r.event == event && pick(r))
        .unwrap_or_else(|| panic!("the story writes {event}"))
        .sequence
}

/// One corruption of the stream, as a real connector (or a damaged export) would commit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    DropExpected,
    AddForbidden,
    CodeToAnotherAllowed,
    CodeOutsideCatalog,
    Level,
    Detail,
}

pub const CORRUPTIONS: [Corruption; 6] = [
    Corruption::DropExpected,
    Corruption::AddForbidden,
    Corruption::CodeToAnotherAllowed,
    Corruption::CodeOutsideCatalog,
    Corruption::Level,
    Corruption::Detail,
];

/// The corrupted log's text, the record id the finding must name, and the labels `check`
/// must give with the scenario and without it (the catalog alone).
pub fn corrupt(
    form: Form,
    c: Corruption,
) -> (String, Option<u64>, Vec<&'static str>, Vec<&'static str>) {
    let mut records = stream().clone();
    let device =
        |d: &'static str| move |r: &EventRecord| r.details.get(Detail::DeviceId) == Some(d);
    match c {
        Corruption::DropExpected => {
            let seq = seq_of(&records, E::RevokeCertSuccess, |_| true);
            records.retain(|r| r.sequence != seq);
            // The expectation misses it, and the contract sees its upload with no revoke
            // event before it (`request.order`).
            (
                text(form, &records),
                None,
                vec!["missing", "contract"],
                vec![],
            )
        }
        Corruption::AddForbidden => {
            let mut extra = records[3].clone();
            extra.sequence = 1000;
            extra.event = E::PkcsCertIssueFailure;
            extra.code = C::Success;
            // Well-formed under the contract (every required detail), forbidden by the scenario.
            extra.details = event::Details::new()
                .with(Detail::DeviceId, "laptop-009")
                .with(Detail::UserId, "alice@contoso.test")
                .with(Detail::CaName, "TEST-ISSUING-CA")
                .with(Detail::TemplateName, "IntuneUser")
                .with(Detail::RequestId, "forbidden-0001");
            records.insert(4, extra);
            (text(form, &records), Some(1000), vec!["unexpected"], vec![])
        }
        Corruption::CodeToAnotherAllowed => {
            let seq = seq_of(&records, E::CrpVerifyMetricWarning, |_| true);
            let r = records.iter_mut().find(|r| r.sequence == seq).unwrap();
            assert!(r.event.allows(C::Success));
            r.code = C::Success;
            (text(form, &records), Some(seq), vec!["wrong code"], vec![])
        }
        Corruption::CodeOutsideCatalog => {
            let seq = seq_of(&records, E::StartedConnectorService, |_| true);
            let r = records.iter_mut().find(|r| r.sequence == seq).unwrap();
            r.code = C::PkcsIssueCaUnavailable;
            let want = vec!["pair not allowed", "wrong code"];
            (
                text(form, &records),
                Some(seq),
                want,
                vec!["pair not allowed"],
            )
        }
        Corruption::Level => {
            let seq = seq_of(&records, E::PkcsCertIssueSuccess, device("laptop-001"));
            let (from, to) = match form {
                Form::Jsonl => ("\"level\":\"Information\"", "\"level\":\"Error\""),
                _ => ("<Level>4</Level>", "<Level>2</Level>"),
            };
            let marker = match form {
                Form::Jsonl => format!("{{\"seq\":{seq},"),
                _ => format!("<EventRecordID>{seq}</EventRecordID>"),
            };
            let text: String = text(form, &records)
                .lines()
                .map(|l| {
                    let l = if l.contains(&marker) {
                        l.replace(from, to)
                    } else {
                        l.to_string()
                    };
                    l + "\n"
                })
                .collect();
            assert!(text.contains(to), "{form:?}: the level changed");
            (text, Some(seq), vec!["wrong level"], vec!["wrong level"])
        }
        Corruption::Detail => {
            let seq = seq_of(&records, E::CrpNotifyMetricSuccess, device("tablet-7"));
            let r = records.iter_mut().find(|r| r.sequence == seq).unwrap();
            r.details.insert(Detail::DeviceId, "tablet-8");
            (
                text(form, &records),
                Some(seq),
                vec!["wrong detail"],
                vec![],
            )
        }
    }
}

pub fn finding_record(f: &Finding) -> Option<u64> {
    match f {
        Finding::Unreadable { at, .. }
        | Finding::Record { at, .. }
        | Finding::OutOfOrder { at, .. }
        | Finding::WrongCode { at, .. }
        | Finding::WrongDetail { at, .. }
        | Finding::Unexpected { at, .. } => at.record_id,
        Finding::Unchecked { at, .. } => at.record_id,
        Finding::Contract(v) => v.seq,
        Finding::Missing { .. } => None,
    }
}

/// Runs the real binary from the workspace root; returns exit code, stdout, stderr.
pub fn harness(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the harness binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
