//! The reference connector's events in the `unified-2021` dialect: what the 2021+ Certificate
//! Connector would write to its Admin and Operational channels for each event the model
//! writes in the legacy vocabulary (the scenario library's language).
//!
//! The mapping is data ([`MAPPING`]): each row names the legacy event and condition, the 2021
//! events written for it, whether the correspondence rests on Microsoft's published
//! descriptions or is inference, and the scenario that shows it. [`Translator`] applies it to a
//! stream, event by event; `docs/event-log.md` prints the same rows, and a test compares them.
//! No legacy→2021 correspondence is published anywhere: a row is `published` only where the
//! published description of every event it writes names exactly the legacy condition.

use std::collections::BTreeSet;

use crate::catalog::unified::{Basis, UnifiedEvent};
use crate::catalog::{Detail, EventId};
use crate::event::unified::UnifiedRecord;
use crate::event::{Details, EventRecord};

use EventId as L;
use UnifiedEvent as U;

/// One 2021 event a row writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Written once.
    Once(UnifiedEvent),
    /// Written once per failed attempt before the last (the legacy `attempts` detail less one).
    PerRetry(UnifiedEvent),
    /// Written once if the request the event names was issued earlier in the stream.
    IfIssued(UnifiedEvent),
}

impl Step {
    /// The event written.
    pub fn event(self) -> UnifiedEvent {
        match self {
            Step::Once(e) | Step::PerRetry(e) | Step::IfIssued(e) => e,
        }
    }

    /// For the mapping table: `4009 ScepNotifyAttemptFailed ×(attempts−1)`.
    pub fn describe(self) -> String {
        let e = self.event();
        match self {
            Step::Once(_) => format!("{} {}", e.id(), e.name()),
            Step::PerRetry(_) => format!("{} {} ×(attempts−1)", e.id(), e.name()),
            Step::IfIssued(_) => format!("{} {} (if the request was issued)", e.id(), e.name()),
        }
    }
}

/// Which legacy records a row is about, besides their event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Every one.
    Always,
    /// `request_kind: pkcs`.
    Pkcs,
    /// `request_kind: revoke`.
    Revoke,
    /// `request_kind: signing_certificate`.
    SigningCertificate,
    /// The registration certificate was unusable (a 10302 since the last stop): no check-in.
    NoCheckIn,
    /// The record has a `reason`: its last attempt failed.
    Failed,
    /// The record carries a thumbprint: the certificate was issued.
    Issued,
    /// No thumbprint: the CA did not issue.
    NotIssued,
}

impl When {
    /// For the mapping table.
    pub fn describe(self) -> &'static str {
        match self {
            When::Always => "",
            When::Pkcs => "request_kind pkcs",
            When::Revoke => "request_kind revoke",
            When::SigningCertificate => "request_kind signing_certificate",
            When::NoCheckIn => "after a 10302 (no usable registration, no check-in)",
            When::Failed => "with a reason (the last attempt failed)",
            When::Issued => "with a thumbprint (issued, not notified)",
            When::NotIssued => "without a thumbprint (the CA did not issue)",
        }
    }
}

/// One row of the mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The legacy events.
    pub legacy: &'static [EventId],
    /// Which of their records.
    pub when: When,
    /// The 2021 events written, in order (none: the 2021 connector has no published event).
    pub writes: &'static [Step],
    /// Published descriptions, or inference.
    pub basis: Basis,
    /// A library scenario whose stream holds it.
    pub scenario: Option<&'static str>,
    /// Why, in a line.
    pub note: &'static str,
}

macro_rules! row {
    ([$($l:ident),*], $when:ident, [$($step:ident($e:ident)),*], $basis:ident, $scenario:expr, $note:literal) => {
        Row { legacy: &[$(L::$l),*], when: When::$when, writes: &[$(Step::$step(U::$e)),*],
              basis: Basis::$basis, scenario: $scenario, note: $note }
    };
}

