//! Inputs the fuzz targets (`fuzz/`, `cargo xtask fuzz`) found to crash a reader, kept as
//! tests: each file under `tests/fuzz_regressions/<target>/` is fed to the reader it broke,
//! and each case below checks that what was wrong stays fixed.

use std::path::{Path, PathBuf};

use harness_runner::event;

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

/// The `event_jsonl` target's property: what the strict reader reads, every writer writes
/// so that it reads back the same (XML where XML 1.0 can carry the characters; these inputs
/// have none it cannot).
#[test]
fn json_lines_read_write_and_read_again_the_same() {
    let found = inputs("event_jsonl");
    assert!(!found.is_empty());
    for (path, bytes) in found {
        let text = String::from_utf8_lossy(&bytes);
        let Ok(records) = event::from_jsonl(&text) else {
            continue;
        };
        let name = path.display();
        let jsonl = event::from_jsonl(&event::to_jsonl(&records)).ok();
        assert_eq!(jsonl.as_ref(), Some(&records), "{name}: JSON Lines");
        let yaml = event::from_yaml(&event::to_yaml(&records)).ok();
        assert_eq!(yaml.as_ref(), Some(&records), "{name}: YAML");
        let xml = event::from_xml(event::to_xml(&records).as_bytes()).ok();
        assert_eq!(xml.as_ref(), Some(&records), "{name}: XML");
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
        harness_runner::sim::format_time(records[0].time),
        "2026-01-01T00:00:00.000Z"
    );
    assert_eq!(records[0].time.nanosecond(), 0);
    let precise = line.replace("00:00:00.0002Z", "00:00:00.1239999Z");
    let records = event::from_jsonl(&precise).expect("a valid record");
    assert_eq!(records[0].time.nanosecond(), 123_000_000);
}

/// Found against `event_jsonl`'s round-trip property: `9999-12-31T23:59:59.999-01:00` is a
/// valid RFC 3339 time whose UTC is in the year 10000. The reader kept it, and writing the
/// record (JSON Lines, YAML, XML) panicked converting it to UTC; `…T00:30:00+01:00` in the
/// year 0 was written as the year `-001`, which no reader reads. A record's time is scenario
/// time: outside it, the strict reader refuses the record and the loose one says so.
#[test]
fn a_time_outside_scenario_time_is_refused_not_written() {
    for (name, bytes) in inputs("event_jsonl") {
        let name = name.display().to_string();
        if !name.contains("year") {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        let read = event::from_jsonl(&text);
        let why = read.expect_err(&name).to_string();
        assert!(why.contains("outside scenario time"), "{name}: {why}");
        let mut loose = Vec::new();
        event::scan_bytes(
            bytes.clone(),
            event::Format::Jsonl,
            &[event::PROVIDER.to_string()],
            |item| {
                loose.push(item);
                std::ops::ControlFlow::Continue(())
            },
        );
        match loose.as_slice() {
            [event::Scanned::Record(i)] => {
                let bad = i.bad_time.as_deref().unwrap_or_default();
                assert!(bad.contains("outside scenario time"), "{name}: {bad}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}
