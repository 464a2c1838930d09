//! Broken scenario files get errors that name the file, the line and the column, show the line
//! and say what was expected.

use std::path::Path;

use harness_runner::scenario::{load_str, ScenarioError};

const HEAD: &str = "name: broken\nsummary: A broken scenario.\n";

fn err(body: &str) -> ScenarioError {
    let text = format!("{HEAD}{body}");
    match load_str(Path::new("scenarios/broken.yaml"), &text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

fn assert_at(e: &ScenarioError, line: u64, column: u64, needle: &str) {
    let shown = e.to_string();
    assert!(shown.contains(needle), "message lacks `{needle}`:\n{shown}");
    assert_eq!(
        (e.line, e.column),
        (line, column),
        "wrong position:\n{shown}"
    );
    assert!(
        shown.contains(&format!("scenarios/broken.yaml:{line}:{column}")),
        "{shown}"
    );
    assert!(e.source_line.is_some(), "no source line:\n{shown}");
}

#[test]
fn a_good_file_loads() {
    let text = format!("{HEAD}tags: [x]\nsteps:\n  - start\n  - advance: 1h\n  - sync\n  - stop\n");
    let s = load_str(Path::new("scenarios/broken.yaml"), &text).unwrap();
    assert_eq!(s.steps.len(), 4);
}

#[test]
fn bad_yaml_syntax() {
    let e = err("steps:\n  - start\n  - fault: {target: ca.issue, kind: hang\n");
    assert!(e.line >= 5, "{e}");
    assert!(e.to_string().contains("broken.yaml:"), "{e}");
}

#[test]
fn unknown_top_level_key() {
    let e = err("stepz:\n  - start\n");
    assert_at(&e, 3, 1, "unknown field `stepz`");
    assert!(e.to_string().contains("help:"), "{e}");
}

#[test]
fn duplicate_key() {
    let e = err("seed: 1\nseed: 2\nsteps:\n  - start\n");
    assert_at(&e, 4, 1, "duplicate");
}

#[test]
fn wrong_type() {
    let e = err("seed: many\nsteps:\n  - start\n");
    assert_at(&e, 3, 7, "expected a whole number");
}

#[test]
fn unknown_step() {
    let e = err("steps:\n  - start\n  - explode\n");
    assert_at(&e, 5, 5, "unknown variant `explode`");
}

#[test]
fn unknown_event_name_in_expectations() {
    let e = err("steps:\n  - start\nexpect:\n  sequence:\n    - event: PkcsCertIssue_Sucess\n");
    assert_at(&e, 7, 14, "PkcsCertIssue_Sucess");
}

#[test]
fn unknown_code_in_expectations() {
    let e = err("steps:\n  - start\nexpect:\n  sequence:\n    - event: 20102\n      code: 0x999\n");
    assert_at(&e, 8, 13, "0x999");
}

#[test]
fn unknown_fault_target() {
    let e = err("steps:\n  - start\n  - fault: {target: ca.explode, kind: hang}\n");
    assert_at(&e, 5, 21, "unknown fault target `ca.explode`");
    assert!(
        e.to_string().contains("ca.issue"),
        "the error lists the targets: {e}"
    );
}

#[test]
fn times_on_a_fault_that_no_call_counts_down() {
    // A missing RA certificate is not a call: nothing would count `times` down, so it would
    // silently last until healed.
    let e =
        err("steps:\n  - start\n  - fault: {target: ndes.ra_signing, kind: missing, times: 1}\n");
    assert_at(&e, 5, 5, "no call counts `times` down");
    assert!(e.to_string().contains("heal"), "{e}");
}

#[test]
fn fault_kind_that_does_not_apply() {
    let e = err("steps:\n  - start\n  - fault: {target: ca.issue, kind: missing}\n");
    assert_at(&e, 5, 5, "does not apply to `ca.issue`");
}

#[test]
fn status_fault_without_a_status() {
    let e = err("steps:\n  - start\n  - fault: {target: ca.issue, kind: status}\n");
    assert_at(&e, 5, 5, "needs `status: <HTTP code>`");
}

#[test]
fn step_before_start() {
    let e = err("steps:\n  - sync\n");
    assert_at(&e, 4, 5, "before the connector is started");
    assert!(e.to_string().contains("- start"), "{e}");
}

#[test]
fn revoke_of_a_serial_never_issued() {
    let e = err("steps:\n  - start\n  - queue_revocation: {device: phone-9}\n");
    assert_at(&e, 5, 5, "never issued");
}

#[test]
fn bad_duration() {
    let e = err("steps:\n  - start\n  - advance: 10 minutes\n");
    assert_at(&e, 5, 14, "not a duration");
}

#[test]
fn name_does_not_match_the_file() {
    let text = "name: other\nsummary: s\nsteps:\n  - start\n";
    let e = load_str(Path::new("scenarios/broken.yaml"), text).unwrap_err();
    assert_at(&e, 1, 1, "named `other`");
}

#[test]
fn unknown_heal_target() {
    let e = err("steps:\n  - start\n  - heal: ca.everything\n");
    assert_at(&e, 5, 5, "unknown fault target");
}

#[test]
fn the_error_shows_the_line_and_a_caret() {
    let e = err("steps:\n  - start\n  - fault: {target: ca.explode, kind: hang}\n");
    let shown = e.to_string();
    assert!(
        shown.contains("5 |   - fault: {target: ca.explode, kind: hang}"),
        "{shown}"
    );
    assert!(
        shown.lines().any(|l| l.trim_end().ends_with('^')),
        "{shown}"
    );
}

fn loads(body: &str) -> harness_runner::scenario::Scenario {
    let text = format!("{HEAD}{body}");
    match load_str(Path::new("scenarios/broken.yaml"), &text) {
        Ok(s) => s,
        Err(e) => panic!("expected to load:\n{text}\n{e}"),
    }
}

#[test]
fn the_seeds_nine_digit_unknown_error_spelling_loads_unquoted() {
    use harness_runner::catalog::DiagnosticCode;
    for spelling in ["0x0FFFFFFFF", "'0x0FFFFFFFF'", "0x0FFFFFFF", "268435455"] {
        let s = loads(&format!(
            "steps:\n  - start\nexpect:\n  sequence:\n    - event: 20102\n      code: {spelling}\n"
        ));
        assert_eq!(
            s.expect.sequence[0].value.code,
            Some(DiagnosticCode::UnknownError),
            "{spelling}"
        );
    }
    // 0xFFFFFFFF is not the seed's typo: it is another value, and not a catalog code.
    let e = err(
        "steps:\n  - start\nexpect:\n  sequence:\n    - event: 20102\n      code: 0xFFFFFFFF\n",
    );
    assert_at(&e, 8, 13, "0xFFFFFFFF");
}

/// The 1-based column of `value` in `line`.
fn col(line: &str, value: &str) -> u64 {
    line.find(value).expect("value in line") as u64 + 1
}

#[test]
fn caps_are_load_errors_at_the_value() {
    for (setup, value, needle) in [
        ("  connector: {timeout: 1h}", "1h", "timeout"),
        (
            "  connector: {timeout: 213503982334d}",
            "213503982334d",
            "timeout",
        ),
        (
            "  connector: {retries: 4294967295}",
            "4294967295",
            "retries",
        ),
        ("  connector: {batch_size: 100000}", "100000", "batch_size"),
        ("  connector: {batch_size: 0}", "0", "batch_size"),
        ("  connector: {backoff: 400d}", "400d", "backoff"),
        (
            "  connector: {renewal_window: 36501d}",
            "36501d",
            "renewal_window",
        ),
        (
            "  registration: {expires_in: 3650000d}",
            "3650000d",
            "expires_in",
        ),
        (
            "  ca: {templates: [{name: T, validity: 36501d}]}",
            "36501d",
            "validity",
        ),
        (
            "  start_time: 9999-12-31T00:00:00Z",
            "9999",
            "end of scenario time",
        ),
        ("  start_time: 1969-12-31T23:59:59Z", "1969", "1970"),
    ] {
        let e = err(&format!("setup:\n{setup}\nsteps:\n  - start\n"));
        assert_at(&e, 4, col(setup, value), needle);
    }
}

#[test]
fn the_budget_is_a_setting_with_a_cap() {
    let s = loads("budget: 5m\nsteps:\n  - start\n");
    assert_eq!(s.budget.map(|b| b.get().as_secs()), Some(300));
    let e = err("budget: 2h\nsteps:\n  - start\n");
    assert_at(&e, 3, 9, "budget");
}

#[test]
fn count_over_the_cap_per_step() {
    for step in [
        "  - queue_pkcs: {device: d, user: u, count: 1001}",
        "  - enroll: {device: d, user: u, count: 4294967295}",
    ] {
        let e = err(&format!("steps:\n  - start\n{step}\n"));
        assert_at(&e, 5, col(step, "count: ") + 7, "count");
    }
}

#[test]
fn count_over_the_cap_per_scenario() {
    let mut body = String::from("steps:\n  - start\n");
    for i in 0..6 {
        body += &format!("  - queue_pkcs: {{device: d{i}, user: u, count: 1000}}\n");
    }
    let e = err(&body);
    // The sixth step takes the scenario past 5,000 requests and devices.
    assert_at(&e, 10, 5, "5000");
}

#[test]
fn too_many_steps() {
    let mut body = String::from("steps:\n  - start\n");
    for _ in 0..1000 {
        body += "  - sync\n";
    }
    let e = err(&body);
    assert_at(&e, 1004, 5, "1000 steps");
}

#[test]
fn scenario_time_past_its_end_is_caught_at_load() {
    let e = err("setup:\n  start_time: 9899-01-01T00:00:00Z\nsteps:\n  - start\n  - advance: 300d\n  - advance: 100d\n");
    assert_at(&e, 8, 5, "end of scenario time");
    // Each enrollment with an expired challenge moves the clock by 61 s.
    let e = err("setup:\n  start_time: 9899-12-31T23:59:00Z\nsteps:\n  - start\n  - enroll: {device: d, user: u, challenge: expired}\n");
    assert_at(&e, 7, 5, "end of scenario time");
}

#[test]
fn long_text_values_are_capped() {
    let step = format!("  - queue_pkcs: {{device: {}, user: u}}", "d".repeat(200));
    let e = err(&format!("steps:\n  - start\n{step}\n"));
    assert_at(&e, 5, col(&step, "ddd"), "128");
}

#[test]
fn the_error_snippet_is_bounded_on_a_huge_line() {
    // Just under the file-size cap: one line of 900 KB.
    let huge = format!("steps: [start, {}explode]\n", "sync, ".repeat(150_000));
    let e = err(&huge);
    let shown = e.to_string();
    assert!(shown.len() < 4_000, "{} bytes of error", shown.len());
    assert!(
        shown.contains("explode"),
        "the window shows the column: {}",
        &shown[..shown.len().min(2000)]
    );
    assert!(
        shown.lines().any(|l| l.trim_end().ends_with('^')),
        "{shown}"
    );
}

#[test]
fn an_echoed_value_is_bounded() {
    let huge = "x".repeat(5_000_000);
    let e = err(&format!("steps:\n  - start\n  - advance: {huge}\n"));
    assert!(
        e.to_string().len() < 4_000,
        "{} bytes of error",
        e.to_string().len()
    );
}

#[test]
fn a_file_that_is_not_utf8_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    let mut bytes = format!("{HEAD}steps:\n  - queue_pkcs: {{device: caf").into_bytes();
    bytes.push(0xE9); // Latin-1 é
    bytes.extend_from_slice(b", user: u}\n");
    std::fs::write(&file, bytes).unwrap();
    let e = harness_runner::scenario::load_file(&file).unwrap_err();
    let shown = e.to_string();
    assert_eq!((e.line, e.column), (4, 29), "{shown}");
    assert!(shown.contains("UTF-8"), "{shown}");
    assert!(e.source_line.is_some(), "{shown}");
}

#[test]
fn a_file_over_the_size_cap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    let summary = "y".repeat(2 << 20);
    std::fs::write(
        &file,
        format!("name: broken\nsummary: {summary}\nsteps:\n  - start\n"),
    )
    .unwrap();
    let e = harness_runner::scenario::load_file(&file).unwrap_err();
    assert!(e.to_string().contains("MiB"), "{e}");
}

