//! The scenario loader on arbitrary bytes: the UTF-8 check, YAML syntax and shape, the checks
//! of meaning and caps (`scenario::load_bytes`), and the error a person is shown: bounded in
//! length, and located on a line the file has (a file that is not UTF-8 included).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

/// An error is a message (≤ 1,000 characters), a window of the line (≤ 122) and a help text
/// (≤ 1,000): an 18 MB line must not become an 18 MB error.
const MAX_ERROR_CHARS: usize = 4_000;

/// Lines of `data` as YAML counts them (`\r\n`, `\n` and a lone `\r` each end one).
fn lines(data: &[u8]) -> u64 {
    let mut n = 1u64;
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\n' => n += 1,
            b'\r' if data.get(i + 1) != Some(&b'\n') => n += 1,
            _ => {}
        }
        i += 1;
    }
    n
}

fuzz_target!(
    init: connector_harness_fuzz::init("scenario_load"),
    |data: &[u8]| {
        // An empty path skips the file-name check, so every library scenario loads as a seed.
        let Err(e) = harness_runner::scenario::load_bytes(Path::new(""), data) else {
            return;
        };
        let shown = e.to_string();
        assert!(
            shown.chars().count() <= MAX_ERROR_CHARS,
            "a {}-character error for a {}-byte file",
            shown.chars().count(),
            data.len()
        );
        assert!(
            e.line <= lines(data),
            "line {} of a {}-line file: {shown}",
            e.line,
            lines(data)
        );
        if std::str::from_utf8(data).is_err() {
            assert!(e.line >= 1 && e.column >= 1, "a bad byte not located: {shown}");
        }
    }
);
