//! The fake CA: an axum server on a real socket that issues certificates from the test issuing
//! CA ([`crate::fixtures::ISSUING_CA`], chained to [`crate::fixtures::ROOT_CA`]), revokes them,
//! reports their status, publishes a CRL and the chain, and journals every call it received.
//!
//! It speaks exactly [`crate::contract::ca`] (`ca_paths`, `IssueRequest`, `ErrorBody`, …).
//! Time comes from the scenario [`Clock`] and serials from the seeded [`Rng`], and the issuing
//! key is RSA (PKCS#1 v1.5 signatures are deterministic), so the same seed and clock give
//! byte-identical certificates.
//!
//! The files split by role, as Pebble splits its CA: [`http`](self) front end (routes and
//! answers), `core` (faults, issuance, revocation), `store` (the one state).
//!
//! Every non-2xx answer carries an [`ErrorBody`] (unknown path: 404 `not_found`; wrong method:
//! 405 `bad_request`). The CRL has thisUpdate = scenario now, nextUpdate = now + 7 days, and a
//! CRL number that counts the CRLs served.
//!
//! Faults come from a [`Switchboard<CaOp>`]; each call to an operation strikes once:
//! - `hang`: the call is accepted and not answered until the fault on its operation is healed
//!   (or replaced) or the CA shuts down; a released call is answered 503 `internal` and changes
//!   nothing.
//! - `status(n)`: HTTP n with an `ErrorBody` of kind `internal`.
//! - `malformed`: HTTP 200 with a body that is neither JSON, DER nor PEM.
//! - `deny`: issue → 403 `denied`; revoke → 403 `access_denied`.
//! - `unavailable`: the listening socket is closed, so connections are refused; idle kept-alive
//!   connections are closed too. It is a state of the whole CA, not a per-call event: it only
//!   accepts scope [`Scope::UntilHealed`], and the port reopens (the same port) once no
//!   operation carries it any more. This is why [`FakeCa::inject`] and [`FakeCa::heal`] are
//!   `async`.

mod core;
mod http;
mod store;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::csr::KeyUse;
use serde::{Deserialize, Serialize};

use self::core::{lock, Core};
pub use self::store::IssuedCert;
use crate::contract::ca::CaJournalEntry;
#[cfg(doc)]
use crate::contract::ca::{ErrorBody, IssueRequest, CLIENT_CERT_HEADER};
#[cfg(doc)]
use crate::contract::fault::Scope;
use crate::contract::fault::{CaOp, Fault, FaultKind, FaultTarget, Scope as FaultScope};
use crate::fixtures::DIGICERT_RA;
use crate::server::{Incidents, Limits, Server, Tls};
use crate::signer::Signer;
use crate::sim::{Clock, Rng};
use crate::switchboard::Switchboard;
use crate::FakeError;

/// Which CA product the fake behaves like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaKind {
    /// A Microsoft ADCS enterprise CA: no client authentication.
    #[default]
    Microsoft,
    /// A DigiCert-style CA: issue and revoke need the RA client certificate
    /// ([`CLIENT_CERT_HEADER`] with [`DIGICERT_RA`]), else 401 `client_certificate_required`.
    DigiCert,
}

/// What a template does with the extensions a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionPolicy {
    /// Key usage and extended key usage come from the template; subject alternative names
    /// from the request (an ADCS template whose subject is "supplied in the request").
    #[default]
    Override,
    /// Key usage, extended key usage and subject alternative names come from the request
    /// when it asks for them, from the template otherwise.
    Honour,
}

/// A certificate template the CA offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// Name requested in [`IssueRequest::template`].
    pub name: String,
    /// Lifetime of issued certificates (from scenario now).
    pub validity: Duration,
    /// Key usages of issued certificates.
    pub key_usages: Vec<KeyUse>,
    /// Extended key usages of issued certificates (default clientAuth).
    pub extended_key_usages: Vec<der::oid::ObjectIdentifier>,
    /// What happens to the extensions a request asks for.
    pub extensions: ExtensionPolicy,
}

impl Template {
    /// The validity as a signed duration (saturating).
    pub fn validity_signed(&self) -> time::Duration {
        time::Duration::try_from(self.validity).unwrap_or(time::Duration::MAX)
    }

    /// A template with digitalSignature + keyEncipherment, clientAuth, valid for `days`.
    pub fn new(name: &str, days: u64) -> Template {
        Template {
            name: name.into(),
            validity: Duration::from_secs(days.saturating_mul(86_400)),
            key_usages: vec![KeyUse::DigitalSignature, KeyUse::KeyEncipherment],
            extended_key_usages: vec![crate::csr::CLIENT_AUTH],
            extensions: ExtensionPolicy::Override,
        }
    }
}

