//! What the gateway checker finds: one [`GatewayFinding`] per broken rule and device, the rule
//! typed ([`GatewayRule`]), each rule traced to Intune's contract for third-party SCEP servers
//! (Microsoft's "SCEP libraries and APIs" page and the reference client
//! `microsoft/Intune-Resource-Access`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A rule of Intune's contract for a SCEP gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayRule {
    /// A device got a certificate although no `validateRequest` for its transaction answered
    /// `Success` before it.
    IssuedWithoutValidation,
    /// A device got a certificate and Intune was never sent a success notification for it.
    CertificateWithoutSuccessNotification,
    /// A device got a certificate although the success notification failed (non-2xx answer).
    CertificateAfterFailedSuccessNotification,
    /// A device got a certificate although the success notification was answered with a code
    /// other than `Success`: the answer was ignored.
    CertificateAfterRefusedSuccessNotification,
    /// The success notification reached Intune only after the device had its CertRep.
    SuccessNotificationAfterCertRep,
    /// A failure notification for a transaction whose validation did not pass (a refusal is
    /// not a failure to issue).
    FailureNotificationAfterRefusal,
    /// A failure notification with `hResult` 0 (not an error).
    FailureNotificationZeroHResult,
    /// A failure notification whose `errorDescription` is empty or over 255 characters.
    FailureNotificationBadDescription,
    /// A call for a device's request whose `transactionId` is not the request's SCEP
    /// transactionID.
    TransactionIdNotScep,
    /// A `client-request-id` sent on more than one call.
    ClientRequestIdReused,
    /// A call without a GUID `client-request-id`.
    ClientRequestIdNotGuid,
    /// The success notification's thumbprint, serial number or expiry is not the certificate
    /// the device received.
    NotificationCertificateMismatch,
}

impl GatewayRule {
    /// Every rule, in the order the checker reports them.
    pub const ALL: [GatewayRule; 12] = [
        GatewayRule::IssuedWithoutValidation,
        GatewayRule::CertificateWithoutSuccessNotification,
        GatewayRule::CertificateAfterFailedSuccessNotification,
        GatewayRule::CertificateAfterRefusedSuccessNotification,
        GatewayRule::SuccessNotificationAfterCertRep,
        GatewayRule::FailureNotificationAfterRefusal,
        GatewayRule::FailureNotificationZeroHResult,
        GatewayRule::FailureNotificationBadDescription,
        GatewayRule::TransactionIdNotScep,
        GatewayRule::ClientRequestIdReused,
        GatewayRule::ClientRequestIdNotGuid,
        GatewayRule::NotificationCertificateMismatch,
    ];

    /// The rule's name (snake case, as reports print it).
    pub fn name(self) -> &'static str {
        match self {
            GatewayRule::IssuedWithoutValidation => "issued_without_validation",
            GatewayRule::CertificateWithoutSuccessNotification => {
                "certificate_without_success_notification"
            }
            GatewayRule::CertificateAfterFailedSuccessNotification => {
                "certificate_after_failed_success_notification"
            }
            GatewayRule::CertificateAfterRefusedSuccessNotification => {
                "certificate_after_refused_success_notification"
            }
            GatewayRule::SuccessNotificationAfterCertRep => "success_notification_after_cert_rep",
            GatewayRule::FailureNotificationAfterRefusal => "failure_notification_after_refusal",
            GatewayRule::FailureNotificationZeroHResult => "failure_notification_zero_hresult",
            GatewayRule::FailureNotificationBadDescription => {
                "failure_notification_bad_description"
            }
            GatewayRule::TransactionIdNotScep => "transaction_id_not_scep",
            GatewayRule::ClientRequestIdReused => "client_request_id_reused",
            GatewayRule::ClientRequestIdNotGuid => "client_request_id_not_guid",
            GatewayRule::NotificationCertificateMismatch => "notification_certificate_mismatch",
        }
    }

    /// What the rule says, for people.
    pub fn says(self) -> &'static str {
        match self {
            GatewayRule::IssuedWithoutValidation => "no certificate unless validateRequest answered Success",
            GatewayRule::CertificateWithoutSuccessNotification => "notify Intune of every certificate issued, before handing it over",
            GatewayRule::CertificateAfterFailedSuccessNotification => "when the success notification fails, the device gets no certificate",
            GatewayRule::CertificateAfterRefusedSuccessNotification => "when the success notification is not answered Success, the device gets no certificate",
            GatewayRule::SuccessNotificationAfterCertRep => "the success notification comes after issuance and before the device's CertRep",
            GatewayRule::FailureNotificationAfterRefusal => "a failure notification only after a validation that passed",
            GatewayRule::FailureNotificationZeroHResult => "a failure notification carries a non-zero HRESULT",
            GatewayRule::FailureNotificationBadDescription => "a failure notification's errorDescription has 1 to 255 characters",
            GatewayRule::TransactionIdNotScep => "every call carries the request's SCEP transactionID as transactionId",
            GatewayRule::ClientRequestIdReused => "a fresh client-request-id on every call",
            GatewayRule::ClientRequestIdNotGuid => "client-request-id is a GUID",
            GatewayRule::NotificationCertificateMismatch => "the success notification names the certificate the device received (thumbprint, serial, expiry)",
        }
    }
}

impl fmt::Display for GatewayRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GatewayFinding {
    /// The rule.
    pub rule: GatewayRule,
    /// The device whose enrollment broke it (empty for a call no device's request explains).
    pub device: String,
    /// What was seen.
    pub detail: String,
}

impl fmt::Display for GatewayFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}: {}",
            self.rule,
            self.rule.says(),
            self.device,
            self.detail
        )
    }
}
