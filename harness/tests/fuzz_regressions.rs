//! Inputs the fuzz targets (`fuzz/`, `cargo xtask fuzz`) found to crash a reader, kept as
//! tests: each file under `tests/fuzz_regressions/<target>/` is fed to the reader it broke,
//! and each case below checks that what was wrong stays fixed.

use std::path::{Path, PathBuf};

use connector_harness::event;

/// The crash inputs a target found, sorted by name.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// The `event_jsonl` target's property: what the strict reader reads, the writer writes back
/// so that it reads the same again.
#[test]
fn json_lines_read_write_and_read_again_the_same() {
    let found = inputs("event_jsonl");
    assert!(!found.is_empty());
    for (path, bytes) in found {
        let text = String::from_utf8_lossy(&bytes);
        let Ok(records) = event::from_jsonl(&text) else {
            continue;
        };
        let again = event::from_jsonl(&event::to_jsonl(&records));
        assert_eq!(again.ok(), Some(records), "{}", path.display());
    }
}

/// Found by `event_jsonl`: a time with a fraction finer than the millisecond was kept, but
/// every format the harness writes carries milliseconds, so writing the record back changed
/// it. Records are scenario time, which moves in milliseconds: the reader keeps those.
#[test]
fn a_time_finer_than_a_millisecond_is_read_to_the_millisecond() {
    let line = r#"{"seq":5,"time":"2026-01-01T00:00:00.0002Z","event_id":20400,"event":"Download_Success","level":"Information","code":"0x00000000","code_name":"Success","message":"m","details":{"request_kind":"revoke","request_count":"1","download_state":"downloaded"}}"#;
    let records = event::from_jsonl(line).expect("a valid record");
    assert_eq!(
        connector_harness::sim::format_time(records[0].time),
        "2026-01-01T00:00:00.000Z"
    );
    assert_eq!(records[0].time.nanosecond(), 0);
    let precise = line.replace("00:00:00.0002Z", "00:00:00.1239999Z");
    let records = event::from_jsonl(&precise).expect("a valid record");
    assert_eq!(records[0].time.nanosecond(), 123_000_000);
}
