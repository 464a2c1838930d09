//! `cargo xtask`: project automation that needs nothing but cargo.
//!
//! - `cargo xtask run-scenarios [FLAGS]` runs every scenario (flags are passed through; see
//!   `cargo xtask run-scenarios --help`).
//! - `cargo xtask gen-fixtures` regenerates the test PKI in `fixtures/`.
//! - `cargo xtask bench [--quick] [--json PATH]` measures a release build (see [`bench`]).
//! - `cargo xtask serve-memory [FLAGS]` measures `serve`'s resident memory after 1,000 and
//!   after 100,000 mixed requests (`harness/examples/serve_memory.rs`; a figure, not a test).
//! - `cargo xtask fuzz [--seconds N] [--target NAME] [--jobs N] [--input FILE]` runs the fuzz
//!   targets of `fuzz/` (see `fuzz.rs`); it is also the rustc wrapper their build uses.
//! - `cargo xtask conformance [--python P] [--jobs N] [--mutant NAME]` runs the library through
//!   the second, independent connector and each of its mutants (see `conformance.rs`).

mod bench;
mod conformance;
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

/// Builds the harness binary (`release` or debug) and returns its path.
fn build_harness(root: &std::path::Path, release: bool) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).arg("build");
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .args([
            "--quiet",
            "--package",
            "connector-harness",
            "--bin",
            "connector-harness",
        ])
        .status()
        .context("starting cargo build")?;
    if !status.success() {
        anyhow::bail!("cargo build of the harness failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target
        .join(if release { "release" } else { "debug" })
        .join("connector-harness"))
}

/// Builds the harness binary and the memory driver, then runs the driver against the binary.
fn serve_memory(args: &[String]) -> Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(&cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--package",
            "connector-harness",
            "--bin",
            "connector-harness",
            "--example",
            "serve_memory",
        ])
        .status()
        .context("starting cargo")?;
    if !built.success() {
        return Ok(ExitCode::from(1));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("debug");
    let status = Command::new(target.join("examples").join("serve_memory"))
        .arg("--bin")
        .arg(target.join("connector-harness"))
        .args(args)
        .status()
        .context("starting the memory driver")?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

fn main() -> ExitCode {
    if std::env::var_os(fuzz::WRAP_ENV).is_some() {
        let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
        return fuzz::wrap_rustc(&args);
    }
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
        Some("serve-memory") => serve_memory(&args[1..]),
        Some("fuzz") => fuzz::run(&workspace_root(), &args[1..]),
        Some("conformance") => conformance::run(&workspace_root(), &args[1..])
            .map(|ok| ExitCode::from(if ok { 0 } else { 1 })),
        Some("gen-fixtures") => harness(&[
            "gen-fixtures".to_string(),
            workspace_root().join("fixtures").display().to_string(),
        ]),
        Some("bench") => bench::bench(&workspace_root(), &args[1..]).map(|()| ExitCode::SUCCESS),
        _ => {
            eprintln!("usage: cargo xtask <run-scenarios [FLAGS] | gen-fixtures | bench [--quick] [--json PATH] | serve-memory [FLAGS] | fuzz [FLAGS] | conformance [FLAGS]>

  run-scenarios   run every scenario in scenarios/ (see --help)
  gen-fixtures    regenerate the test PKI in fixtures/
  bench           performance figures from a release build (--quick: the CI size)
  serve-memory    serve's resident memory after 1,000 and 100,000 mixed requests
  fuzz            run the fuzz targets of fuzz/ (see --help)
  conformance     the library through the second connector, then each of its mutants");
            Ok(ExitCode::from(2))
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("xtask: {e:#}");
        ExitCode::from(1)
    })
}
