//! JSON Lines event logs: the strict reader the harness uses on its own streams (and what it
//! writes back must read back the same), and the loose reading `check` does.
#![no_main]

use std::ops::ControlFlow;

use connector_harness::event::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: connector_harness_fuzz::init("event_jsonl"),
    |data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        if let Ok(records) = event::from_jsonl(&text) {
            let again = event::from_jsonl(&event::to_jsonl(&records));
            assert!(
                again.as_ref().ok() == Some(&records),
                "records read from JSON Lines do not survive being written and read again: {again:?}"
            );
        }
        let providers = [event::PROVIDER.to_string()];
        event::scan_bytes(data.to_vec(), Format::Jsonl, &providers, |_| {
            ControlFlow::Continue(())
        });
    }
);
