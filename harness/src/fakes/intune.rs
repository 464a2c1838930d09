//! The fake Intune service: a wiremock [`MockServer`] whose single catch-all mock answers from
//! shared state ([`Respond`] over `Arc<Mutex<State>>`). It serves the PKCS request and
//! revocation queues, SCEP challenge validation and notifications, registration renewal and
//! check-in, exactly as [`crate::fakes::api`] describes them, plus admin endpoints
//! (`intune_paths::ADMIN_*`) mirrored by direct methods for the scenario runner.
//!
//! Queue semantics: a download hands out pending requests in queue order and marks them handed
//! out, but a request only leaves the queue when a result for it is recorded, so a request that
//! was handed out and never answered is handed out again by the next download. A result is
//! recorded once per request id (later ones are ignored); a failed result with a retryable
//! `CARequestErrorCode` is not recorded and leaves the request queued; results for ids that are
//! not queued are ignored. Every upload that is not faulted is answered `true`.
//!
//! Faults come from a [`Switchboard<IntuneOp>`], struck once per call; a faulted call never
//! changes state:
//! - `hang`: wiremock cannot hold a call forever, so the answer (503) is delayed by
//!   [`HANG_DELAY`] (10 minutes), which the caller's timeout cuts. Healing does not shorten a
//!   delay already running; [`FakeIntune::shutdown`] ends it.
//! - `status(n)`: HTTP n with an [`IntuneError`] whose code is the status name
//!   (`Unauthorized`, `InternalServerError`, `ServiceUnavailable`, …).
//! - `malformed`: HTTP 200, `application/json`, a body that does not parse.
//! - `deny`: 403 [`IntuneError`] `Forbidden` (on renewal: the refused renewal).
//! - validate: `expired_challenge` (`ChallengeExpired`), `unknown_challenge`
//!   (`ChallengeDecryptionError`), `unknown_code` (`Unknown`); notify: `unknown_code`.
//! - uploads: `not_recorded` answers `false`, records nothing, keeps the requests queued.
//!
//! The server is kept alive for the whole run inside [`FakeIntune`]: it is built with
//! `MockServer::builder()` (not pooled), so a later run can never be answered by it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::StatusCode;
use rcgen::KeyUsagePurpose;
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::OffsetDateTime;
use wiremock::http::Method;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::contract::fault::{Fault, FaultKind, FaultTarget, IntuneOp};
use crate::contract::intune::{
    ca_request_error, intune_paths, CaRequest, CaRequestResult, Checkin, DownloadCaRequests,
    DownloadRevocationRequests, FailureNotificationBody, IntuneError, IntuneSnapshot,
    MintChallenge, MintedChallenge, PkcsParameters, QueuePkcs, QueueRevocation, RenewRequest,
    RenewResponse, RevocationRequest, RevocationResult, ScepResponse, SuccessNotificationBody,
    UploadCaResults, UploadRevocationResults, ValidateBody,
};
use crate::fakes::signer::{draw_serial, whole_seconds, SignSpec, Signer, MALFORMED_BODY};
use crate::fakes::switchboard::Switchboard;
use crate::fakes::FakeError;
use crate::pki;
use crate::sim::{format_time, Clock, Rng};

/// How long a `hang` answer is delayed (the caller's timeout is expected to cut it).
pub const HANG_DELAY: Duration = Duration::from_secs(600);

/// Validity of a renewed registration certificate.
pub const RENEWAL_VALIDITY: Duration = Duration::from_secs(365 * 86_400);

/// `requestType` of every PKCS request.
pub const PKCS_REQUEST_TYPE: &str = "PkcsCertificate";

/// How to start a [`FakeIntune`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntuneConfig {
    /// Tenant GUID put in every request; drawn from the seed when `None`.
    pub tenant_id: Option<String>,
}

/// Hands out up to `max` queued requests, oldest first; they stay queued until answered.
fn hand_out<T: Clone>(queue: &mut [Pending<T>], max: u32) -> Vec<T> {
    queue
        .iter_mut()
        .take(max as usize)
        .map(|p| {
            p.handouts += 1;
            p.request.clone()
        })
        .collect()
}

struct Pending<T> {
    request: T,
    handouts: u32,
}

struct Challenge {
    device_id: String,
    user_id: String,
    expires: OffsetDateTime,
    used: bool,
}

