//! The fake NDES: a SCEP server (RFC 8894) on 127.0.0.1 at `/certsrv/mscep/mscep.dll` (also
//! `/scep` and `/`) that asks a [`PolicyModule`] about every PKIOperation, has the fake CA
//! issue over HTTP ([`ca_paths::ISSUE`]) and answers with signed CertReps.
//!
//! Its RA pair is the test PKI's [`RA_SIGNING`] / [`RA_ENCRYPTION`], issued by [`ISSUING_CA`].
//! Faults come from its [`Switchboard`]: `hang` / `status` on each operation, `missing` on
//! either RA certificate. Everything it answers draws randomness from the seeded [`Rng`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use der::Decode;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use x509_cert::Certificate;

use super::api::{ca_paths, ErrorBody, IssueRequest, IssueResponse};
use super::fault::{FaultKind, NdesOp, Switchboard};
use super::policy::{Decision, Issued, PolicyModule, Unverified};
use crate::fixtures::{FixtureError, ISSUING_CA, RA_ENCRYPTION, RA_SIGNING};
use crate::pki::{b64, unb64, RsaKey};
use crate::scep::{
    ca_certs_response, cert_rep_failure, cert_rep_success, FailInfo, MessageType, PkiMessage,
    RaSigner, ReplyTo,
};
use crate::sim::Rng;

/// The path NDES serves SCEP on.
pub const MSCEP_PATH: &str = "/certsrv/mscep/mscep.dll";

/// The GetCACaps answer.
pub const CA_CAPS: &str = "POSTPKIOperation\nSHA-256\nSHA-1\nAES\nDES3\nRenewal\nSCEPStandard\n";

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
}

