//! What the fake Intune records about the SCEP validation API's callers beyond what it answers:
//! the transport deviations it judged instead of refusing ([`TransportFinding`], in
//! judge mode), and every `ScepActions` call with the fields a gateway's conformance is
//! judged by ([`ScepCall`]).

use serde::{Deserialize, Serialize};

/// How the fake treats a transport deviation on the SCEP validation API.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum TransportMode {
    /// Refuse it (400 `BadRequest`), as the fake always has.
    #[default]
    Strict,
    /// Answer as the service would and record a [`TransportFinding`]: judge, don't block.
    Judge,
}

/// A transport rule of the SCEP validation API.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum TransportRule {
    /// No `client-request-id` header.
    ClientRequestIdMissing,
    /// A `client-request-id` that is not a GUID.
    ClientRequestIdNotGuid,
    /// No `api-version` header.
    ApiVersionMissing,
    /// An `api-version` other than the service's.
    ApiVersionWrong,
}

impl TransportRule {
    /// The rule's name, as findings print it.
    pub fn name(self) -> &'static str {
        match self {
            TransportRule::ClientRequestIdMissing => "client_request_id_missing",
            TransportRule::ClientRequestIdNotGuid => "client_request_id_not_guid",
            TransportRule::ApiVersionMissing => "api_version_missing",
            TransportRule::ApiVersionWrong => "api_version_wrong",
        }
    }
}

/// One deviation the fake recorded instead of refusing the call.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TransportFinding {
    /// Scenario time.
    pub at: String,
    /// The path called.
    pub path: String,
    /// The rule broken.
    pub rule: TransportRule,
    /// What the header said (truncated to 64 characters), if it was there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub got: Option<String>,
}

/// Which `ScepActions` operation.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub enum ScepOp {
    /// `validateRequest`.
    ValidateRequest,
    /// `successNotification`.
    SuccessNotification,
    /// `failureNotification`.
    FailureNotification,
}

/// One `ScepActions` call as it reached the service, and its answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScepCall {
    /// The order of arrival (0, 1, …), across every `ScepActions` call.
    pub seq: u64,
    /// Which operation.
    pub op: ScepOp,
    /// The `client-request-id` sent (truncated to 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// The body's `transactionId`, when the body parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// SHA-1 (upper-case hex) of the DER the body's `certificateRequest` carries, when it is
    /// base64: which device's request the call is about, whatever its `transactionId` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_thumbprint: Option<String>,
    /// HTTP status answered.
    pub status: u16,
    /// The `code` answered, when the answer was a SCEP response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A success notification's thumbprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    /// A success notification's serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// A success notification's expiry, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// A failure notification's hResult.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h_result: Option<i64>,
    /// A failure notification's errorDescription (truncated to 300 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}
