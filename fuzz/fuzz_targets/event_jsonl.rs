//! JSON Lines event logs: the strict reader the harness uses on its own streams and the loose
//! reading `check` does. What the strict reader accepts, every writer of the harness must
//! write so that it reads back the same: JSON Lines, YAML (snapshots) and Windows event XML
//! (where XML 1.0 can carry the characters).
#![no_main]

use std::ops::ControlFlow;

use harness_runner::event::{self, Format};
use libfuzzer_sys::fuzz_target;

fn xml_can_carry(r: &event::EventRecord) -> bool {
    r.details.iter().all(|(_, v)| {
        v.chars().all(|c| {
            !matches!(c, '\u{FFFE}' | '\u{FFFF}') && (c >= ' ' || matches!(c, '\t' | '\n' | '\r'))
        })
    })
}

fuzz_target!(
    init: connector_harness_fuzz::init("event_jsonl"),
    |data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        if let Ok(records) = event::from_jsonl(&text) {
            let jsonl = event::from_jsonl(&event::to_jsonl(&records));
            assert!(
                jsonl.as_ref().ok() == Some(&records),
                "JSON Lines written back does not read the same: {jsonl:?}"
            );
            let yaml = event::from_yaml(&event::to_yaml(&records));
            assert!(
                yaml.as_ref().ok() == Some(&records),
                "YAML written from the records does not read the same: {yaml:?}"
            );
            // XML 1.0 cannot carry most control characters; the writer puts U+FFFD there.
            if records.iter().all(xml_can_carry) {
                let xml = event::from_xml(event::to_xml(&records).as_bytes());
                assert!(
                    xml.as_ref().ok() == Some(&records),
                    "XML written from the records does not read the same: {xml:?}"
                );
            }
        }
        let providers = [event::PROVIDER.to_string()];
        event::scan_bytes(data.to_vec(), Format::Jsonl, &providers, |_| {
            ControlFlow::Continue(())
        });
    }
);
