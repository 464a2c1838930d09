//! The policy module inside NDES (the legacy connector's plug-in): verify a device's SCEP
//! request with the Certificate Registration Point before issuing (20500 / 20501 / 20502), and
//! notify it afterwards (20600 / 20602).
//!
//! The module authenticates with its SCEP signing certificate, which the service downloads
//! into the store (0x00000409 when it cannot), and needs the CRP encryption certificate of its
//! configuration (0x00000408 when the store lacks it). Intune's verdict decides the rest:
//! `ChallengeExpired` is 0x00000411, a challenge Intune cannot deserialize or decode is
//! 0x00000410.

use crate::catalog::Detail;
use crate::contract::intune::crp::{
    Notify, NotifyOutcome, VerifyAnswer, VerifyRequest, NOTIFY, USER_AGENT, VERIFY_REQUEST,
};
use crate::contract::intune::{transport, ScepErrorCode, Service};
use crate::contract::policy::{Decision, Issued, PolicyFuture, PolicyModule};
use crate::event::Details;

use super::cause::Cause;
use super::http::{Answer, Failure};
use super::registration::with_attempts;
use super::Connector;

/// Caller name and version sent to Intune.
pub const CALLER_INFO: &str = "ConnectorHarness-ReferenceConnector/0.2";

/// HRESULT reported for a CA refusal (CERTSRV_E_TEMPLATE_DENIED).
const HR_DENIED: i64 = 0x8009_4012;
/// HRESULT reported for an unreachable or failing CA (RPC_S_SERVER_UNAVAILABLE as HRESULT).
const HR_UNAVAILABLE: i64 = 0x8007_06BA;

/// Reads VerifyRequest's answer: 201 allows, 403 with a verdict refuses; other answers are
/// failures of the call itself.
fn verdict(a: &Answer) -> Result<VerifyAnswer, Failure> {
    match a.status {
        201 | 403 => serde_json::from_slice::<VerifyAnswer>(&a.body).map_err(|_| a.failure()),
        s if (200..300).contains(&s) => Err(Failure::Malformed),
        _ => Err(a.failure()),
    }
}

/// Reads Notify's answer: 204 when recorded.
fn noted(a: &Answer) -> Result<(), Failure> {
    if a.status == 204 || a.status == 200 {
        Ok(())
    } else {
        Err(a.failure())
    }
}

impl Connector {
    async fn who(&self, transaction_id: &str) -> Details {
        let mut d = Details::new().with(Detail::TransactionId, transaction_id);
        if let Some((device, user)) = self.state().await.scep_subjects.get(transaction_id) {
            d.insert(Detail::DeviceId, device);
            if !user.is_empty() {
                d.insert(Detail::UserId, user);
            }
        }
        d
    }

    fn crp_headers(&self, signing: &[u8]) -> Vec<(&'static str, String)> {
        vec![
            (transport::CLIENT_CERT, crate::pki::b64(signing)),
            ("user-agent", USER_AGENT.to_string()),
        ]
    }

    /// Verifies a SCEP request's challenge with the Certificate Registration Point. A refused
    /// transaction ends here: NDES will not notify it.
    pub async fn verify_challenge(&self, transaction_id: &str, csr_der: &[u8]) -> Decision {
        let decision = self.verify_with_crp(transaction_id, csr_der).await;
        if matches!(decision, Decision::Refuse { .. }) {
            self.state().await.scep_subjects.forget(transaction_id);
        }
        decision
    }

    async fn verify_with_crp(&self, transaction_id: &str, csr_der: &[u8]) -> Decision {
        // Until Intune names the device, the request's subject is the best account of it.
        if let Some(cn) = crate::pki::read_csr(csr_der)
            .ok()
            .and_then(|c| c.common_name)
        {
            self.state()
                .await
                .scep_subjects
                .remember(transaction_id, cn, String::new());
        }
        let Some(signing) = self.store.signing_certificate() else {
            let d = self.who(transaction_id).await.with(
                Detail::Reason,
                "the SCEP signing certificate is not in the store; check the connector's certificate download events",
            );
            self.emit(Cause::SigningCertificateMissing, d);
            return refuse("no SCEP signing certificate");
        };
        if !self.store.has_crp_encryption_certificate() {
            let d = self.who(transaction_id).await.with(
                Detail::Reason,
                "the CRP encryption certificate is not in the store",
            );
            self.emit(Cause::CrpEncryptionCertificateMissing, d);
            return refuse("no CRP encryption certificate");
        }
        let body = VerifyRequest {
            transaction_id: transaction_id.into(),
            certificate_request: crate::pki::b64(csr_der),
            caller_info: CALLER_INFO.into(),
        };
        let called = self
            .intune
            .call(
                Service::CertificateRegistration,
                VERIFY_REQUEST,
                &body,
                &self.crp_headers(&signing),
                verdict,
            )
            .await;
        let (cause, reason, decision) = match called.result {
            Ok(answer) => {
                if let Some(device) = &answer.device_id {
                    let user = answer.user_id.clone().unwrap_or_default();
                    self.state()
                        .await
                        .scep_subjects
                        .remember(transaction_id, device.clone(), user);
                }
                self.judge(&answer, called.attempts)
            }
            Err(f) => {
                let reason = f.reason();
                let cause = if f.is_unexpected() {
                    Cause::VerifyFailed
                } else {
                    Cause::VerifyDenied
                };
                (cause, Some(reason.clone()), refuse(&reason))
            }
        };
        let d = self
            .who(transaction_id)
            .await
            .with_opt(Detail::Reason, reason);
        self.emit(cause, with_attempts(d, called.attempts));
        decision
    }