struct State {
    tenant_id: String,
    request_ids: Rng,
    contexts: Rng,
    challenge_rng: Rng,
    serials: Rng,
    pkcs: Vec<Pending<CaRequest>>,
    pkcs_recorded: HashSet<String>,
    pkcs_results: Vec<CaRequestResult>,
    revocations: Vec<Pending<RevocationRequest>>,
    revocations_recorded: HashSet<String>,
    revocation_results: Vec<RevocationResult>,
    challenges: HashMap<String, Challenge>,
    notifications: Vec<(String, String)>,
    received: Vec<(IntuneOp, String)>,
}

struct Inner {
    state: Mutex<State>,
    clock: Clock,
    switchboard: Switchboard<IntuneOp>,
    signer: Signer,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn error(status: u16, message: impl Into<String>) -> ResponseTemplate {
    let (status, code) = match StatusCode::from_u16(status) {
        Ok(s) => (
            s.as_u16(),
            s.canonical_reason()
                .map(|r| r.replace([' ', '-', '\''], ""))
                .unwrap_or_else(|| {
                    if s.is_client_error() {
                        "BadRequest".into()
                    } else {
                        "InternalServerError".into()
                    }
                }),
        ),
        Err(_) => (500, "InternalServerError".into()),
    };
    ResponseTemplate::new(status).set_body_json(IntuneError {
        code,
        message: message.into(),
    })
}

fn ok_json<T: Serialize>(body: T) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn scep(code: &str, description: &str) -> ScepResponse {
    ScepResponse {
        code: code.into(),
        error_description: description.into(),
        device_id: None,
        user_id: None,
    }
}

/// A refusal on its way to becoming an [`IntuneError`] answer.
struct Reject {
    status: u16,
    message: String,
}

impl Reject {
    fn new(status: u16, message: impl Into<String>) -> Reject {
        Reject {
            status,
            message: message.into(),
        }
    }

