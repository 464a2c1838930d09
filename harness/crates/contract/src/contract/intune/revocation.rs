//! `PkiConnectorFEService`: the connector downloads revocation requests and uploads their
//! results (`IntuneRevocationClient`, `CARevocationRequest`, `CARevocationResult` of the
//! reference client).

use serde::{Deserialize, Serialize};

use super::CaRequestErrorCode;

/// Download URL suffix: `POST` [`DownloadRevocationRequests`] →
/// `{"@odata.context": …, "value": [`[`RevocationRequest`]`]}`.
pub const DOWNLOAD: &str = "CertificateAuthorityRequests/downloadRevocationRequests";
/// Upload URL suffix: `POST` [`UploadRevocationResults`] → `{"@odata.context": …, "value": true}`
/// when recorded.
pub const UPLOAD: &str = "CertificateAuthorityRequests/uploadRevocationResults";
/// Most requests one download may ask for.
pub const MAX_REQUESTS: u32 = 500;
/// The OData context of a download answer (as in the reference client's tests).
pub const DOWNLOAD_CONTEXT: &str = "https://manage.microsoft.com/RACerts/StatelessPkiConnectorService/$metadata#Collection(microsoft.management.services.api.caRevocationRequest)";
/// The OData context of an upload answer.
pub const UPLOAD_CONTEXT: &str =
    "https://manage.microsoft.com/RACerts/StatelessPkiConnectorService/$metadata#Edm.Boolean";

/// Download body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DownloadRevocationRequests {
    /// Parameters.
    pub download_parameters: RevocationDownloadParameters,
}

/// `CARevocationDownloadParameters`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RevocationDownloadParameters {
    /// 1–500 (required).
    pub max_requests: u32,
    /// Only requests for this issuing CA (optional; the Java client sends `null`).
    #[serde(default)]
    pub issuer_name: Option<String>,
    /// Only requests for this provider (optional).
    #[serde(default)]
    pub certificate_provider_name: Option<String>,
}

/// `CARevocationRequest`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RevocationRequest {
    /// Opaque context, echoed in the result (required).
    pub request_context: String,
    /// Serial number to revoke, hex (required).
    pub serial_number: String,
    /// Issuing CA name.
    #[serde(default)]
    pub issuer_name: Option<String>,
    /// CA configuration string (`host\CA name`).
    #[serde(default)]
    pub ca_configuration: Option<String>,
}

/// Upload body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UploadRevocationResults {
    /// One or more results; recorded all together or not at all.
    pub results: Vec<RevocationResult>,
}

/// `CARevocationResult`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RevocationResult {
    /// Context from the request.
    pub request_context: String,
    /// Whether the certificate was revoked.
    pub succeeded: bool,
    /// Why not; the C# client always writes it (`"None"` when succeeded).
    #[serde(default)]
    pub error_code: Option<CaRequestErrorCode>,
    /// Text when not succeeded.
    #[serde(default)]
    pub error_message: Option<String>,
}
