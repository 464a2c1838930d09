//! The rules that need only the stream: required details, fixed vocabularies, and the orders
//! within one request or one SCEP transaction.

use std::collections::{btree_map::Entry, BTreeMap, BTreeSet};

use crate::catalog::{Detail, EventId};
use crate::event::EventRecord;

use super::rule::{Rule, Violation};
use super::{describe, kind_of, Kind};

/// The values a detail with a fixed vocabulary may take.
pub fn vocabulary(detail: Detail) -> Option<&'static [&'static str]> {
    match detail {
        Detail::RequestKind => Some(&["pkcs", "revoke", "signing_certificate"]),
        Detail::DownloadState => Some(&["downloaded", "requesting", "parsing", "refused"]),
        Detail::UploadState => Some(&[
            "recorded",
            "not_recorded",
            "sending",
            "awaiting_answer",
            "refused",
        ]),
        _ => None,
    }
}

/// The events whose thumbprint or serial the contract compares with a certificate.
fn checks_certificate(event: EventId) -> bool {
    matches!(
        event,
        EventId::PkcsCertIssueSuccess
            | EventId::CertificateRenewalSuccess
            | EventId::RevokeCertSuccess
            | EventId::RevokeCertFailure
            | EventId::CrpNotifyMetricSuccess
    )
}

pub(super) fn details(records: &[EventRecord], out: &mut Vec<Violation>) {
    for r in records {
        let missing: Vec<&str> = r
            .event
            .required_details()
            .iter()
            .filter(|d| r.details.get(**d).is_none_or(|v| v.trim().is_empty()))
            .map(|d| d.key())
            .collect();
        if !missing.is_empty() {
            out.push(Violation::new(
                Rule::DetailRequired,
                Some(r.sequence),
                format!("{} to name {}", describe(r), missing.join(", ")),
                format!("no {}", missing.join(", no ")),
            ));
        }
        for (detail, value) in r.details.iter() {
            if let Some(allowed) = vocabulary(detail) {
                if !allowed.contains(&value) {
                    out.push(Violation::new(
                        Rule::DetailValue,
                        Some(r.sequence),
                        format!("{detail} to be one of {}", allowed.join(", ")),
                        format!("{detail}={value}"),
                    ));
                }
            }
            let bad = match detail {
                Detail::Attempts | Detail::RequestCount => {
                    let n = value.trim().parse::<u64>();
                    matches!((detail, n), (_, Err(_)) | (Detail::Attempts, Ok(0)))
                }
                // Only where the contract checks the value (elsewhere it is free text).
                Detail::Thumbprint if checks_certificate(r.event) => {
                    value.len() != 40 || !value.chars().all(|c| c.is_ascii_hexdigit())
                }
                Detail::SerialNumber if checks_certificate(r.event) => {
                    value.is_empty() || !value.chars().all(|c| c.is_ascii_hexdigit())
                }
                _ => false,
            };
            if bad {
                let wanted = match detail {
                    Detail::Attempts => "attempts to be a whole number from 1",
                    Detail::RequestCount => "request_count to be a whole number",
                    Detail::Thumbprint => "thumbprint to be 40 hexadecimal digits (SHA-1)",
                    _ => "serial_number to be hexadecimal digits",
                };
                out.push(Violation::new(
                    Rule::DetailValue,
                    Some(r.sequence),
                    wanted,
                    format!("{detail}={value}"),
                ));
            }
        }
    }
}

/// Judged on a log without its world: between a StoppedConnectorService and the next
/// StartedConnectorService come only what a start writes before its 10010 (the registration
/// store's events, the signing certificate's download).
pub(super) fn after_stop(records: &[EventRecord], out: &mut Vec<Violation>) {
    let mut stopped: Option<u64> = None;
    for r in records {
        match r.event {
            EventId::StoppedConnectorService => stopped = Some(r.sequence),
            EventId::StartedConnectorService => stopped = None,
            _ => {
                let starting =
                    matches!(
                        r.event,
                        EventId::RetrieveCertificateError | EventId::RetrieveCertificateWarning
                    ) || (matches!(r.event, EventId::DownloadSuccess | EventId::DownloadFailure)
                        && r.details.get(Detail::RequestKind) == Some("signing_certificate"));
                if let (Some(stop), false) = (stopped, starting) {
                    out.push(Violation::new(
                        Rule::LifecycleStop,
                        Some(r.sequence),
                        format!(
                            "no event after event #{stop} StoppedConnectorService until the service starts again"
                        ),
                        describe(r),
                    ));
                }
            }
        }
    }
}

/// Per request: downloaded before anything about it; its issue or revoke event before its
/// upload event.
pub(super) fn request_order(records: &[EventRecord], out: &mut Vec<Violation>) {
    let mut downloaded: BTreeSet<Kind> = BTreeSet::new();
    let mut seen: BTreeSet<(Kind, &str)> = BTreeSet::new();
    let mut handled: BTreeMap<(Kind, &str), u64> = BTreeMap::new();
    for r in records {
        if r.event == EventId::DownloadSuccess {
            match r.details.get(Detail::RequestKind) {
                Some("pkcs") => downloaded.insert(Kind::Pkcs),
                Some("revoke") => downloaded.insert(Kind::Revoke),
                _ => false,
            };
            continue;
        }
        let (Some(kind), Some(id)) = (kind_of(r), r.details.get(Detail::RequestId)) else {
            continue;
        };
        if seen.insert((kind, id)) && !downloaded.contains(&kind) {
            out.push(Violation::new(
                Rule::RequestOrder,
                Some(r.sequence),
                format!(
                    "a Download_Success with request_kind {} before the first event about request {id}",
                    kind.name()
                ),
                format!("{} before any such download", describe(r)),
            ));
        }
        let upload = matches!(r.event, EventId::UploadSuccess | EventId::UploadFailure);
        if let Entry::Vacant(first) = handled.entry((kind, id)) {
            first.insert(r.sequence);
            if upload {
                // Once per request: the upload came first.
                out.push(Violation::new(
                    Rule::RequestOrder,
                    Some(r.sequence),
                    format!(
                        "the {} event of request {id} before its upload event",
                        kind.result_events()
                    ),
                    format!("{} first", describe(r)),
                ));
            }
        }
    }
}

/// Per SCEP transaction: verify before notify.
pub(super) fn scep_order(records: &[EventRecord], out: &mut Vec<Violation>) {
    let mut verified: BTreeSet<&str> = BTreeSet::new();
    let mut told: BTreeSet<&str> = BTreeSet::new();
    for r in records {
        let Some(t) = r.details.get(Detail::TransactionId) else {
            continue;
        };
        if r.event.is_crp_verify() {
            verified.insert(t);
        } else if r.event.is_crp_notify() && !verified.contains(t) && told.insert(t) {
            out.push(Violation::new(
                Rule::ScepOrder,
                Some(r.sequence),
                format!("the verify event of transaction {t} before its notify event"),
                format!("{} first", describe(r)),
            ));
        }
    }
}
