//! The fake CA: an axum server on a real socket that issues certificates from the test issuing
//! CA ([`crate::fixtures::ISSUING_CA`], chained to [`crate::fixtures::ROOT_CA`]), revokes them,
//! reports their status, publishes a CRL and the chain, and journals every call it received.
//!
//! It speaks exactly [`crate::fakes::api`] (`ca_paths`, `IssueRequest`, `ErrorBody`, …).
//! Time comes from the scenario [`Clock`] and serials from the seeded [`Rng`], and the issuing
//! key is RSA (PKCS#1 v1.5 signatures are deterministic), so the same seed and clock give
//! byte-identical certificates.
//!
//! Every non-2xx answer carries an [`ErrorBody`] (unknown path: 404 `not_found`; wrong method:
//! 405 `bad_request`). The CRL has thisUpdate = scenario now, nextUpdate = now + 7 days, and a
//! CRL number that counts the CRLs served.
//!
//! Faults come from a [`Switchboard<CaOp>`]; each call to an operation strikes once:
//! - `hang`: the call is accepted and not answered until the fault is healed (or replaced) or
//!   the CA shuts down; a released call is answered 503 `internal` and changes nothing.
//! - `status(n)`: HTTP n with an `ErrorBody` of kind `internal`.
//! - `malformed`: HTTP 200 with a body that is neither JSON, DER nor PEM.
//! - `deny`: issue → 403 `denied`; revoke → 403 `access_denied`.
//! - `unavailable`: the listening socket is closed, so connections are refused; idle kept-alive
//!   connections are closed too. It is a state of the whole CA, not a per-call event: it only
//!   accepts scope [`Scope::UntilHealed`], and the port reopens (the same port) once no
//!   operation carries it any more. This is why [`FakeCa::inject`] and [`FakeCa::heal`] are
//!   `async`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rcgen::{
    CertificateParams, CertificateRevocationListParams, CertificateSigningRequestParams,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::fakes::api::{
    ca_paths, ErrorBody, IssueRequest, IssueResponse, RevokeRequest, RevokeResponse,
    StatusResponse, CLIENT_CERT_HEADER,
};
use crate::fakes::fault::{CaOp, Fault, FaultKind, FaultTarget, Scope, Switchboard};
use crate::fakes::FakeError;
use crate::fixtures::{DIGICERT_RA, ISSUING_CA, ROOT_CA};
use crate::pki;
use crate::sim::{format_time, Clock, Rng};

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

/// A key usage a template puts in the certificates it issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyUsage {
    /// digitalSignature
    DigitalSignature,
    /// nonRepudiation (contentCommitment)
    NonRepudiation,
    /// keyEncipherment
    KeyEncipherment,
    /// dataEncipherment
    DataEncipherment,
    /// keyAgreement
    KeyAgreement,
}

impl KeyUsage {
    fn rcgen(self) -> KeyUsagePurpose {
        match self {
            KeyUsage::DigitalSignature => KeyUsagePurpose::DigitalSignature,
            KeyUsage::NonRepudiation => KeyUsagePurpose::ContentCommitment,
            KeyUsage::KeyEncipherment => KeyUsagePurpose::KeyEncipherment,
            KeyUsage::DataEncipherment => KeyUsagePurpose::DataEncipherment,
            KeyUsage::KeyAgreement => KeyUsagePurpose::KeyAgreement,
        }
    }
}

/// A certificate template the CA offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// Name requested in [`IssueRequest::template`].
    pub name: String,
    /// Lifetime of issued certificates (from scenario now).
    pub validity: Duration,
    /// Key usages of issued certificates (the EKU is always clientAuth).
    pub key_usages: Vec<KeyUsage>,
}

