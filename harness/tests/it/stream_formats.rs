//! Event streams survive YAML, JSON Lines and Windows event XML unchanged; the XML looks like
//! what Windows prints; .evtx files from real machines read cleanly.

use std::time::Duration;

use harness_runner::catalog::{self, Detail};
use harness_runner::event::{self, Details, EventRecord, Sink};
use harness_runner::sim::Clock;
use proptest::prelude::*;

fn arb_stream() -> impl Strategy<Value = Vec<EventRecord>> {
    let pairs = catalog::pairs();
    let step = (
        0..pairs.len(),
        0u64..10_000_000,
        proptest::collection::vec(("[ -~éü<>&\"']{0,24}", any::<u8>()), 0..4),
    );
    proptest::collection::vec(step, 0..12).prop_map(move |items| {
        let clock = Clock::default();
        let sink = Sink::new(clock.clone());
        for (i, advance, details) in items {
            clock.advance(Duration::from_millis(advance));
            let pair = pairs[i];
            let allowed = pair.event.spec().details;
            let d: Details = details
                .into_iter()
                .map(|(v, k)| (allowed[k as usize % allowed.len()], v))
                .collect();
            sink.emit(pair.event, pair.code, d).unwrap();
        }
        sink.records()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn round_trips(stream in arb_stream()) {
        prop_assert_eq!(&event::from_yaml(&event::to_yaml(&stream)).unwrap(), &stream);
        prop_assert_eq!(&event::from_jsonl(&event::to_jsonl(&stream)).unwrap(), &stream);
        prop_assert_eq!(&event::from_xml(event::to_xml(&stream).as_bytes()).unwrap(), &stream);
    }
}

fn sample() -> Vec<EventRecord> {
    let clock = Clock::default();
    let sink = Sink::new(clock.clone());
    use catalog::{DiagnosticCode as C, EventId as E};
    sink.emit(E::StartedConnectorService, C::Success, Details::new())
        .unwrap();
    clock.advance(Duration::from_millis(1500));
    let d = Details::new()
        .with(Detail::DeviceId, "dev-1")
        .with(Detail::CaName, "Contoso <Issuing> & CA");
    sink.emit(E::PkcsCertIssueFailure, C::PkcsIssueCaUnavailable, d)
        .unwrap();
    sink.records()
}

#[test]
fn xml_is_well_formed_and_shaped_like_windows() {
    let xml = event::to_xml(&sample());
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let events: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name((event::EVENT_NS, "Event")))
        .collect();
    assert_eq!(events.len(), 2);
    let e = events[1];
    let sys = e
        .children()
        .find(|n| n.has_tag_name((event::EVENT_NS, "System")))
        .unwrap();
    let text = |name: &str| {
        sys.children()
            .find(|n| n.has_tag_name((event::EVENT_NS, name)))
            .and_then(|n| n.text())
            .unwrap()
            .to_string()
    };
    assert_eq!(text("EventID"), "20102");
    assert_eq!(text("Level"), "2");
    assert_eq!(text("EventRecordID"), "2");
    assert_eq!(text("Channel"), event::CHANNEL);
    let tc = sys
        .children()
        .find(|n| n.has_tag_name((event::EVENT_NS, "TimeCreated")))
        .unwrap();
    assert_eq!(
        tc.attribute("SystemTime"),
        Some("2026-01-01T00:00:01.5000000Z")
    );
    let provider = sys
        .children()
        .find(|n| n.has_tag_name((event::EVENT_NS, "Provider")))
        .unwrap();
    assert_eq!(provider.attribute("Name"), Some(event::PROVIDER));
    let data: Vec<(String, String)> = e
        .descendants()
        .filter(|n| n.has_tag_name((event::EVENT_NS, "Data")))
        .map(|n| {
            (
                n.attribute("Name").unwrap().to_string(),
                n.text().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        data.contains(&("DiagnosticCode".into(), "0x00000400".into())),
        "{data:?}"
    );
    assert!(
        data.contains(&("CaName".into(), "Contoso <Issuing> & CA".into())),
        "{data:?}"
    );
}

#[test]
fn xml_reader_accepts_wevtutil_shapes() {
    let stream = sample();
    // wevtutil qe without /e: bare concatenation of <Event> elements.
    let bare: String = stream.iter().map(event::event_to_xml).collect();
    assert_eq!(event::from_xml(bare.as_bytes()).unwrap(), stream);
    // A single event.
    assert_eq!(
        event::from_xml(event::event_to_xml(&stream[0]).as_bytes()).unwrap(),
        stream[..1]
    );
    // PowerShell's UTF-16LE redirection with BOM.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in event::to_xml(&stream).encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    assert_eq!(event::from_xml(&utf16).unwrap(), stream);
    // Events from other providers are skipped.
    let other = event::event_to_xml(&stream[0]).replace(event::PROVIDER, "Some Other Provider");
    assert!(event::from_xml(other.as_bytes()).unwrap().is_empty());
}

#[test]
fn readers_reject_inconsistent_records_with_a_reason() {
    let jsonl = event::to_jsonl(&sample());
    let broken = jsonl.replace("\"event_id\":20102", "\"event_id\":20100");
    let err = event::from_jsonl(&broken).unwrap_err().to_string();
    assert!(
        err.contains("event id 20100 is PkcsCertIssue_Success"),
        "{err}"
    );
    // The code no longer agrees with its name: the reader refuses the record.
    let bad_pair = jsonl.replace("0x00000400", "0x00000409");
    assert!(event::from_jsonl(&bad_pair).is_err());
    let xml = event::to_xml(&sample()).replace("<Level>2</Level>", "<Level>4</Level>");
    let err = event::from_xml(xml.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("level Error"), "{err}");
    let err = event::from_xml(b"<Events><Event>").unwrap_err().to_string();
    assert!(
        err.contains("XML line 1: an <Event> element that never ends"),
        "{err}"
    );
    let err = event::from_xml(b"<Event><System></Sys></Event>")
        .unwrap_err()
        .to_string();
    assert!(err.contains("XML line 1: malformed XML"), "{err}");
    let err = event::from_jsonl("{\"seq\":1}\nnot json\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn evtx_samples_read_cleanly() {
    let Some(shared) = harness_test_support::shared_dir("fixtures/evtx") else {
        return;
    };
    let dir = shared.join("fixtures/evtx");
    for name in [
        "Application_no_crc32.evtx",
        "Security_short_selected.evtx",
        "Microsoft-Windows-HelloForBusiness-Operational.evtx",
        "MSExchange_Management_wec.evtx",
    ] {
        let path = dir.join(name);
        let n = event::count_evtx_records(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(n > 0, "{name} has records");
        // None of them is from an Intune connector: the reader filters by provider.
        assert!(event::from_evtx(&path).unwrap().is_empty(), "{name}");
        // An independent reader (libevtx) sees no record we miss. It stops at the last record
        // the file header names, while the evtx crate reads every record in the chunks, so it
        // may see fewer (measured: 5 vs 6 in the HelloForBusiness sample).
        if let Some(evtxexport) = harness_test_support::peer("evtxexport") {
            let out = std::process::Command::new(evtxexport)
                .arg(&path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let theirs = text
                .lines()
                .filter(|l| l.starts_with("Event number"))
                .count();
            assert!(
                theirs <= n,
                "{name}: evtxexport saw {theirs} records, we saw {n}"
            );
        }
    }
    // A damaged file is an error that names the file, not a panic.
    let bad = dir.join("sample_with_a_bad_chunk_magic.evtx");
    match event::count_evtx_records(&bad) {
        Err(e) => assert!(
            e.to_string().contains("sample_with_a_bad_chunk_magic.evtx"),
            "{e}"
        ),
        Ok(n) => assert!(n > 0),
    }
}

#[test]
fn read_stream_picks_the_format_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let stream = sample();
    for (ext, text) in [
        ("jsonl", event::to_jsonl(&stream)),
        ("xml", event::to_xml(&stream)),
        ("yaml", event::to_yaml(&stream)),
    ] {
        let p = dir.path().join(format!("log.{ext}"));
        std::fs::write(&p, text).unwrap();
        assert_eq!(event::read_stream(&p).unwrap(), stream, "{ext}");
    }
    let p = dir.path().join("log.txt");
    std::fs::write(&p, "").unwrap();
    assert!(event::read_stream(&p)
        .unwrap_err()
        .to_string()
        .contains("cannot tell"));
}

/// One classic event as `wevtutil qe "Microsoft Intune Connector" /f:xml` renders it: no
/// provider Guid, `Qualifiers='0'`, a whole-second time, unnamed `<Data>` in the documented
/// order (code, then the event's details as `explain` lists them; empty means absent).
const CLASSIC_EVENT: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft Intune Connector'/><EventID Qualifiers='0'>20102</EventID><Version>0</Version><Level>2</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2026-01-01T00:00:01.000000000Z'/><EventRecordID>2</EventRecordID><Correlation/><Execution ProcessID='0' ThreadID='0'/><Channel>Microsoft Intune Connector</Channel><Computer>NDES01.contoso.test</Computer><Security/></System><EventData><Data>0x00000400</Data><Data>dev-1</Data><Data/><Data>Contoso &lt;Issuing&gt; &amp; CA</Data></EventData></Event>";

#[test]
fn classic_events_are_read_positionally() {
    let mut want = sample().remove(1);
    want.time = time::macros::datetime!(2026-01-01 00:00:01 UTC);
    let read = event::from_xml(CLASSIC_EVENT.as_bytes()).expect("a classic event reads");
    assert_eq!(read, vec![want]);
}

/// What a classic log can carry of a stream: whole seconds, and no empty detail values (an
/// empty unnamed item means "absent").
fn classic_view(stream: &[EventRecord]) -> Vec<EventRecord> {
    stream
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.time = r.time.replace_nanosecond(0).unwrap();
            r.details = r
                .details
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k, v.to_string()))
                .collect();
            r
        })
        .collect()
}

/// PowerShell 5's `Get-WinEvent … | % { $_.ToXml() } > log.xml`: one event per line, CRLF,
/// UTF-16LE with a BOM.
fn to_xml_powershell(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.replace('\n', "\r\n").encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_xml_form_and_layout_round_trips(stream in arb_stream()) {
        use event::{XmlForm, XmlLayout};
        for form in [XmlForm::Manifest, XmlForm::Classic] {
            let want = match form {
                XmlForm::Manifest => stream.clone(),
                XmlForm::Classic => classic_view(&stream),
            };
            for layout in [XmlLayout::Bare, XmlLayout::Wrapped] {
                let text = event::write_xml(&stream, form, layout);
                prop_assert_eq!(&event::from_xml(text.as_bytes()).unwrap(), &want, "{:?} {:?}", form, layout);
                prop_assert_eq!(&event::from_xml(&to_xml_powershell(&text)).unwrap(), &want);
            }
        }
    }

    #[test]
    fn no_reader_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = event::from_xml(&bytes);
        let _ = event::from_jsonl(&String::from_utf8_lossy(&bytes));
        let _ = event::from_yaml(&String::from_utf8_lossy(&bytes));
        for format in [event::Format::Jsonl, event::Format::Xml, event::Format::Yaml, event::Format::Evtx] {
            let mut n = 0;
            event::scan_bytes(bytes.clone(), format, &[event::PROVIDER.to_string()], |_| {
                n += 1;
                std::ops::ControlFlow::Continue(())
            });
            prop_assert!(n <= bytes.len() + 1);
        }
    }

    #[test]
    fn no_reader_panics_on_xml_ish_bytes(parts in proptest::collection::vec(
        prop_oneof![
            Just("<Event>".to_string()), Just("</Event>".to_string()), Just("<Events>".to_string()),
            Just("<System>".to_string()), Just("</System>".to_string()), Just("<EventData>".to_string()),
            Just("<Data>".to_string()), Just("<Data Name='DeviceId'>".to_string()), Just("</Data>".to_string()),
            Just("<Provider Name='Microsoft Intune Connector'/>".to_string()),
            Just("<EventID>20102</EventID>".to_string()), Just("<Level>2</Level>".to_string()),
            Just("&amp;".to_string()), Just("<!--".to_string()), Just("<?x".to_string()), "[ -~]{0,8}",
        ], 0..40)) {
        let text = parts.concat();
        let _ = event::from_xml(text.as_bytes());
        event::scan_bytes(text.into_bytes(), event::Format::Xml, &[event::PROVIDER.to_string()], |_| {
            std::ops::ControlFlow::Continue(())
        });
    }
}

