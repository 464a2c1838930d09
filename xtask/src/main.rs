//! `cargo xtask`: project automation that needs nothing but cargo.
//!
//! - `cargo xtask run-scenarios [FLAGS]` runs every scenario (flags are passed through; see
//!   `cargo xtask run-scenarios --help`).
//! - `cargo xtask gen-fixtures` regenerates the test PKI in `fixtures/`.
//! - `cargo xtask fuzz [--seconds N] [--target NAME]` runs the fuzz targets of `fuzz/` (see
//!   `fuzz.rs`).

mod fuzz;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// Runs the harness binary through cargo with `args`, returning its exit code.
fn harness(args: &[String]) -> Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "run",
            "--quiet",
            "--package",
            "connector-harness",
            "--bin",
            "connector-harness",
            "--",
        ])
        .args(args)
        .status()
        .context("starting cargo")?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run-scenarios") => {
            let mut forwarded = vec![
                "run".to_string(),
                "--scenarios".to_string(),
                workspace_root().join("scenarios").display().to_string(),
                "--snapshots".to_string(),
                workspace_root().join("snapshots").display().to_string(),
            ];
            forwarded.extend(args[1..].iter().cloned());
            harness(&forwarded)
        }
        Some("fuzz") => fuzz::run(&workspace_root(), &args[1..]),
        Some("gen-fixtures") => harness(&[
            "gen-fixtures".to_string(),
            workspace_root().join("fixtures").display().to_string(),
        ]),
        _ => {
            eprintln!("usage: cargo xtask <run-scenarios [FLAGS] | gen-fixtures | fuzz [FLAGS]>\n\n  run-scenarios   run every scenario in scenarios/ (see --help)\n  gen-fixtures    regenerate the test PKI in fixtures/\n  fuzz            run the fuzz targets of fuzz/ (see --help)");
            Ok(ExitCode::from(2))
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("xtask: {e:#}");
        ExitCode::from(1)
    })
}
