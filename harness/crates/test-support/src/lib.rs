//! Dev-only helpers for tests that use material outside the repository: the shared fixtures folder
//! (captured SCEP traffic, sample .evtx files) and real peer programs (`scepclient`, `openssl`).
//!
//! On a user's fresh clone these may be absent: the test prints a notice and passes. CI sets
//! `HARNESS_REQUIRE_SHARED=1` and `HARNESS_REQUIRE_PEERS=1` (see `.ci/run`), which turn absence
//! into a failure, so nothing silently stops being tested there.

#![warn(missing_docs, unreachable_pub)]

use std::path::PathBuf;

/// Set by CI: a missing shared folder fails instead of skipping.
pub const REQUIRE_SHARED: &str = "HARNESS_REQUIRE_SHARED";
/// Set by CI: a missing peer program fails instead of skipping.
pub const REQUIRE_PEERS: &str = "HARNESS_REQUIRE_PEERS";
/// Overrides where the shared folder is.
pub const SHARED_DIR: &str = "HARNESS_SHARED_DIR";

fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The shared folder (`$HARNESS_SHARED_DIR`, else `../shared` beside the workspace), or `None`
/// with a printed notice when it is absent and not required.
///
/// # Panics
/// When the folder is absent and `HARNESS_REQUIRE_SHARED` is set.
pub fn shared_dir(what: &str) -> Option<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let candidates = [
        std::env::var_os(SHARED_DIR).map(PathBuf::from),
        Some(workspace.join("../shared")),
    ];
    for dir in candidates.into_iter().flatten() {
        if dir.join(what).exists() {
            return Some(dir);
        }
    }
    if required(REQUIRE_SHARED) {
        panic!("{REQUIRE_SHARED} is set but the shared folder with `{what}` was not found (set {SHARED_DIR})");
    }
    eprintln!("notice: skipping: shared fixtures `{what}` not found beside the workspace (set {SHARED_DIR})");
    None
}

/// The path of a peer program on `PATH`, or `None` with a printed notice when it is absent
/// and not required.
///
/// # Panics
/// When the program is absent and `HARNESS_REQUIRE_PEERS` is set.
pub fn peer(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if required(REQUIRE_PEERS) {
            panic!("{REQUIRE_PEERS} is set but `{program}` is not on PATH");
        }
        eprintln!("notice: skipping: `{program}` is not installed");
    }
    found
}

/// Names the Python interpreter that has the Python peers installed (`.ci/run` makes a venv).
pub const PYTHON: &str = "HARNESS_PYTHON";

/// A Python interpreter (`$HARNESS_PYTHON`, else `python3` on `PATH`) that has `module`
/// installed (found, not imported: importing may need the peer script's own workarounds), or `None` with a printed notice when there is none and peers are not required.
///
/// # Panics
/// When no such interpreter exists and `HARNESS_REQUIRE_PEERS` is set.
pub fn python_peer(module: &str) -> Option<PathBuf> {
    let python = match std::env::var_os(PYTHON) {
        Some(p) => Some(PathBuf::from(p)),
        None => peer("python3"),
    }?;
    let imports = std::process::Command::new(&python)
        .args([
            "-c",
            &format!("import importlib.util, sys; sys.exit(importlib.util.find_spec('{module}') is None)"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if imports {
        return Some(python);
    }
    if required(REQUIRE_PEERS) {
        panic!(
            "{REQUIRE_PEERS} is set but `{}` does not have `{module}` (set {PYTHON})",
            python.display()
        );
    }
    eprintln!(
        "notice: skipping: `{}` does not have `{module}` (set {PYTHON})",
        python.display()
    );
    None
}