impl Default for NdesConfig {
    fn default() -> Self {
        NdesConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ca_url: String::new(),
            ca_name: "TEST ONLY Contoso Issuing CA".into(),
            timeout: Duration::from_secs(5),
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
    /// A `hang` fault: no answer until shutdown.
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

struct RaKeys {
    signing: Certificate,
    signing_key: RsaKey,
    encryption: Certificate,
    encryption_key: RsaKey,
    issuing_ca: Certificate,
}

struct Shared {
    config: NdesConfig,
    policy: Arc<dyn PolicyModule>,
    rng: Mutex<Rng>,
    switchboard: Switchboard<NdesOp>,
    ra: RaKeys,
    http: reqwest::Client,
    records: Mutex<Vec<NdesRequestRecord>>,
    shutdown: watch::Receiver<bool>,
}

/// A running fake NDES.
pub struct FakeNdes {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
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
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(config.bind, 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, shutdown) = watch::channel(false);
        let shared = Arc::new(Shared {
            config,
            policy,
            rng: Mutex::new(rng),
            switchboard: Switchboard::default(),
            ra,
            http,
            records: Mutex::new(Vec::new()),
            shutdown: shutdown.clone(),
        });
        let app = Router::new()
            .route(MSCEP_PATH, get(handle).post(handle))
            .route(
                &format!("{MSCEP_PATH}/pkiclient.exe"),
                get(handle).post(handle),
            )
            .route("/scep", get(handle).post(handle))
            .route("/", get(handle).post(handle))
            .with_state(shared.clone());
        let mut until = shutdown;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stopped(&mut until).await })
                .await;
        });
        Ok(FakeNdes {
            addr,
            shared,
            stop,
            task,
        })
    }

    /// The full mscep.dll URL, e.g. `http://127.0.0.1:40123/certsrv/mscep/mscep.dll`.
    pub fn url(&self) -> String {
        format!("http://{}{MSCEP_PATH}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fault switchboard.
    pub fn switchboard(&self) -> &Switchboard<NdesOp> {
        &self.shared.switchboard
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<NdesRequestRecord> {
        lock(&self.shared.records).clone()
    }

    /// Stops the server, releasing hung requests; returns when it has stopped.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn stopped(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

fn status(code: u16, text: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, [(header::CONTENT_TYPE, "text/plain")], text.into()).into_response()
}

fn pki_message(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-pki-message")],
        body,
    )
        .into_response()
}

impl Shared {
    fn record(
        &self,
        operation: NdesOperation,
        message_type: Option<MessageType>,
        transaction_id: Option<String>,
        outcome: NdesOutcome,
    ) {
        lock(&self.records).push(NdesRequestRecord {
            operation,
            message_type,
            transaction_id,
            outcome,
        });
    }

    fn missing(&self, op: NdesOp) -> bool {
        self.switchboard.peek(op) == Some(FaultKind::Missing)
    }

    /// Applies an operation fault; `None` when the call proceeds normally.
    async fn fault(&self, op: NdesOp, operation: &NdesOperation) -> Option<Response> {
        match self.switchboard.strike(op)? {
            FaultKind::Hang => {
                self.record(operation.clone(), None, None, NdesOutcome::Hung);
                let mut rx = self.shutdown.clone();
                stopped(&mut rx).await;
                Some(status(503, "fake NDES shutting down"))
            }
            FaultKind::Status(code) => {
                let reason = format!("fault: status {code}");
                self.record(
                    operation.clone(),
                    None,
                    None,
                    NdesOutcome::Http {
                        status: code,
                        reason: reason.clone(),
                    },
                );
                Some(status(code, reason))
            }
            _ => None,
        }
    }
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let op = query.get("operation").map(String::as_str).unwrap_or("");
    match op.to_ascii_lowercase().as_str() {
        "getcacaps" => {
            let o = NdesOperation::GetCaCaps;
            if let Some(r) = s.fault(NdesOp::GetCaCaps, &o).await {
                return r;
            }
            s.record(o, None, None, NdesOutcome::Answered);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain")],
                CA_CAPS,
            )
                .into_response()
        }
        "getcacert" => {
            let o = NdesOperation::GetCaCert;
            if let Some(r) = s.fault(NdesOp::GetCaCert, &o).await {
                return r;
            }
            let mut certs = Vec::new();
            if !s.missing(NdesOp::RaSigning) {
                certs.push(&s.ra.signing);
            }
            if !s.missing(NdesOp::RaEncryption) {
                certs.push(&s.ra.encryption);
            }
            certs.push(&s.ra.issuing_ca);
            match ca_certs_response(&certs) {
                Ok(der) => {
                    s.record(o, None, None, NdesOutcome::Answered);
                    (
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, "application/x-x509-ca-ra-cert")],
                        der,
                    )
                        .into_response()
                }
                Err(e) => {
                    let reason = e.to_string();
                    s.record(
                        o,
                        None,
                        None,
                        NdesOutcome::Http {
                            status: 500,
                            reason: reason.clone(),
                        },
                    );
                    status(500, reason)
                }
            }
        }
        "pkioperation" => {
            let o = NdesOperation::PkiOperation;
            if let Some(r) = s.fault(NdesOp::PkiOperation, &o).await {
                return r;
            }
            let message = if method == Method::POST && !body.is_empty() {
                body.to_vec()
            } else {
                // GET: base64 (standard alphabet) then URL-escaped; a '+' left unescaped
                // arrives as a space.
                let text = query.get("message").map(String::as_str).unwrap_or("");
                match unb64(&text.replace(' ', "+")) {
                    Ok(m) if !m.is_empty() => m,
                    Ok(_) => return bad_request(&s, "PKIOperation without a message"),
                    Err(e) => return bad_request(&s, &format!("message is not base64: {e}")),
                }
            };
            pki_operation(&s, &message).await
        }
        "" => bad_request_op(&s, "", "no operation parameter"),
        other => bad_request_op(&s, other, &format!("unknown operation `{other}`")),
    }
}

fn bad_request(s: &Shared, reason: &str) -> Response {
    s.record(
        NdesOperation::PkiOperation,
        None,
        None,
        NdesOutcome::Http {
            status: 400,
            reason: reason.to_string(),
        },
    );
    status(400, reason)
}

