//! The fake Intune service, in the shapes of Microsoft's public reference client: service
//! discovery, `ScepRequestValidationFEService` (validate a SCEP request against its challenge
//! and SCEP profile; success and failure notifications), `PkiConnectorFEService` (revocation
//! requests and results), `StatelessPkiConnectorService` (PKCS requests and results, our model
//! of the 2020 draft), the legacy policy module's Certificate Registration Point, and the
//! connector's registration service (a harness extension). `crate::contract::intune` is the
//! wire contract; `docs/wire-contracts.md` describes it for people.
//!
//! The service tells the truth: an upload is answered "recorded" only when every result in it
//! was recorded; a result for an id never queued, a second final result, or one that
//! contradicts itself is refused with an OData error, and every attempt lands in the ledger
//! ([`crate::contract::intune::admin::IntuneState`]) the exactly-once check reads. A failed
//! result with a retryable `CARequestErrorCode` is recorded and puts the request back in the
//! queue; a request handed out and never answered is handed out again.
//!
//! Faults come from the [`Switchboard`], struck once per call after the transport checks; a
//! faulted call never changes state: `hang` (held until healed, then 503), `status(n)` (OData
//! error), `malformed` (200 with an unparseable body), `deny` (403 `Forbidden`); on validation
//! `expired_challenge`, `unknown_challenge`, `unknown_code`, `answer` (any error code); on
//! uploads `not_recorded` (`false`).
//!
//! Given the identity platform's keys ([`IntuneConfig::tokens`]) the service checks every bearer
//! token (issued by that platform, for the Intune API or Graph, unexpired on the scenario
//! clock; 401 otherwise); without them any non-empty token passes, as before. In
//! [`TransportMode::Judge`] a SCEP validation call with a missing or non-GUID
//! `client-request-id` or a wrong `api-version` is answered and recorded as a finding.
//!
//! Files by role: `http` (routes, faults), `auth` (tokens and transport rules), `queues` and
//! `scep` (logic), `scep_log` (the record of `ScepActions` calls), `challenge` (tokens),
//! `profile` (SCEP profiles), `store` (the one state).

mod auth;
mod challenge;
mod http;
mod ledger;
mod profile;
mod queues;
mod scep;
mod scep_log;
mod store;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use axum::http::HeaderMap;
use rcgen::KeyUsagePurpose;

pub use ledger::QueueSummary;
pub use profile::{SanKind, ScepProfile};
pub use store::History;

use crate::contract::fault::{Fault, FaultTarget, IntuneOp};
use crate::contract::intune::admin::{
    IntuneState, MintChallenge, MintedChallenge, QueuePkcs, QueueRevocation, RenewalRecord,
};
pub use crate::contract::intune::judged::TransportMode;
use crate::contract::intune::pkcs::{CaRequest, PkcsParameters, REQUEST_TYPE};
use crate::contract::intune::registration::{RenewRequest, RenewResponse, SigningCertificate};
use crate::contract::intune::revocation::RevocationRequest;
use crate::contract::intune::transport;
use crate::identity::TokenKeys;
use crate::pki;
use crate::server::{Incidents, Limits, Server, Tls};
use crate::signer::{draw_serial, whole_seconds, SignSpec, Signable, Signer};
use crate::sim::{format_time, Clock, Rng};
use crate::switchboard::Switchboard;
use crate::FakeError;

/// Validity of a renewed registration certificate.
pub const RENEWAL_VALIDITY: Duration = Duration::from_secs(365 * 86_400);

/// How to start a [`FakeIntune`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntuneConfig {
    /// Address to listen on (port chosen by the OS).
    pub bind: IpAddr,
    /// Tenant GUID put in every request; drawn from the seed when `None`.
    pub tenant_id: Option<String>,
    /// SCEP profiles (default: [`ScepProfile::default_profile`]).
    pub profiles: Vec<ScepProfile>,
    /// Bounds on peers.
    pub limits: Limits,
    /// Bounds on what the service remembers.
    pub history: History,
    /// HTTPS as well as plain HTTP on the port (see [`Tls`]); discovery then names each
    /// service with the scheme the caller used.
    pub tls: Option<Tls>,
    /// The identity platform's keys: when given, bearer tokens must be its tokens for the
    /// right audience, unexpired (401 otherwise). `None`: any non-empty token.
    pub tokens: Option<TokenKeys>,
    /// Refuse (strict, the default) or judge transport deviations on SCEP validation.
    pub transport: TransportMode,
}

