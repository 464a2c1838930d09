//! The `connector-harness` binary.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = connector_harness::cli::Cli::parse();
    ExitCode::from(connector_harness::cli::run(cli))
}
