//! The fake NDES: a SCEP server (RFC 8894) on 127.0.0.1 at `/certsrv/mscep/mscep.dll` (also
//! `/scep` and `/`) that asks a [`PolicyModule`] about every PKIOperation, has the fake CA
//! issue over HTTP ([`ca_paths::ISSUE`]) and answers with signed CertReps.
//!
//! Its RA pair is the test PKI's [`RA_SIGNING`] / [`RA_ENCRYPTION`], issued by [`ISSUING_CA`].
//! Faults come from its [`Switchboard`]: `hang` (held until healed) / `status` on each
//! operation, `missing` on either RA certificate. Everything it answers draws randomness from
//! the seeded [`Rng`]; RSA work runs on blocking threads, never under a lock.
//!
//! Files by role: `http` (routes, GetCACaps, GetCACert), `pki_operation` (the PKIOperation
//! pipeline), `ca_client` (submitting to the CA).

mod ca_client;
mod http;
mod pki_operation;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use x509_cert::Certificate;

#[cfg(doc)]
use crate::contract::ca::ca_paths;
use crate::contract::fault::NdesOp;
use crate::contract::policy::PolicyModule;
use crate::fixtures::{FixtureError, ISSUING_CA, RA_ENCRYPTION, RA_SIGNING};
use crate::scep::{Capabilities, FailInfo, MessageType};
use crate::server::{Incidents, Limits, Server, Tls};
use crate::sim::Rng;
use crate::switchboard::Switchboard;

/// The path NDES serves SCEP on.
pub const MSCEP_PATH: &str = "/certsrv/mscep/mscep.dll";

/// Configuration of the fake NDES.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NdesConfig {
    /// Address to bind (port is ephemeral). Default 127.0.0.1.
    pub bind: IpAddr,
    /// Base URL of the CA that issues (the fake CA), e.g. `http://127.0.0.1:4000`.
    pub ca_url: String,
    /// Name of the issuing CA, reported to the policy module.
    pub ca_name: String,
    /// Timeout of each call to the CA.
    pub timeout: Duration,
    /// Bounds on peers.
    pub limits: Limits,
    /// What GetCACaps advertises.
    pub capabilities: Capabilities,
    /// HTTPS as well as plain HTTP on the port (see [`Tls`]).
    pub tls: Option<Tls>,
    /// Most requests kept in [`FakeNdes::requests`]; beyond it the oldest are forgotten and
    /// counted ([`FakeNdes::requests_dropped`]).
    pub history: usize,
}

/// The default [`NdesConfig::history`]: far beyond any scenario.
pub const NDES_HISTORY: usize = 100_000;

impl Default for NdesConfig {
    fn default() -> Self {
        NdesConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ca_url: String::new(),
            ca_name: "TEST ONLY Contoso Issuing CA".into(),
            timeout: Duration::from_secs(5),
            limits: Limits::default(),
            capabilities: Capabilities::default(),
            tls: None,
            history: NDES_HISTORY,
        }
    }
}

/// Errors starting the fake NDES.
#[derive(Debug, thiserror::Error)]
pub enum NdesError {
    /// The listener could not bind.
    #[error("fake NDES cannot listen: {0}")]
    Bind(#[from] std::io::Error),
    /// The RA fixtures did not load.
    #[error("fake NDES RA material: {0}")]
    Fixture(#[from] FixtureError),
    /// The HTTP client for the CA could not be built.
    #[error("fake NDES HTTP client: {0}")]
    Client(String),
}

/// Which SCEP operation a request asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NdesOperation {
    /// `GetCACaps`.
    GetCaCaps,
    /// `GetCACert`.
    GetCaCert,
    /// `PKIOperation` (GET or POST).
    PkiOperation,
    /// Anything else (answered 400), with the operation parameter as sent.
    Other(String),
}

/// What the fake NDES did with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NdesOutcome {
    /// GetCACaps or GetCACert answered.
    Answered,
    /// CertRep SUCCESS with the issued certificate.
    Success {
        /// Thumbprint of the issued certificate.
        thumbprint: String,
    },
    /// CertRep FAILURE.
    Failure {
        /// The failInfo sent.
        fail_info: FailInfo,
        /// Why, for people.
        reason: String,
    },
    /// A bare HTTP error.
    Http {
        /// The status.
        status: u16,
        /// Why, for people.
        reason: String,
    },
    /// A `hang` fault: held until healed, then answered 503.
    Hung,
}