impl Template {
    /// A template with digitalSignature + keyEncipherment valid for `days`.
    pub fn new(name: &str, days: u64) -> Template {
        Template {
            name: name.into(),
            validity: Duration::from_secs(days * 86_400),
            key_usages: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
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
}

impl Default for CaConfig {
    /// Microsoft CA `TEST-ISSUING-CA` on 127.0.0.1 with templates `IntuneUser` and
    /// `IntuneDevice` (365 days).
    fn default() -> CaConfig {
        CaConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            kind: CaKind::Microsoft,
            name: "TEST-ISSUING-CA".into(),
            templates: vec![
                Template::new("IntuneUser", 365),
                Template::new("IntuneDevice", 365),
            ],
        }
    }
}

/// One call the CA received (served as JSON at [`ca_paths::JOURNAL`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaJournalEntry {
    /// Scenario time of the call, RFC 3339.
    pub at: String,
    /// `issue`, `revoke`, `status`, `crl` or `chain`.
    pub op: String,
    /// Template asked for (issue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Serial issued, revoked or looked up (upper-case hex as the CA prints it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// `ok`, `issued`, `revoked`, an error kind (`denied`, `not_found`, …) or `fault:<kind>`.
    pub outcome: String,
}

/// A certificate the CA issued, with its revocation state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCert {
    /// Serial, upper-case hex.
    pub serial: String,
    /// SHA-1 thumbprint, upper-case hex.
    pub thumbprint: String,
    /// Subject common name.
    pub subject_cn: Option<String>,
    /// Template it was issued from.
    pub template: String,
    /// Expiry.
    pub not_after: OffsetDateTime,
    /// Whether it has been revoked.
    pub revoked: bool,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Revocation reason code.
    pub reason: Option<u8>,
}

fn op_name(op: CaOp) -> &'static str {
    match op {
        CaOp::Issue => "issue",
        CaOp::Revoke => "revoke",
        CaOp::Status => "status",
        CaOp::Crl => "crl",
        CaOp::Chain => "chain",
    }
}

const OPS: [CaOp; 5] = [
    CaOp::Issue,
    CaOp::Revoke,
    CaOp::Status,
    CaOp::Crl,
    CaOp::Chain,
];

/// What `malformed` answers: not JSON, not DER, not PEM.
pub(crate) const MALFORMED_BODY: &str = "{\"serialNumber\": \"3F2A<html>";

/// Scenario time truncated to whole seconds (what X.509 can carry).
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

/// The issuing CA as a signer; shared with the fake Intune for registration renewals.
pub(crate) struct Signer {
    issuer: Issuer<'static, KeyPair>,
    issuing_der: Vec<u8>,
    root_der: Vec<u8>,
}

/// What a signed certificate should carry besides the CSR's subject and key.
pub(crate) struct SignSpec<'a> {
    pub serial: &'a [u8],
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub key_usages: Vec<KeyUsagePurpose>,
}

impl Signer {
    /// The fixture issuing CA.
    pub(crate) fn issuing_ca() -> Result<Signer, FakeError> {
        let key = ISSUING_CA.rcgen_key()?;
        let issuing_der = ISSUING_CA.cert_der()?;
        let root_der = ROOT_CA.cert_der()?;
        let issuer = Issuer::from_ca_cert_der(&issuing_der.as_slice().into(), key)
            .map_err(|e| FakeError::Config(format!("issuing CA certificate: {e}")))?;
        Ok(Signer {
            issuer,
            issuing_der,
            root_der,
        })
    }

    /// Parses and verifies a PKCS#10 request (peer input: errors are texts for a 400).
    pub(crate) fn parse_csr(der: &[u8]) -> Result<CertificateSigningRequestParams, String> {
        CertificateSigningRequestParams::from_der(&der.into())
            .map_err(|e| format!("certificate request: {e}"))
    }