    fn template(self) -> ResponseTemplate {
        error(self.status, self.message)
    }
}

fn parse<T: DeserializeOwned>(req: &Request) -> Result<T, Reject> {
    serde_json::from_slice(&req.body).map_err(|e| Reject::new(400, format!("request body: {e}")))
}

fn op_of(path: &str) -> Option<IntuneOp> {
    use intune_paths as P;
    Some(match path {
        P::DOWNLOAD_REQUESTS => IntuneOp::DownloadRequests,
        P::UPLOAD_RESULTS => IntuneOp::UploadResults,
        P::DOWNLOAD_REVOCATIONS => IntuneOp::DownloadRevocations,
        P::UPLOAD_REVOCATION_RESULTS => IntuneOp::UploadRevocationResults,
        P::VALIDATE => IntuneOp::Validate,
        P::SUCCESS_NOTIFICATION | P::FAILURE_NOTIFICATION => IntuneOp::Notify,
        P::RENEW => IntuneOp::Renew,
        P::CHECKIN => IntuneOp::Checkin,
        _ => return None,
    })
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn dispatch(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        match (path, &req.method) {
            (intune_paths::ADMIN_CHALLENGES, &Method::POST) => {
                return parse(req)
                    .map_or_else(Reject::template, |m| ok_json(self.mint_challenge(m)))
            }
            (intune_paths::ADMIN_PKCS, &Method::POST) => {
                return parse(req).map_or_else(Reject::template, |q| ok_json(self.queue_pkcs(q)))
            }
            (intune_paths::ADMIN_REVOCATIONS, &Method::POST) => {
                return parse(req)
                    .map_or_else(Reject::template, |q| ok_json(self.queue_revocation(q)))
            }
            (intune_paths::ADMIN_STATE, &Method::GET) => return ok_json(self.snapshot()),
            _ => {}
        }
        let Some(op) = op_of(path) else {
            return error(404, format!("no such endpoint: {path}"));
        };
        if req.method != Method::POST {
            return error(405, "use POST");
        }
        self.state().received.push((op, path.to_string()));
        if let Some(strike) = self.switchboard.strike(op) {
            return fault_answer(op, strike.kind);
        }
        let answer = match op {
            IntuneOp::DownloadRequests => self.download_requests(req),
            IntuneOp::UploadResults => self.upload_results(req),
            IntuneOp::DownloadRevocations => self.download_revocations(req),
            IntuneOp::UploadRevocationResults => self.upload_revocation_results(req),
            IntuneOp::Validate => self.validate(req),
            IntuneOp::Notify => self.notify(req, path == intune_paths::SUCCESS_NOTIFICATION),
            IntuneOp::Renew => self.renew(req),
            IntuneOp::Checkin => parse::<Checkin>(req).map(|_| ok_json(true)),
        };
        answer.unwrap_or_else(Reject::template)
    }

    fn download_requests(&self, req: &Request) -> Result<ResponseTemplate, Reject> {
        let body: DownloadCaRequests = parse(req)?;
        let max = body.download_parameters.max_messages;
        if !(1..=500).contains(&max) {
            return Err(Reject::new(
                400,
                format!("maxMessages {max} is not in 1–500"),
            ));
        }
        Ok(ok_json(hand_out(&mut self.state().pkcs, max)))
    }

    fn upload_results(&self, req: &Request) -> Result<ResponseTemplate, Reject> {
        let body: UploadCaResults = parse(req)?;
        let mut state = self.state();
        for result in body.results {
            let id = result.request_id.clone();
            if state.pkcs_recorded.contains(&id) {
                continue;
            }
            let Some(pos) = state.pkcs.iter().position(|p| p.request.request_id == id) else {
                continue;
            };
            let retry = !result.succeeded
                && result
                    .error_code
                    .is_some_and(ca_request_error::is_retryable);
            if retry {
                continue;
            }
            state.pkcs.remove(pos);
            state.pkcs_recorded.insert(id);
            state.pkcs_results.push(result);
        }
        Ok(ok_json(true))
    }

    fn download_revocations(&self, req: &Request) -> Result<ResponseTemplate, Reject> {
        let body: DownloadRevocationRequests = parse(req)?;
        let max = body.download_parameters.max_requests;
        if !(1..=500).contains(&max) {
            return Err(Reject::new(
                400,
                format!("maxRequests {max} is not in 1–500"),
            ));
        }
        Ok(ok_json(hand_out(&mut self.state().revocations, max)))
    }

    fn upload_revocation_results(&self, req: &Request) -> Result<ResponseTemplate, Reject> {
        let body: UploadRevocationResults = parse(req)?;
        let mut state = self.state();
        for result in body.results {
            let ctx = result.request_context.clone();
            if state.revocations_recorded.contains(&ctx) {
                continue;
            }
            let Some(pos) = state
                .revocations
                .iter()
                .position(|p| p.request.request_context == ctx)
            else {
                continue;
            };
            let retry = !result.succeeded
                && result
                    .error_code
                    .is_some_and(ca_request_error::is_retryable);
            if retry {
                continue;
            }
            state.revocations.remove(pos);
            state.revocations_recorded.insert(ctx);
            state.revocation_results.push(result);
        }
        Ok(ok_json(true))
    }

    fn validate(&self, req: &Request) -> Result<ResponseTemplate, Reject> {
        let body: ValidateBody = parse(req)?;
        let csr = match pki::unb64(&body.request.certificate_request)
            .and_then(|der| pki::read_csr(&der))
        {
            Ok(csr) => csr,
            Err(e) => {
                return Ok(ok_json(scep(
                    "CertificateRequestDecodingFailed",
                    &e.to_string(),
                )))
            }
        };
        let Some(password) = csr.challenge_password else {
            return Ok(ok_json(scep(
                "ChallengePasswordMissing",
                "the request has no challengePassword",
            )));
        };
        let now = self.clock.now();
        let mut state = self.state();
        let Some(challenge) = state.challenges.get_mut(&password).filter(|c| !c.used) else {
            return Ok(ok_json(scep(
                "ChallengeDecryptionError",
                "the challenge was not issued by this service or was already used",
            )));
        };
        if now > challenge.expires {
            return Ok(ok_json(scep(
                "ChallengeExpired",
                &format!(
                    "the challenge expired at {}",
                    format_time(challenge.expires)
                ),
            )));
        }
        if let Some(cn) = csr.common_name.as_deref() {
            if cn != challenge.device_id {
                return Ok(ok_json(scep(
                    "SubjectNameMismatch",
                    &format!("subject CN `{cn}` is not device `{}`", challenge.device_id),
                )));
            }
        }
        challenge.used = true;
        Ok(ok_json(ScepResponse {
            code: "Success".into(),
            error_description: String::new(),
            device_id: Some(challenge.device_id.clone()),
            user_id: Some(challenge.user_id.clone()),
        }))
    }

    fn notify(&self, req: &Request, success: bool) -> Result<ResponseTemplate, Reject> {
        let transaction_id = if success {
            parse::<SuccessNotificationBody>(req)?
                .notification
                .transaction_id
        } else {
            parse::<FailureNotificationBody>(req)?
                .notification
                .transaction_id
        };
        let kind = if success { "success" } else { "failure" };
        self.state()
            .notifications
            .push((transaction_id, kind.to_string()));
        Ok(ok_json(scep("Success", "")))
    }

    fn renew(&self, req: &Request) -> Result<ResponseTemplate, Reject> {
        let body: RenewRequest = parse(req)?;
        let der =
            pki::unb64(&body.certificate_request).map_err(|e| Reject::new(400, e.to_string()))?;
        let csr = Signer::parse_csr(&der).map_err(|e| Reject::new(400, e))?;
        let now = whole_seconds(self.clock.now());
        let not_after = now + RENEWAL_VALIDITY;
        let serial = draw_serial(&mut self.state().serials);
        let cert = self
            .signer
            .sign(
                &csr,
                SignSpec {
                    serial: &serial,
                    not_before: now,
                    not_after,
                    key_usages: vec![
                        KeyUsagePurpose::DigitalSignature,
                        KeyUsagePurpose::KeyEncipherment,
                    ],
                },
            )
            .map_err(|e| Reject::new(500, e))?;
        Ok(ok_json(RenewResponse {
            certificate: pki::b64(&cert),
            thumbprint: pki::thumbprint(&cert),
            not_after: format_time(not_after),
        }))
    }

    fn mint_challenge(&self, m: MintChallenge) -> MintedChallenge {
        let expires = self.clock.now() + Duration::from_secs(m.validity_seconds);
        let mut state = self.state();
        let challenge = loop {
            let c = state.challenge_rng.hex(16);
            if !state.challenges.contains_key(&c) {
                break c;
            }
        };
        state.challenges.insert(
            challenge.clone(),
            Challenge {
                device_id: m.device_id,
                user_id: m.user_id,
                expires,
                used: false,
            },
        );
        MintedChallenge {
            challenge,
            expires_at: format_time(expires),
        }
    }

    fn queue_pkcs(&self, q: QueuePkcs) -> CaRequest {
        let mut state = self.state();
        let request_id = q.request_id.unwrap_or_else(|| state.request_ids.guid());
        let parameters = serde_json::to_string(&PkcsParameters {
            template_name: q.template_name,
            ca_name: q.ca_name,
            certificate_request: q.certificate_request,
        })
        .unwrap_or_default();
        let request = CaRequest {
            tenant_id: state.tenant_id.clone(),
            user_id: q.user_id,
            device_id: q.device_id,
            request_id,
            request_type: PKCS_REQUEST_TYPE.into(),
            parameters,
        };
        state.pkcs.push(Pending {
            request: request.clone(),
            handouts: 0,
        });
        request
    }

    fn queue_revocation(&self, q: QueueRevocation) -> RevocationRequest {
        let mut state = self.state();
        let request = RevocationRequest {
            request_context: state.contexts.guid(),
            serial_number: pki::normalize_serial(&q.serial_number).unwrap_or(q.serial_number),
            issuer_name: Some(q.issuer_name),
            device_id: q.device_id,
            user_id: q.user_id,
        };
        state.revocations.push(Pending {
            request: request.clone(),
            handouts: 0,
        });
        request
    }

    fn snapshot(&self) -> IntuneSnapshot {
        let state = self.state();
        IntuneSnapshot {
            pending_pkcs: state
                .pkcs
                .iter()
                .map(|p| p.request.request_id.clone())
                .collect(),
            pending_revocations: state
                .revocations
                .iter()
                .map(|p| p.request.request_context.clone())
                .collect(),
            pkcs_results: state.pkcs_results.clone(),
            revocation_results: state.revocation_results.clone(),
            notifications: state.notifications.clone(),
        }
    }
}

fn fault_answer(op: IntuneOp, kind: FaultKind) -> ResponseTemplate {
    match kind {
        FaultKind::Hang => error(503, "hang fault: answered late").set_delay(HANG_DELAY),
        FaultKind::Status(n) => error(n, format!("injected fault: status {n}")),
        FaultKind::Malformed => {
            ResponseTemplate::new(200).set_body_raw(MALFORMED_BODY, "application/json")
        }
        FaultKind::Deny => error(403, "the service refused the call (injected)"),
        FaultKind::ExpiredChallenge => ok_json(scep("ChallengeExpired", "injected fault")),
        FaultKind::UnknownChallenge => ok_json(scep("ChallengeDecryptionError", "injected fault")),
        FaultKind::UnknownCode => ok_json(scep("Unknown", "injected fault")),
        FaultKind::NotRecorded => ok_json(false),
        other => error(500, format!("fault `{other}` does not apply to {op:?}")),
    }
}

struct Responder(Arc<Inner>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.dispatch(request)
    }
}

