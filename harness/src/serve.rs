//! `connector-harness serve`: the command line of [`harness_runner::serve`]. Parses the flags, prints
//! the URLs (and writes them to `--urls-file`), and runs until Ctrl-C (SIGINT), SIGTERM or
//! the admin API's `POST /shutdown` — each of which stops the connector and flushes the event
//! file before exiting.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;

use harness_runner::scep::Capabilities;

use harness_runner::serve::clock::{start_time, ClockMode};
use harness_runner::serve::{Serve, ServeOptions, Urls, DEFAULT_HISTORY};

/// Arguments of `serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address every port listens on: the CA, Intune, NDES and the admin API (loopback unless
    /// you say otherwise).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Also write the URLs as JSON to this file (written once every port is listening).
    #[arg(long)]
    pub urls_file: Option<PathBuf>,
    /// Write the event stream as JSON Lines to this file, record by record as they happen
    /// (flushed to disk when serve stops).
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Seed of serials, challenges and nonces.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scenario clock at start: `now` or an RFC 3339 time from 1970-01-01T00:00:00Z to
    /// 9899-12-31T23:59:59.999Z.
    #[arg(long, default_value = "now")]
    pub start_time: String,
    /// How the scenario clock moves on its own: `wall` (with wall time) or `frozen` (only
    /// through the admin API).
    #[arg(long, value_enum, default_value_t = ClockMode::Wall)]
    pub clock: ClockMode,
    /// Serve HTTPS on every port (plain HTTP still answers), with a certificate from the test
    /// CA for the bind address and `localhost`.
    #[arg(long)]
    pub tls: bool,
    /// Another name (DNS or IP) for the TLS certificate (repeatable).
    #[arg(long = "tls-name", value_name = "NAME", requires = "tls")]
    pub tls_names: Vec<String>,
    /// Write the CA a client should trust (the test root, PEM) to this file. With --tls and
    /// no path, serve writes it to a temporary folder and prints where.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Entries each history keeps (CA journal and certificates, NDES requests, Intune calls,
    /// uploads, used challenges, transactions); the oldest are forgotten beyond it.
    #[arg(long, default_value_t = DEFAULT_HISTORY)]
    pub history: usize,
    /// Do not print each event to stderr.
    #[arg(long)]
    pub quiet: bool,
    /// What NDES's GetCACaps advertises: `ndes` (as a Windows NDES answers: SHA-1/256/512,
    /// DES3, no AES) or `rfc8894` (AES, SCEPStandard; single DES refused).
    #[arg(long, default_value = "ndes", value_parser = capabilities_arg())]
    pub capabilities: Capabilities,
    /// Plug this connector into NDES instead of the reference model: a command run with
    /// `sh -c`, speaking the connector-under-test protocol on stdin and stdout
    /// (docs/vendor-contract.md): the same seam `run` drives.
    #[arg(long, value_name = "COMMAND")]
    pub connector_cmd: Option<String>,
}

/// `--capabilities`: the names `Capabilities` is written with, listed in `--help`.
fn capabilities_arg() -> impl clap::builder::TypedValueParser<Value = Capabilities> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Capabilities::ALL.map(|(_, name)| name))
        .try_map(|name| name.parse::<Capabilities>())
}

/// Runs `serve`; returns the exit code.
pub fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve_async(args))
}

fn options(args: &ServeArgs) -> anyhow::Result<ServeOptions> {
    let start = start_time(Some(&args.start_time)).context("--start-time")?;
    Ok(ServeOptions {
        bind: args.bind,
        seed: args.seed,
        clock: args.clock,
        events: args.events.clone(),
        echo_events: !args.quiet,
        tls: args.tls,
        tls_names: args.tls_names.clone(),
        ca_file: args.ca_file.clone(),
        history: args.history,
        capabilities: args.capabilities,
        connector: match &args.connector_cmd {
            Some(cmd) => harness_runner::run::under_test::Choice::Command(cmd.clone()),
            None => harness_runner::run::under_test::Choice::Reference,
        },
        ..ServeOptions::at(start)
    })
}

fn print_urls(urls: &Urls) {
    println!("fake CA      {}", urls.ca);
    println!("fake Intune  {}", urls.intune);
    println!("fake NDES    {}", urls.ndes);
    println!("admin API    {}", urls.admin);
    println!("events       {}", urls.events_file.display());
    if let Some(ca) = &urls.ca_file {
        println!("trust        {}", ca.display());
    }
    let cacert = urls
        .ca_file
        .as_ref()
        .map(|p| format!(" --cacert {}", p.display()))
        .unwrap_or_default();
    println!(
        "\nMint a SCEP challenge:\n  curl -s{cacert} -X POST {}/challenges -H 'content-type: application/json' -d '{{\"deviceId\":\"device-1\",\"userId\":\"user-1\"}}'",
        urls.admin
    );
    println!("Follow the events:\n  curl -sN{cacert} {}", urls.events);
    println!(
        "\nStop with Ctrl-C, SIGTERM or POST {}/shutdown.",
        urls.admin
    );
}

/// Writes `text` to `path` whole: a reader polling for the file never sees half of it.
fn write_whole(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// SIGINT and SIGTERM, listened to from before serve says it is ready: a signal sent as soon
/// as the URLs file appears must stop serve cleanly, not kill it.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The first signal's name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

async fn serve_async(args: ServeArgs) -> anyhow::Result<u8> {
    let opts = options(&args)?;
    let mut signals = Signals::listen()?;
    let serve = Serve::start(opts).await?;
    let urls = serve.urls();
    print_urls(&urls);
    if let Some(path) = &args.urls_file {
        write_whole(path, &(serde_json::to_string_pretty(&urls)? + "\n"))?;
    }
    let why = tokio::select! {
        signal = signals.next() => signal,
        _ = serve.stopped() => "POST /shutdown",
    };
    eprintln!("stopping ({why})");
    let stopped = serve.shutdown().await?;
    match &args.events {
        Some(path) => eprintln!("{} events in {}", stopped.records, path.display()),
        None => eprintln!("{} events (no --events file)", stopped.records),
    }
    Ok(crate::EXIT_OK)
}