    /// Signs a leaf for the CSR's subject (and SANs) and public key, EKU clientAuth.
    pub(crate) fn sign(
        &self,
        csr: &CertificateSigningRequestParams,
        spec: SignSpec<'_>,
    ) -> Result<Vec<u8>, String> {
        let mut params = CertificateParams::default();
        params.distinguished_name = csr.params.distinguished_name.clone();
        params.subject_alt_names = csr.params.subject_alt_names.clone();
        params.not_before = whole_seconds(spec.not_before);
        params.not_after = whole_seconds(spec.not_after);
        params.serial_number = Some(SerialNumber::from_slice(spec.serial));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = spec.key_usages;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::Sha256;
        let cert = params
            .signed_by(&csr.public_key, &self.issuer)
            .map_err(|e| format!("signing: {e}"))?;
        Ok(cert.der().to_vec())
    }

    /// Issuing CA then root, DER.
    pub(crate) fn chain_der(&self) -> [&[u8]; 2] {
        [&self.issuing_der, &self.root_der]
    }
}

/// A 16-byte positive serial (top bit cleared, first byte non-zero so the DER keeps 16 bytes).
pub(crate) fn draw_serial(rng: &mut Rng) -> Vec<u8> {
    let mut b = rng.bytes(16);
    b[0] = (b[0] & 0x7f).max(1);
    b
}

struct Record {
    serial_bytes: Vec<u8>,
    cert: IssuedCert,
}

#[derive(Default)]
struct CaState {
    issued: Vec<Record>,
    journal: Vec<CaJournalEntry>,
    crl_number: u64,
}

struct Shared {
    kind: CaKind,
    templates: Vec<Template>,
    clock: Clock,
    rng: Mutex<Rng>,
    signer: Signer,
    switchboard: Switchboard<CaOp>,
    /// Per operation: bumped to release calls hanging on it.
    release: Vec<(CaOp, watch::Sender<u64>)>,
    shutting_down: AtomicBool,
    ra_der: Vec<u8>,
    state: Mutex<CaState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A refusal: HTTP status plus [`ErrorBody`].
struct Refusal {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            kind,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn response(&self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.kind.into(),
                message: self.message.clone(),
            }),
        )
            .into_response()
    }
}

impl Shared {
    fn journal(&self, op: CaOp, template: Option<String>, serial: Option<String>, outcome: &str) {
        let entry = CaJournalEntry {
            at: format_time(self.clock.now()),
            op: op_name(op).into(),
            template,
            serial,
            outcome: outcome.into(),
        };
        lock(&self.state).journal.push(entry);
    }

    fn release_hangs(&self, op: Option<CaOp>) {
        for (o, tx) in &self.release {
            if op.is_none_or(|op| op == *o) {
                tx.send_modify(|n| *n += 1);
            }
        }
    }

