//! Load generation: `connector-harness load scep` enrolls many devices against any RFC 8894
//! server and reports what it verified, and the drivers behind `cargo xtask bench` measure
//! the RSA backend ([`rsa`]) and the PKCS pipeline ([`pkcs`]).
//!
//! A SCEP load run has four phases, and only the third is timed:
//!
//! 1. [`discover`]: GetCACaps (the request algorithms) and GetCACert (the RA certificates, by
//!    key usage); with `--mint`, one fresh challenge per device from the fake Intune's admin
//!    endpoint.
//! 2. [`prepare`]: every CSR and PKIOperation message, signed with the fixture device keys
//!    (each key signs many CSRs; no key is generated).
//! 3. [`send`]: the messages with C in flight; latency per request.
//! 4. [`verify`]: every CertRep — signature by the RA signer, transactionID, recipientNonce =
//!    our senderNonce, and a certificate over the device key. Only verified successes count.

pub mod discover;
mod error;
mod http;
pub mod pkcs;
pub mod prepare;
pub mod report;
pub mod rsa;
pub mod send;
#[cfg(test)]
mod tests;
pub mod verify;

use std::time::{Duration, Instant};

pub use discover::Server;
pub use error::LoadError;
pub use report::ScepLoadReport;

/// Where each device's challenge password comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChallengeSource {
    /// No challengePassword in the CSR.
    None,
    /// The same password for every device (micromdm `scepserver -challenge`).
    Static(String),
    /// One fresh challenge per device, minted by `POST {url}` (the fake Intune's
    /// `/admin/challenges`).
    Mint(String),
}

impl ChallengeSource {
    /// A short name for reports: `none`, `static`, `minted`.
    pub fn label(&self) -> &'static str {
        match self {
            ChallengeSource::None => "none",
            ChallengeSource::Static(_) => "static",
            ChallengeSource::Mint(_) => "minted",
        }
    }
}

/// A SCEP load run.
#[derive(Clone, Debug)]
pub struct ScepLoad {
    /// The server's SCEP URL (`…/certsrv/mscep/mscep.dll`, micromdm's `…/scep`).
    pub url: String,
    /// Enrollments to make, one per device.
    pub devices: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Challenge passwords.
    pub challenge: ChallengeSource,
    /// Seed of transaction ids, nonces and content keys.
    pub seed: u64,
    /// Timeout of each HTTP request.
    pub timeout: Duration,
}

/// Most devices one run prepares (each holds a message of a few KB).
pub const MAX_DEVICES: usize = 1_000_000;
/// Most requests in flight.
pub const MAX_CONCURRENCY: usize = 4096;

impl ScepLoad {
    /// Checks the bounds; the message names the flag to change.
    pub fn validate(&self) -> Result<(), String> {
        if self.devices == 0 || self.devices > MAX_DEVICES {
            return Err(format!(
                "--devices must be between 1 and {MAX_DEVICES}, not {}",
                self.devices
            ));
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return Err(format!(
                "--concurrency must be between 1 and {MAX_CONCURRENCY}, not {}",
                self.concurrency
            ));
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!(
                "--url `{}` is not an http:// or https:// URL",
                self.url
            ));
        }
        Ok(())
    }

    /// Runs the four phases; `Err` when the server cannot be used at all (unreachable,
    /// no usable GetCACert, minting refused). Failed enrollments are in the report.
    pub fn run(&self) -> Result<ScepLoadReport, LoadError> {
        self.validate().map_err(LoadError::Options)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(LoadError::Runtime)?;
        let client = http::client(self.timeout)?;
        let started = Instant::now();
        let server = runtime.block_on(discover::discover(&client, &self.url))?;
        let ids: Vec<String> = (0..self.devices)
            .map(|n| prepare::device_id(self.seed, n))
            .collect();
        let challenges = match &self.challenge {
            ChallengeSource::None => vec![None; self.devices],
            ChallengeSource::Static(s) => vec![Some(s.clone()); self.devices],
            ChallengeSource::Mint(url) => runtime
                .block_on(discover::mint(&client, url, &ids, self.concurrency.min(16)))?
                .into_iter()
                .map(Some)
                .collect(),
        };
        let prepared = prepare::prepare(&server, &self.url, &ids, &challenges, self.seed)?;
        let prepare_time = started.elapsed();
        let (answers, wall) = runtime.block_on(send::send_all(
            &client,
            &prepared.requests,
            self.concurrency,
        ));
        let tally = verify::verify(&server, &prepared, &answers)?;
        Ok(ScepLoadReport::new(
            self,
            &server,
            prepare_time,
            wall,
            &answers,
            tally,
        ))
    }
}
