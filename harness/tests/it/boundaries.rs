//! The module boundaries hold: the reference connector never reaches into the fakes (or the
//! runner), the fakes never reach into the connector, the scenario language depends on neither,
//! and the contract depends on no one but the catalog. A `use` that crosses a line fails here,
//! naming the file and line.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Lines of code (not comments) under `module` that mention one of `forbidden`.
fn crossings(module: &str, forbidden: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    let root = src().join(module);
    if root.is_dir() {
        rust_files(&root, &mut files);
    } else {
        files.push(src().join(format!("{module}.rs")));
    }
    assert!(!files.is_empty(), "no sources for {module}");
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for bad in forbidden {
                if code.contains(bad) {
                    found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn the_connector_knows_only_the_contract() {
    let found = crossings(
        "connector",
        &[
            "crate::fakes",
            "crate::run",
            "crate::scenario",
            "crate::provision",
            "crate::cli",
        ],
    );
    assert!(
        found.is_empty(),
        "the connector reaches past the contract:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_fakes_do_not_know_the_connector() {
    let found = crossings(
        "fakes",
        &["crate::connector", "crate::run", "crate::scenario"],
    );
    assert!(
        found.is_empty(),
        "a fake reaches into the connector or runner:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scenario_language_depends_on_neither() {
    let found = crossings(
        "scenario",
        &["crate::connector", "crate::fakes", "crate::run"],
    );
    assert!(
        found.is_empty(),
        "the scenario model imports internals:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_contract_depends_on_no_side() {
    let found = crossings(
        "contract",
        &[
            "crate::connector",
            "crate::fakes",
            "crate::run",
            "crate::scenario",
            "crate::cli",
        ],
    );
    assert!(
        found.is_empty(),
        "the contract depends on a side:\n{}",
        found.join("\n")
    );
}

/// The check itself can fail: the runner legitimately uses both sides.
#[test]
fn the_check_sees_a_crossing_where_there_is_one() {
    assert!(!crossings("run", &["crate::fakes"]).is_empty());
}
