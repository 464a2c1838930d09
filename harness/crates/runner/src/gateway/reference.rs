//! The reference gateway: the fake NDES with this policy module, which follows Intune's
//! contract for third-party SCEP servers — validate before issuing (no certificate unless the
//! answer is `Success`), a success notification after issuance and before the CertRep (no
//! certificate unless it is accepted), a failure notification only for a request that passed
//! validation and then failed to issue, the SCEP transactionID as `transactionId`, a fresh
//! `client-request-id` per call.
//!
//! [`GatewayBug`] switches break one rule each, so the checker can be shown to catch every one
//! of them (`connector-harness gateway --bug NAME`).

use std::collections::BTreeSet;
use std::str::FromStr;

use serde_json::json;

use super::intune_client::{IntuneClient, ScepAnswer};
use crate::contract::intune::scep;
use crate::contract::policy::{Decision, Delivery, Issued, PolicyFuture, PolicyModule};
use crate::csr::Csr;

/// The caller the reference gateway names itself as.
pub const CALLER_INFO: &str = "ConnectorHarness-ReferenceGateway/0.1";

/// HRESULT of a CA refusal (CERTSRV_E_TEMPLATE_DENIED).
const HR_DENIED: i64 = 0x8009_4012;
/// HRESULT of a CA that failed (RPC_S_SERVER_UNAVAILABLE as HRESULT).
const HR_UNAVAILABLE: i64 = 0x8007_06BA;

/// One way to break the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GatewayBug {
    /// Hands out the certificate although the success notification failed.
    CertAfterFailedNotification,
    /// Sends the challenge password as `transactionId`.
    ChallengeAsTransactionId,
    /// Sends the same `client-request-id` on every call.
    ReusedClientRequestId,
    /// Sends a failure notification after Intune refused the request.
    FailureNotificationAfterRefusal,
    /// Ignores the success notification's answer code.
    IgnoresNotificationAnswer,
    /// Issues before validating (and validates afterwards, whatever the answer).
    IssuesBeforeValidating,
}

const BUGS: [(&str, GatewayBug); 6] = [
    (
        "cert-after-failed-notification",
        GatewayBug::CertAfterFailedNotification,
    ),
    (
        "challenge-as-transaction-id",
        GatewayBug::ChallengeAsTransactionId,
    ),
    (
        "reused-client-request-id",
        GatewayBug::ReusedClientRequestId,
    ),
    (
        "failure-notification-after-refusal",
        GatewayBug::FailureNotificationAfterRefusal,
    ),
    (
        "ignores-notification-answer",
        GatewayBug::IgnoresNotificationAnswer,
    ),
    (
        "issues-before-validating",
        GatewayBug::IssuesBeforeValidating,
    ),
];

impl GatewayBug {
    /// Every bug with its name.
    pub fn all() -> impl Iterator<Item = (&'static str, GatewayBug)> {
        BUGS.into_iter()
    }

    /// The bug's name (`--bug NAME`).
    pub fn name(self) -> &'static str {
        BUGS.iter()
            .find(|(_, b)| *b == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// A bug name that is not known.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown gateway bug `{0}`: expected one of {list}", list = BUGS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))]
pub struct UnknownBug(pub String);

impl FromStr for GatewayBug {
    type Err = UnknownBug;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BUGS.iter()
            .find(|(n, _)| *n == s.trim())
            .map(|(_, b)| *b)
            .ok_or_else(|| UnknownBug(s.to_string()))
    }
}

/// The reference gateway's policy module.
pub struct ReferenceGateway {
    client: IntuneClient,
    template: String,
    bugs: BTreeSet<GatewayBug>,
}

impl ReferenceGateway {
    /// A gateway calling Intune through `client`, issuing with `template`, with `bugs`.
    pub fn new(
        mut client: IntuneClient,
        template: &str,
        bugs: BTreeSet<GatewayBug>,
    ) -> ReferenceGateway {
        if bugs.contains(&GatewayBug::ReusedClientRequestId) {
            client.fixed_request_id = Some("0d2a6c11-5b8e-4c1f-9a3d-7e6f5a4b3c2d".into());
        }
        ReferenceGateway {
            client,
            template: template.into(),
            bugs,
        }
    }

    fn has(&self, bug: GatewayBug) -> bool {
        self.bugs.contains(&bug)
    }

    /// The `transactionId` sent for SCEP transaction `txid` (the challenge, with that bug).
    fn wire_txid(&self, txid: &str, csr_der: &[u8]) -> String {
        if self.has(GatewayBug::ChallengeAsTransactionId) {
            if let Some(c) = Csr::read(csr_der).ok().and_then(|c| c.challenge) {
                return c;
            }
        }
        txid.to_string()
    }

