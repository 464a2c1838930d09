//! The legacy policy module's calls: the NDES plug-in of the (pre-2021) Intune connector
//! verifies each request with the Certificate Registration Point and notifies it afterwards.
//!
//! Microsoft documents only the paths, the success statuses (201 and 204) and the user agent
//! `NDES_Plugin`; the bodies are the harness's model, carrying what `ScepActions` carries. The
//! fake backs both with the same challenge store and validation. The caller authenticates with
//! its SCEP signing certificate ([`super::transport::CLIENT_CERT`]), which the connector service
//! downloads from the registration service.

use serde::{Deserialize, Serialize};

use super::ScepErrorCode;

/// `POST` [`VerifyRequest`] → 201 [`VerifyAnswer`] when allowed, 403 [`VerifyAnswer`] when
/// refused.
pub const VERIFY_REQUEST: &str = "Certificate/VerifyRequest";
/// `POST` [`Notify`] → 204 when recorded.
pub const NOTIFY: &str = "Certificate/Notify";
/// The user agent the legacy plug-in sends.
pub const USER_AGENT: &str = "NDES_Plugin";

/// Verify a SCEP request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    /// SCEP transaction id.
    pub transaction_id: String,
    /// PKCS#10, base64 DER.
    pub certificate_request: String,
    /// The caller's name and version.
    pub caller_info: String,
}

/// The verdict, with the device and user the challenge was minted for when it could be read.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VerifyAnswer {
    /// `Success` or the refusal's name, as [`super::scep::ScepResponse::code`].
    pub code: String,
    /// Text for people.
    #[serde(default)]
    pub error_description: String,
    /// The device the challenge names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The user the challenge names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl VerifyAnswer {
    /// The code, if it is one of the known names.
    pub fn parsed(&self) -> Option<ScepErrorCode> {
        self.code.parse().ok()
    }
}

/// How an allowed request ended.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum NotifyOutcome {
    /// Issued.
    Success {
        /// SHA-1 thumbprint, upper-case hex.
        certificate_thumbprint: String,
        /// Serial number, hex.
        certificate_serial_number: String,
        /// Expiry, ISO 8601 UTC.
        certificate_expiration_date_utc: String,
        /// Issuing CA name.
        issuing_certificate_authority: String,
    },
    /// Not issued.
    Failure {
        /// 32-bit HRESULT.
        h_result: i64,
        /// At most 255 characters.
        error_description: String,
    },
}

/// Notify the outcome of a verified request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Notify {
    /// SCEP transaction id (must have been verified).
    pub transaction_id: String,
    /// PKCS#10, base64 DER.
    pub certificate_request: String,
    /// The outcome.
    pub outcome: NotifyOutcome,
    /// The caller's name and version.
    pub caller_info: String,
}
