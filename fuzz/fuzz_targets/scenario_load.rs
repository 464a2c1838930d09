//! The scenario loader on arbitrary bytes: the UTF-8 check, YAML syntax and shape, the checks
//! of meaning and caps (`scenario::load_bytes`), and the error a person is shown.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

/// An error is a message (≤ 1,000 characters), a window of the line (≤ 122) and a help text
/// (≤ 1,000): an 18 MB line must not become an 18 MB error.
const MAX_ERROR_CHARS: usize = 4_000;

fuzz_target!(
    init: connector_harness_fuzz::init("scenario_load"),
    |data: &[u8]| {
        // An empty path skips the file-name check, so every library scenario loads as a seed.
        match connector_harness::scenario::load_bytes(Path::new(""), data) {
            Ok(_) => {}
            Err(e) => {
                let shown = e.to_string();
                assert!(
                    shown.chars().count() <= MAX_ERROR_CHARS,
                    "a {}-character error for a {}-byte file",
                    shown.chars().count(),
                    data.len()
                );
            }
        }
    }
);