#[test]
fn an_enrollment_names_a_profile_intune_has_at_that_step() {
    let e = err("steps:\n  - start\n  - enroll: {device: d, user: u, profile: SCEP-Nope}\n");
    assert_at(&e, 5, 5, "no SCEP profile `SCEP-Nope`");
    assert!(e.to_string().contains("SCEP-Default"), "{e}");
    let e = err(
        "steps:\n  - start\n  - remove_profile: SCEP-Default\n  - enroll: {device: d, user: u}\n",
    );
    assert_at(&e, 6, 5, "no SCEP profile `SCEP-Default`");
    let added = format!(
        "{HEAD}steps:\n  - start\n  - add_profile: {{name: SCEP-Corp, san: [upn]}}\n  - enroll: {{device: d, user: u, profile: SCEP-Corp}}\n"
    );
    assert!(load_str(Path::new("scenarios/broken.yaml"), &added).is_ok());
}

#[test]
fn heal_says_when_it_heals_nothing() {
    let e = err("steps:\n  - start\n  - heal: all\n");
    assert_at(&e, 5, 5, "`heal: all` here heals nothing");
    assert!(e.to_string().contains("store"), "{e}");
    let e = err("steps:\n  - fault: {target: ca.issue, kind: deny}\n  - heal: ca.revoke\n");
    assert_at(&e, 5, 5, "`heal: ca.revoke` heals nothing");
    let e = err(
        "steps:\n  - fault: {target: ca.issue, kind: deny}\n  - heal: all\n  - heal: ca.issue\n",
    );
    assert_at(&e, 6, 5, "`heal: ca.issue` heals nothing");
}

#[test]
fn a_csr_shape_is_checked_at_load() {
    let e =
        err("steps:\n  - start\n  - enroll: {device: d, user: u, csr: {san: [{ip: 10.0.0.1}]}}\n");
    assert!(e.to_string().contains("ip"), "{e}");
    let e = err("steps:\n  - start\n  - enroll: {device: d, user: u, csr: {digest: md5}}\n");
    assert!(e.to_string().contains("md5"), "{e}");
}
