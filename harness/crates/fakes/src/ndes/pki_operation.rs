//! The PKIOperation pipeline, as NDES runs it: read and check the message, open the envelope,
//! ask the policy module, have the CA issue, tell the policy module how it ended, and answer
//! with a signed CertRep. RSA work (signature check, envelope, CertRep) runs on a blocking
//! thread so the async runtime keeps answering.

use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use der::Decode;

use super::ca_client::{self, CaAnswer};
use super::http::status;
use super::{Core, NdesOperation, NdesOutcome};
use crate::contract::fault::NdesOp;
use crate::contract::policy::{Decision, Delivery, Issued};
use crate::scep::{
    cert_rep_failure, cert_rep_success, Decrypted, FailInfo, MessageType, PkiMessage, RaSigner,
    ReplyTo, ScepError,
};

fn pki_message(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-pki-message")],
        body,
    )
        .into_response()
}

/// Runs `f` on a blocking thread; a panic there is re-raised here, so the server's panic
/// guard records it as a harness fault.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => match e.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(e) => panic!("NDES blocking task did not finish: {e}"),
        },
    }
}

/// Signs a CertRep FAILURE, records it and answers it.
async fn failure(
    s: &Arc<Core>,
    msg: &PkiMessage,
    to: ReplyTo,
    fail_info: FailInfo,
    reason: String,
) -> Response {
    let mut rng = s.reply_rng();
    let core = s.clone();
    let built = blocking(move || {
        let ra = RaSigner {
            cert: &core.ra.signing,
            key: &core.ra.signing_key,
        };
        cert_rep_failure(&to, fail_info, ra, &mut rng)
    })
    .await;
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

/// What checking and opening a message gave.
enum Opened {
    BadSignature(String),
    Unsupported(String),
    NoEncryptionCert,
    Undecryptable(String),
    Ready(Decrypted),
}

fn open(core: &Core, msg: &PkiMessage) -> Opened {
    if let Err(e) = msg.verify() {
        return Opened::BadSignature(e.to_string());
    }
    if !matches!(
        msg.message_type,
        MessageType::PkcsReq | MessageType::RenewalReq
    ) {
        return Opened::Unsupported(format!("{} is not supported", msg.message_type));
    }
    if core.missing(NdesOp::RaEncryption) {
        return Opened::NoEncryptionCert;
    }
    let decrypted = msg
        .decrypt(&core.ra.encryption, &core.ra.encryption_key)
        .and_then(|d| {
            x509_cert::request::CertReq::from_der(&d.content)
                .map(|_| d)
                .map_err(|e| ScepError::Decode {
                    what: "the envelope's PKCS#10",
                    why: e.to_string(),
                })
        });
    match decrypted {
        Ok(d) => Opened::Ready(d),
        Err(e) => Opened::Undecryptable(e.to_string()),
    }
}

/// The signer a request type demands (RFC 8894 §3.3.1): a PKCSReq is signed with the key the
/// request certifies (a self-signed certificate over it); a RenewalReq with a certificate
/// this CA issued and has not revoked.
async fn check_signer(s: &Core, msg: &PkiMessage, csr: &[u8]) -> Result<(), String> {
    use der::Encode;
    let signer_key = msg
        .signer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    match msg.message_type {
        MessageType::PkcsReq => {
            let csr = x509_cert::request::CertReq::from_der(csr).map_err(|e| e.to_string())?;
            let csr_key = csr.info.public_key.to_der().map_err(|e| e.to_string())?;
            if csr_key == signer_key {
                Ok(())
            } else {
                Err("a PKCSReq must be signed with the key it asks a certificate for".into())
            }
        }
        MessageType::RenewalReq => {
            if msg.signer.tbs_certificate.issuer != s.ra.issuing_ca.tbs_certificate.subject
                || !signed_by(&msg.signer, &s.ra.issuing_ca)
            {
                return Err(
                    "a RenewalReq must be signed with a certificate this CA issued (the signer is not)"
                        .into(),
                );
            }
            let serial = crate::pki::serial_hex(&msg.signer);
            ca_client::still_valid(s, &serial).await
        }
        _ => Ok(()),
    }
}

/// Whether `cert`'s signature verifies under `issuer`'s key (RSA PKCS#1 v1.5, SHA-256 or
/// SHA-1).
fn signed_by(cert: &x509_cert::Certificate, issuer: &x509_cert::Certificate) -> bool {
    use der::Encode;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use signature::Verifier;
    let (Ok(tbs), Ok(spki)) = (
        cert.tbs_certificate.to_der(),
        issuer.tbs_certificate.subject_public_key_info.to_der(),
    ) else {
        return false;
    };
    let Ok(key) = rsa::RsaPublicKey::from_public_key_der(&spki) else {
        return false;
    };
    let Ok(sig) = Signature::try_from(cert.signature.raw_bytes()) else {
        return false;
    };
    match cert.signature_algorithm.oid {
        crate::csr::SHA256_WITH_RSA => VerifyingKey::<sha2::Sha256>::new(key)
            .verify(&tbs, &sig)
            .is_ok(),
        crate::csr::SHA1_WITH_RSA => VerifyingKey::<sha1::Sha1>::new(key)
            .verify(&tbs, &sig)
            .is_ok(),
        _ => false,
    }
}

/// Answers one PKIOperation message.
pub(super) async fn answer(s: Arc<Core>, bytes: Vec<u8>) -> Response {
    let read = PkiMessage::read(&bytes);
    if s.missing(NdesOp::RaSigning) {
        let txid = read.as_ref().ok().map(|m| m.transaction_id.clone());
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
            return s.bad_request(NdesOperation::PkiOperation, &reason);
        }
    };
    let txid = msg.transaction_id.clone();
    let opened = {
        let core = s.clone();
        let msg = msg.clone();
        blocking(move || open(&core, &msg)).await
    };
    let dec = match opened {
        Opened::Ready(d) => d,
        Opened::BadSignature(reason) | Opened::Undecryptable(reason) => {
            let to = ReplyTo::request(&msg, None);
            return failure(&s, &msg, to, FailInfo::BadMessageCheck, reason).await;
        }
        Opened::Unsupported(reason) => {
            let to = ReplyTo::request(&msg, None);
            return failure(&s, &msg, to, FailInfo::BadRequest, reason).await;
        }
        Opened::NoEncryptionCert => {
            let to = ReplyTo::request(&msg, None);
            let reason = "the RA encryption certificate is missing".to_string();
            return failure(&s, &msg, to, FailInfo::BadMessageCheck, reason).await;
        }
    };
    let to = ReplyTo::request(&msg, Some(dec.cipher));
    if !s.config.capabilities.accepts(dec.cipher) {
        let reason = format!(
            "{:?} is not accepted: GetCACaps advertises SCEPStandard, which forbids single DES",
            dec.cipher
        );
        return failure(&s, &msg, to, FailInfo::BadAlg, reason).await;
    }
    let csr = dec.content;
    if let Err(reason) = check_signer(&s, &msg, &csr).await {
        return failure(&s, &msg, to, FailInfo::BadRequest, reason).await;
    }
    let template = match s.policy.verify(&txid, &csr).await {
        Decision::Issue { template } => template,
        Decision::Refuse { reason } => {
            return failure(&s, &msg, to, FailInfo::BadRequest, reason).await;
        }
    };
    let (issued, cert) = match ca_client::issue(&s, &template, &csr).await {
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
    let delivery = s.policy.conclude(&txid, &csr, issued.clone()).await;
    if let (Delivery::Withhold { reason }, Some(_)) = (delivery, &cert) {
        return failure(&s, &msg, to, FailInfo::BadRequest, reason).await;
    }
    let Some((resp, cert)) = cert else {
        let reason = match issued {
            Issued::CaDenied { reason } => format!("CA denied: {reason}"),
            Issued::CaFailed { reason } => format!("CA failed: {reason}"),
            Issued::Issued { .. } => String::new(),
        };
        return failure(&s, &msg, to, FailInfo::BadRequest, reason).await;
    };
    let mut rng = s.reply_rng();
    let core = s.clone();
    let built = blocking(move || {
        let ra = RaSigner {
            cert: &core.ra.signing,
            key: &core.ra.signing_key,
        };
        cert_rep_success(&to, &cert, ra, &mut rng)
    })
    .await;
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
