//! The fake identity platform (Microsoft Entra ID's token endpoints): the OAuth 2.0
//! client-credentials grant a SCEP gateway uses to call Microsoft Graph (service discovery) and
//! the Intune API (SCEP validation), at `POST /{tenant}/oauth2/v2.0/token` (`scope`) and
//! `POST /{tenant}/oauth2/token` (`resource`). `crate::contract::identity` is the wire contract.
//!
//! It issues tokens for its registered applications ([`AppRegistration`]) that live
//! [`IdentityConfig::token_lifetime`] of scenario time, signed under [`TokenKeys`] that the
//! fake Intune is given to check them with. A wrong secret is refused with 400
//! `invalid_client` in Entra ID's error document; an unknown application, tenant, grant, scope
//! or resource with the matching OAuth 2.0 error.
//!
//! Faults (`identity.token`) come from its [`Switchboard`]: `unavailable` (the port is closed
//! until healed), `hang`, `status` (the error document, `server_error` or
//! `temporarily_unavailable`), `malformed` (200, not JSON), `invalid_client` (whatever the
//! secret) and `expired_token` (a token whose lifetime has passed already).
//!
//! Files by role: `http` (routes, the grant, faults), `token` (signing and checking).

mod http;
pub mod token;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

pub use token::{TokenKeys, TokenRefusal};

use crate::contract::fault::{Fault, FaultKind, FaultTarget, IdentityOp, Scope};
use crate::contract::identity::{token_v1_path, token_v2_path, Resource};
use crate::server::{Incidents, Limits, Server};
use crate::sim::{Clock, Rng};
use crate::switchboard::Switchboard;
use crate::FakeError;

/// The lifetime Entra ID gives an application token: an hour, less a second.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

/// Most token requests kept in [`FakeIdentity::requests`].
pub const IDENTITY_HISTORY: usize = 10_000;

/// An application registered in the tenant: what a gateway is configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRegistration {
    /// Client (application) id, a GUID.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// Application roles its tokens carry (Intune's `scep_challenge_provider`).
    pub roles: Vec<String>,
}

impl AppRegistration {
    /// The test gateway's application: a client id drawn from `rng`, a `TEST-ONLY` secret
    /// drawn likewise, and the SCEP validation role.
    pub fn test_gateway(rng: &mut Rng) -> AppRegistration {
        AppRegistration {
            client_id: rng.guid(),
            client_secret: format!("TEST-ONLY-{}", rng.hex(16)),
            roles: vec![crate::contract::identity::SCEP_ROLE.into()],
        }
    }
}

/// How to start a [`FakeIdentity`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityConfig {
    /// Address to listen on (port chosen by the OS, kept across `unavailable`).
    pub bind: IpAddr,
    /// The tenant GUID in the token paths and in every token.
    pub tenant_id: String,
    /// The applications that may ask for tokens.
    pub apps: Vec<AppRegistration>,
    /// How long an issued token lives (scenario time).
    pub token_lifetime: Duration,
    /// Bounds on peers.
    pub limits: Limits,
}

impl IdentityConfig {
    /// A tenant with one application.
    pub fn new(tenant_id: &str, app: AppRegistration) -> IdentityConfig {
        IdentityConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            tenant_id: tenant_id.into(),
            apps: vec![app],
            token_lifetime: TOKEN_LIFETIME,
            limits: Limits::default(),
        }
    }
}

/// Which token endpoint was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/oauth2/v2.0/token` (`scope`).
    V2,
    /// `/oauth2/token` (`resource`).
    V1,
}

/// One token request and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenRequestRecord {
    /// Scenario time.
    pub at: String,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// The `client_id` sent (truncated to 64 characters).
    pub client_id: Option<String>,
    /// The resource asked for, when it was one the platform knows.
    pub resource: Option<Resource>,
    /// HTTP status answered.
    pub status: u16,
    /// The OAuth 2.0 error answered, if any.
    pub error: Option<String>,
    /// The fault that struck the call, if any.
    pub fault: Option<String>,
}

/// Everything the handlers share.
pub(crate) struct Inner {
    config: IdentityConfig,
    clock: Clock,
    keys: TokenKeys,
    switchboard: Switchboard<IdentityOp>,
    state: Mutex<State>,
}

/// The platform's one store: its random stream and what it was asked.
struct State {
    rng: Rng,
    requests: std::collections::VecDeque<TokenRequestRecord>,
    dropped: u64,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, record: TokenRequestRecord) {
        let mut state = self.state();
        if state.requests.len() >= IDENTITY_HISTORY {
            state.requests.pop_front();
            state.dropped = state.dropped.saturating_add(1);
        }
        state.requests.push_back(record);
    }
}

/// The fake identity platform. See the module documentation for its behaviour and faults.
pub struct FakeIdentity {
    inner: Arc<Inner>,
    server: tokio::sync::Mutex<Option<Server>>,
    addr: SocketAddr,
    incidents: Incidents,
    url: String,
}

