//! The harness's controls of the fake Intune, at `/admin/*` on the same port: mint challenges,
//! queue requests, read what the service recorded. None of this exists on the real service.

use serde::{Deserialize, Serialize};

use super::judged::{ScepCall, TransportFinding};
use super::CaRequestErrorCode;

/// `POST` [`MintChallenge`] → [`MintedChallenge`].
pub const CHALLENGES: &str = "/admin/challenges";
/// `POST` [`QueuePkcs`] → [`super::pkcs::CaRequest`].
pub const PKCS_REQUESTS: &str = "/admin/pkcs-requests";
/// `POST` [`QueueRevocation`] → [`super::revocation::RevocationRequest`].
pub const REVOCATION_REQUESTS: &str = "/admin/revocation-requests";
/// `GET` → [`IntuneState`].
pub const STATE: &str = "/admin/state";

/// Mint a one-time SCEP challenge.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MintChallenge {
    /// The device it is for (the CSR's subject must name it).
    pub device_id: String,
    /// The device's user.
    pub user_id: String,
    /// SCEP profile name (default `SCEP-Default`).
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Lifetime in seconds of scenario time (default 3600, NDES's 60 minutes; at most
    /// [`MAX_CHALLENGE_VALIDITY_SECONDS`]).
    #[serde(default = "default_validity")]
    pub validity_seconds: u64,
}

/// The longest challenge lifetime the fake mints: a year.
pub const MAX_CHALLENGE_VALIDITY_SECONDS: u64 = 366 * 86_400;

fn default_profile() -> String {
    "SCEP-Default".into()
}

fn default_validity() -> u64 {
    3600
}

/// A minted challenge.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MintedChallenge {
    /// The challenge password to put in the CSR: an opaque token.
    pub challenge: String,
    /// Expiry, RFC 3339 scenario time.
    pub expires_at: String,
}

/// Queue a PKCS request.
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

/// Queue a revocation.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueRevocation {
    /// Serial number, hex.
    pub serial_number: String,
    /// Issuing CA name.
    pub issuer_name: String,
    /// CA configuration string.
    #[serde(default)]
    pub ca_configuration: Option<String>,
}

/// Which queue.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    /// PKCS requests.
    Pkcs,
    /// Revocation requests.
    Revocation,
}

/// What the service did with one uploaded result.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum UploadVerdict {
    /// Recorded as the request's final result; the request left the queue.
    Recorded,
    /// Recorded as a retryable failure; the request went back to the queue.
    Requeued,
    /// Refused: no request with this id was ever queued.
    RefusedUnknown,
    /// Refused: the request already has its final result.
    RefusedDuplicate,
    /// Refused: the result contradicts itself (succeeded with an error code or message).
    RefusedContradictory,
    /// Refused: the result is valid, but another result in the same upload was refused.
    RefusedWithBatch,
    /// A fault answered the call; nothing was read.
    Faulted,
}

impl UploadVerdict {
    /// Whether the service kept the result.
    pub fn recorded(self) -> bool {
        matches!(self, UploadVerdict::Recorded | UploadVerdict::Requeued)
    }
}

/// One uploaded result and what became of it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UploadAttempt {
    /// Which queue.
    pub queue: Queue,
    /// Request id or revocation context.
    pub request_id: String,
    /// Whether the result says it succeeded.
    pub succeeded: bool,
    /// Its error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<CaRequestErrorCode>,
    /// What the service did with it.
    pub verdict: UploadVerdict,
}

/// One call the service received.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    /// Scenario time, RFC 3339.
    pub at: String,
    /// The path called.
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// The `client-request-id` sent, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// The fault that answered, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// Everything the service recorded.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct IntuneState {
    /// PKCS request ids still queued (handed out or not), oldest first.
    pub pending_pkcs: Vec<String>,
    /// Revocation contexts still queued.
    pub pending_revocations: Vec<String>,
    /// Every PKCS request ever queued, with the device it was for, in queue order.
    pub queued_pkcs: Vec<(String, String)>,
    /// Every revocation context ever queued, with its serial number.
    pub queued_revocations: Vec<(String, String)>,
    /// For every request ever queued, in queue order: what its uploads came to. The
    /// exactly-once check reads this.
    pub ledger: Vec<LedgerEntry>,
    /// Results uploaded for ids that were never queued (unexpected).
    pub unknown_uploads: u64,
    /// Up to ten of those ids.
    pub unknown_examples: Vec<String>,
    /// The most recent results uploaded, in arrival order, with their verdicts (bounded).
    pub uploads: Vec<UploadAttempt>,
    /// Upload attempts not kept in `uploads` because the history is bounded.
    pub uploads_dropped: u64,
    /// Notifications accepted: transaction id and `success` / `failure`.
    pub notifications: Vec<(String, String)>,
    /// SCEP validations answered (`ScepActions/validateRequest` and the legacy CRP), in order
    /// (bounded like notifications).
    #[serde(default)]
    pub validations: Vec<ValidationRecord>,
    /// Registration certificates issued by `renewCertificate`, in order (bounded likewise).
    #[serde(default)]
    pub renewals: Vec<RenewalRecord>,
    /// The most recent calls (bounded).
    pub calls: Vec<CallRecord>,
    /// Calls not kept in `calls` because the history is bounded.
    pub calls_dropped: u64,
    /// Every `ScepActions` call, in arrival order (bounded like `calls`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scep_calls: Vec<ScepCall>,
    /// Transport deviations judged instead of refused (judge mode; bounded like `calls`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transport_findings: Vec<TransportFinding>,
}

/// One SCEP validation and Intune's answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ValidationRecord {
    /// The transaction id the caller sent.
    pub transaction_id: String,
    /// The `ErrorCode` name answered (`Success` allows).
    pub code: String,
    /// The device the challenge was minted for, when the challenge could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The user the challenge was minted for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// A registration certificate issued by a renewal.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RenewalRecord {
    /// SHA-1 thumbprint, upper-case hex.
    pub thumbprint: String,
    /// Expiry, RFC 3339.
    pub not_after: String,
}

/// What the uploads for one queued request came to.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    /// Which queue.
    pub queue: Queue,
    /// Request id or revocation context.
    pub request_id: String,
    /// Final results recorded (exactly one when all went well).
    pub recorded: u32,
    /// Retryable failures recorded (the request went back to the queue each time).
    pub requeued: u32,
    /// Results refused because the request already had its final one.
    pub duplicates: u32,
    /// Results refused because they contradicted themselves.
    pub contradictory: u32,
    /// Whether the request is still queued.
    pub pending: bool,
}
