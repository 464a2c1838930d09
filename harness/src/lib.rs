//! The `connector-harness` command line: argument parsing (clap), dispatch to
//! [`harness_runner`], and printing. Nothing here runs a scenario, checks a log or serves a
//! fake; each subcommand's module reads its flags, calls the runner and prints what it returns.
//!
//! Exit codes: 0 success; 1 a check or scenario failed; 2 bad input (unknown term, unreadable
//! or invalid file, bad arguments).

#![warn(missing_docs, unreachable_pub)]

mod catalog;
pub mod check;
pub mod connector;
pub mod explain;
pub mod gateway;
pub mod load;
pub mod run;
pub mod serve;
pub mod style;
pub mod unified;

pub use catalog::{catalog_json, render_catalog, CatalogFormat};
pub use explain::explain;

use clap::{Parser, Subcommand};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when a check or scenario fails.
pub const EXIT_FAILED: u8 = 1;
/// Exit code for bad input.
pub const EXIT_USAGE: u8 = 2;

/// Deterministic simulation and test harness for the Intune Certificate Connector.
#[derive(Parser, Debug)]
#[command(name = "connector-harness", version, about, long_about = None,
    after_help = "Exit codes: 0 success, 1 a check or scenario failed, 2 bad input.\nColour is off when NO_COLOR is set or output is not a terminal.")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the catalog of events, diagnostic codes and allowed pairs.
    Catalog {
        /// Output format.
        #[arg(long, value_enum, default_value_t = CatalogFormat::Table)]
        format: CatalogFormat,
        /// Instead: for each pair, the cause that makes the reference connector write it and
        /// the scenario that reproduces it (with `--profile unified-2021`: the mapping from the
        /// legacy events to the 2021 connector's).
        #[arg(long)]
        paths: bool,
        /// Which connector's events: the seed's legacy table, or the 2021+ connector's.
        #[arg(long, value_enum, default_value_t = unified::ProfileArg::Legacy)]
        profile: unified::ProfileArg,
    },
    /// Run scenarios and check their event streams (what `cargo xtask run-scenarios` calls).
    Run(run::RunArgs),
    /// Check a connector's exported event log (JSON Lines, Windows event XML, .evtx) against
    /// the catalog and, with --scenario, against that scenario's expectations.
    Check(check::CheckArgs),
    /// Run the reference connector as a process speaking the connector-under-test protocol on
    /// stdin and stdout (what `run --connector-cmd` drives); `--bug` makes it the faulty example.
    Connector(connector::ConnectorArgs),
    /// Print the JSON Schema of scenario files.
    Schema,
    /// Start one set of fakes (CA, Intune, NDES) with the reference connector as NDES's policy
    /// module and an admin API, print their URLs, and run until Ctrl-C, SIGTERM or
    /// `POST /shutdown` (see docs/serve.md).
    Serve(serve::ServeArgs),
    /// Explain an event (20502, CRPVerifyMetric_Failure), a diagnostic code (0x409, 1033,
    /// CRPSCEPSigningCert_NotFound), an event with its code (`20502 0x409`), or one of Intune's
    /// codes (ChallengeExpired, ConflictError, 4005): what it means, what to check on a real
    /// server, and the scenario that reproduces it.
    Explain {
        /// One term, or an event and a code.
        #[arg(required = true, num_args = 1..=2)]
        terms: Vec<String>,
    },
    /// Load-test a SCEP server: `load scep --url URL --devices N --concurrency C
    /// [--challenge S | --mint URL]` enrolls N devices and verifies every CertRep.
    Load(load::LoadArgs),
    /// Run the gateway scenarios (scenarios/gateway/) against the reference SCEP gateway
    /// (`--bug` switches on its faults) or yours (`--scep-url`, `--command`); see
    /// docs/gateway.md.
    Gateway(gateway::GatewayArgs),
    /// Regenerate the test PKI fixtures into DIR (normally via `cargo xtask gen-fixtures`).
    #[command(hide = true)]
    GenFixtures {
        /// Target folder.
        dir: std::path::PathBuf,
    },
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Catalog {
            format,
            paths,
            profile: unified::ProfileArg::Unified2021,
        } => {
            if paths {
                print!("{}", unified::render_paths(format));
            } else {
                print!("{}", unified::render_catalog(format));
            }
            EXIT_OK
        }
        Command::Catalog { format, paths, .. } => {
            if paths {
                print!("{}", catalog::render_paths(format));
            } else {
                print!("{}", render_catalog(format));
            }
            EXIT_OK
        }
        Command::Run(args) => match run::run(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_USAGE
            }
        },
        Command::Connector(args) => match connector::connector(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_FAILED
            }
        },
        Command::Check(args) => match check::check(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_USAGE
            }
        },
        Command::Serve(args) => match serve::serve(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                // A start time or option serve refuses is bad input; anything else a failure.
                if e.chain().any(|c| {
                    matches!(
                        c.downcast_ref::<harness_runner::serve::ServeError>(),
                        Some(
                            harness_runner::serve::ServeError::Clock(_)
                                | harness_runner::serve::ServeError::Option(_)
                        )
                    ) || c
                        .downcast_ref::<harness_runner::serve::clock::ClockError>()
                        .is_some()
                }) {
                    EXIT_USAGE
                } else {
                    EXIT_FAILED
                }
            }
        },
        Command::Load(args) => load::load(args),
        Command::Gateway(args) => gateway::gateway(args),
        Command::Schema => {
            print!("{}", harness_runner::scenario::schema());
            EXIT_OK
        }
        Command::Explain { terms } => match explain(&terms) {
            Ok(text) => {
                print!("{text}");
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
        },
        Command::GenFixtures { dir } => match harness_runner::fixtures::generate(&dir) {
            Ok(files) => {
                println!("wrote {} files to {}", files.len(), dir.display());
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_FAILED
            }
        },
    }
}
