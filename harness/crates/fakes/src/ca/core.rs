//! The CA's logic: faults first, then client authentication, then issue, revoke, status and CRL
//! against the one [`Store`]. RSA signing runs on a blocking thread, never under a lock.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rcgen::{
    CertificateRevocationListParams, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};
use sha2::{Digest, Sha256};

use super::store::{IssuedCert, Record, Store};
use super::{CaKind, ExtensionPolicy, Template};
use crate::contract::ca::{
    CaJournalEntry, ErrorBody, IssueRequest, IssueResponse, RevokeRequest, RevokeResponse,
    StatusResponse, CLIENT_CERT_HEADER,
};
use crate::contract::fault::{CaOp, FaultKind};
use crate::pki;
use crate::signer::{draw_serial, eku, whole_seconds, SignSpec, Signable, Signer, MALFORMED_BODY};
use crate::sim::{format_time, Clock, Rng};
use crate::switchboard::Switchboard;

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn op_name(op: CaOp) -> &'static str {
    match op {
        CaOp::Issue => "issue",
        CaOp::Revoke => "revoke",
        CaOp::Status => "status",
        CaOp::Crl => "crl",
        CaOp::Chain => "chain",
    }
}

/// A refusal: HTTP status plus [`ErrorBody`].
pub(super) struct Refusal {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
}