/// The mapping, first matching row wins.
pub const MAPPING: &[Row] = &[
    row!(
        [StartedConnectorService, StoppedConnectorService],
        NoCheckIn,
        [],
        Inferred,
        Some("registration-missing"),
        "No registration certificate, no message to Intune."
    ),
    row!(
        [StartedConnectorService, StoppedConnectorService],
        Failed,
        [
            PerRetry(HealthMessageUploadFailedAttempt),
            Once(HealthMessageUploadFailure)
        ],
        Inferred,
        Some("lifecycle-stop-checkin-error"),
        "The check-in at start and stop is taken for a health message."
    ),
    row!(
        [StartedConnectorService, StoppedConnectorService],
        Always,
        [
            PerRetry(HealthMessageUploadFailedAttempt),
            Once(HealthMessageUploadSuccess)
        ],
        Inferred,
        Some("lifecycle-start-checkin-error"),
        "The check-in at start and stop is taken for a health message."
    ),
    row!(
        [
            CertificateRenewalSuccess,
            CertificateRenewalFailure,
            RetrieveCertificateWarning,
            RetrieveCertificateError
        ],
        Always,
        [],
        Inferred,
        Some("registration-renewal"),
        "No published 2021 id for the registration certificate: nothing is written."
    ),
    row!(
        [PkcsCertIssueSuccess],
        Always,
        [PerRetry(PkcsIssuedFailedAttempt), Once(PkcsIssuedSuccess)],
        Inferred,
        Some("pkcs-issue-ca-retried"),
        "Issued, after as many failed attempts as the legacy attempts less one."
    ),
    row!(
        [PkcsCertIssueFailure],
        Always,
        [
            PerRetry(PkcsIssuedFailedAttempt),
            Once(PkcsIssuedFailure),
            Once(PkcsRequestFailure)
        ],
        Inferred,
        Some("pkcs-issue-ca-unavailable"),
        "1001 is published as \"failed to fulfil or upload\"; 1052 is inferred from its name."
    ),
    row!(
        [RevokeCertSuccess],
        Always,
        [PerRetry(RevokeFailedAttempt), Once(RevokeSuccess)],
        Inferred,
        Some("revoke-ca-retried"),
        "Revoked, after the failed attempts."
    ),
    row!(
        [RevokeCertFailure],
        Always,
        [PerRetry(RevokeFailedAttempt), Once(RevokeFailure)],
        Inferred,
        Some("revoke-access-denied"),
        "Note 3051 is the failure, 3052 the failed attempt."
    ),
    row!(
        [UploadSuccess],
        Pkcs,
        [Once(PkcsUploadSuccess), IfIssued(PkcsRequestSuccess)],
        Published,
        Some("pkcs-issue"),
        "1000 is published as \"uploaded a PKCS request to Intune\" (a fulfilled one)."
    ),
    row!(
        [UploadFailure],
        Pkcs,
        [Once(PkcsUploadFailure), Once(PkcsRequestFailure)],
        Published,
        Some("upload-error"),
        "1101 upload failure; 1001 \"failed to fulfil or upload\"."
    ),
    row!(
        [UploadSuccess],
        Revoke,
        [Once(RevokeUploadSuccess)],
        Inferred,
        Some("revoke"),
        "A revocation result uploaded."
    ),
    row!(
        [UploadFailure],
        Revoke,
        [Once(RevokeUploadFailure)],
        Inferred,
        None,
        "A revocation result not uploaded."
    ),
    row!(
        [DownloadSuccess],
        Pkcs,
        [Once(PkcsDownloadSuccess)],
        Inferred,
        Some("download"),
        "PKCS requests downloaded."
    ),
    row!(
        [DownloadFailure],
        Pkcs,
        [Once(PkcsDownloadFailure)],
        Inferred,
        Some("download-error"),
        "PKCS requests not downloaded."
    ),
    row!(
        [DownloadSuccess],
        Revoke,
        [Once(RevokeDownloadSuccess), Once(RevokeRequestSuccess)],
        Inferred,
        Some("revoke"),
        "3000/3001 are described as downloading requests."
    ),
    row!(
        [DownloadFailure],
        Revoke,
        [Once(RevokeDownloadFailure), Once(RevokeRequestFailure)],
        Inferred,
        None,
        "3000/3001 are described as downloading requests."
    ),
    row!(
        [DownloadSuccess, DownloadFailure],
        SigningCertificate,
        [],
        Inferred,
        Some("scep-signing-certificate-downloaded"),
        "No published 2021 id for the signing certificate's download: nothing is written."
    ),
    row!(
        [CrpVerifyMetricSuccess],
        Always,
        [Once(ScepRequestReceived), Once(ScepVerifySuccess)],
        Inferred,
        Some("scep-enroll"),
        "The research's inferred 20500→4004, with the request's arrival first."
    ),
    row!(
        [CrpVerifyMetricWarning, CrpVerifyMetricFailure],
        Always,
        [Once(ScepRequestReceived), Once(ScepVerifyFailure)],
        Inferred,
        Some("scep-challenge-expired"),
        "The research's inferred 20501/20502→4005."
    ),
    row!(
        [CrpNotifyMetricSuccess],
        Always,
        [
            Once(ScepIssuedSuccess),
            PerRetry(ScepNotifyAttemptFailed),
            Once(ScepNotifySuccess),
            Once(ScrepRequestSuccess)
        ],
        Published,
        Some("scep-notify-retried"),
        "4009 \"will try again\", 4000 \"processed and notified Intune\"."
    ),
    row!(
        [CrpNotifyMetricFailure],
        Issued,
        [
            Once(ScepIssuedSuccess),
            PerRetry(ScepNotifyAttemptFailed),
            Once(ScepRequestUploadFailure)
        ],
        Published,
        Some("scep-notify-error"),
        "4002 is published as \"processed but notify failed\"."
    ),
    row!(
        [CrpNotifyMetricFailure],
        NotIssued,
        [Once(ScepIssuedFailure), Once(ScepRequestIssuedFailure)],
        Published,
        Some("scep-notify-ca-denied"),
        "4001 is published as \"failed, Intune notified\"."
    ),
];

