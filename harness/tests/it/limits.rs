//! Tiny files that ask for unbounded work are load errors, not crashes or endless runs. Each
//! test here would abort or exhaust the test process on a loader that trusts the file, so they
//! live in their own binary.

use std::path::Path;

use harness_runner::scenario::load_str;

const HEAD: &str = "name: big\nsummary: Asks for too much.\n";

#[test]
fn a_count_of_four_billion_is_refused_without_allocating() {
    for step in [
        "queue_pkcs: {device: d, user: u, count: 4294967295}",
        "enroll: {device: d, user: u, count: 4294967295}",
    ] {
        let text = format!(
            "{HEAD}steps:\n  - queue_pkcs: {{device: d, user: u}}\n  - start\n  - {step}\n"
        );
        let e = load_str(Path::new("scenarios/big.yaml"), &text).unwrap_err();
        assert!(e.to_string().contains("count"), "{e}");
    }
}

#[test]
fn a_revocation_of_four_billion_devices_is_refused() {
    let text = format!(
        "{HEAD}steps:\n  - queue_pkcs: {{device: d, user: u, count: 1000}}\n  - start\n  - sync\n  - queue_revocation: {{device: d, count: 4294967295}}\n"
    );
    let e = load_str(Path::new("scenarios/big.yaml"), &text).unwrap_err();
    assert!(e.to_string().contains("count"), "{e}");
}

#[test]
fn a_hundred_thousand_steps_are_refused() {
    let text = format!("{HEAD}steps:\n  - start\n{}", "  - sync\n".repeat(100_000));
    let e = load_str(Path::new("scenarios/big.yaml"), &text).unwrap_err();
    assert!(e.to_string().contains("steps"), "{e}");
}
