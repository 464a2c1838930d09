//! Broken scenario files get errors that name the file, the line and the column, show the line
//! and say what was expected.

use std::path::Path;

use connector_harness::scenario::{load_str, ScenarioError};

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
