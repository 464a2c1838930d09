//! `ConnectorRegistrationService` (harness extension): the connector's own calls about itself —
//! check in at start and stop, renew its registration certificate, and download the SCEP
//! signing certificate its policy module authenticates with. The real connector makes such
//! calls too; their wire form is not public, so these shapes are ours.

use serde::{Deserialize, Serialize};

/// `POST` [`Checkin`] → `{"value": true}`.
pub const CHECKIN: &str = "checkin";
/// `POST` [`RenewRequest`] → [`RenewResponse`].
pub const RENEW: &str = "renewCertificate";
/// `POST` [`SigningCertificateRequest`] → [`SigningCertificate`].
pub const SIGNING_CERTIFICATE: &str = "downloadSigningCertificate";

/// Check-in body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Checkin {
    /// `started` or `stopped`.
    pub state: String,
    /// Registration certificate thumbprint.
    pub thumbprint: String,
}

/// Registration renewal request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RenewRequest {
    /// Thumbprint of the certificate being renewed.
    pub thumbprint: String,
    /// New PKCS#10, base64 DER, signed with the connector's key.
    pub certificate_request: String,
}

/// Renewed registration certificate.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RenewResponse {
    /// The certificate, base64 DER.
    pub certificate: String,
    /// Thumbprint, upper-case hex.
    pub thumbprint: String,
    /// Expiry, RFC 3339.
    pub not_after: String,
}

/// Ask for the policy module's SCEP signing certificate.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SigningCertificateRequest {
    /// Registration certificate thumbprint of the asking connector.
    pub thumbprint: String,
}

/// The policy module's SCEP signing certificate.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SigningCertificate {
    /// The certificate, base64 DER.
    pub certificate: String,
    /// Thumbprint, upper-case hex.
    pub thumbprint: String,
}