    /// Strikes the switchboard for one call; `Some` is the faulted answer.
    async fn gate(
        &self,
        op: CaOp,
        template: Option<String>,
        serial: Option<String>,
        content_type: &'static str,
    ) -> Option<Response> {
        let mut released = self
            .release
            .iter()
            .find(|(o, _)| *o == op)
            .map(|(_, tx)| tx.subscribe());
        let kind = self.switchboard.strike(op)?;
        self.journal(
            op,
            template,
            serial,
            &format!("fault:{}", kind.name().name()),
        );
        Some(match kind {
            FaultKind::Hang => {
                if !self.shutting_down.load(Ordering::SeqCst) {
                    if let Some(rx) = released.as_mut() {
                        // Err means the CA is gone: answer anyway, nobody listens.
                        let _ = rx.changed().await;
                    }
                }
                Refusal::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "internal",
                    "released from a hang fault",
                )
                .response()
            }
            FaultKind::Status(n) => Refusal::new(
                StatusCode::from_u16(n).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "internal",
                format!("injected fault: status {n}"),
            )
            .response(),
            FaultKind::Malformed => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, content_type)],
                MALFORMED_BODY,
            )
                .into_response(),
            FaultKind::Deny if op == CaOp::Revoke => Refusal::new(
                StatusCode::FORBIDDEN,
                "access_denied",
                "the CA refused the revocation (injected)",
            )
            .response(),
            FaultKind::Deny => Refusal::new(
                StatusCode::FORBIDDEN,
                "denied",
                "the CA denied the request (injected)",
            )
            .response(),
            other => Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "internal",
                format!("injected fault: {other}"),
            )
            .response(),
        })
    }

    fn check_client_cert(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        if self.kind != CaKind::DigiCert {
            return Ok(());
        }
        let presented = headers
            .get(CLIENT_CERT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| pki::unb64(v).ok());
        if presented.as_deref() == Some(self.ra_der.as_slice()) {
            Ok(())
        } else {
            Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "client_certificate_required",
                "the RA client-authentication certificate was not presented",
            ))
        }
    }

    fn issue(
        &self,
        headers: &HeaderMap,
        req: Result<IssueRequest, String>,
    ) -> Result<IssueResponse, Refusal> {
        self.check_client_cert(headers)?;
        let req = req.map_err(Refusal::bad_request)?;
        let template = self
            .templates
            .iter()
            .find(|t| t.name == req.template)
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::FORBIDDEN,
                    "denied",
                    format!("template `{}` is not offered by this CA", req.template),
                )
            })?;
        let der = pki::unb64(&req.csr).map_err(|e| Refusal::bad_request(e.to_string()))?;
        let csr = Signer::parse_csr(&der).map_err(Refusal::bad_request)?;
        let now = whole_seconds(self.clock.now());
        let not_after = now + template.validity;
        let mut state = lock(&self.state);
        let serial = {
            let mut rng = lock(&self.rng);
            loop {
                let s = draw_serial(&mut rng);
                if !state.issued.iter().any(|r| r.serial_bytes == s) {
                    break s;
                }
            }
        };
        let cert_der = self
            .signer
            .sign(
                &csr,
                SignSpec {
                    serial: &serial,
                    not_before: now,
                    not_after,
                    key_usages: template.key_usages.iter().map(|k| k.rcgen()).collect(),
                },
            )
            .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e))?;
        let parsed = <x509_cert::Certificate as der::Decode>::from_der(&cert_der).map_err(|e| {
            Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
        let issued = IssuedCert {
            serial: pki::serial_hex(&parsed),
            thumbprint: pki::thumbprint(&cert_der),
            subject_cn: pki::common_name(&parsed.tbs_certificate.subject),
            template: template.name.clone(),
            not_after,
            revoked: false,
            revoked_at: None,
            reason: None,
        };
        let answer = IssueResponse {
            serial_number: issued.serial.clone(),
            thumbprint: issued.thumbprint.clone(),
            certificate: pki::b64(&cert_der),
            chain: self
                .signer
                .chain_der()
                .iter()
                .map(|d| pki::b64(d))
                .collect(),
            not_after: format_time(not_after),
        };
        state.issued.push(Record {
            serial_bytes: serial,
            cert: issued,
        });
        Ok(answer)
    }

    fn revoke(
        &self,
        headers: &HeaderMap,
        req: Result<RevokeRequest, String>,
    ) -> Result<RevokeResponse, Refusal> {
        self.check_client_cert(headers)?;
        let req = req.map_err(Refusal::bad_request)?;
        let serial = pki::normalize_serial(&req.serial_number)
            .ok_or_else(|| Refusal::bad_request("serialNumber is not hex"))?;
        if revocation_reason(req.reason).is_none() {
            return Err(Refusal::bad_request(format!(
                "reason {} is not an RFC 5280 CRL reason",
                req.reason
            )));
        }
        let now = whole_seconds(self.clock.now());
        let mut state = lock(&self.state);
        let record = state
            .issued
            .iter_mut()
            .find(|r| r.cert.serial == serial)
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("no certificate with serial {serial}"),
                )
            })?;
        if record.cert.revoked {
            return Err(Refusal::new(
                StatusCode::CONFLICT,
                "already_revoked",
                format!("certificate {serial} is already revoked"),
            ));
        }
        record.cert.revoked = true;
        record.cert.revoked_at = Some(now);
        record.cert.reason = Some(req.reason);
        Ok(RevokeResponse {
            serial_number: serial,
            revoked_at: format_time(now),
        })
    }

    fn status(&self, serial: &str) -> Result<StatusResponse, Refusal> {
        let serial = pki::normalize_serial(serial)
            .ok_or_else(|| Refusal::bad_request("serial is not hex"))?;
        let state = lock(&self.state);
        let record = state
            .issued
            .iter()
            .find(|r| r.cert.serial == serial)
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("no certificate with serial {serial}"),
                )
            })?;
        Ok(StatusResponse {
            serial_number: serial,
            status: if record.cert.revoked {
                "revoked"
            } else {
                "valid"
            }
            .into(),
            revoked_at: record.cert.revoked_at.map(format_time),
            reason: record.cert.reason,
        })
    }

    fn crl(&self) -> Result<Vec<u8>, Refusal> {
        let now = whole_seconds(self.clock.now());
        let mut state = lock(&self.state);
        state.crl_number += 1;
        let revoked_certs = state
            .issued
            .iter()
            .filter_map(|r| {
                let at = r.cert.revoked_at?;
                Some(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&r.serial_bytes),
                    revocation_time: at,
                    reason_code: r.cert.reason.and_then(revocation_reason),
                    invalidity_date: None,
                })
            })
            .collect();
        let params = CertificateRevocationListParams {
            this_update: now,
            next_update: now + Duration::from_secs(7 * 86_400),
            crl_number: SerialNumber::from(state.crl_number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.signer.issuer).map_err(|e| {
            Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
        Ok(crl.der().to_vec())
    }
}

fn revocation_reason(code: u8) -> Option<RevocationReason> {
    use RevocationReason as R;
    Some(match code {
        0 => R::Unspecified,
        1 => R::KeyCompromise,
        2 => R::CaCompromise,
        3 => R::AffiliationChanged,
        4 => R::Superseded,
        5 => R::CessationOfOperation,
        6 => R::CertificateHold,
        8 => R::RemoveFromCrl,
        9 => R::PrivilegeWithdrawn,
        10 => R::AaCompromise,
        _ => return None,
    })
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("request body: {e}"))
}