fn bad_request_op(s: &Shared, op: &str, reason: &str) -> Response {
    s.record(
        NdesOperation::Other(op.to_string()),
        None,
        None,
        NdesOutcome::Http {
            status: 400,
            reason: reason.to_string(),
        },
    );
    status(400, reason)
}

/// The CA's answer to an issue request.
enum CaAnswer {
    Issued(Box<(IssueResponse, Certificate)>),
    Denied(String),
    Failed(String),
}

async fn ca_issue(s: &Shared, template: &str, csr: &[u8]) -> CaAnswer {
    let url = format!(
        "{}{}",
        s.config.ca_url.trim_end_matches('/'),
        ca_paths::ISSUE
    );
    let req = IssueRequest {
        template: template.to_string(),
        csr: b64(csr),
    };
    let resp = match s.http.post(&url).json(&req).send().await {
        Ok(r) => r,
        Err(e) => return CaAnswer::Failed(format!("CA at {url} unreachable: {e}")),
    };
    let code = resp.status();
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return CaAnswer::Failed(format!("reading the CA's answer: {e}")),
    };
    if code.is_success() {
        let issued: IssueResponse = match serde_json::from_slice(&body) {
            Ok(i) => i,
            Err(e) => return CaAnswer::Failed(format!("malformed CA answer: {e}")),
        };
        let cert = unb64(&issued.certificate)
            .map_err(|e| e.to_string())
            .and_then(|der| Certificate::from_der(&der).map_err(|e| e.to_string()));
        match cert {
            Ok(c) => CaAnswer::Issued(Box::new((issued, c))),
            Err(e) => CaAnswer::Failed(format!("malformed certificate from the CA: {e}")),
        }
    } else if code.is_client_error() {
        let reason = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => format!("{}: {}", e.error, e.message),
            Err(_) => format!("HTTP {}: {}", code.as_u16(), String::from_utf8_lossy(&body)),
        };
        CaAnswer::Denied(reason)
    } else {
        CaAnswer::Failed(format!(
            "HTTP {}: {}",
            code.as_u16(),
            String::from_utf8_lossy(&body)
        ))
    }
}

/// Signs a CertRep FAILURE, records it and answers it.
fn failure(
    s: &Shared,
    msg: &PkiMessage,
    to: &ReplyTo,
    fail_info: FailInfo,
    reason: String,
) -> Response {
    let ra = RaSigner {
        cert: &s.ra.signing,
        key: &s.ra.signing_key,
    };
    let built = cert_rep_failure(to, fail_info, ra, &mut lock(&s.rng));
    let (outcome, resp) = match built {
        Ok(der) => (NdesOutcome::Failure { fail_info, reason }, pki_message(der)),
        Err(e) => {
            let reason = format!("cannot sign the CertRep: {e}");
            (
                NdesOutcome::Http {
                    status: 500,
                    reason: reason.clone(),
                },
                status(500, reason),
            )
        }
    };
    s.record(
        NdesOperation::PkiOperation,
        Some(msg.message_type),
        Some(msg.transaction_id.clone()),
        outcome,
    );
    resp
}

