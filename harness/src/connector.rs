//! `connector-harness connector`: the reference connector as its own process, speaking the
//! connector-under-test protocol on stdin and stdout (what `run --connector-cmd` drives). With
//! `--bug` it is the faulty example connector: the same model with deliberate mistakes, for
//! seeing the harness catch them.

use harness_runner::connector::Bugs;

/// A deliberate mistake of the faulty example connector.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// Upload every recorded PKCS result a second time.
    UploadTwice,
    /// Lose the first PKCS result: never upload it.
    LoseOne,
    /// Report an unreachable CA with the wrong diagnostic code (0x0FFFFFFF, not 0x00000400).
    WrongCode,
}

/// Arguments of `connector`.
#[derive(clap::Args, Debug, Clone)]
pub struct ConnectorArgs {
    /// Make a deliberate mistake (repeatable): the faulty example connector.
    #[arg(long, value_enum)]
    pub bug: Vec<Bug>,
    /// Print the protocol's JSON Schemas and exit.
    #[arg(long)]
    pub schemas: bool,
    /// The event dialect it declares in `init_ok` and writes to `--log`: `legacy` (the
    /// catalog's) or `unified-2021` (the 2021+ connector's channels, docs/event-log.md).
    #[arg(long, value_enum, default_value_t = crate::unified::ProfileArg::Legacy)]
    pub dialect: crate::unified::ProfileArg,
    /// With `--dialect unified-2021`: also write its events, in that dialect, to FILE as
    /// `wevtutil qe /f:xml` prints them (its own Windows event log).
    #[arg(long, value_name = "FILE", requires = "dialect")]
    pub log: Option<std::path::PathBuf>,
}

/// Runs `connector`; returns the exit code.
pub fn connector(args: ConnectorArgs) -> anyhow::Result<u8> {
    if args.schemas {
        print!("{}", harness_runner::contract::process::schemas());
        return Ok(crate::EXIT_OK);
    }
    let bugs = Bugs {
        upload_twice: args.bug.contains(&Bug::UploadTwice),
        lose_one: args.bug.contains(&Bug::LoseOne),
        wrong_code: args.bug.contains(&Bug::WrongCode),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let dialect = harness_runner::connector::DialectOptions {
        dialect: args.dialect.profile(),
        log: args.log.clone(),
    };
    let result = runtime.block_on(harness_runner::connector::process::serve_stdio_as(
        bugs, dialect,
    ));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => Ok(crate::EXIT_OK),
        Err(e) => {
            eprintln!("connector: {e}");
            Ok(crate::EXIT_FAILED)
        }
    }
}