    async fn validate(&self, txid: &str, csr_der: &[u8]) -> Result<ScepAnswer, String> {
        let body = json!({"request": {
            "transactionId": self.wire_txid(txid, csr_der),
            "certificateRequest": crate::pki::b64(csr_der),
            "callerInfo": CALLER_INFO,
        }});
        self.client
            .call(scep::VALIDATE, &body)
            .await
            .map_err(|e| e.to_string())
    }

    async fn failure(&self, txid: &str, csr_der: &[u8], h_result: i64, why: &str) {
        let description: String = why.chars().take(255).collect();
        let body = json!({"notification": {
            "transactionId": self.wire_txid(txid, csr_der),
            "certificateRequest": crate::pki::b64(csr_der),
            "hResult": h_result,
            "errorDescription": if description.is_empty() { "issuance failed".into() } else { description },
            "callerInfo": CALLER_INFO,
        }});
        // Nothing follows from the answer: the device gets no certificate either way.
        let _ = self.client.call(scep::FAILURE_NOTIFICATION, &body).await;
    }

    async fn decide(&self, txid: &str, csr_der: &[u8]) -> Decision {
        if self.has(GatewayBug::IssuesBeforeValidating) {
            return Decision::Issue {
                template: self.template.clone(),
            };
        }
        match self.validate(txid, csr_der).await {
            Ok(a) if a.accepted() => Decision::Issue {
                template: self.template.clone(),
            },
            Ok(a) => {
                if self.has(GatewayBug::FailureNotificationAfterRefusal) {
                    self.failure(txid, csr_der, HR_DENIED, "Intune refused the request")
                        .await;
                }
                Decision::Refuse {
                    reason: format!(
                        "Intune answered HTTP {} {}",
                        a.status,
                        a.code.unwrap_or_default()
                    ),
                }
            }
            Err(why) => Decision::Refuse { reason: why },
        }
    }

    async fn finish(&self, txid: &str, csr_der: &[u8], outcome: Issued) -> Delivery {
        if self.has(GatewayBug::IssuesBeforeValidating) {
            // Validates after the fact, and carries on whatever Intune says.
            let _ = self.validate(txid, csr_der).await;
        }
        let (thumbprint, serial, not_after, ca_name) = match outcome {
            Issued::Issued {
                thumbprint,
                serial_number,
                not_after,
                ca_name,
            } => (thumbprint, serial_number, not_after, ca_name),
            Issued::CaDenied { reason } => {
                self.failure(txid, csr_der, HR_DENIED, &reason).await;
                return Delivery::Deliver;
            }
            Issued::CaFailed { reason } => {
                self.failure(txid, csr_der, HR_UNAVAILABLE, &reason).await;
                return Delivery::Deliver;
            }
        };
        let body = json!({"notification": {
            "transactionId": self.wire_txid(txid, csr_der),
            "certificateRequest": crate::pki::b64(csr_der),
            "certificateThumbprint": thumbprint,
            "certificateSerialNumber": serial,
            "certificateExpirationDateUtc": not_after,
            "issuingCertificateAuthority": ca_name,
            "callerInfo": CALLER_INFO,
        }});
        let withhold = |reason: String| Delivery::Withhold { reason };
        match self.client.call(scep::SUCCESS_NOTIFICATION, &body).await {
            Ok(a) if a.accepted() => Delivery::Deliver,
            Ok(a) if (200..300).contains(&a.status) => {
                if self.has(GatewayBug::IgnoresNotificationAnswer) {
                    Delivery::Deliver
                } else {
                    withhold(format!(
                        "Intune did not accept the success notification: {}",
                        a.code.unwrap_or_default()
                    ))
                }
            }
            Ok(a) if self.has(GatewayBug::CertAfterFailedNotification) => {
                let _ = a;
                Delivery::Deliver
            }
            Ok(a) => withhold(format!(
                "the success notification failed: HTTP {}",
                a.status
            )),
            Err(_) if self.has(GatewayBug::CertAfterFailedNotification) => Delivery::Deliver,
            Err(e) => withhold(format!("the success notification failed: {e}")),
        }
    }
}

impl PolicyModule for ReferenceGateway {
    fn verify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
    ) -> PolicyFuture<'a, Decision> {
        Box::pin(self.decide(transaction_id, csr_der))
    }

    fn notify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: Issued,
    ) -> PolicyFuture<'a, ()> {
        Box::pin(async move {
            self.finish(transaction_id, csr_der, outcome).await;
        })
    }

    fn conclude<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: Issued,
    ) -> PolicyFuture<'a, Delivery> {
        Box::pin(self.finish(transaction_id, csr_der, outcome))
    }
}
