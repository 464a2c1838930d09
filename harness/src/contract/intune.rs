//! The Intune service's wire contract, as the fake serves it and a connector calls it.
//!
//! Intune's shapes follow Microsoft's public reference client (`microsoft/Intune-Resource-Access`,
//! `src/CsrValidation`): camelCase JSON, download/upload pairs, `true` as the upload answer, and
//! the SCEP `code` strings. Fields marked *harness extension* are ours: the real service carries
//! that information elsewhere.

use serde::{Deserialize, Serialize};

/// Paths of the fake Intune service.
pub mod intune_paths {
    /// PKCS requests download (service `StatelessPkiConnectorService`).
    pub const DOWNLOAD_REQUESTS: &str =
        "/StatelessPkiConnectorService/CertificateAuthorityRequests/downloadCARequests";
    /// PKCS results upload.
    pub const UPLOAD_RESULTS: &str =
        "/StatelessPkiConnectorService/CertificateAuthorityRequests/uploadCARequestResults";
    /// Revocation requests download (service `PkiConnectorFEService`).
    pub const DOWNLOAD_REVOCATIONS: &str =
        "/PkiConnectorFEService/CertificateAuthorityRequests/downloadRevocationRequests";
    /// Revocation results upload.
    pub const UPLOAD_REVOCATION_RESULTS: &str =
        "/PkiConnectorFEService/CertificateAuthorityRequests/uploadRevocationResults";
    /// SCEP challenge validation (service `ScepRequestValidationFEService`).
    pub const VALIDATE: &str = "/ScepRequestValidationFEService/ScepActions/validateRequest";
    /// SCEP success notification.
    pub const SUCCESS_NOTIFICATION: &str =
        "/ScepRequestValidationFEService/ScepActions/successNotification";
    /// SCEP failure notification.
    pub const FAILURE_NOTIFICATION: &str =
        "/ScepRequestValidationFEService/ScepActions/failureNotification";
    /// Registration certificate renewal (harness extension).
    pub const RENEW: &str = "/ConnectorRegistrationService/renewCertificate";
    /// Service check-in at start and stop (harness extension).
    pub const CHECKIN: &str = "/ConnectorRegistrationService/checkin";
    /// Admin: mint a SCEP challenge ([`super::MintChallenge`] → [`super::MintedChallenge`]).
    pub const ADMIN_CHALLENGES: &str = "/admin/challenges";
    /// Admin: queue a PKCS request ([`super::QueuePkcs`] → [`super::CaRequest`]).
    pub const ADMIN_PKCS: &str = "/admin/pkcs-requests";
    /// Admin: queue a revocation ([`super::QueueRevocation`] → [`super::RevocationRequest`]).
    pub const ADMIN_REVOCATIONS: &str = "/admin/revocation-requests";
    /// Admin: the service's recorded state ([`super::IntuneSnapshot`]).
    pub const ADMIN_STATE: &str = "/admin/state";
}

/// `downloadCARequests` body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DownloadCaRequests {
    /// Parameters.
    pub download_parameters: DownloadParameters,
}

/// Download parameters (PKCS).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DownloadParameters {
    /// 1–500.
    pub max_messages: u32,
}

/// One PKCS request as Intune hands it out.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CaRequest {
    /// Tenant GUID.
    pub tenant_id: String,
    /// User id.
    pub user_id: String,
    /// Device id.
    pub device_id: String,
    /// Request id.
    pub request_id: String,
    /// Always `PkcsCertificate` here.
    pub request_type: String,
    /// JSON-serialised [`PkcsParameters`] (a string, as the real service sends it).
    pub parameters: String,
}

/// The parameters of a PKCS request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PkcsParameters {
    /// Template name.
    pub template_name: String,
    /// CA name the profile targets.
    pub ca_name: String,
    /// PKCS#10 request, base64 DER.
    pub certificate_request: String,
}

/// `uploadCARequestResults` body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UploadCaResults {
    /// Results.
    pub results: Vec<CaRequestResult>,
}

/// One PKCS result.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CaRequestResult {
    /// Tenant GUID.
    pub tenant_id: String,
    /// User id.
    pub user_id: String,
    /// Device id.
    pub device_id: String,
    /// Request id.
    pub request_id: String,
    /// Request type, echoed.
    pub request_type: String,
    /// Whether the certificate was issued.
    pub succeeded: bool,
    /// `CARequestErrorCode` value when not succeeded (4000–4103).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// Text when not succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Thumbprint of the issued certificate (harness extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    /// Serial of the issued certificate (harness extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
}

/// `downloadRevocationRequests` body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DownloadRevocationRequests {
    /// Parameters.
    pub download_parameters: RevocationDownloadParameters,
}

/// Download parameters (revocation).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RevocationDownloadParameters {
    /// 1–500.
    pub max_requests: u32,
}

/// One revocation request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RevocationRequest {
    /// Opaque context, echoed in the result.
    pub request_context: String,
    /// Serial number to revoke, hex.
    pub serial_number: String,
    /// CA name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
    /// Device id (harness extension; the real service keeps it in the context).
    pub device_id: String,
    /// User id (harness extension).
    pub user_id: String,
}

/// `uploadRevocationResults` body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UploadRevocationResults {
    /// Results.
    pub results: Vec<RevocationResult>,
}