fn outcome_of<T>(r: &Result<T, Refusal>, ok: &str) -> String {
    match r {
        Ok(_) => ok.into(),
        Err(refusal) => refusal.kind.into(),
    }
}

fn answer<T: Serialize>(r: Result<T, Refusal>) -> Response {
    match r {
        Ok(v) => (StatusCode::OK, Json(v)).into_response(),
        Err(refusal) => refusal.response(),
    }
}

const JSON: &str = "application/json";

async fn issue_handler(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let req = parse_body::<IssueRequest>(&body);
    let template = req.as_ref().ok().map(|r| r.template.clone());
    if let Some(faulted) = s.gate(CaOp::Issue, template.clone(), None, JSON).await {
        return faulted;
    }
    let result = s.issue(&headers, req);
    let serial = result.as_ref().ok().map(|r| r.serial_number.clone());
    s.journal(
        CaOp::Issue,
        template,
        serial,
        &outcome_of(&result, "issued"),
    );
    answer(result)
}

async fn revoke_handler(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let req = parse_body::<RevokeRequest>(&body);
    let serial = req.as_ref().ok().map(|r| {
        pki::normalize_serial(&r.serial_number).unwrap_or_else(|| r.serial_number.clone())
    });
    if let Some(faulted) = s.gate(CaOp::Revoke, None, serial.clone(), JSON).await {
        return faulted;
    }
    let result = s.revoke(&headers, req);
    s.journal(CaOp::Revoke, None, serial, &outcome_of(&result, "revoked"));
    answer(result)
}

async fn status_handler(State(s): State<Arc<Shared>>, Path(serial): Path<String>) -> Response {
    let shown = pki::normalize_serial(&serial).unwrap_or_else(|| serial.clone());
    if let Some(faulted) = s.gate(CaOp::Status, None, Some(shown.clone()), JSON).await {
        return faulted;
    }
    let result = s.status(&serial);
    let outcome = match &result {
        Ok(st) => st.status.clone(),
        Err(r) => r.kind.into(),
    };
    s.journal(CaOp::Status, None, Some(shown), &outcome);
    answer(result)
}