impl Default for IntuneConfig {
    fn default() -> IntuneConfig {
        IntuneConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            tenant_id: None,
            profiles: vec![ScepProfile::default_profile()],
            limits: Limits::default(),
            history: History::default(),
            tls: None,
            tokens: None,
            transport: TransportMode::Strict,
        }
    }
}

/// A refusal on its way to becoming an OData error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Refusal {
    fn new(status: u16, code: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(400, "BadRequest", message)
    }

    /// HTTP `n` with the status's own name as the code (`InternalServerError`, …).
    fn status(n: u16, message: impl Into<String>) -> Refusal {
        let (n, code) = match axum::http::StatusCode::from_u16(n) {
            Ok(s) => (
                s.as_u16(),
                s.canonical_reason()
                    .map(|r| r.replace([' ', '-', '\''], ""))
                    .unwrap_or_else(|| "Error".into()),
            ),
            Err(_) => (500, "InternalServerError".into()),
        };
        Refusal {
            status: n,
            code,
            message: message.into(),
        }
    }
}

/// Everything the fake's handlers share.
pub(crate) struct Inner {
    store: Mutex<store::Store>,
    clock: Clock,
    switchboard: Switchboard<IntuneOp>,
    signer: Signer,
    minter: challenge::Minter,
    signing: SigningCertificate,
    base_url: OnceLock<String>,
    tokens: Option<TokenKeys>,
    transport_mode: TransportMode,
}

