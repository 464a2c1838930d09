//! The `connector-harness` binary.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = connector_harness::Cli::parse();
    ExitCode::from(connector_harness::run(cli))
}