/// The fake Intune service. See the module documentation for its behaviour and faults.
pub struct FakeIntune {
    server: MockServer,
    inner: Arc<Inner>,
}

impl FakeIntune {
    /// Starts the service on 127.0.0.1 with an OS-chosen port. Its random streams are forked
    /// from `rng`'s seed by fixed labels (`intune.tenant`, `intune.request-ids`,
    /// `intune.revocation-contexts`, `intune.challenges`, `intune.serials`).
    pub async fn start(
        config: IntuneConfig,
        clock: Clock,
        rng: Rng,
    ) -> Result<FakeIntune, FakeError> {
        let tenant_id = config
            .tenant_id
            .unwrap_or_else(|| rng.fork("intune.tenant").guid());
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                tenant_id,
                request_ids: rng.fork("intune.request-ids"),
                contexts: rng.fork("intune.revocation-contexts"),
                challenge_rng: rng.fork("intune.challenges"),
                serials: rng.fork("intune.serials"),
                pkcs: Vec::new(),
                pkcs_recorded: HashSet::new(),
                pkcs_results: Vec::new(),
                revocations: Vec::new(),
                revocations_recorded: HashSet::new(),
                revocation_results: Vec::new(),
                challenges: HashMap::new(),
                notifications: Vec::new(),
                received: Vec::new(),
            }),
            clock,
            switchboard: Switchboard::default(),
            signer: Signer::issuing_ca()?,
        });
        let server = MockServer::builder().start().await;
        Mock::given(any())
            .respond_with(Responder(inner.clone()))
            .mount(&server)
            .await;
        Ok(FakeIntune { server, inner })
    }

    /// Base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// The tenant GUID in every request.
    pub fn tenant_id(&self) -> String {
        self.inner.state().tenant_id.clone()
    }

    /// The fault switchboard.
    pub fn switchboard(&self) -> &Switchboard<IntuneOp> {
        &self.inner.switchboard
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

    /// Removes the fault on `op` (a `hang` answer already delayed stays delayed).
    pub fn heal(&self, op: IntuneOp) {
        self.inner.switchboard.heal(op);
    }

    /// Removes every fault.
    pub fn heal_all(&self) {
        self.inner.switchboard.heal_all();
    }

    /// Mints a one-time SCEP challenge for a device (as `POST /admin/challenges`).
    pub fn mint_challenge(&self, m: MintChallenge) -> MintedChallenge {
        self.inner.mint_challenge(m)
    }

    /// Queues a PKCS request (as `POST /admin/pkcs-requests`).
    pub fn queue_pkcs(&self, q: QueuePkcs) -> CaRequest {
        self.inner.queue_pkcs(q)
    }

    /// Queues a revocation (as `POST /admin/revocation-requests`).
    pub fn queue_revocation(&self, q: QueueRevocation) -> RevocationRequest {
        self.inner.queue_revocation(q)
    }

    /// What the service has recorded (as `GET /admin/state`).
    pub fn snapshot(&self) -> IntuneSnapshot {
        self.inner.snapshot()
    }

    /// Every service call received (admin calls excluded), faulted ones included, in order.
    pub fn received(&self) -> Vec<(IntuneOp, String)> {
        self.inner.state().received.clone()
    }

    /// Stops the server; answers still delayed by a `hang` are dropped with it.
    pub async fn shutdown(self) {
        self.inner.switchboard.heal_all();
        drop(self.server);
        tokio::task::yield_now().await;
    }
}