#[test]
fn classic_form_looks_like_a_classic_log() {
    let stream = sample();
    let xml = event::event_to_xml_in(&stream[1], event::XmlForm::Classic);
    // The documented order: code, then 20102's details as `explain 20102` lists them.
    let data = "<EventData><Data>0x00000400</Data><Data>dev-1</Data><Data/><Data>Contoso &lt;Issuing&gt; &amp; CA</Data><Data/><Data/><Data/><Data/><Data/></EventData>";
    assert!(xml.contains(data), "{xml}");
    assert!(
        xml.contains(
            "<Provider Name='Microsoft Intune Connector'/><EventID Qualifiers='0'>20102</EventID>"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("SystemTime='2026-01-01T00:00:01.000000000Z'"),
        "{xml}"
    );
    assert!(!xml.contains('"'), "attributes are single-quoted: {xml}");
    // The hand-written wevtutil line reads as the same record.
    assert_eq!(
        event::from_xml(CLASSIC_EVENT.as_bytes()).unwrap(),
        event::from_xml(xml.as_bytes()).unwrap()
    );
    let manifest = event::event_to_xml(&stream[1]);
    assert!(
        manifest.contains(&format!(
            "Guid='{}'/><EventID>20102</EventID>",
            event::PROVIDER_GUID
        )),
        "{manifest}"
    );
    assert!(
        manifest.contains("<Data Name='DiagnosticCode'>0x00000400</Data>"),
        "{manifest}"
    );
}

#[test]
fn xml_reader_accepts_declarations_boms_and_any_wrapper() {
    let stream = sample();
    let bare = event::write_xml(&stream, event::XmlForm::Manifest, event::XmlLayout::Bare);
    for text in [
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>\n{bare}</Events>\n"),
        format!("\u{FEFF}{bare}"),
        format!("<root><!-- wevtutil /e:root -->\n{bare}</root>"),
    ] {
        assert_eq!(event::from_xml(text.as_bytes()).unwrap(), stream, "{text}");
    }
    // Text outside any event is an error for the strict reader, located.
    let junk = format!("{bare}stray text\n");
    let err = event::from_xml(junk.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("line 3") && err.contains("outside"), "{err}");
}

/// A real .evtx file's bytes, for mutation (`None` when the shared folder is absent).
fn evtx_sample() -> Option<&'static Vec<u8>> {
    static SAMPLE: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();
    SAMPLE
        .get_or_init(|| {
            let shared = harness_test_support::shared_dir("fixtures/evtx")?;
            std::fs::read(shared.join("fixtures/evtx/Application_no_crc32.evtx")).ok()
        })
        .as_ref()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    /// Damage anywhere in a real .evtx file (header, chunk header, string and template
    /// tables, records) is reported, never a panic, and the parser is not the one that saves
    /// us: no item may say it panicked.
    #[test]
    fn a_damaged_evtx_is_reported_not_a_panic(
        edits in proptest::collection::vec((0usize..69_632, any::<u8>()), 1..24),
        cut in proptest::option::of(0usize..69_632),
    ) {
        let Some(sample) = evtx_sample() else { return Ok(()) };
        let mut bytes = sample.clone();
        for (at, value) in edits {
            // Most of the file is chunk 0's first 22 KB; aim there three times in four.
            let at = if at % 4 == 0 { at } else { 4096 + at % 22_400 };
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
        }
        if let Some(cut) = cut {
            bytes.truncate(cut);
        }
        let mut panicked = false;
        event::scan_bytes(bytes, event::Format::Evtx, &[event::PROVIDER.to_string()], |item| {
            if let event::Scanned::Unreadable { why, .. } = &item {
                panicked |= why.contains("panicked");
            }
            std::ops::ControlFlow::Continue(())
        });
        prop_assert!(!panicked);
    }
}
