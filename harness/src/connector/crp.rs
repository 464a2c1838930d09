//! The policy module inside NDES (the certificate registration point's partner): verify a
//! device's SCEP challenge with Intune before issuing (20500 / 20501 / 20502), and notify
//! Intune afterwards (20600 / 20602).

use crate::catalog::Detail;
use crate::contract::intune::{
    intune_paths, FailureNotification, FailureNotificationBody, ScepResponse, SuccessNotification,
    SuccessNotificationBody, ValidateBody, ValidateRequest, SCEP_ERROR_CODES,
};
use crate::event::Details;

pub use crate::contract::policy::{Decision, Issued, Unverified};
use crate::contract::policy::{PolicyFuture, PolicyModule};

use super::cause::Cause;
use super::http::Failure;
use super::registration::with_attempts;
use super::Connector;

/// Caller name and version sent to Intune.
pub const CALLER_INFO: &str = "ConnectorHarness-ReferenceConnector/0.1";

/// HRESULT reported for a CA refusal (CERTSRV_E_TEMPLATE_DENIED).
const HR_DENIED: i64 = 0x8009_4012;
/// HRESULT reported for an unreachable or failing CA (RPC_S_SERVER_UNAVAILABLE as HRESULT).
const HR_UNAVAILABLE: i64 = 0x8007_06BA;

impl Connector {
    async fn who(&self, transaction_id: &str) -> Details {
        let mut d = Details::new().with(Detail::TransactionId, transaction_id);
        if let Some((device, user)) = self
            .state()
            .await
            .scep_subjects
            .get(transaction_id)
            .cloned()
        {
            d.insert(Detail::DeviceId, device);
            if !user.is_empty() {
                d.insert(Detail::UserId, user);
            }
        }
        d
    }

    /// Verifies a SCEP request's challenge with Intune.
    pub async fn verify_challenge(&self, transaction_id: &str, csr_der: &[u8]) -> Decision {
        let body = ValidateBody {
            request: ValidateRequest {
                transaction_id: transaction_id.into(),
                certificate_request: crate::pki::b64(csr_der),
                caller_info: CALLER_INFO.into(),
            },
        };
        // Until Intune names the device, the request's subject is the best account of it.
        if let Some(cn) = crate::pki::read_csr(csr_der)
            .ok()
            .and_then(|c| c.common_name)
        {
            self.state()
                .await
                .scep_subjects
                .insert(transaction_id.into(), (cn, String::new()));
        }
        let called = self
            .intune
            .post::<_, ScepResponse>(intune_paths::VALIDATE, &body, &[])
            .await;
        let timeout = self.config.retry.timeout;
        let (cause, reason, decision) = match called.result {
            Ok(answer) => {
                if let (Some(device), Some(user)) = (&answer.device_id, &answer.user_id) {
                    self.state()
                        .await
                        .scep_subjects
                        .insert(transaction_id.into(), (device.clone(), user.clone()));
                }
                match answer.code.as_str() {
                    "Success" => {
                        let cause = if called.attempts > 1 {
                            Cause::ChallengeVerifiedAfterRetry
                        } else {
                            Cause::ChallengeVerified
                        };
                        (
                            cause,
                            None,
                            Decision::Issue {
                                template: self.config.scep_template.clone(),
                            },
                        )
                    }
                    "ChallengeExpired" => (
                        Cause::ChallengeExpired,
                        Some(answer.code.clone()),
                        refuse(&answer.code),
                    ),
                    "Unknown" => (
                        Cause::ChallengeRejectedUnknown,
                        Some(answer.code.clone()),
                        refuse(&answer.code),
                    ),
                    code if SCEP_ERROR_CODES.contains(&code) => (
                        Cause::ChallengeRejected,
                        Some(code.to_string()),
                        refuse(code),
                    ),
                    other => {
                        let why = format!("unknown result code `{other}`");
                        (Cause::VerifyFailed, Some(why.clone()), refuse(&why))
                    }
                }
            }
            Err(f) => {
                let reason = f.reason(timeout);
                let cause = if f.is_unexpected() {
                    Cause::VerifyFailed
                } else {
                    Cause::VerifyDenied
                };
                (cause, Some(reason.clone()), refuse(&reason))
            }
        };
        let d = self.who(transaction_id).await;
        let d = match reason {
            Some(r) => d.with(Detail::Reason, r),
            None => d,
        };
        self.emit(cause, with_attempts(d, called.attempts));
        decision
    }

