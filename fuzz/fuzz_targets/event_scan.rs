//! What `connector-harness check` does with a log's bytes: tell the text format from the
//! first character, read every item loosely, and judge them against the catalog and one
//! scenario's expectations. For the snapshot form (YAML), the strict reader's round trip too.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use harness_runner::check::{check_items, CheckOptions};
use harness_runner::event::{self, Format};
use harness_runner::scenario::model::Expect;
use libfuzzer_sys::fuzz_target;

fn expect() -> &'static Expect {
    static EXPECT: OnceLock<Expect> = OnceLock::new();
    EXPECT.get_or_init(|| {
        let path = connector_harness_fuzz::repo_root().join("scenarios/story-day-in-the-life.yaml");
        harness_runner::scenario::load_file(&path)
            .expect("the story scenario loads")
            .expect
    })
}

fuzz_target!(
    init: {
        connector_harness_fuzz::init("event_scan");
        expect();
    },
    |data: &[u8]| {
        let format = match event::detect(Path::new(""), data) {
            // .evtx has its own target.
            Some(Format::Evtx) => return,
            Some(f) => f,
            None => Format::Jsonl,
        };
        if format == Format::Yaml {
            // The snapshot form: what the strict reader accepts, the writer writes back the same.
            if let Ok(records) = event::from_yaml(&String::from_utf8_lossy(data)) {
                let again = event::from_yaml(&event::to_yaml(&records));
                assert!(
                    again.as_ref().ok() == Some(&records),
                    "YAML written back does not read the same: {again:?}"
                );
            }
        }
        let options = CheckOptions::default();
        let mut items = Vec::new();
        event::scan_bytes(data.to_vec(), format, &options.scan.providers, |item| {
            items.push(item);
            std::ops::ControlFlow::Continue(())
        });
        let verdict = check_items(format, items, Some(expect()), &options);
        let _ = serde_json::to_string(&verdict);
    }
);
