//! The scenario language: what a scenario file may say, as types. Parsing happens once, in
//! [`super::load`]; everything after works on these types.

mod expect;
mod pki;
mod setup;
mod steps;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

pub use expect::*;
pub use pki::*;
pub use setup::*;
pub use steps::*;

use super::limits;
use super::span::Span;

/// One scenario file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Connector Harness scenario")]
pub struct Scenario {
    /// Unique name; the file is `scenarios/<name>.yaml` and its snapshot `snapshots/<name>.snap`.
    pub name: String,
    /// One or two sentences for an admin: what happens and what it proves.
    pub summary: String,
    /// Labels to select scenarios with `--tag`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Seed of every random choice in the run (serials, GUIDs, challenges, nonces).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Real time the run may take, from 1s to 1h (default 60s); a run over it fails.
    #[serde(default, deserialize_with = "limits::budget")]
    pub budget: Option<Span>,
    /// The world before the first step.
    #[serde(default)]
    pub setup: Setup,
    /// What happens, in order (at most 1000 steps).
    #[schemars(with = "Vec<Step>", length(min = 1, max = 1000))]
    pub steps: Vec<Spanned<Step>>,
    /// What the event stream must show.
    #[serde(default)]
    pub expect: Expect,
}

fn default_seed() -> u64 {
    1
}