    /// Reports a request NDES could not hand to verification.
    pub async fn report_unverified(&self, transaction_id: Option<&str>, why: Unverified) {
        let d = match transaction_id {
            Some(t) => self.who(t).await,
            None => Details::new(),
        };
        let (cause, reason) = match why {
            Unverified::EncryptionCertMissing => (
                Cause::RaEncryptionCertMissing,
                "RA encryption certificate not found".to_string(),
            ),
            Unverified::SigningCertMissing => (
                Cause::RaSigningCertMissing,
                "RA signing certificate not found".to_string(),
            ),
            Unverified::Undecodable(why) => (Cause::ScepUndecodable, why),
        };
        self.emit(cause, d.with(Detail::Reason, reason));
    }

    /// Notifies Intune of the issuance outcome.
    pub async fn notify_outcome(&self, transaction_id: &str, csr_der: &[u8], outcome: Issued) {
        let timeout = self.config.retry.timeout;
        let d = self.who(transaction_id).await;
        let csr = crate::pki::b64(csr_der);
        match outcome {
            Issued::Issued {
                thumbprint,
                serial_number,
                not_after,
                ca_name,
            } => {
                let body = SuccessNotificationBody {
                    notification: SuccessNotification {
                        transaction_id: transaction_id.into(),
                        certificate_request: csr,
                        certificate_thumbprint: thumbprint.clone(),
                        certificate_serial_number: serial_number.clone(),
                        certificate_expiration_date_utc: not_after,
                        issuing_certificate_authority: ca_name.clone(),
                        caller_info: CALLER_INFO.into(),
                    },
                };
                let called = self
                    .intune
                    .post::<_, ScepResponse>(intune_paths::SUCCESS_NOTIFICATION, &body, &[])
                    .await;
                let d = d
                    .with(Detail::Thumbprint, thumbprint)
                    .with(Detail::SerialNumber, serial_number)
                    .with(Detail::CaName, ca_name);
                let (cause, d) = match called.result {
                    Ok(a) if a.code == "Success" => (
                        if called.attempts > 1 {
                            Cause::NotifiedAfterRetry
                        } else {
                            Cause::Notified
                        },
                        d,
                    ),
                    Ok(a) => (
                        Cause::NotifyRefused,
                        d.with(Detail::Reason, format!("Intune answered {}", a.code)),
                    ),
                    Err(f) => (
                        notify_failure_cause(&f),
                        d.with(Detail::Reason, f.reason(timeout)),
                    ),
                };
                self.emit(cause, with_attempts(d, called.attempts));
            }
            other => {
                let (hr, reason, ca_cause) = match other {
                    Issued::CaDenied { reason } => (HR_DENIED, reason, Cause::NotifyCaDenied),
                    Issued::CaFailed { reason } => (HR_UNAVAILABLE, reason, Cause::NotifyFailed),
                    Issued::Issued { .. } => return,
                };
                let body = FailureNotificationBody {
                    notification: FailureNotification {
                        transaction_id: transaction_id.into(),
                        certificate_request: csr,
                        h_result: hr,
                        error_description: reason.chars().take(255).collect(),
                        caller_info: CALLER_INFO.into(),
                    },
                };
                let called = self
                    .intune
                    .post::<_, ScepResponse>(intune_paths::FAILURE_NOTIFICATION, &body, &[])
                    .await;
                // The certificate did not reach the device either way; a failing notification
                // call makes it an unexpected failure.
                let cause = match &called.result {
                    Err(f) if f.is_unexpected() => Cause::NotifyFailed,
                    _ => ca_cause,
                };
                let d = d
                    .with(Detail::CaName, self.config.ca_name.clone())
                    .with(Detail::Reason, reason);
                self.emit(cause, with_attempts(d, called.attempts));
            }
        }
    }
}

fn refuse(reason: &str) -> Decision {
    Decision::Refuse {
        reason: reason.to_string(),
    }
}

fn notify_failure_cause(f: &Failure) -> Cause {
    if f.is_unexpected() {
        Cause::NotifyFailed
    } else {
        Cause::NotifyRefused
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

    fn unverifiable<'a>(
        &'a self,
        transaction_id: Option<&'a str>,
        why: Unverified,
    ) -> PolicyFuture<'a, ()> {
        Box::pin(self.report_unverified(transaction_id, why))
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
