//! Windows event XML (wevtutil bare and wrapped, `ToXml()`, manifest and classic, UTF-8 and
//! UTF-16): the strict reader and the loose reading `check` does. What the strict reader
//! accepts, the XML writer writes so that it reads back the same.
#![no_main]

use std::ops::ControlFlow;

use harness_runner::event::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: connector_harness_fuzz::init("event_xml"),
    |data: &[u8]| {
        if let Ok(records) = event::from_xml(data) {
            let again = event::from_xml(event::to_xml(&records).as_bytes());
            assert!(
                again.as_ref().ok() == Some(&records),
                "XML written back does not read the same: {again:?}"
            );
        }
        let providers = [event::PROVIDER.to_string()];
        event::scan_bytes(data.to_vec(), Format::Xml, &providers, |_| {
            ControlFlow::Continue(())
        });
    }
);