    /// What Intune's verdict means for the event log and for NDES.
    fn judge(&self, answer: &VerifyAnswer, attempts: u32) -> (Cause, Option<String>, Decision) {
        let code = answer.code.clone();
        match answer.parsed() {
            Some(ScepErrorCode::Success) => {
                let cause = if attempts > 1 {
                    Cause::ChallengeVerifiedAfterRetry
                } else {
                    Cause::ChallengeVerified
                };
                let decision = Decision::Issue {
                    template: self.config.scep_template.clone(),
                };
                (cause, None, decision)
            }
            Some(known) => (
                Cause::for_validation(known),
                Some(code.clone()),
                refuse(&code),
            ),
            None => {
                let why = format!("unknown result code `{code}`");
                (Cause::VerifyFailed, Some(why.clone()), refuse(&why))
            }
        }
    }

    /// Notifies the Certificate Registration Point of the issuance outcome; the transaction
    /// ends here.
    pub async fn notify_outcome(&self, transaction_id: &str, csr_der: &[u8], outcome: Issued) {
        self.notify_crp(transaction_id, csr_der, outcome).await;
        self.state().await.scep_subjects.forget(transaction_id);
    }

    async fn notify_crp(&self, transaction_id: &str, csr_der: &[u8], outcome: Issued) {
        let d = self.who(transaction_id).await;
        let Some(signing) = self.store.signing_certificate() else {
            // Verification would have refused without it; nothing to notify with.
            return;
        };
        let (wire, details, ca_cause) = match &outcome {
            Issued::Issued {
                thumbprint,
                serial_number,
                not_after,
                ca_name,
            } => (
                NotifyOutcome::Success {
                    certificate_thumbprint: thumbprint.clone(),
                    certificate_serial_number: serial_number.clone(),
                    certificate_expiration_date_utc: not_after.clone(),
                    issuing_certificate_authority: ca_name.clone(),
                },
                d.with(Detail::Thumbprint, thumbprint.clone())
                    .with(Detail::SerialNumber, serial_number.clone())
                    .with(Detail::CaName, ca_name.clone()),
                None,
            ),
            Issued::CaDenied { reason } | Issued::CaFailed { reason } => {
                let (hr, cause) = match &outcome {
                    Issued::CaDenied { .. } => (HR_DENIED, Cause::NotifyCaDenied),
                    _ => (HR_UNAVAILABLE, Cause::NotifyFailed),
                };
                (
                    NotifyOutcome::Failure {
                        h_result: hr,
                        error_description: reason.chars().take(255).collect(),
                    },
                    d.with(Detail::CaName, self.config.ca_name.clone())
                        .with(Detail::Reason, reason.clone()),
                    Some(cause),
                )
            }
        };
        let body = Notify {
            transaction_id: transaction_id.into(),
            certificate_request: crate::pki::b64(csr_der),
            outcome: wire,
            caller_info: CALLER_INFO.into(),
        };
        let called = self
            .intune
            .call(
                Service::CertificateRegistration,
                NOTIFY,
                &body,
                &self.crp_headers(&signing),
                noted,
            )
            .await;
        let (cause, details) = match (ca_cause, called.result) {
            // The certificate did not reach the device either way; a failing notification
            // call makes it an unexpected failure.
            (Some(_), Err(f)) if f.is_unexpected() => (Cause::NotifyFailed, details),
            (Some(cause), _) => (cause, details),
            (None, Ok(())) if called.attempts > 1 => (Cause::NotifiedAfterRetry, details),
            (None, Ok(())) => (Cause::Notified, details),
            (None, Err(f)) if f.is_unexpected() => (
                Cause::NotifyFailed,
                details.with(Detail::Reason, f.reason()),
            ),
            (None, Err(f)) => (
                Cause::NotifyRefused,
                details.with(Detail::Reason, f.reason()),
            ),
        };
        self.emit(cause, with_attempts(details, called.attempts));
    }
}

fn refuse(reason: &str) -> Decision {
    Decision::Refuse {
        reason: reason.to_string(),
    }
}

/// The reference connector is NDES's policy module.
impl PolicyModule for Connector {
    fn verify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
    ) -> PolicyFuture<'a, Decision> {
        Box::pin(self.verify_challenge(transaction_id, csr_der))
    }

    fn notify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: Issued,
    ) -> PolicyFuture<'a, ()> {
        Box::pin(self.notify_outcome(transaction_id, csr_der, outcome))
    }
}