/// One revocation result.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RevocationResult {
    /// Context from the request.
    pub request_context: String,
    /// Whether the certificate was revoked.
    pub succeeded: bool,
    /// `CARequestErrorCode` when not succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// Text when not succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// `CARequestErrorCode` values a connector uploads.
pub mod ca_request_error {
    /// Non-retryable service exception.
    pub const NON_RETRYABLE: u32 = 4000;
    /// Bad parameters.
    pub const PARAMETER_DATA_INVALID: u32 = 4002;
    /// Certificate not found.
    pub const CERTIFICATE_NOT_FOUND: u32 = 4004;
    /// Conflict (already revoked).
    pub const CONFLICT: u32 = 4005;
    /// Retryable service exception.
    pub const RETRYABLE: u32 = 4100;
    /// Service unavailable (retryable).
    pub const SERVICE_UNAVAILABLE: u32 = 4101;
    /// Authentication failure (retryable).
    pub const AUTHENTICATION: u32 = 4103;

    /// Whether Intune should hand the request out again.
    pub fn is_retryable(code: u32) -> bool {
        (4100..=4199).contains(&code)
    }
}

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
    /// Caller's name and version.
    pub caller_info: String,
}

/// Answer to validation and notifications: `code` is `Success` or an error code name.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScepResponse {
    /// `Success` or an `ErrorCode` name (ChallengeExpired, ChallengeDecryptionError, …).
    pub code: String,
    /// Text.
    #[serde(default)]
    pub error_description: String,
    /// Device the challenge was minted for (harness extension, on validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// User the challenge was minted for (harness extension, on validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// The SCEP `ErrorCode` names the client knows; anything else is itself an error.
pub const SCEP_ERROR_CODES: &[&str] = &[
    "Unknown",
    "Success",
    "CertificateRequestDecodingFailed",
    "ChallengePasswordMissing",
    "ChallengeDeserializationError",
    "ChallengeDecryptionError",
    "ChallengeDecodingError",
    "ChallengeInvalidTimestamp",
    "ChallengeExpired",
    "SubjectNameMissing",
    "SubjectNameMismatch",
    "SubjectAltNameMissing",
    "SubjectAltNameMismatch",
    "KeyUsageMismatch",
    "KeyLengthMismatch",
    "EnhancedKeyUsageMissing",
    "EnhancedKeyUsageMismatch",
    "AadKeyIdentifierListMissing",
    "RegisteredKeyMismatch",
    "SigningCertThumbprintMismatch",
    "ScepProfileNoLongerTargetedToTheClient",
    "SignatureValidationFailed",
    "BadCertificateRequestIdInChallenge",
    "BadDeviceIdInChallenge",
    "BadUserIdInChallenge",
];

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
    /// Thumbprint, upper-case hex.
    pub certificate_thumbprint: String,
    /// Serial, upper-case hex.
    pub certificate_serial_number: String,
    /// Expiry, ISO 8601 UTC.
    pub certificate_expiration_date_utc: String,
    /// Issuing CA name.
    pub issuing_certificate_authority: String,
    /// Caller's name and version.
    pub caller_info: String,
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
    /// ≤ 255 characters.
    pub error_description: String,
    /// Caller's name and version.
    pub caller_info: String,
}

/// Registration renewal request (harness extension).
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

/// Check-in body (harness extension).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Checkin {
    /// `started` or `stopped`.
    pub state: String,
    /// Registration thumbprint.
    pub thumbprint: String,
}

/// Every non-2xx answer of Intune: `{"code": …, "message": …}`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct IntuneError {
    /// Error code name (`Forbidden`, `InternalServerError`, …).
    pub code: String,
    /// Text.
    pub message: String,
}

/// Admin: mint a challenge.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MintChallenge {
    /// Device id.
    pub device_id: String,
    /// User id.
    pub user_id: String,
    /// SCEP profile name.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Lifetime in seconds of scenario time (default 3600, NDES's 60 minutes).
    #[serde(default = "default_validity")]
    pub validity_seconds: u64,
}

fn default_profile() -> String {
    "SCEP-Default".into()
}

fn default_validity() -> u64 {
    3600
}

/// Admin: a minted challenge.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MintedChallenge {
    /// The challenge password to put in the CSR.
    pub challenge: String,
    /// Expiry, RFC 3339 scenario time.
    pub expires_at: String,
}

/// Admin: queue a PKCS request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueuePkcs {
    /// Device id.
    pub device_id: String,
    /// User id.
    pub user_id: String,
    /// Template name.
    pub template_name: String,
    /// CA name.
    pub ca_name: String,
    /// PKCS#10, base64 DER.
    pub certificate_request: String,
    /// Request id; generated from the seed when absent.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// Admin: queue a revocation.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueRevocation {
    /// Device id.
    pub device_id: String,
    /// User id.
    pub user_id: String,
    /// Serial number, hex.
    pub serial_number: String,
    /// CA name.
    pub issuer_name: String,
}

/// Admin: what Intune has recorded.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct IntuneSnapshot {
    /// PKCS requests still queued (not handed out, or handed out and not yet answered).
    pub pending_pkcs: Vec<String>,
    /// Revocation contexts still queued.
    pub pending_revocations: Vec<String>,
    /// Recorded PKCS results, in arrival order.
    pub pkcs_results: Vec<CaRequestResult>,
    /// Recorded revocation results, in arrival order.
    pub revocation_results: Vec<RevocationResult>,
    /// Notifications received: transaction id and `success` / `failure`.
    pub notifications: Vec<(String, String)>,
}
