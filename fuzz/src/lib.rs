//! What the fuzz targets share: the fixed identities and fake service some of them need
//! ([`scep`], [`intune`]), the seed corpora built from the repository's and the shared
//! fixtures ([`seeds`]), and [`init`], which every target calls first.
//!
//! Seeds are written by the targets themselves, so they are built by the same code, against
//! the same fixed state, as the inputs they seed: `CONNECTOR_HARNESS_FUZZ_SEEDS=DIR <target>`
//! writes that target's seeds into `DIR` and exits (`cargo xtask fuzz` does this before each
//! run).

#[cfg(feature = "intune")]
pub mod intune;
pub mod scep;
pub mod seeds;

use std::path::PathBuf;

/// The environment variable that asks a target to write its seeds into a folder and exit.
pub const SEEDS_ENV: &str = "CONNECTOR_HARNESS_FUZZ_SEEDS";

/// The repository's root (the folder holding `scenarios/`, `snapshots/`, `harness/`).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// Called by every target before its first input: writes the target's seeds and exits when
/// [`SEEDS_ENV`] names a folder; otherwise does nothing.
pub fn init(target: &str) {
    let Some(dir) = std::env::var_os(SEEDS_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    match seeds::write(target, &dir) {
        Ok(n) => {
            eprintln!("{target}: wrote {n} seeds to {}", dir.display());
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("{target}: cannot write seeds to {}: {e}", dir.display());
            std::process::exit(2);
        }
    }
}
