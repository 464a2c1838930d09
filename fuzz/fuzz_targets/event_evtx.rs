//! Binary .evtx as `check` reads it. The `evtx` crate is a third party's parser fed hostile
//! bytes; the harness contains its panics (a panic there is one unreadable item), so a panic
//! raised inside that crate is not a crash here. A panic anywhere else still aborts.
#![no_main]

use std::ops::ControlFlow;

use harness_runner::event::{self, Format};
use libfuzzer_sys::fuzz_target;

/// Whether a panic was raised in the `evtx` crate's own source.
fn in_evtx_crate(info: &std::panic::PanicHookInfo<'_>) -> bool {
    info.location()
        .is_some_and(|l| l.file().replace('\\', "/").contains("/evtx-"))
}

fuzz_target!(
    init: {
        connector_harness_fuzz::init("event_evtx");
        // libFuzzer's hook aborts on every panic, also on one the reader catches.
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !in_evtx_crate(info) {
                abort_hook(info);
            }
        }));
    },
    |data: &[u8]| {
        let providers = [event::PROVIDER.to_string()];
        event::scan_bytes(data.to_vec(), Format::Evtx, &providers, |_| {
            ControlFlow::Continue(())
        });
    }
);
