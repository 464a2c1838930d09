//! What the world recorded in a run, beside the event stream: the requests Intune queued, what
//! the CA issued and revoked, what Intune recorded, how each enrollment went at the policy seam,
//! and which events each step wrote. The conformance rules judge the stream against it, so a
//! value such as a thumbprint is checked against the certificate the CA really issued, whatever
//! CSR bytes the connector sent. `run --record DIR` writes it as JSON beside the events, and
//! `check --world FILE` reads it back, so both judge with the same data.

use serde::{Deserialize, Serialize};

use crate::contract::ca::CaJournalEntry;
use crate::contract::intune::admin::IntuneState;

/// Everything the conformance rules read besides the stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldRecord {
    /// The name the CA issues as (`ca_name` of every PKCS and revocation event).
    pub ca_name: String,
    /// The scenario's steps in order, with the events each wrote.
    pub steps: Vec<StepMark>,
    /// Every PKCS request queued at Intune, in queue order.
    pub pkcs: Vec<PkcsRequest>,
    /// Every revocation queued at Intune, in queue order.
    pub revocations: Vec<RevocationRequest>,
    /// Every certificate the CA issued, in issue order.
    pub issued: Vec<IssuedCertificate>,
    /// The CA's journal of calls (issue, revoke, …), in order.
    pub ca_journal: Vec<CaJournalEntry>,
    /// What Intune recorded: upload ledger, notifications, validations, renewals.
    pub intune: IntuneState,
    /// Every enrollment the policy module was asked about, in order.
    pub enrollments: Vec<EnrollmentRecord>,
}

/// One step and the events written while it ran: sequence numbers `first..=last`, none when
/// `first > last`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepMark {
    /// The step's keyword (`start`, `sync`, `enroll`, …).
    pub keyword: String,
    /// Its line in the scenario file.
    pub line: u64,
    /// Sequence number of the first event it wrote (one past the last before it).
    pub first: u64,
    /// Sequence number of the last event it wrote.
    pub last: u64,
}

impl StepMark {
    /// Whether event `seq` was written during this step.
    pub fn holds(&self, seq: u64) -> bool {
        self.first <= seq && seq <= self.last
    }
}

/// A PKCS request as Intune queued it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkcsRequest {
    /// Intune's request id.
    pub request_id: String,
    /// The device it is for.
    pub device_id: String,
    /// The user it is for.
    pub user_id: String,
    /// The certificate template.
    pub template_name: String,
    /// SHA-256 of the PKCS#10 request's DER, upper-case hex; `None` when it is not base64.
    pub csr_sha256: Option<String>,
}

/// A revocation as Intune queued it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationRequest {
    /// Intune's request context (the `request_id` of its events).
    pub request_id: String,
    /// The serial number to revoke.
    pub serial_number: String,
}

/// A certificate the CA issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    /// Serial, upper-case hex.
    pub serial_number: String,
    /// SHA-1 thumbprint, upper-case hex.
    pub thumbprint: String,
    /// Expiry, RFC 3339.
    pub not_after: String,
    /// SHA-256 of the PKCS#10 request it was issued for, upper-case hex.
    pub csr_sha256: String,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// An enrollment as the policy module saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentRecord {
    /// NDES's transaction id.
    pub transaction_id: String,
    /// The request's subject common name.
    pub subject_cn: Option<String>,
    /// What the connector decided; `None` when it never answered.
    pub decision: Option<PolicyDecision>,
    /// How NDES said issuance ended, when it notified.
    pub outcome: Option<IssueOutcome>,
    /// The certificate NDES told the connector it issued.
    pub issued: Option<NotifiedCertificate>,
}

/// What the policy module answered NDES.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyDecision {
    /// Issue the request.
    Issue,
    /// Refuse it.
    Refuse,
}

/// How NDES said issuance ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueOutcome {
    /// The CA issued the certificate.
    Issued,
    /// The CA refused.
    CaDenied,
    /// The CA failed.
    CaFailed,
}

/// The certificate named in an `issued` notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifiedCertificate {
    /// SHA-1 thumbprint.
    pub thumbprint: String,
    /// Serial number.
    pub serial_number: String,
}