/// What a download or upload was about, from its `request_kind` detail.
fn kind(r: &EventRecord) -> Option<When> {
    match r.details.get(Detail::RequestKind)? {
        "pkcs" => Some(When::Pkcs),
        "revoke" => Some(When::Revoke),
        "signing_certificate" => Some(When::SigningCertificate),
        _ => None,
    }
}

/// Failed attempts before the last: the `attempts` detail less one (0 when absent).
fn retries(r: &EventRecord) -> u32 {
    r.details
        .get(Detail::Attempts)
        .and_then(|a| a.trim().parse::<u32>().ok())
        .map_or(0, |a| a.saturating_sub(1))
}

/// The details a failed attempt carries: what names the request, and the attempt's number.
fn attempt_details(r: &EventRecord, attempt: u32) -> Details {
    let mut d = Details::new();
    for key in [
        Detail::DeviceId,
        Detail::UserId,
        Detail::TransactionId,
        Detail::RequestId,
    ] {
        if let Some(v) = r.details.get(key) {
            d.insert(key, v);
        }
    }
    d.with(Detail::Attempts, attempt.to_string())
}

/// The most issued request ids remembered; past it the oldest are not, so a long stream costs
/// bounded memory (a forgotten one only loses its 1000 on upload).
const MAX_REMEMBERED: usize = 100_000;

/// Turns a legacy stream into the 2021 dialect, one record at a time.
#[derive(Debug, Default)]
pub struct Translator {
    next: u64,
    issued: BTreeSet<String>,
    issued_order: std::collections::VecDeque<String>,
    no_check_in: bool,
}

impl Translator {
    /// A translator at the start of a stream.
    pub fn new() -> Translator {
        Translator::default()
    }

    /// The row that applies to `r` now.
    pub fn row(&self, r: &EventRecord) -> Option<&'static Row> {
        MAPPING.iter().find(|row| {
            row.legacy.contains(&r.event)
                && match row.when {
                    When::Always => true,
                    When::Pkcs | When::Revoke | When::SigningCertificate => {
                        kind(r) == Some(row.when)
                    }
                    When::NoCheckIn => self.no_check_in,
                    When::Failed => r.details.get(Detail::Reason).is_some(),
                    When::Issued => r.details.get(Detail::Thumbprint).is_some(),
                    When::NotIssued => r.details.get(Detail::Thumbprint).is_none(),
                }
        })
    }

    /// The 2021 events for one legacy record, numbered on from the last.
    pub fn push(&mut self, r: &EventRecord) -> Vec<UnifiedRecord> {
        let row = self.row(r);
        match r.event {
            L::RetrieveCertificateError => self.no_check_in = true,
            L::StoppedConnectorService => self.no_check_in = false,
            _ => {}
        }
        let Some(row) = row else { return Vec::new() };
        let mut out = Vec::new();
        let mut emit = |event: UnifiedEvent, details: Details, next: &mut u64| {
            *next = next.saturating_add(1);
            out.push(UnifiedRecord {
                sequence: *next,
                time: r.time,
                event,
                details,
            });
        };
        let key = r.details.get(Detail::RequestId).map(str::to_string);
        for step in row.writes {
            match *step {
                Step::Once(e) => emit(e, r.details.clone(), &mut self.next),
                Step::PerRetry(e) => {
                    for attempt in 1..=retries(r) {
                        emit(e, attempt_details(r, attempt), &mut self.next);
                    }
                }
                Step::IfIssued(e) => {
                    if key.as_ref().is_some_and(|k| self.issued.contains(k)) {
                        emit(e, r.details.clone(), &mut self.next);
                    }
                }
            }
        }
        if r.event == L::PkcsCertIssueSuccess {
            if let Some(k) = key {
                self.remember(k);
            }
        }
        out
    }

    fn remember(&mut self, id: String) {
        if self.issued.insert(id.clone()) {
            self.issued_order.push_back(id);
            if self.issued_order.len() > MAX_REMEMBERED {
                if let Some(old) = self.issued_order.pop_front() {
                    self.issued.remove(&old);
                }
            }
        }
    }
}