/// How to start a [`FakeCa`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaConfig {
    /// Address to listen on (port chosen by the OS, kept across `unavailable`).
    pub bind: IpAddr,
    /// Product behaviour.
    pub kind: CaKind,
    /// CA name (as the connector configures it).
    pub name: String,
    /// Templates offered; any other name is refused with 403 `denied`.
    pub templates: Vec<Template>,
    /// Bounds on peers.
    pub limits: Limits,
    /// HTTPS as well as plain HTTP on the port (see [`Tls`]).
    pub tls: Option<Tls>,
    /// Most calls kept in the journal and most issued certificates remembered; beyond it the
    /// oldest are forgotten (a forgotten serial is `not_found`) and counted.
    pub history: usize,
}

/// The default [`CaConfig::history`]: far beyond any scenario.
pub const CA_HISTORY: usize = 100_000;

impl Default for CaConfig {
    /// Microsoft CA `TEST-ISSUING-CA` on 127.0.0.1 with templates `IntuneUser` and
    /// `IntuneDevice` (365 days).
    fn default() -> CaConfig {
        CaConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            kind: CaKind::Microsoft,
            name: crate::fixtures::CA_NAME.into(),
            templates: vec![
                Template::new(crate::fixtures::USER_TEMPLATE, 365),
                Template::new(crate::fixtures::DEVICE_TEMPLATE, 365),
            ],
            limits: Limits::default(),
            tls: None,
            history: CA_HISTORY,
        }
    }
}

const OPS: [CaOp; 5] = [
    CaOp::Issue,
    CaOp::Revoke,
    CaOp::Status,
    CaOp::Crl,
    CaOp::Chain,
];

/// The fake CA. See the module documentation for its behaviour and faults.
pub struct FakeCa {
    core: Arc<Core>,
    /// The server while the port is open; while `unavailable`, the port held by a socket that
    /// is bound but not listening, so connections are refused and no other socket (an outgoing
    /// connection's ephemeral port, another world's listener) can take the port before `heal`.
    server: tokio::sync::Mutex<Port>,
    addr: SocketAddr,
    limits: Limits,
    tls: Option<Tls>,
    incidents: Incidents,
    url: String,
}

impl FakeCa {
    /// Starts the CA on `config.bind` with an OS-chosen port. `rng` is used as the serial
    /// stream as given: pass a dedicated fork (e.g. `rng.fork("ca")`).
    pub async fn start(config: CaConfig, clock: Clock, rng: Rng) -> Result<FakeCa, FakeError> {
        if config.templates.is_empty() {
            return Err(FakeError::Config("the CA offers no template".into()));
        }
        let core = Arc::new(Core {
            kind: config.kind,
            templates: Mutex::new(config.templates),
            clock,
            rng: Mutex::new(rng),
            signer: Signer::issuing_ca()?,
            switchboard: Switchboard::default(),
            ra_der: DIGICERT_RA.cert_der()?,
            store: Mutex::new(store::Store::new(config.history)),
        });
        let incidents = Incidents::default();
        let want = SocketAddr::new(config.bind, 0);
        let server = serve(
            &core,
            want,
            hold(want),
            config.limits,
            &config.tls,
            &incidents,
        )?;
        let addr = server.addr();
        Ok(FakeCa {
            core,
            server: tokio::sync::Mutex::new(Port::Open(server)),
            addr,
            limits: config.limits,
            tls: config.tls,
            incidents,
            url: format!("http://{addr}"),
        })
    }

    /// Base URL, `http://127.0.0.1:<port>` (stable across `unavailable`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The switchboard (for inspection; use [`FakeCa::inject`] to break things, so that
    /// `unavailable` closes the port).
    pub fn switchboard(&self) -> &Switchboard<CaOp> {
        &self.core.switchboard
    }

    /// Internal failures of the CA (each one a harness error).
    pub fn incidents(&self) -> Vec<String> {
        self.incidents.all()
    }

    /// Puts `fault` on `op`, replacing any fault there (calls held on `op` are released).
    /// `unavailable` closes the port before returning.
    pub async fn inject(&self, op: CaOp, fault: Fault) -> Result<(), FakeError> {
        let target = FaultTarget::Ca(op);
        if !target.kinds().contains(&fault.kind.name()) {
            return Err(FakeError::UnsupportedFault {
                target,
                kind: fault.kind,
            });
        }
        if fault.kind == FaultKind::Unavailable && fault.scope != FaultScope::UntilHealed {
            return Err(FakeError::UnsupportedScope {
                target,
                kind: fault.kind,
            });
        }
        self.core.switchboard.inject(op, fault);
        self.reconcile().await
    }

    /// Removes the fault on `op`, releases calls held on it, and reopens the port (the same
    /// one) if nothing is `unavailable` any more.
    pub async fn heal(&self, op: CaOp) -> Result<(), FakeError> {
        self.core.switchboard.heal(op);
        self.reconcile().await
    }

    /// Removes every fault (see [`FakeCa::heal`]).
    pub async fn heal_all(&self) -> Result<(), FakeError> {
        self.core.switchboard.heal_all();
        self.reconcile().await
    }