async fn crl_handler(State(s): State<Arc<Shared>>) -> Response {
    const CRL: &str = "application/pkix-crl";
    if let Some(faulted) = s.gate(CaOp::Crl, None, None, CRL).await {
        return faulted;
    }
    let result = s.crl();
    s.journal(CaOp::Crl, None, None, &outcome_of(&result, "ok"));
    match result {
        Ok(der) => (StatusCode::OK, [(header::CONTENT_TYPE, CRL)], der).into_response(),
        Err(refusal) => refusal.response(),
    }
}

async fn chain_handler(State(s): State<Arc<Shared>>) -> Response {
    const PEM: &str = "application/x-pem-file";
    if let Some(faulted) = s.gate(CaOp::Chain, None, None, PEM).await {
        return faulted;
    }
    s.journal(CaOp::Chain, None, None, "ok");
    let pem = format!(
        "{}\n{}\n",
        ISSUING_CA.cert_pem.trim(),
        ROOT_CA.cert_pem.trim()
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, PEM)], pem).into_response()
}

async fn journal_handler(State(s): State<Arc<Shared>>) -> Response {
    let journal = lock(&s.state).journal.clone();
    (StatusCode::OK, Json(journal)).into_response()
}

async fn not_found() -> Response {
    Refusal::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint").response()
}

async fn wrong_method() -> Response {
    Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "bad_request",
        "method not allowed on this endpoint",
    )
    .response()
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(ca_paths::ISSUE, post(issue_handler))
        .route(ca_paths::REVOKE, post(revoke_handler))
        .route(
            &format!("{}/{{serial}}", ca_paths::STATUS),
            get(status_handler),
        )
        .route(ca_paths::CRL, get(crl_handler))
        .route(ca_paths::CHAIN, get(chain_handler))
        .route(ca_paths::JOURNAL, get(journal_handler))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .with_state(shared)
}

/// A TCP listener that reports when it has been dropped (its socket closed).
struct TrackedListener {
    inner: TcpListener,
    _closed: oneshot::Sender<()>,
}

impl axum::serve::Listener for TrackedListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        axum::serve::Listener::accept(&mut self.inner).await
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// One period during which the port is open.
struct Open {
    stop: oneshot::Sender<()>,
    closed: oneshot::Receiver<()>,
}

struct Control {
    addr: SocketAddr,
    open: Option<Open>,
    /// Serve tasks, including closed periods still draining hung calls.
    tasks: Vec<JoinHandle<()>>,
}

impl Control {
    async fn open(&mut self, shared: &Arc<Shared>) -> Result<(), FakeError> {
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|source| FakeError::Bind {
                addr: self.addr,
                source,
            })?;
        self.addr = listener.local_addr().map_err(|source| FakeError::Bind {
            addr: self.addr,
            source,
        })?;
        let (closed_tx, closed) = oneshot::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let listener = TrackedListener {
            inner: listener,
            _closed: closed_tx,
        };
        let app = router(shared.clone());
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!("fake CA server stopped: {e}");
            }
        }));
        self.open = Some(Open { stop, closed });
        Ok(())
    }

    async fn close(&mut self) {
        if let Some(open) = self.open.take() {
            let _ = open.stop.send(());
            // Resolves (Ok or Err) once the listening socket has been dropped.
            let _ = open.closed.await;
        }
    }
}

/// The fake CA. See the module documentation for its behaviour and faults.
pub struct FakeCa {
    shared: Arc<Shared>,
    control: tokio::sync::Mutex<Control>,
    url: String,
}