impl Inner {
    fn store(&self) -> MutexGuard<'_, store::Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn base_url(&self) -> String {
        self.base_url.get().cloned().unwrap_or_default()
    }

    fn signing_certificate(&self) -> SigningCertificate {
        self.signing.clone()
    }

    /// The legacy policy module authenticates with the SCEP signing certificate.
    fn check_signing_cert(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let presented = headers
            .get(transport::CLIENT_CERT)
            .and_then(|v| v.to_str().ok())
            .map(|v| pki::unb64(v).map(|der| pki::thumbprint(&der)));
        match presented {
            None => Err(Refusal::new(
                401,
                "Unauthorized",
                "present the SCEP signing certificate in `x-client-certificate`",
            )),
            Some(Ok(t)) if t == self.signing.thumbprint => Ok(()),
            Some(_) => Err(Refusal::new(
                403,
                "Forbidden",
                "the presented certificate is not this connector's SCEP signing certificate",
            )),
        }
    }

    async fn renew(self: Arc<Self>, body: RenewRequest) -> Result<RenewResponse, Refusal> {
        let der = pki::unb64(&body.certificate_request)
            .map_err(|e| Refusal::bad_request(e.to_string()))?;
        let csr = Signable::read(&der).map_err(Refusal::bad_request)?;
        let now = whole_seconds(self.clock.now());
        let not_after = now
            .checked_add(time::Duration::try_from(RENEWAL_VALIDITY).unwrap_or(time::Duration::MAX))
            .filter(|t| t.year() <= 9999)
            .ok_or_else(|| {
                Refusal::status(
                    500,
                    "a renewed certificate would expire after the year 9999",
                )
            })?;
        let serial = draw_serial(&mut self.store().serials);
        let inner = self.clone();
        let signed = tokio::task::spawn_blocking(move || {
            inner.signer.sign(
                &csr,
                SignSpec {
                    serial: &serial,
                    not_before: now,
                    not_after,
                    key_usages: vec![
                        KeyUsagePurpose::DigitalSignature,
                        KeyUsagePurpose::KeyEncipherment,
                    ],
                    extended_key_usages: vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth],
                    sans: Vec::new(),
                },
            )
        })
        .await
        .map_err(|e| Refusal::status(500, format!("signing task: {e}")))?
        .map_err(|e| Refusal::status(500, e))?;
        let answer = RenewResponse {
            certificate: pki::b64(&signed),
            thumbprint: pki::thumbprint(&signed),
            not_after: format_time(not_after),
        };
        self.store().renewals.push(RenewalRecord {
            thumbprint: answer.thumbprint.clone(),
            not_after: answer.not_after.clone(),
        });
        Ok(answer)
    }

    fn queue_pkcs(&self, q: QueuePkcs) -> Result<CaRequest, Refusal> {
        let mut store = self.store();
        let request_id = q.request_id.unwrap_or_else(|| store.request_ids.guid());
        let parameters = serde_json::to_string(&PkcsParameters {
            template_name: q.template_name,
            ca_name: q.ca_name,
            certificate_request: q.certificate_request,
        })
        .unwrap_or_default();
        let request = CaRequest {
            tenant_id: store.tenant_id.clone(),
            user_id: q.user_id,
            device_id: q.device_id,
            request_id,
            request_type: REQUEST_TYPE.into(),
            parameters,
        };
        store
            .enqueue_pkcs(request.clone())
            .map_err(|e| Refusal::new(507, "InsufficientStorage", e))?;
        Ok(request)
    }

    fn queue_revocation(&self, q: QueueRevocation) -> Result<RevocationRequest, Refusal> {
        let mut store = self.store();
        let serial = pki::normalize_serial(&q.serial_number).unwrap_or(q.serial_number);
        let request = RevocationRequest {
            request_context: store.contexts.guid(),
            serial_number: serial.clone(),
            ca_configuration: q
                .ca_configuration
                .or_else(|| Some(format!("ca01.harness.test\\{}", q.issuer_name))),
            issuer_name: Some(q.issuer_name),
        };
        store
            .enqueue_revocation(request.clone(), &serial)
            .map_err(|e| Refusal::new(507, "InsufficientStorage", e))?;
        Ok(request)
    }

    fn state(&self) -> IntuneState {
        let store = self.store();
        IntuneState {
            pending_pkcs: store.pkcs.pending_ids(),
            pending_revocations: store.revocations.pending_ids(),
            queued_pkcs: store.pkcs.queued(),
            queued_revocations: store.revocations.queued(),
            ledger: store.ledger_entries(),
            unknown_uploads: store.unknown_uploads,
            unknown_examples: store.unknown_examples.clone(),
            uploads: store.uploads.to_vec(),
            uploads_dropped: store.uploads.dropped,
            notifications: store.notifications.to_vec(),
            validations: store.validations.to_vec(),
            renewals: store.renewals.to_vec(),
            calls: store.calls.to_vec(),
            calls_dropped: store.calls.dropped,
            scep_calls: store.scep_calls.to_vec(),
            transport_findings: store.transport_findings.to_vec(),
        }
    }
}

/// The policy module's SCEP signing certificate: the connector's key, issued by the test CA.
fn signing_certificate(
    signer: &Signer,
    rng: &mut Rng,
    now: time::OffsetDateTime,
) -> Result<SigningCertificate, FakeError> {
    let key = crate::fixtures::CONNECTOR.rsa_key()?;
    let csr = crate::pki::build_csr(&key, "TEST ONLY Intune SCEP Signing", None)
        .map_err(|e| FakeError::Sign(e.to_string()))?;
    let csr = Signable::read(&csr).map_err(FakeError::Sign)?;
    let not_before = whole_seconds(now).saturating_sub(time::Duration::days(1));
    let der = signer
        .sign(
            &csr,
            SignSpec {
                serial: &draw_serial(rng),
                not_before,
                not_after: not_before.saturating_add(time::Duration::days(3 * 365)),
                key_usages: vec![KeyUsagePurpose::DigitalSignature],
                extended_key_usages: vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth],
                sans: Vec::new(),
            },
        )
        .map_err(FakeError::Sign)?;
    Ok(SigningCertificate {
        certificate: pki::b64(&der),
        thumbprint: pki::thumbprint(&der),
    })
}

