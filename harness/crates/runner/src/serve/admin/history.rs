//! What each fake received, as JSON: the CA's journal and certificates (`GET /history/ca`),
//! what Intune recorded (`GET /history/intune`), NDES's requests (`GET /history/ndes`), and
//! the fakes' internal failures (`GET /incidents`). Histories are bounded (`serve --history`);
//! each says how many entries it forgot.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::contract::ca::CaJournalEntry;
use crate::contract::intune::admin::IntuneState;
use crate::fakes::ca::IssuedCert;
use crate::fakes::ndes::{NdesOperation, NdesOutcome, NdesRequestRecord};
use crate::serve::World;
use crate::sim::format_time;

/// `GET /history/ca`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CaHistory {
    /// The most recent calls, oldest first.
    pub journal: Vec<CaJournalEntry>,
    /// Calls forgotten.
    pub journal_dropped: u64,
    /// The most recent certificates issued, oldest first.
    pub issued: Vec<IssuedView>,
    /// Certificates forgotten (their serials answer `not_found`).
    pub issued_dropped: u64,
}

/// A certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct IssuedView {
    /// Serial, upper-case hex.
    pub serial: String,
    /// SHA-1 thumbprint, upper-case hex.
    pub thumbprint: String,
    /// Subject common name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<String>,
    /// Template.
    pub template: String,
    /// SHA-256 of the request, upper-case hex.
    pub request_digest: String,
    /// Expiry, RFC 3339 scenario time.
    pub not_after: String,
    /// Whether revoked.
    pub revoked: bool,
    /// When revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Revocation reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<u8>,
}

impl From<IssuedCert> for IssuedView {
    fn from(c: IssuedCert) -> IssuedView {
        IssuedView {
            serial: c.serial,
            thumbprint: c.thumbprint,
            subject_cn: c.subject_cn,
            template: c.template,
            request_digest: c.request_digest,
            not_after: format_time(c.not_after),
            revoked: c.revoked,
            revoked_at: c.revoked_at.map(format_time),
            reason: c.reason,
        }
    }
}

/// `GET /history/ndes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct NdesHistory {
    /// The most recent requests, oldest first.
    pub requests: Vec<NdesRequestView>,
    /// Requests forgotten.
    pub dropped: u64,
}

/// One request NDES received and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NdesRequestView {
    /// `GetCACaps`, `GetCACert`, `PKIOperation`, or the operation as sent.
    pub operation: String,
    /// messageType (`PKCSReq`, `RenewalReq`, …), when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    /// transactionID, when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// `answered`, `success`, `failure`, `http` or `hung`.
    pub outcome: String,
    /// The issued certificate's thumbprint (`success`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    /// The failInfo sent (`failure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_info: Option<String>,
    /// The HTTP status (`http`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why (`failure`, `http`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<NdesRequestRecord> for NdesRequestView {
    fn from(r: NdesRequestRecord) -> NdesRequestView {
        let operation = match r.operation {
            NdesOperation::GetCaCaps => "GetCACaps".to_string(),
            NdesOperation::GetCaCert => "GetCACert".to_string(),
            NdesOperation::PkiOperation => "PKIOperation".to_string(),
            NdesOperation::Other(op) => op,
        };
        let mut v = NdesRequestView {
            operation,
            message_type: r.message_type.map(|m| m.to_string()),
            transaction_id: r.transaction_id,
            outcome: String::new(),
            thumbprint: None,
            fail_info: None,
            status: None,
            reason: None,
        };
        v.outcome = match r.outcome {
            NdesOutcome::Answered => "answered",
            NdesOutcome::Success { thumbprint } => {
                v.thumbprint = Some(thumbprint);
                "success"
            }
            NdesOutcome::Failure { fail_info, reason } => {
                v.fail_info = Some(fail_info.to_string());
                v.reason = Some(reason);
                "failure"
            }
            NdesOutcome::Http { status, reason } => {
                v.status = Some(status);
                v.reason = Some(reason);
                "http"
            }
            NdesOutcome::Hung => "hung",
        }
        .to_string();
        v
    }
}

/// `GET /incidents`: internal failures of each fake (each one a harness error).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(super) struct Incidents {
    /// The fake CA's.
    pub ca: Vec<String>,
    /// The fake Intune's.
    pub intune: Vec<String>,
    /// The fake NDES's.
    pub ndes: Vec<String>,
    /// The admin API's own.
    pub admin: Vec<String>,
}

pub(super) async fn ca(State(w): State<Arc<World>>) -> Json<CaHistory> {
    let (journal_dropped, issued_dropped) = w.ca.forgotten();
    Json(CaHistory {
        journal: w.ca.journal(),
        journal_dropped,
        issued: w.ca.issued().into_iter().map(IssuedView::from).collect(),
        issued_dropped,
    })
}

pub(super) async fn intune(State(w): State<Arc<World>>) -> Json<IntuneState> {
    Json(w.intune.state())
}

pub(super) async fn ndes(State(w): State<Arc<World>>) -> Json<NdesHistory> {
    Json(NdesHistory {
        requests: w
            .ndes
            .requests()
            .into_iter()
            .map(NdesRequestView::from)
            .collect(),
        dropped: w.ndes.requests_dropped(),
    })
}

pub(super) async fn incidents(State(w): State<Arc<World>>) -> Json<Incidents> {
    Json(Incidents {
        ca: w.ca.incidents(),
        intune: w.intune.incidents(),
        ndes: w.ndes.incidents(),
        admin: w.admin_incidents.all(),
    })
}
