//! `connector-harness load`: the SCEP load generator (`load scep`), and the drivers behind
//! `cargo xtask bench` (`load rsa`, `load pkcs`, hidden).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use harness_runner::load::{self, ChallengeSource, ScepLoad};

/// Arguments of `load`.
#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// What to load.
    #[command(subcommand)]
    pub target: LoadTarget,
}

/// What `load` drives.
#[derive(Subcommand, Debug, Clone)]
pub enum LoadTarget {
    /// Enroll N devices against any RFC 8894 SCEP server, C requests in flight, and verify
    /// every CertRep. Exit 0 when every enrollment verified with a serial of its own, 1 when
    /// any did not or the server could not be used, 2 on bad arguments.
    Scep(ScepArgs),
    /// The RSA-2048 private-operation rate of the harness's backend on one core.
    #[command(hide = true)]
    Rsa(RsaArgs),
    /// N PKCS requests through the in-process fakes and reference connector.
    #[command(hide = true)]
    Pkcs(PkcsArgs),
}

/// Arguments of `load scep`.
#[derive(Args, Debug, Clone)]
pub struct ScepArgs {
    /// The server's SCEP URL, e.g. `http://127.0.0.1:8080/scep` or serve's
    /// `http://127.0.0.1:PORT/certsrv/mscep/mscep.dll`.
    #[arg(long)]
    pub url: String,
    /// Enrollments, one per device.
    #[arg(long, default_value_t = 100)]
    pub devices: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// One challenge password for every device (e.g. `scepserver -challenge`).
    #[arg(long, conflicts_with = "mint")]
    pub challenge: Option<String>,
    /// Mint one challenge per device before the timed part by `POST URL`
    /// `{"deviceId","userId"}` (serve prints this URL: the fake Intune's /admin/challenges).
    #[arg(long)]
    pub mint: Option<String>,
    /// Seed of transaction ids, nonces and content keys; also part of the device names
    /// (`load-SEED-device-N`), so use another seed to enroll the same server again (micromdm
    /// refuses a second certificate for a name that holds a valid one).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Timeout of each HTTP request, seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Arguments of `load rsa`.
#[derive(Args, Debug, Clone)]
pub struct RsaArgs {
    /// Milliseconds spent on each operation.
    #[arg(long, default_value_t = 1000)]
    pub millis: u64,
    /// Also write the rates as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Arguments of `load pkcs`.
#[derive(Args, Debug, Clone)]
pub struct PkcsArgs {
    /// Requests to queue.
    #[arg(long, default_value_t = 1000)]
    pub requests: usize,
    /// Different CSRs among them (signed before the timed part, reused round-robin).
    #[arg(long, default_value_t = 1000)]
    pub distinct_csrs: usize,
    /// Requests the connector issues at once (events and uploads stay in request order).
    #[arg(long, default_value_t = load::pkcs::IN_FLIGHT)]
    pub in_flight: usize,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn write_json(path: Option<&PathBuf>, value: &impl Serialize) -> anyhow::Result<()> {
    if let Some(path) = path {
        let text = serde_json::to_string_pretty(value)? + "\n";
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn scep(args: ScepArgs) -> u8 {
    let run = ScepLoad {
        url: args.url,
        devices: args.devices,
        concurrency: args.concurrency,
        challenge: match (args.challenge, args.mint) {
            (Some(c), _) => ChallengeSource::Static(c),
            (None, Some(m)) => ChallengeSource::Mint(m),
            (None, None) => ChallengeSource::None,
        },
        seed: args.seed,
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    if let Err(e) = run.validate() {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    let report = match run.run() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
    };
    println!("{report}");
    if let Err(e) = write_json(args.json.as_ref(), &report) {
        eprintln!("error: {e:#}");
        return EXIT_FAILED;
    }
    if report.all_verified() {
        EXIT_OK
    } else {
        eprintln!(
            "{} of {} enrollments did not verify, {} duplicate serials",
            report.failed(),
            report.devices,
            report.duplicate_serials
        );
        EXIT_FAILED
    }
}

fn rsa(args: RsaArgs) -> anyhow::Result<u8> {
    let rates = load::rsa::measure(Duration::from_millis(args.millis.max(10)))?;
    println!(
        "RSA-2048 on one core: decrypt {:.0}/s, sign {:.0}/s, CA sign {:.0}/s; bound {:.0} enrollments/s per core",
        rates.decrypt_per_second, rates.sign_per_second, rates.ca_sign_per_second, rates.bound_per_core
    );
    write_json(args.json.as_ref(), &rates)?;
    Ok(EXIT_OK)
}

fn pkcs(args: PkcsArgs) -> anyhow::Result<u8> {
    let report = load::pkcs::run(args.requests, args.distinct_csrs, args.in_flight)?;
    println!(
        "PKCS: {} requests in {:.2} s ({:.0}/s, {} cycles, {} in flight, at most {} queued; CSRs {:.2} s untimed); uploaded once {} / {}, twice {}, missing {}, not issued {}, pending {}; peak RSS {}",
        report.requests,
        report.wall_seconds,
        report.requests_per_second,
        report.cycles,
        report.in_flight,
        report.window,
        report.csr_seconds,
        report.uploaded_once,
        report.requests,
        report.uploaded_twice_or_more,
        report.missing,
        report.not_issued,
        report.still_pending,
        report
            .peak_rss_kib
            .map_or("unknown".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
    );
    write_json(args.json.as_ref(), &report)?;
    Ok(if report.proven() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// Runs `load`; returns the exit code.
pub fn load(args: LoadArgs) -> u8 {
    let outcome = match args.target {
        LoadTarget::Scep(a) => return scep(a),
        LoadTarget::Rsa(a) => rsa(a),
        LoadTarget::Pkcs(a) => pkcs(a),
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        match e.downcast_ref::<load::LoadError>() {
            Some(load::LoadError::Options(_)) => EXIT_USAGE,
            _ => EXIT_FAILED,
        }
    })
}