/// One request the fake NDES received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NdesRequestRecord {
    /// The operation.
    pub operation: NdesOperation,
    /// messageType, when a PKIOperation message could be read.
    pub message_type: Option<MessageType>,
    /// transactionID, when readable.
    pub transaction_id: Option<String>,
    /// What happened.
    pub outcome: NdesOutcome,
}

/// NDES's RA identity and the issuing CA it publishes.
pub(crate) struct RaKeys {
    pub signing: Certificate,
    pub signing_key: crate::pki::RsaKey,
    pub encryption: Certificate,
    pub encryption_key: crate::pki::RsaKey,
    pub issuing_ca: Certificate,
}

/// Everything NDES's handlers share.
pub(crate) struct Core {
    pub config: NdesConfig,
    pub policy: Arc<dyn PolicyModule>,
    pub rng: Mutex<Rng>,
    pub switchboard: Switchboard<NdesOp>,
    pub ra: RaKeys,
    pub http: reqwest::Client,
    pub records: Mutex<Records>,
}

/// The bounded history of requests.
#[derive(Default)]
pub(crate) struct Records {
    kept: VecDeque<NdesRequestRecord>,
    dropped: u64,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Core {
    fn record(
        &self,
        operation: NdesOperation,
        message_type: Option<MessageType>,
        transaction_id: Option<String>,
        outcome: NdesOutcome,
    ) {
        let mut records = lock(&self.records);
        if records.kept.len() >= self.config.history.max(1) {
            records.kept.pop_front();
            records.dropped = records.dropped.saturating_add(1);
        }
        records.kept.push_back(NdesRequestRecord {
            operation,
            message_type,
            transaction_id,
            outcome,
        });
    }

    fn missing(&self, op: NdesOp) -> bool {
        self.switchboard.peek(op) == Some(crate::contract::fault::FaultKind::Missing)
    }

    /// A random stream for one reply, drawn under the lock so that signing happens outside it.
    fn reply_rng(&self) -> Rng {
        use rand::RngCore;
        Rng::new(lock(&self.rng).next_u64())
    }
}

/// A running fake NDES.
pub struct FakeNdes {
    core: Arc<Core>,
    server: Server,
    incidents: Incidents,
}

impl FakeNdes {
    /// Starts the server on `config.bind` with an ephemeral port.
    pub async fn start(
        config: NdesConfig,
        policy: Arc<dyn PolicyModule>,
        rng: Rng,
    ) -> Result<FakeNdes, NdesError> {
        let ra = RaKeys {
            signing: RA_SIGNING.certificate()?,
            signing_key: RA_SIGNING.rsa_key()?,
            encryption: RA_ENCRYPTION.certificate()?,
            encryption_key: RA_ENCRYPTION.rsa_key()?,
            issuing_ca: ISSUING_CA.certificate()?,
        };
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .no_proxy()
            .build()
            .map_err(|e| NdesError::Client(e.to_string()))?;
        let bind = SocketAddr::new(config.bind, 0);
        let limits = config.limits;
        let tls = config.tls.clone();
        let core = Arc::new(Core {
            config,
            policy,
            rng: Mutex::new(rng),
            switchboard: Switchboard::default(),
            ra,
            http,
            records: Mutex::new(Records::default()),
        });
        let incidents = Incidents::default();
        let server = Server::bind_with_tls(
            bind,
            http::router(core.clone()),
            "NDES",
            limits,
            incidents.clone(),
            tls,
        )
        .await?;
        Ok(FakeNdes {
            core,
            server,
            incidents,
        })
    }

    /// The full mscep.dll URL, e.g. `http://127.0.0.1:40123/certsrv/mscep/mscep.dll`.
    pub fn url(&self) -> String {
        format!("http://{}{MSCEP_PATH}", self.server.addr())
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The fault switchboard.
    pub fn switchboard(&self) -> &Switchboard<NdesOp> {
        &self.core.switchboard
    }

    /// Every request received so far, in order (the most recent [`NdesConfig::history`]).
    pub fn requests(&self) -> Vec<NdesRequestRecord> {
        lock(&self.core.records).kept.iter().cloned().collect()
    }

    /// Requests forgotten because of [`NdesConfig::history`].
    pub fn requests_dropped(&self) -> u64 {
        lock(&self.core.records).dropped
    }

    /// Internal failures of NDES (each one a harness error).
    pub fn incidents(&self) -> Vec<String> {
        self.incidents.all()
    }

    /// Stops the server, releasing held requests; returns when it has stopped (at most ~5 s).
    pub async fn shutdown(self) {
        self.core.switchboard.close();
        self.server.shutdown().await;
    }
}
