//! The boundaries hold. From the crate graph (`cargo metadata`): the reference connector
//! depends on the contract, event, PKI and simulation crates only, so never on the fakes or
//! the runner; the fakes on the contract, PKI and simulation crates only, so never on the
//! connector; the contract crate on serde, schemars and thiserror alone. From the sources: the
//! scenario language uses neither the connector, the fakes nor the runner (a `use` that
//! crosses the line fails here, naming the file and line).

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/runner/src")
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
        let file = src().join(format!("{module}.rs"));
        assert!(
            file.is_file(),
            "no sources for {module}: it moved; update this test"
        );
        files.push(file);
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

/// The workspace crates the fakes may depend on: the contract, PKI and simulation crates, and
/// never the harness (where the reference connector, the runner and the scenario language live).
const FAKES_MAY_USE: &[&str] = &["harness-contract", "harness-pki", "harness-sim"];

/// The workspace crates among `package`'s normal dependencies outside `allowed`.
fn disallowed_workspace_deps(
    metadata: &serde_json::Value,
    package: &str,
    allowed: &[&str],
) -> Vec<String> {
    let members: Vec<String> = metadata["packages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    disallowed_deps(metadata, package, allowed)
        .into_iter()
        .filter(|d| members.contains(d))
        .collect()
}

/// The workspace crates the reference connector may depend on: what a vendor's connector sees
/// (the contract) and the lower crates, never the fakes or the harness.
const CONNECTOR_MAY_USE: &[&str] = &[
    "harness-contract",
    "harness-events",
    "harness-pki",
    "harness-sim",
];

#[test]
fn the_connector_knows_only_the_contract_and_the_lower_crates() {
    let metadata = workspace_metadata();
    let extra = disallowed_workspace_deps(&metadata, "harness-connector", CONNECTOR_MAY_USE);
    assert!(extra.is_empty(), "harness-connector depends on {extra:?}");
    // The rule can fail: the runner depends on the fakes and the connector.
    assert_eq!(
        disallowed_workspace_deps(&metadata, "harness-runner", CONNECTOR_MAY_USE),
        ["harness-connector", "harness-fakes"]
    );
}

#[test]
fn the_fakes_know_only_the_contract_pki_and_simulation_crates() {
    let metadata = workspace_metadata();
    let extra = disallowed_workspace_deps(&metadata, "harness-fakes", FAKES_MAY_USE);
    assert!(extra.is_empty(), "harness-fakes depends on {extra:?}");
    // The rule can fail: the runner depends on the fakes.
    assert_eq!(
        disallowed_workspace_deps(&metadata, "harness-runner", FAKES_MAY_USE),
        ["harness-connector", "harness-events", "harness-fakes"]
    );
}

#[test]
fn the_scenario_language_depends_on_neither() {
    let found = crossings(
        "scenario",
        &[
            "crate::connector",
            "harness_connector",
            "crate::fakes",
            "harness_fakes",
            "crate::run",
        ],
    );
    assert!(
        found.is_empty(),
        "the scenario model imports internals:\n{}",
        found.join("\n")
    );
}

/// What the contract crate may depend on: a vendor's Rust connector builds it with no async
/// runtime, no TLS and no C build.
const CONTRACT_MAY_USE: &[&str] = &["schemars", "serde", "serde_json", "thiserror"];

/// The normal dependencies of `package` outside `allowed`, read from the crate graph.
fn disallowed_deps(metadata: &serde_json::Value, package: &str, allowed: &[&str]) -> Vec<String> {
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let found = packages
        .iter()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("package {package} is not in the workspace"));
    found["dependencies"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|d| d["kind"].is_null())
        .filter_map(|d| d["name"].as_str().map(str::to_string))
        .filter(|name| !allowed.contains(&name.as_str()))
        .collect()
}

fn workspace_metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

#[test]
fn the_contract_crate_depends_on_serde_schemars_and_thiserror_alone() {
    let metadata = workspace_metadata();
    let extra = disallowed_deps(&metadata, "harness-contract", CONTRACT_MAY_USE);
    assert!(extra.is_empty(), "harness-contract depends on {extra:?}");
    // The rule can fail: the runner itself uses far more.
    assert!(!disallowed_deps(&metadata, "harness-runner", CONTRACT_MAY_USE).is_empty());
}

/// The workspace packages, sorted, with a normal dependency on `dependency`; an optional one
/// (which only a feature switches on) counts when `optional_too`.
fn packages_needing(
    metadata: &serde_json::Value,
    dependency: &str,
    optional_too: bool,
) -> Vec<String> {
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let mut needing: Vec<String> = packages
        .iter()
        .filter(|p| {
            p["dependencies"].as_array().is_some_and(|deps| {
                deps.iter().any(|d| {
                    d["name"] == dependency
                        && d["kind"].is_null()
                        && (optional_too || d["optional"] != true)
                })
            })
        })
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    needing.sort_unstable();
    needing
}

/// The command line reaches the harness through the runner alone, and argument parsing stays
/// in it: no library crate depends on clap except as an optional feature the command line
/// switches on (`clap::ValueEnum` on an option enum).
#[test]
fn the_command_line_is_the_only_crate_that_parses_arguments() {
    let metadata = workspace_metadata();
    let cli_may_use = ["harness-runner"];
    let extra = disallowed_workspace_deps(&metadata, "connector-harness", &cli_may_use);
    assert!(extra.is_empty(), "connector-harness depends on {extra:?}");
    let parsing = packages_needing(&metadata, "clap", false);
    // xtask is the other command line; it is not part of the product.
    assert_eq!(
        parsing,
        ["connector-harness", "xtask"],
        "crates that parse arguments"
    );
    // The rule can fail: the runner reaches every lower crate.
    assert!(!disallowed_workspace_deps(&metadata, "harness-runner", &cli_may_use).is_empty());
}

/// Errors are typed (thiserror) in every library crate; anyhow, which erases them, is for
/// the two command lines' edges alone.
#[test]
fn only_the_command_lines_erase_error_types() {
    let erasing = packages_needing(&workspace_metadata(), "anyhow", true);
    assert_eq!(
        erasing,
        ["connector-harness", "xtask"],
        "crates that depend on anyhow"
    );
}

/// The check itself can fail: the runner legitimately uses both sides.
#[test]
fn the_check_sees_a_crossing_where_there_is_one() {
    assert!(!crossings("run", &["crate::fakes"]).is_empty());
}
