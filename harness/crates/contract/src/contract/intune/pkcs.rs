//! `StatelessPkiConnectorService`: the connector downloads PKCS certificate requests and
//! uploads their results.
//!
//! There is no public specification of this service. The shapes follow the reference client's
//! October 2020 draft (`IntuneCARequestClient`, `CARequest`, `CARequestResult`,
//! `CARequestDownloadParameters`, commit bb0c1a3 of `microsoft/Intune-Resource-Access`), with
//! request type `PkcsCertificate` and the parameters our model needs. The fake is as strict
//! about ids and duplicates as the revocation service.

use serde::{Deserialize, Serialize};

use super::CaRequestErrorCode;

/// Download URL suffix: `POST` [`DownloadCaRequests`] → a JSON array of [`CaRequest`].
pub const DOWNLOAD: &str = "CertificateAuthorityRequests/downloadCARequests";
/// Upload URL suffix: `POST` [`UploadCaRequestResults`] → the literal `true` when recorded.
pub const UPLOAD: &str = "CertificateAuthorityRequests/uploadCARequestResults";
/// Most requests one download may ask for.
pub const MAX_MESSAGES: u32 = 500;
/// `requestType` of every PKCS request.
pub const REQUEST_TYPE: &str = "PkcsCertificate";

/// Download body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DownloadCaRequests {
    /// Parameters.
    pub download_parameters: CaRequestDownloadParameters,
}

/// `CARequestDownloadParameters`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CaRequestDownloadParameters {
    /// 1–500 (required).
    pub max_messages: u32,
    /// Only requests for this provider (optional).
    #[serde(default)]
    pub certificate_provider_name: Option<String>,
    /// Only requests for this issuing CA (optional).
    #[serde(default)]
    pub issuer_name: Option<String>,
    /// Only requests of this type (optional).
    #[serde(default)]
    pub request_type: Option<String>,
}

/// `CARequest`: one request handed out.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CaRequest {
    /// Tenant GUID.
    pub tenant_id: String,
    /// User id.
    pub user_id: String,
    /// Device id.
    pub device_id: String,
    /// Request id (a GUID).
    pub request_id: String,
    /// [`REQUEST_TYPE`].
    pub request_type: String,
    /// JSON-serialised [`PkcsParameters`] (a string, as the draft carries it).
    pub parameters: String,
}

/// What a PKCS request asks for (the content of [`CaRequest::parameters`]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PkcsParameters {
    /// Certificate template name.
    pub template_name: String,
    /// The CA the profile targets.
    pub ca_name: String,
    /// PKCS#10 request, base64 DER.
    pub certificate_request: String,
}

/// Upload body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UploadCaRequestResults {
    /// One or more results; recorded all together or not at all.
    pub results: Vec<CaRequestResult>,
}

/// `CARequestResult`: what came of one request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CaRequestResult {
    /// Tenant GUID, echoed.
    pub tenant_id: String,
    /// User id, echoed.
    pub user_id: String,
    /// Device id, echoed.
    pub device_id: String,
    /// Request id, echoed.
    pub request_id: String,
    /// Request type, echoed.
    pub request_type: String,
    /// Whether the certificate was issued.
    pub succeeded: bool,
    /// Why not (`None` or absent when succeeded). Retryable codes put the request back in
    /// the queue.
    #[serde(default)]
    pub error_code: Option<CaRequestErrorCode>,
    /// Text when not succeeded.
    #[serde(default)]
    pub error_message: Option<String>,
}