    async fn reconcile(&self) -> Result<(), FakeError> {
        let unavailable = OPS
            .iter()
            .any(|op| self.core.switchboard.peek(*op) == Some(FaultKind::Unavailable));
        let mut port = self.server.lock().await;
        let bind = |source| FakeError::Bind {
            addr: self.addr,
            source,
        };
        match (unavailable, &mut *port) {
            (true, Port::Open(open)) => {
                // Bound beside the listener, before it closes: the port is never free.
                let held = hold(self.addr);
                open.close().await;
                // Closed either way: a hold that fails is tried again when the port reopens.
                match held {
                    Ok(socket) => *port = Port::Held(Some(socket)),
                    Err(e) => {
                        *port = Port::Held(None);
                        return Err(bind(e));
                    }
                }
            }
            (false, Port::Held(held)) => {
                let socket = held.take().map_or_else(|| hold(self.addr), Ok);
                *port = Port::Open(serve(
                    &self.core,
                    self.addr,
                    socket,
                    self.limits,
                    &self.tls,
                    &self.incidents,
                )?);
            }
            _ => {}
        }
        Ok(())
    }

    /// Starts offering `template` (replacing one of the same name).
    pub fn add_template(&self, template: Template) {
        let mut templates = lock(&self.core.templates);
        templates.retain(|t| t.name != template.name);
        templates.push(template);
    }

    /// Stops offering the template `name`; requests for it are denied from now on.
    pub fn remove_template(&self, name: &str) {
        lock(&self.core.templates).retain(|t| t.name != name);
    }

    /// Every call received, in order (the most recent [`CaConfig::history`]).
    pub fn journal(&self) -> Vec<CaJournalEntry> {
        lock(&self.core.store).journal.iter().cloned().collect()
    }

    /// How many calls and certificates were forgotten because of [`CaConfig::history`].
    pub fn forgotten(&self) -> (u64, u64) {
        let store = lock(&self.core.store);
        (store.journal_dropped, store.issued_dropped)
    }

    /// How many certificates the CA has issued, forgotten ones included.
    pub fn issued_count(&self) -> u64 {
        let store = lock(&self.core.store);
        (store.issued.len() as u64).saturating_add(store.issued_dropped)
    }

    /// Every certificate issued, in order, with its revocation state (the most recent
    /// [`CaConfig::history`]).
    pub fn issued(&self) -> Vec<IssuedCert> {
        lock(&self.core.store)
            .issued
            .iter()
            .map(|r| r.cert.clone())
            .collect()
    }

    /// Stops serving: releases held calls, closes the port and waits (up to 5 s) for open
    /// connections to finish.
    pub async fn shutdown(self) {
        self.core.switchboard.close();
        let port = std::mem::replace(&mut *self.server.lock().await, Port::Held(None));
        if let Port::Open(server) = port {
            server.shutdown().await;
        }
    }
}

impl Drop for FakeCa {
    fn drop(&mut self) {
        // Best effort when `shutdown` was not awaited: release held calls; dropping the server
        // stops accepting.
        self.core.switchboard.close();
    }
}

/// The CA's port: served, or held while `unavailable` (`None` only after a failed hold or
/// shutdown).
enum Port {
    Open(Server),
    Held(Option<tokio::net::TcpSocket>),
}

/// A socket bound to `addr` and not listening: connections to it are refused, and the port
/// stays taken. Every CA listener is a hold that listens, so on Unix a new hold can bind
/// beside one still listening (`SO_REUSEPORT`, same user only), and `unavailable` takes the
/// port before it lets the listener go.
fn hold(addr: SocketAddr) -> std::io::Result<tokio::net::TcpSocket> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As TcpListener::bind does: the closed listener's connections may linger in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

/// Serves the CA on `socket`, bound to `addr` (held while unavailable, or just bound):
/// listening from when this returns.
fn serve(
    core: &Arc<Core>,
    addr: SocketAddr,
    socket: std::io::Result<tokio::net::TcpSocket>,
    limits: Limits,
    tls: &Option<Tls>,
    incidents: &Incidents,
) -> Result<Server, FakeError> {
    socket
        .and_then(|s| s.listen(1024))
        .and_then(|listener| {
            Server::serve_with_tls(
                listener,
                http::router(core.clone()),
                "CA",
                limits,
                incidents.clone(),
                tls.clone(),
            )
        })
        .map_err(|source| FakeError::Bind { addr, source })
}

#[cfg(test)]
mod tests {
    use super::hold;
    use std::net::{Ipv4Addr, SocketAddr};

    /// `unavailable` takes the port before the listener lets it go: a second hold binds beside
    /// a listening one. Were the port free for a moment between the two, an outgoing
    /// connection could take it as its ephemeral port and the hold would fail with
    /// `Address already in use` (seen once in a full test run).
    #[cfg(unix)]
    #[tokio::test]
    async fn a_hold_binds_while_the_port_is_still_listening() {
        let first = hold(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
        let addr = first.local_addr().expect("bound");
        let listener = first.listen(8).expect("listen");
        let second = hold(addr);
        assert!(second.is_ok(), "hold beside a listener: {:?}", second.err());
        drop(listener);
        // Connections are refused once the listener is gone: the hold does not listen.
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
