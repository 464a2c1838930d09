//! The reference connector: a Rust model of the Intune Certificate Connector.
//!
//! It talks to the fakes only over their HTTP interfaces — exactly what a vendor's process
//! sees — and writes every event through [`Connector::emit`], which takes a [`Cause`], never a
//! raw (event, code) pair. Since every cause maps to an allowed pair (see [`cause`]), no code
//! path of the connector can write a pair outside the catalog.
//!
//! One connector is one service instance: [`Connector::start`] / [`Connector::stop`], a
//! [`Connector::sync`] cycle (renewal check, PKCS, revocation), and the NDES policy module
//! ([`Connector::verify_challenge`], [`Connector::notify_outcome`]).
//!
//! Depends on the contract, the event log, PKI and the simulation core only: never on the
//! fakes, the runner or the scenario language, which the crate graph enforces.

#![warn(missing_docs, unreachable_pub)]

// The lower crates' modules, under the names this crate's paths use (`crate::sim::Clock`).
use harness_contract::{catalog, contract};
use harness_events as event;
use harness_pki::{fixtures, pki};
use harness_sim::{sim, transport};

pub mod cause;
mod crp;
pub mod dialect;
mod dialect_log;
pub mod env;
mod http;
mod lifecycle;
mod pkcs;
pub mod process;
mod registration;
mod remedy;
mod revoke;
mod store;
mod subjects;
mod transfer;

use std::path::PathBuf;
use std::sync::Arc;

pub use cause::Cause;
pub use crp::CALLER_INFO;
pub use dialect_log::{DialectLog, DialectOptions};
pub use http::{Failure, RetryPolicy};
pub use pkcs::MAX_PKCS_IN_FLIGHT;
pub use store::StoredCertificate;

use crate::contract::intune::pkcs::CaRequestResult;
use crate::contract::intune::revocation::RevocationResult;
use crate::event::Details;
use env::{EventLog, Time};
use http::{IntuneClient, Peer};

/// The bearer token the reference connector presents (the fake accepts any; a real connector
/// gets one from Entra ID).
pub const TOKEN: &str = "TEST-ONLY-reference-connector-token";

/// How the connector is configured.
#[derive(Clone, Debug)]
pub struct ConnectorConfig {
    /// Intune's service discovery URL (Microsoft Graph's `servicePrincipals/…/endpoints`).
    pub discovery_url: String,
    /// Base URL of the CA.
    pub ca_url: String,
    /// The CA's name, as the connector reports it.
    pub ca_name: String,
    /// The registration store directory ([`crate::contract::store`]).
    pub store_dir: PathBuf,
    /// Timeouts, retries and backoff.
    pub retry: RetryPolicy,
    /// How long before expiry the registration certificate is renewed.
    pub renewal_window: time::Duration,
    /// Most requests downloaded per cycle.
    pub batch_size: u32,
    /// Whether the connector holds the RA client-authentication certificate a
    /// DigiCert-style CA demands.
    pub ra_certificate: bool,
    /// Template the policy module issues SCEP requests with.
    pub scep_template: String,
    /// Deliberate mistakes (only the faulty example connector sets them).
    pub bugs: Bugs,
}

/// Deliberate mistakes, for the faulty example connector
/// (`connector-harness connector --bug …`): proof that the harness catches a real connector's
/// bugs. The harness never sets them for the reference connector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bugs {
    /// Upload every recorded PKCS result a second time.
    pub upload_twice: bool,
    /// Lose the first PKCS result: never upload it, and ignore the request from then on.
    pub lose_one: bool,
    /// Report an unreachable CA as an unknown error (20102 with 0x0FFFFFFF instead of
    /// 0x00000400).
    pub wrong_code: bool,
}

/// The connector's mutable state.
#[derive(Debug, Default)]
pub(crate) struct State {
    running: bool,
    active: Option<StoredCertificate>,
    key: Option<crate::pki::RsaKey>,
    pkcs_outbox: Vec<CaRequestResult>,
    revoke_outbox: Vec<RevocationResult>,
    scep_subjects: subjects::Subjects,
    /// Requests the `lose_one` bug dropped.
    lost: Vec<String>,
}

/// The reference connector. Cloning shares the same instance (state, log and time).
#[derive(Clone)]
pub struct Connector {
    config: Arc<ConnectorConfig>,
    intune: Arc<IntuneClient>,
    ca: Peer,
    store: store::Store,
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Time>,
    state: Arc<tokio::sync::Mutex<State>>,
    /// PKCS requests issued at once ([`Connector::with_pkcs_in_flight`]; 1 by default).
    pkcs_in_flight: usize,
}

impl Connector {
    /// A stopped connector configured by `config`, writing to `log` and reading `clock`.
    pub fn new(config: ConnectorConfig, log: Arc<dyn EventLog>, clock: Arc<dyn Time>) -> Connector {
        Connector {
            intune: Arc::new(IntuneClient::new(
                &config.discovery_url,
                TOKEN,
                config.retry,
                clock.clone(),
            )),
            ca: Peer::new(&config.ca_url, config.retry, clock.clone()),
            store: store::Store::new(&config.store_dir),
            config: Arc::new(config),
            log,
            clock,
            state: Arc::default(),
            pkcs_in_flight: 1,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &ConnectorConfig {
        &self.config
    }

    pub(crate) async fn state(&self) -> tokio::sync::MutexGuard<'_, State> {
        self.state.lock().await
    }

    /// Whether the service is running.
    pub async fn is_running(&self) -> bool {
        self.state().await.running
    }

    /// The registration certificate in use, if any.
    pub async fn registration(&self) -> Option<StoredCertificate> {
        self.state().await.active.clone()
    }

    /// Results still waiting to be uploaded (PKCS, revocation).
    pub async fn outbox_len(&self) -> (usize, usize) {
        let s = self.state().await;
        (s.pkcs_outbox.len(), s.revoke_outbox.len())
    }

    /// One service cycle: renew the registration certificate if due, then the PKCS and
    /// revocation queues. A stopped service, or one without a usable registration
    /// certificate, cannot talk to Intune and does nothing.
    pub async fn sync(&self) {
        {
            let s = self.state().await;
            if !s.running || s.active.is_none() {
                return;
            }
        }
        self.check_renewal().await;
        if self.state().await.active.is_none() {
            return;
        }
        self.pkcs_cycle().await;
        self.revoke_cycle().await;
    }

    /// Headers of every CA call: the RA client-authentication certificate, when the connector
    /// holds it (a DigiCert-style CA demands it).
    pub(crate) fn ca_headers(&self) -> Vec<(&'static str, String)> {
        match crate::fixtures::DIGICERT_RA.cert_der() {
            Ok(der) if self.config.ra_certificate => {
                vec![(
                    crate::contract::ca::CLIENT_CERT_HEADER,
                    crate::pki::b64(&der),
                )]
            }
            _ => Vec::new(),
        }
    }

    /// The only place the connector writes an event.
    pub(crate) fn emit(&self, cause: Cause, details: Details) {
        let cause = match cause {
            Cause::PkcsCaUnavailable if self.config.bugs.wrong_code => Cause::PkcsCaError,
            other => other,
        };
        self.log.write(cause, details);
    }
}