impl FakeCa {
    /// Starts the CA on `config.bind` with an OS-chosen port. `rng` is used as the serial
    /// stream as given: pass a dedicated fork (e.g. `rng.fork("ca")`).
    pub async fn start(config: CaConfig, clock: Clock, rng: Rng) -> Result<FakeCa, FakeError> {
        if config.templates.is_empty() {
            return Err(FakeError::Config("the CA offers no template".into()));
        }
        let shared = Arc::new(Shared {
            kind: config.kind,
            templates: config.templates,
            clock,
            rng: Mutex::new(rng),
            signer: Signer::issuing_ca()?,
            switchboard: Switchboard::default(),
            release: OPS.iter().map(|op| (*op, watch::channel(0u64).0)).collect(),
            shutting_down: AtomicBool::new(false),
            ra_der: DIGICERT_RA.cert_der()?,
            state: Mutex::new(CaState::default()),
        });
        let mut control = Control {
            addr: SocketAddr::new(config.bind, 0),
            open: None,
            tasks: Vec::new(),
        };
        control.open(&shared).await?;
        let url = format!("http://{}", control.addr);
        Ok(FakeCa {
            shared,
            control: tokio::sync::Mutex::new(control),
            url,
        })
    }

    /// Base URL, `http://127.0.0.1:<port>` (stable across `unavailable`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The listening address.
    pub async fn addr(&self) -> SocketAddr {
        self.control.lock().await.addr
    }

    /// The switchboard (for inspection; use [`FakeCa::inject`] to break things, so that
    /// `unavailable` closes the port).
    pub fn switchboard(&self) -> &Switchboard<CaOp> {
        &self.shared.switchboard
    }

    /// Puts `fault` on `op`, replacing any fault there (calls hanging on `op` are released
    /// unless the new fault is `hang` too). `unavailable` closes the port before returning.
    pub async fn inject(&self, op: CaOp, fault: Fault) -> Result<(), FakeError> {
        let target = FaultTarget::Ca(op);
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
        self.shared.switchboard.inject(op, fault);
        if fault.kind != FaultKind::Hang {
            self.shared.release_hangs(Some(op));
        }
        self.reconcile().await
    }

    /// Removes the fault on `op`, releases calls hanging on it, and reopens the port (the same
    /// one) if nothing is `unavailable` any more.
    pub async fn heal(&self, op: CaOp) -> Result<(), FakeError> {
        self.shared.switchboard.heal(op);
        self.shared.release_hangs(Some(op));
        self.reconcile().await
    }

    /// Removes every fault (see [`FakeCa::heal`]).
    pub async fn heal_all(&self) -> Result<(), FakeError> {
        self.shared.switchboard.heal_all();
        self.shared.release_hangs(None);
        self.reconcile().await
    }

    async fn reconcile(&self) -> Result<(), FakeError> {
        let unavailable = OPS
            .iter()
            .any(|op| self.shared.switchboard.peek(*op) == Some(FaultKind::Unavailable));
        let mut control = self.control.lock().await;
        match (unavailable, control.open.is_some()) {
            (true, true) => control.close().await,
            (false, false) => control.open(&self.shared).await?,
            _ => {}
        }
        Ok(())
    }

    /// Every call received, in order.
    pub fn journal(&self) -> Vec<CaJournalEntry> {
        lock(&self.shared.state).journal.clone()
    }

    /// Every certificate issued, in order, with its revocation state.
    pub fn issued(&self) -> Vec<IssuedCert> {
        lock(&self.shared.state)
            .issued
            .iter()
            .map(|r| r.cert.clone())
            .collect()
    }

    /// Stops serving: releases hanging calls, closes the port and waits (up to 5 s) for the
    /// server tasks to finish.
    pub async fn shutdown(self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        self.shared.release_hangs(None);
        let mut control = self.control.lock().await;
        control.close().await;
        for task in control.tasks.drain(..) {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for FakeCa {
    fn drop(&mut self) {
        // Best effort when `shutdown` was not awaited: release hangs and stop accepting.
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        self.shared.release_hangs(None);
        if let Ok(mut control) = self.control.try_lock() {
            if let Some(open) = control.open.take() {
                let _ = open.stop.send(());
            }
        }
    }
}