async fn pki_operation(s: &Shared, bytes: &[u8]) -> Response {
    let read = PkiMessage::read(bytes);
    if s.missing(NdesOp::RaSigning) {
        let txid = read.as_ref().ok().map(|m| m.transaction_id.clone());
        s.policy
            .unverifiable(txid.as_deref(), Unverified::SigningCertMissing)
            .await;
        let reason = "the RA signing certificate is missing: no answer can be signed";
        s.record(
            NdesOperation::PkiOperation,
            read.as_ref().ok().map(|m| m.message_type),
            txid,
            NdesOutcome::Http {
                status: 500,
                reason: reason.into(),
            },
        );
        return status(500, reason);
    }
    let msg = match read {
        Ok(m) => m,
        Err(e) => {
            let reason = e.to_string();
            s.policy
                .unverifiable(None, Unverified::Undecodable(reason.clone()))
                .await;
            return bad_request(s, &reason);
        }
    };
    let txid = msg.transaction_id.clone();
    if let Err(e) = msg.verify() {
        let reason = e.to_string();
        s.policy
            .unverifiable(Some(&txid), Unverified::Undecodable(reason.clone()))
            .await;
        let to = ReplyTo::request(&msg, None);
        return failure(s, &msg, &to, FailInfo::BadMessageCheck, reason);
    }
    if !matches!(
        msg.message_type,
        MessageType::PkcsReq | MessageType::RenewalReq
    ) {
        let reason = format!("{} is not supported", msg.message_type);
        s.policy
            .unverifiable(Some(&txid), Unverified::Undecodable(reason.clone()))
            .await;
        let to = ReplyTo::request(&msg, None);
        return failure(s, &msg, &to, FailInfo::BadRequest, reason);
    }
    if s.missing(NdesOp::RaEncryption) {
        s.policy
            .unverifiable(Some(&txid), Unverified::EncryptionCertMissing)
            .await;
        let to = ReplyTo::request(&msg, None);
        let reason = "the RA encryption certificate is missing".to_string();
        return failure(s, &msg, &to, FailInfo::BadMessageCheck, reason);
    }
    let decrypted = msg
        .decrypt(&s.ra.encryption, &s.ra.encryption_key)
        .and_then(|d| {
            x509_cert::request::CertReq::from_der(&d.content)
                .map(|_| d)
                .map_err(|e| crate::scep::ScepError::Decode {
                    what: "the envelope's PKCS#10",
                    why: e.to_string(),
                })
        });
    let dec = match decrypted {
        Ok(d) => d,
        Err(e) => {
            let reason = e.to_string();
            s.policy
                .unverifiable(Some(&txid), Unverified::Undecodable(reason.clone()))
                .await;
            let to = ReplyTo::request(&msg, None);
            return failure(s, &msg, &to, FailInfo::BadMessageCheck, reason);
        }
    };
    let to = ReplyTo::request(&msg, Some(dec.cipher));
    let csr = dec.content;
    let template = match s.policy.verify(&txid, &csr).await {
        Decision::Issue { template } => template,
        Decision::Refuse { reason } => {
            return failure(s, &msg, &to, FailInfo::BadRequest, reason);
        }
    };
    let (issued, cert) = match ca_issue(s, &template, &csr).await {
        CaAnswer::Issued(answer) => {
            let (r, c) = *answer;
            (
                Issued::Issued {
                    thumbprint: r.thumbprint.clone(),
                    serial_number: r.serial_number.clone(),
                    not_after: r.not_after.clone(),
                    ca_name: s.config.ca_name.clone(),
                },
                Some((r, c)),
            )
        }
        CaAnswer::Denied(reason) => (Issued::CaDenied { reason }, None),
        CaAnswer::Failed(reason) => (Issued::CaFailed { reason }, None),
    };
    s.policy.notify(&txid, &csr, issued.clone()).await;
    let Some((resp, cert)) = cert else {
        let reason = match issued {
            Issued::CaDenied { reason } => format!("CA denied: {reason}"),
            Issued::CaFailed { reason } => format!("CA failed: {reason}"),
            Issued::Issued { .. } => String::new(),
        };
        return failure(s, &msg, &to, FailInfo::BadRequest, reason);
    };
    let ra = RaSigner {
        cert: &s.ra.signing,
        key: &s.ra.signing_key,
    };
    let built = cert_rep_success(&to, &cert, ra, &mut lock(&s.rng));
    match built {
        Ok(der) => {
            s.record(
                NdesOperation::PkiOperation,
                Some(msg.message_type),
                Some(txid),
                NdesOutcome::Success {
                    thumbprint: resp.thumbprint,
                },
            );
            pki_message(der)
        }
        Err(e) => {
            let reason = format!("cannot build the CertRep: {e}");
            s.record(
                NdesOperation::PkiOperation,
                Some(msg.message_type),
                Some(txid),
                NdesOutcome::Http {
                    status: 500,
                    reason: reason.clone(),
                },
            );
            status(500, reason)
        }
    }
}