/// A whole legacy stream in the 2021 dialect.
pub fn translate(records: &[EventRecord]) -> Vec<UnifiedRecord> {
    let mut t = Translator::new();
    records.iter().flat_map(|r| t.push(r)).collect()
}

/// The rows that write `event`, for `explain`.
pub fn rows_writing(event: UnifiedEvent) -> impl Iterator<Item = &'static Row> {
    MAPPING
        .iter()
        .filter(move |row| row.writes.iter().any(|s| s.event() == event))
}

/// The support-tool failures (Admin failures, Operational level 3 or worse) a stream writes.
pub fn support_failures(records: &[UnifiedRecord]) -> Vec<&UnifiedRecord> {
    records
        .iter()
        .filter(|r| r.event.spec().is_support_failure())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::unified::Outcome;

    fn record(event: EventId, details: Details) -> EventRecord {
        EventRecord {
            sequence: 1,
            time: crate::sim::DEFAULT_EPOCH,
            event,
            code: crate::catalog::DiagnosticCode::Success,
            details,
        }
    }

    fn ids(records: &[UnifiedRecord]) -> Vec<u16> {
        records.iter().map(|r| r.event.id()).collect()
    }

    #[test]
    fn a_notification_that_failed_after_retries_is_issued_attempted_and_not_uploaded() {
        let d = Details::new()
            .with(Detail::TransactionId, "T")
            .with(Detail::Thumbprint, "AB")
            .with(Detail::Attempts, "3")
            .with(Detail::Reason, "HTTP 500");
        let out = translate(&[record(EventId::CrpNotifyMetricFailure, d)]);
        assert_eq!(ids(&out), vec![4006, 4009, 4009, 4002]);
        assert_eq!(out[2].details.get(Detail::Attempts), Some("2"));
        assert_eq!(out[2].details.get(Detail::TransactionId), Some("T"));
        assert_eq!(out[2].details.get(Detail::Thumbprint), None);
        assert_eq!(
            out.iter().map(|r| r.sequence).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        // Without a thumbprint the CA did not issue.
        let d = Details::new().with(Detail::TransactionId, "T");
        assert_eq!(
            ids(&translate(&[record(EventId::CrpNotifyMetricFailure, d)])),
            vec![4007, 4001]
        );
    }

    #[test]
    fn an_upload_is_a_fulfilled_request_only_after_its_issue() {
        let req = |e| {
            record(
                e,
                Details::new()
                    .with(Detail::RequestId, "R")
                    .with(Detail::RequestKind, "pkcs"),
            )
        };
        assert_eq!(ids(&translate(&[req(EventId::UploadSuccess)])), vec![1100]);
        assert_eq!(
            ids(&translate(&[
                req(EventId::PkcsCertIssueSuccess),
                req(EventId::UploadSuccess)
            ])),
            vec![1050, 1100, 1000]
        );
    }

    #[test]
    fn no_registration_no_health_message() {
        let start = record(EventId::StartedConnectorService, Details::new());
        let missing = record(EventId::RetrieveCertificateError, Details::new());
        let stop = record(EventId::StoppedConnectorService, Details::new());
        assert_eq!(ids(&translate(std::slice::from_ref(&start))), vec![5000]);
        assert_eq!(
            ids(&translate(&[missing, start.clone(), stop, start])),
            vec![5000],
            "the stop ends the start without a registration; the next start checks in"
        );
    }

    #[test]
    fn every_legacy_event_has_a_row() {
        for e in EventId::all() {
            assert!(MAPPING.iter().any(|r| r.legacy.contains(&e)), "{e}");
        }
    }

    #[test]
    fn every_failed_attempt_written_is_followed_by_a_conclusion_in_its_row() {
        for row in MAPPING {
            for (i, step) in row.writes.iter().enumerate() {
                let e = step.event();
                if e.spec().outcome != Outcome::FailedAttempt {
                    continue;
                }
                assert!(
                    row.writes[i + 1..]
                        .iter()
                        .any(|s| e.conclusions().contains(&s.event())),
                    "{} in {:?}",
                    e.name(),
                    row.legacy
                );
            }
        }
    }
}