/// Reads how many `ScepActions` calls the service has received.
#[derive(Clone)]
pub struct ScepCallCounter(Arc<Inner>);

impl ScepCallCounter {
    /// The count now.
    pub fn seen(&self) -> u64 {
        self.0.store().next_scep_call
    }
}

/// The fake Intune service. See the module documentation for its behaviour and faults.
pub struct FakeIntune {
    inner: Arc<Inner>,
    server: Server,
    incidents: Incidents,
}

impl FakeIntune {
    /// Starts the service on `config.bind` with an OS-chosen port. Its random streams are forked
    /// from `rng`'s seed by fixed labels (`intune.tenant`, `intune.request-ids`,
    /// `intune.revocation-contexts`, `intune.challenges`, `intune.serials`, `intune.key`).
    pub async fn start(
        config: IntuneConfig,
        clock: Clock,
        rng: Rng,
    ) -> Result<FakeIntune, FakeError> {
        let tenant_id = config
            .tenant_id
            .unwrap_or_else(|| rng.fork("intune.tenant").guid());
        let signer = Signer::issuing_ca()?;
        let signing = signing_certificate(&signer, &mut rng.fork("intune.signing"), clock.now())?;
        let inner = Arc::new(Inner {
            store: Mutex::new(store::Store::new(
                tenant_id,
                &rng,
                config.profiles,
                config.history,
            )),
            minter: challenge::Minter::new(&mut rng.fork("intune.key")),
            clock,
            switchboard: Switchboard::default(),
            signer,
            signing,
            base_url: OnceLock::new(),
            tokens: config.tokens,
            transport_mode: config.transport,
        });
        let incidents = Incidents::default();
        let bind = SocketAddr::new(config.bind, 0);
        let server = Server::bind_with_tls(
            bind,
            http::router(inner.clone()),
            "Intune",
            config.limits,
            incidents.clone(),
            config.tls,
        )
        .await
        .map_err(|source| FakeError::Bind { addr: bind, source })?;
        let _ = inner.base_url.set(format!("http://{}", server.addr()));
        Ok(FakeIntune {
            inner,
            server,
            incidents,
        })
    }