impl FakeIdentity {
    /// Starts the platform with an OS-chosen port. Its key and ids are drawn from forks of
    /// `rng` (`identity.key`, `identity.ids`).
    pub async fn start(
        config: IdentityConfig,
        clock: Clock,
        rng: Rng,
    ) -> Result<FakeIdentity, FakeError> {
        if config.apps.is_empty() {
            return Err(FakeError::Config(
                "the identity platform has no application registered".into(),
            ));
        }
        let keys = TokenKeys::new(&config.tenant_id, &mut rng.fork("identity.key"));
        let inner = Arc::new(Inner {
            clock,
            keys,
            switchboard: Switchboard::default(),
            state: Mutex::new(State {
                rng: rng.fork("identity.ids"),
                requests: Default::default(),
                dropped: 0,
            }),
            config,
        });
        let incidents = Incidents::default();
        let want = SocketAddr::new(inner.config.bind, 0);
        let server = open(&inner, want, &incidents).await?;
        let addr = server.addr();
        Ok(FakeIdentity {
            inner,
            server: tokio::sync::Mutex::new(Some(server)),
            addr,
            incidents,
            url: format!("http://{addr}"),
        })
    }

    /// Base URL (the "login" URL a gateway is configured with), `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The v2 token endpoint of the tenant.
    pub fn token_v2_url(&self) -> String {
        format!(
            "{}{}",
            self.url,
            token_v2_path(&self.inner.config.tenant_id)
        )
    }

    /// The v1 token endpoint of the tenant.
    pub fn token_v1_url(&self) -> String {
        format!(
            "{}{}",
            self.url,
            token_v1_path(&self.inner.config.tenant_id)
        )
    }

    /// The tenant GUID.
    pub fn tenant_id(&self) -> &str {
        &self.inner.config.tenant_id
    }

    /// The registered applications (what a gateway is configured with).
    pub fn apps(&self) -> &[AppRegistration] {
        &self.inner.config.apps
    }

    /// The keys a resource checks this platform's tokens with.
    pub fn keys(&self) -> TokenKeys {
        self.inner.keys.clone()
    }

    /// The switchboard (inspect it; break things with [`FakeIdentity::inject`]).
    pub fn switchboard(&self) -> &Switchboard<IdentityOp> {
        &self.inner.switchboard
    }

    /// Every token request received, in order (the most recent [`IDENTITY_HISTORY`]).
    pub fn requests(&self) -> Vec<TokenRequestRecord> {
        self.inner.state().requests.iter().cloned().collect()
    }

    /// Internal failures (each one a harness error).
    pub fn incidents(&self) -> Vec<String> {
        self.incidents.all()
    }

    /// Puts `fault` on `op`; `unavailable` closes the port before returning.
    pub async fn inject(&self, op: IdentityOp, fault: Fault) -> Result<(), FakeError> {
        let target = FaultTarget::Identity(op);
        if !target.kinds().contains(&fault.kind.name()) {
            return Err(FakeError::UnsupportedFault {
                target,
                kind: fault.kind,
            });
        }
        if fault.kind == FaultKind::Unavailable && fault.scope != Scope::UntilHealed {
            return Err(FakeError::UnsupportedScope {
                target,
                kind: fault.kind,
            });
        }
        self.inner.switchboard.inject(op, fault);
        self.reconcile().await
    }

    /// Removes the fault on `op` and reopens the port if it was closed.
    pub async fn heal(&self, op: IdentityOp) -> Result<(), FakeError> {
        self.inner.switchboard.heal(op);
        self.reconcile().await
    }

    /// Removes every fault.
    pub async fn heal_all(&self) -> Result<(), FakeError> {
        self.inner.switchboard.heal_all();
        self.reconcile().await
    }

    async fn reconcile(&self) -> Result<(), FakeError> {
        let closed = self.inner.switchboard.peek(IdentityOp::Token) == Some(FaultKind::Unavailable);
        let mut server = self.server.lock().await;
        match (closed, server.as_mut()) {
            (true, Some(open_server)) => {
                open_server.close().await;
                *server = None;
            }
            (false, None) => *server = Some(open(&self.inner, self.addr, &self.incidents).await?),
            _ => {}
        }
        Ok(())
    }

    /// Stops the server, releasing held calls.
    pub async fn shutdown(self) {
        self.inner.switchboard.close();
        if let Some(server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
    }
}

async fn open(
    inner: &Arc<Inner>,
    addr: SocketAddr,
    incidents: &Incidents,
) -> Result<Server, FakeError> {
    Server::bind(
        addr,
        http::router(inner.clone()),
        "identity",
        inner.config.limits,
        incidents.clone(),
    )
    .await
    .map_err(|source| FakeError::Bind { addr, source })
}
