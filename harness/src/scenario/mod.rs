//! Scenarios: the YAML language ([`model`]), reading and checking files ([`load`]), and the
//! JSON Schema editors use ([`schema`]).

pub mod load;
pub mod model;
pub mod span;

pub use load::{expand, load_file, load_str, scenario_files, ScenarioError};
pub use model::{Scenario, Step};
pub use span::Span;

/// The JSON Schema of a scenario file, pretty-printed.
pub fn schema() -> String {
    let schema = schemars::schema_for!(model::Scenario);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
