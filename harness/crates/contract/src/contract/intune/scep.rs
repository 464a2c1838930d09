//! `ScepRequestValidationFEService`: a SCEP server asks Intune whether to issue a request, then
//! tells it how issuance ended (`IntuneScepValidator` / `IntuneScepServiceClient` of the
//! reference client). Every call answers [`ScepResponse`].

use serde::{Deserialize, Serialize};

use super::ScepErrorCode;

/// `POST` [`ValidateBody`] → [`ScepResponse`].
pub const VALIDATE: &str = "ScepActions/validateRequest";
/// `POST` [`SuccessNotificationBody`] → [`ScepResponse`].
pub const SUCCESS_NOTIFICATION: &str = "ScepActions/successNotification";
/// `POST` [`FailureNotificationBody`] → [`ScepResponse`].
pub const FAILURE_NOTIFICATION: &str = "ScepActions/failureNotification";
/// Longest `errorDescription` a failure notification may carry.
pub const MAX_ERROR_DESCRIPTION: usize = 255;

/// `validateRequest` body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ValidateBody {
    /// The request.
    pub request: ValidateRequest,
}

/// A CSR to validate.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ValidateRequest {
    /// SCEP transaction id.
    pub transaction_id: String,
    /// PKCS#10, base64 DER.
    pub certificate_request: String,
    /// The caller's provider name and version.
    pub caller_info: String,
}

/// Every answer of the service: `Success`, or why not.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScepResponse {
    /// `Success` or the refusal's name. Kept as text: a client must treat a name outside
    /// [`ScepErrorCode`] as an error in itself, so it must be able to see one.
    pub code: String,
    /// Text for people.
    #[serde(default)]
    pub error_description: String,
}

impl ScepResponse {
    /// An answer with `code`.
    pub fn new(code: ScepErrorCode, description: impl Into<String>) -> ScepResponse {
        ScepResponse {
            code: code.name().into(),
            error_description: description.into(),
        }
    }

    /// The code, if it is one of the known names.
    pub fn parsed(&self) -> Option<ScepErrorCode> {
        self.code.parse().ok()
    }
}

/// `successNotification` body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SuccessNotificationBody {
    /// The notification.
    pub notification: SuccessNotification,
}

/// An issued SCEP certificate.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SuccessNotification {
    /// SCEP transaction id.
    pub transaction_id: String,
    /// PKCS#10, base64 DER.
    pub certificate_request: String,
    /// SHA-1 thumbprint, upper-case hex.
    pub certificate_thumbprint: String,
    /// Serial number, hex.
    pub certificate_serial_number: String,
    /// Expiry, ISO 8601 UTC.
    pub certificate_expiration_date_utc: String,
    /// Issuing CA name.
    pub issuing_certificate_authority: String,
    /// The caller's provider name and version.
    pub caller_info: String,
    /// CA configuration (newer clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_configuration: Option<String>,
    /// Certificate authority (newer clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
}

/// `failureNotification` body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FailureNotificationBody {
    /// The notification.
    pub notification: FailureNotification,
}

/// A SCEP request that was not issued.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FailureNotification {
    /// SCEP transaction id.
    pub transaction_id: String,
    /// PKCS#10, base64 DER.
    pub certificate_request: String,
    /// 32-bit HRESULT.
    pub h_result: i64,
    /// At most [`MAX_ERROR_DESCRIPTION`] characters.
    pub error_description: String,
    /// The caller's provider name and version.
    pub caller_info: String,
}