    /// Base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.inner.base_url()
    }

    /// The service discovery URL a connector is configured with.
    pub fn discovery_url(&self) -> String {
        format!("{}{}", self.url(), crate::contract::intune::DISCOVERY_PATH)
    }

    /// The tenant GUID in every request.
    pub fn tenant_id(&self) -> String {
        self.inner.store().tenant_id.clone()
    }

    /// The policy module's SCEP signing certificate the service hands out.
    pub fn signing_certificate(&self) -> SigningCertificate {
        self.inner.signing_certificate()
    }

    /// The fault switchboard.
    pub fn switchboard(&self) -> &Switchboard<IntuneOp> {
        &self.inner.switchboard
    }

    /// Internal failures of the service (each one a harness error).
    pub fn incidents(&self) -> Vec<String> {
        self.incidents.all()
    }

    /// Puts `fault` on `op` (replacing any fault there), if `op` accepts that kind.
    pub fn inject(&self, op: IntuneOp, fault: Fault) -> Result<(), FakeError> {
        let target = FaultTarget::Intune(op);
        if !target.kinds().contains(&fault.kind.name()) {
            return Err(FakeError::UnsupportedFault {
                target,
                kind: fault.kind,
            });
        }
        self.inner.switchboard.inject(op, fault);
        Ok(())
    }

    /// Removes the fault on `op` and releases calls it holds.
    pub fn heal(&self, op: IntuneOp) {
        self.inner.switchboard.heal(op);
    }

    /// Removes every fault.
    pub fn heal_all(&self) {
        self.inner.switchboard.heal_all();
    }

    /// Mints a one-time SCEP challenge for a device (as `POST /admin/challenges`).
    pub fn mint_challenge(&self, m: MintChallenge) -> Result<MintedChallenge, String> {
        self.inner.mint(m).map_err(|r| r.message)
    }

    /// A challenge in this service's format that it never minted (another tenant's key): the
    /// service cannot decrypt it.
    pub fn foreign_challenge(&self, rng: &mut Rng) -> String {
        let now = i64::try_from(self.inner.clock.now().unix_timestamp_nanos() / 1_000_000)
            .unwrap_or(i64::MAX);
        challenge::Minter::new(&mut rng.fork("foreign-key")).mint(
            challenge::Claims {
                id: 1,
                issued_ms: now,
                expires_ms: now.saturating_add(3_600_000),
            },
            rng,
        )
    }

    /// Queues a PKCS request (as `POST /admin/pkcs-requests`). Refused only when the queue
    /// has held `u32::MAX` requests.
    pub fn queue_pkcs(&self, q: QueuePkcs) -> Result<CaRequest, String> {
        self.inner.queue_pkcs(q).map_err(|r| r.message)
    }

    /// Queues a revocation (as `POST /admin/revocation-requests`). Refused only when the
    /// queue has held `u32::MAX` requests.
    pub fn queue_revocation(&self, q: QueueRevocation) -> Result<RevocationRequest, String> {
        self.inner.queue_revocation(q).map_err(|r| r.message)
    }

    /// How the PKCS queue stands (its ledger counted in place, nothing copied): what a load
    /// run reads instead of [`FakeIntune::state`].
    pub fn pkcs_summary(&self) -> QueueSummary {
        self.inner.store().pkcs.summary()
    }

    /// Adds or replaces a SCEP profile.
    pub fn put_profile(&self, profile: ScepProfile) {
        let mut store = self.inner.store();
        store.profiles.retain(|p| p.name != profile.name);
        store.profiles.push(profile);
    }

    /// Unassigns a SCEP profile: its challenges are refused from now on.
    pub fn remove_profile(&self, name: &str) {
        self.inner.store().profiles.retain(|p| p.name != name);
    }

    /// Forgets a device: its challenges are refused from now on.
    pub fn retire_device(&self, device: &str) {
        self.inner
            .store()
            .retired_devices
            .insert(device.to_string());
    }

    /// Forgets a user: their challenges are refused from now on.
    pub fn retire_user(&self, user: &str) {
        self.inner.store().retired_users.insert(user.to_string());
    }

    /// How many `ScepActions` calls the service has received (counted in place).
    pub fn scep_calls_seen(&self) -> u64 {
        self.inner.store().next_scep_call
    }

    /// A handle that reads [`FakeIntune::scep_calls_seen`] from elsewhere (a witness at the
    /// gateway's CA seam), sharing the service's store.
    pub fn scep_call_counter(&self) -> ScepCallCounter {
        ScepCallCounter(self.inner.clone())
    }

    /// What the service has recorded (as `GET /admin/state`).
    pub fn state(&self) -> IntuneState {
        self.inner.state()
    }

    /// Fuzzing entry point (`fuzz/`, feature `fuzzing`): forgets everything the service
    /// recorded, as if it had just been started with `config` and `rng` (the challenge key and
    /// the signing certificate stay), so every fuzz input starts from the same state.
    #[cfg(feature = "fuzzing")]
    pub fn fuzz_reset(&self, config: &IntuneConfig, rng: &Rng) {
        let tenant_id = config
            .tenant_id
            .clone()
            .unwrap_or_else(|| rng.fork("intune.tenant").guid());
        *self.inner.store() =
            store::Store::new(tenant_id, rng, config.profiles.clone(), config.history);
        self.inner.switchboard.heal_all();
    }

    /// Fuzzing entry point (`fuzz/`, feature `fuzzing`): one request through the service's
    /// routes in-process, without a socket; answers the status and the body.
    #[cfg(feature = "fuzzing")]
    pub async fn fuzz_call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), String> {
        use tower::ServiceExt;
        let mut request = axum::http::Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(axum::body::Body::from(body))
            .map_err(|e| e.to_string())?;
        let Ok(response) = http::router(self.inner.clone()).oneshot(request).await;
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        Ok((status, body.to_vec()))
    }

    /// Stops the server, releasing held calls.
    pub async fn shutdown(self) {
        self.inner.switchboard.close();
        self.server.shutdown().await;
    }
}
