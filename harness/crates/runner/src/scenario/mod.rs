//! Scenarios: the YAML language ([`model`]) and its caps ([`limits`]); reading a file
//! ([`load`]), the checks of meaning ([`check`]) and the errors that locate what is wrong
//! ([`error`]); a folder of files ([`library`]); and the JSON Schema editors use ([`schema`]).

pub mod check;
pub mod error;
pub mod library;
pub mod limits;
pub mod load;
pub mod model;
pub mod span;

pub use check::expand;
pub use error::ScenarioError;
pub use library::{load_all, LibraryError, Loaded};
pub use load::{load_bytes, load_file, load_str, scenario_files};
pub use model::{Scenario, Step};
pub use span::Span;

/// The JSON Schema of a scenario file, pretty-printed.
pub fn schema() -> String {
    let schema = schemars::schema_for!(model::Scenario);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