impl Refusal {
    pub(super) fn new(
        status: StatusCode,
        kind: &'static str,
        message: impl Into<String>,
    ) -> Refusal {
        Refusal {
            status,
            kind,
            message: message.into(),
        }
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn internal(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub(super) fn response(&self) -> Response {
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

/// Everything the CA's handlers share.
pub(super) struct Core {
    pub kind: CaKind,
    pub templates: Mutex<Vec<Template>>,
    pub clock: Clock,
    pub rng: Mutex<Rng>,
    pub signer: Signer,
    pub switchboard: Switchboard<CaOp>,
    pub ra_der: Vec<u8>,
    pub store: Mutex<Store>,
}

impl Core {
    pub(super) fn journal(
        &self,
        op: CaOp,
        template: Option<String>,
        serial: Option<String>,
        outcome: &str,
    ) {
        let entry = CaJournalEntry {
            at: format_time(self.clock.now()),
            op: op_name(op).into(),
            template,
            serial,
            outcome: outcome.into(),
        };
        lock(&self.store).log(entry);
    }

    /// Strikes the switchboard for one call; `Some` is the faulted answer.
    pub(super) async fn gate(
        &self,
        op: CaOp,
        template: Option<String>,
        serial: Option<String>,
        content_type: &'static str,
    ) -> Option<Response> {
        let strike = self.switchboard.strike(op)?;
        let kind = strike.kind;
        self.journal(
            op,
            template,
            serial,
            &format!("fault:{}", kind.name().name()),
        );
        Some(match kind {
            FaultKind::Hang => {
                self.switchboard.hold(strike).await;
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

    /// Issues a certificate for the request (signing on a blocking thread).
    pub(super) async fn issue(
        self: Arc<Core>,
        headers: &HeaderMap,
        req: Result<IssueRequest, String>,
    ) -> Result<IssueResponse, Refusal> {
        self.check_client_cert(headers)?;
        let req = req.map_err(Refusal::bad_request)?;
        let template = lock(&self.templates)
            .iter()
            .find(|t| t.name == req.template)
            .cloned()
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::FORBIDDEN,
                    "denied",
                    format!("template `{}` is not offered by this CA", req.template),
                )
            })?;
        let der = pki::unb64(&req.csr).map_err(|e| Refusal::bad_request(e.to_string()))?;
        let req = Signable::read(&der).map_err(Refusal::bad_request)?;
        let spec_ext = extensions(&template, &req).map_err(Refusal::bad_request)?;
        let now = whole_seconds(self.clock.now());
        let not_after = now
            .checked_add(template.validity_signed())
            .filter(|t| t.year() <= 9999)
            .ok_or_else(|| {
                Refusal::internal(format!(
                    "template `{}`: a validity of {:?} from {} leaves the range X.509 can carry",
                    template.name,
                    template.validity,
                    format_time(now)
                ))
            })?;
        // The serial is drawn from a fork of the CA's RNG named by the request's digest, not
        // from one stream in arrival order: requests in flight at once get the same serials
        // whatever order they arrive in. The k-th issuance of the same request takes the
        // fork's (k+1)-th draw, so an earlier serial never comes back, even once the CA has
        // forgotten its certificate; a serial already issued is drawn again.
        /// Issuances of one request whose serial is found by drawing past the earlier ones.
        const SKIP_AT_MOST: u32 = 64;
        let serial = {
            let digest = Sha256::digest(&der);
            let label = format!("ca.serial/{}", hex::encode_upper(digest));
            let mut rng = lock(&self.rng).fork(&label);
            let mut store = lock(&self.store);
            let key = digest
                .first_chunk::<8>()
                .map_or(0, |b| u64::from_be_bytes(*b));
            let before = store.issuances.entry(key).or_insert(0);
            let skip = *before;
            *before = before.saturating_add(1);
            if skip < SKIP_AT_MOST {
                for _ in 0..skip {
                    draw_serial(&mut rng);
                }
            } else {
                // Past a few issuances of one request, a fork per issuance keeps each O(1).
                rng = lock(&self.rng).fork(&format!("{label}/{skip}"));
            }
            loop {
                let s = draw_serial(&mut rng);
                if store.serials.insert(s.clone()) {
                    break s;
                }
            }
        };
        let core = self.clone();
        let signing_serial = serial.clone();
        let signed = tokio::task::spawn_blocking(move || {
            let (key_usages, extended_key_usages, sans) = spec_ext;
            core.signer.sign(
                &req,
                SignSpec {
                    serial: &signing_serial,
                    not_before: now,
                    not_after,
                    key_usages,
                    extended_key_usages,
                    sans,
                },
            )
        })
        .await
        .map_err(|e| Refusal::internal(format!("signing task: {e}")))?
        .map_err(Refusal::internal)?;
        let parsed = <x509_cert::Certificate as der::Decode>::from_der(&signed)
            .map_err(|e| Refusal::internal(e.to_string()))?;
        let issued = IssuedCert {
            serial: pki::serial_hex(&parsed),
            thumbprint: pki::thumbprint(&signed),
            subject_cn: pki::common_name(&parsed.tbs_certificate.subject),
            template: template.name.clone(),
            request_digest: pki::sha256_hex(&der),
            not_after,
            revoked: false,
            revoked_at: None,
            reason: None,
        };
        let answer = IssueResponse {
            serial_number: issued.serial.clone(),
            thumbprint: issued.thumbprint.clone(),
            certificate: pki::b64(&signed),
            chain: self
                .signer
                .chain_der()
                .iter()
                .map(|d| pki::b64(d))
                .collect(),
            not_after: format_time(not_after),
        };
        lock(&self.store).keep(Record {
            serial_bytes: serial,
            cert: issued,
        });
        Ok(answer)
    }

    pub(super) fn revoke(
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
        let mut store = lock(&self.store);
        let record = store.find_mut(&serial).ok_or_else(|| not_found(&serial))?;
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

    pub(super) fn status(&self, serial: &str) -> Result<StatusResponse, Refusal> {
        let serial = pki::normalize_serial(serial)
            .ok_or_else(|| Refusal::bad_request("serial is not hex"))?;
        let store = lock(&self.store);
        let record = store.find(&serial).ok_or_else(|| not_found(&serial))?;
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

    /// Signs a CRL of every revoked certificate (on a blocking thread).
    pub(super) async fn crl(self: Arc<Core>) -> Result<Vec<u8>, Refusal> {
        let now = whole_seconds(self.clock.now());
        let params = {
            let mut store = lock(&self.store);
            store.crl_number = store.crl_number.saturating_add(1);
            let revoked_certs = store
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
            CertificateRevocationListParams {
                this_update: now,
                next_update: now.saturating_add(time::Duration::days(7)),
                crl_number: SerialNumber::from(store.crl_number),
                issuing_distribution_point: None,
                revoked_certs,
                key_identifier_method: KeyIdMethod::Sha256,
            }
        };
        let core = self.clone();
        tokio::task::spawn_blocking(move || {
            params
                .signed_by(&core.signer.issuer)
                .map(|crl| crl.der().to_vec())
                .map_err(|e| Refusal::internal(e.to_string()))
        })
        .await
        .map_err(|e| Refusal::internal(format!("signing task: {e}")))?
    }
}

type Extensions = (
    Vec<rcgen::KeyUsagePurpose>,
    Vec<rcgen::ExtendedKeyUsagePurpose>,
    Vec<rcgen::SanType>,
);

/// The extensions a certificate from `template` gets for `req`.
fn extensions(template: &Template, req: &Signable) -> Result<Extensions, String> {
    let honour = template.extensions == ExtensionPolicy::Honour;
    let key_usages = match (&req.csr.key_usage, honour) {
        (Some(asked), true) => asked.iter().map(|k| k.rcgen()).collect(),
        _ => template.key_usages.iter().map(|k| k.rcgen()).collect(),
    };
    let ekus = match (&req.csr.extended_key_usage, honour) {
        (Some(asked), true) => asked.iter().map(eku).collect(),
        _ => template.extended_key_usages.iter().map(eku).collect(),
    };
    Ok((key_usages, ekus, req.requested_sans()?))
}

fn not_found(serial: &str) -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no certificate with serial {serial}"),
    )
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
