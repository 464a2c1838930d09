//! The rules that compare the stream with what the world recorded: values equal to the
//! requests Intune queued and the certificates the CA issued or revoked, uploads and
//! notifications equal to what Intune recorded, one lifecycle event per lifecycle step.

use std::collections::BTreeMap;

use crate::catalog::{Detail, EventId};
use crate::event::EventRecord;

use super::rule::{Rule, Violation};
use super::world::{IssueOutcome, IssuedCertificate, PolicyDecision, WorldRecord};
use super::{describe, kind_of, Kind};
use crate::contract::intune::admin::ValidationRecord;

/// The same hexadecimal number (thumbprint or serial): case and leading zeros aside.
fn same_hex(a: &str, b: &str) -> bool {
    bare_hex(a) == bare_hex(b)
}

/// A hexadecimal number as a key: upper-case, without leading zeros.
fn bare_hex(s: &str) -> String {
    s.trim().trim_start_matches('0').to_ascii_uppercase()
}

/// Two RFC 3339 times are the same instant (or, unreadable, the same text).
fn same_time(a: &str, b: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    match (
        time::OffsetDateTime::parse(a.trim(), &Rfc3339),
        time::OffsetDateTime::parse(b.trim(), &Rfc3339),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

pub(super) fn lifecycle(records: &[EventRecord], w: &WorldRecord, out: &mut Vec<Violation>) {
    if let Some(first) = w.steps.iter().find(|s| s.keyword == "start") {
        if let Some(r) = records.iter().find(|r| r.sequence < first.first) {
            out.push(Violation::new(
                Rule::LifecycleStart,
                Some(r.sequence),
                format!(
                    "no event before the first `start` step (scenario line {})",
                    first.line
                ),
                describe(r),
            ));
        }
    }
    // Between the end of a `stop` step and the next `start` step the service is stopped, and
    // a 10010 or 10020 belongs to its own kind of step.
    let mut stopped_after: Option<&super::world::StepMark> = None;
    for step in &w.steps {
        let during = records.iter().filter(|r| step.holds(r.sequence));
        match step.keyword.as_str() {
            "start" => stopped_after = None,
            "stop" => {}
            _ => {
                for r in during {
                    if let Some(stop) = stopped_after {
                        out.push(Violation::new(
                            Rule::LifecycleStop,
                            Some(r.sequence),
                            format!(
                                "no event while the service is stopped (after the `stop` step at scenario line {}, before the next `start`)",
                                stop.line
                            ),
                            format!("{} during the `{}` step at line {}", describe(r), step.keyword, step.line),
                        ));
                    } else if matches!(
                        r.event,
                        EventId::StartedConnectorService | EventId::StoppedConnectorService
                    ) {
                        out.push(Violation::new(
                            if r.event == EventId::StartedConnectorService {
                                Rule::LifecycleStart
                            } else {
                                Rule::LifecycleStop
                            },
                            Some(r.sequence),
                            "StartedConnectorService only in a `start` step, StoppedConnectorService only in a `stop` step",
                            format!("{} during the `{}` step at line {}", describe(r), step.keyword, step.line),
                        ));
                    }
                }
            }
        }
        if step.keyword == "stop" {
            stopped_after = Some(step);
        }
    }
    // Written after the last step (while the harness shut the connector down).
    let end = w.steps.last().map_or(0, |s| s.last);
    if let Some(stop) = stopped_after {
        for r in records.iter().filter(|r| r.sequence > end) {
            out.push(Violation::new(
                Rule::LifecycleStop,
                Some(r.sequence),
                format!(
                    "no event after the `stop` step at scenario line {}",
                    stop.line
                ),
                format!("{} after the last step", describe(r)),
            ));
        }
    }
    for step in &w.steps {
        let (event, rule) = match step.keyword.as_str() {
            "start" => (EventId::StartedConnectorService, Rule::LifecycleStart),
            "stop" => (EventId::StoppedConnectorService, Rule::LifecycleStop),
            _ => continue,
        };
        let during: Vec<&EventRecord> = records.iter().filter(|r| step.holds(r.sequence)).collect();
        let written: Vec<&&EventRecord> = during.iter().filter(|r| r.event == event).collect();
        if written.len() != 1 {
            out.push(Violation::new(
                rule,
                written.get(1).map(|r| r.sequence),
                format!(
                    "one {} {} written by the `{}` step at scenario line {}",
                    event.id(),
                    event.name(),
                    step.keyword,
                    step.line
                ),
                format!("{}", written.len()),
            ));
        }
        if event == EventId::StoppedConnectorService && written.len() == 1 {
            if let Some(last) = during.last().filter(|r| r.event != event) {
                out.push(Violation::new(
                    rule,
                    Some(last.sequence),
                    "StoppedConnectorService as the last event of the `stop` step",
                    format!("{} after it", describe(last)),
                ));
            }
        }
    }
}

pub(super) fn requests(records: &[EventRecord], w: &WorldRecord, out: &mut Vec<Violation>) {
    for r in records {
        let (Some(kind), Some(id)) = (kind_of(r), r.details.get(Detail::RequestId)) else {
            continue;
        };
        let ca = r.details.get(Detail::CaName);
        if let Some(ca) = ca.filter(|c| *c != w.ca_name) {
            let rule = match kind {
                Kind::Pkcs => Rule::PkcsValues,
                Kind::Revoke => Rule::RevokeValues,
            };
            out.push(Violation::new(
                rule,
                Some(r.sequence),
                format!("ca_name={} (the CA's name)", w.ca_name),
                format!("ca_name={ca}"),
            ));
        }
        match kind {
            Kind::Pkcs => match w.pkcs.iter().find(|p| p.request_id == id) {
                None => out.push(unknown(r, kind, id)),
                Some(p) => {
                    if !matches!(r.event, EventId::UploadSuccess | EventId::UploadFailure)
                        || r.details.get(Detail::DeviceId).is_some()
                    {
                        for (detail, want) in [
                            (Detail::DeviceId, &p.device_id),
                            (Detail::UserId, &p.user_id),
                            (Detail::TemplateName, &p.template_name),
                        ] {
                            if let Some(got) = r.details.get(detail).filter(|g| g != want) {
                                out.push(Violation::new(
                                    Rule::PkcsValues,
                                    Some(r.sequence),
                                    format!("{detail}={want} (Intune's request {id})"),
                                    format!("{detail}={got}"),
                                ));
                            }
                        }
                    }
                    if r.event == EventId::PkcsCertIssueSuccess {
                        if let Some(t) = r.details.get(Detail::Thumbprint) {
                            thumbprint(r, t, p.csr_sha256.as_deref(), id, w, out);
                        }
                    }
                }
            },
            Kind::Revoke => match w.revocations.iter().find(|v| v.request_id == id) {
                None => out.push(unknown(r, kind, id)),
                Some(v) => {
                    if let Some(s) = r
                        .details
                        .get(Detail::SerialNumber)
                        .filter(|s| !same_hex(s, &v.serial_number))
                    {
                        out.push(Violation::new(
                            Rule::RevokeValues,
                            Some(r.sequence),
                            format!(
                                "serial_number={} (the serial Intune asked to revoke under {id})",
                                v.serial_number
                            ),
                            format!("serial_number={s}"),
                        ));
                    }
                }
            },
        }
    }
}

fn unknown(r: &EventRecord, kind: Kind, id: &str) -> Violation {
    Violation::new(
        Rule::RequestKnown,
        Some(r.sequence),
        format!("a request_id of a {} request Intune queued", kind.name()),
        format!(
            "{} names {id}, which Intune never queued as one",
            describe(r)
        ),
    )
}

fn cert_text(c: &IssuedCertificate) -> String {
    format!("thumbprint {} (serial {})", c.thumbprint, c.serial_number)
}

fn thumbprint(
    r: &EventRecord,
    got: &str,
    csr: Option<&str>,
    id: &str,
    w: &WorldRecord,
    out: &mut Vec<Violation>,
) {
    let mine: Vec<&IssuedCertificate> = w
        .issued
        .iter()
        .filter(|c| csr.is_some_and(|d| same_hex(d, &c.csr_sha256)))
        .collect();
    if mine.iter().any(|c| same_hex(&c.thumbprint, got)) {
        return;
    }
    let expected = match mine.first() {
        Some(c) => format!(
            "{}, the certificate the CA issued for request {id}",
            cert_text(c)
        ),
        None => format!("the thumbprint of a certificate the CA issued for request {id}, but the CA issued none for its CSR"),
    };
    let found = match w.issued.iter().find(|c| same_hex(&c.thumbprint, got)) {
        Some(other) => {
            let whose = w
                .pkcs
                .iter()
                .find(|p| {
                    p.csr_sha256
                        .as_deref()
                        .is_some_and(|d| same_hex(d, &other.csr_sha256))
                })
                .map(|p| format!("request {} (device {})", p.request_id, p.device_id))
                .unwrap_or_else(|| "another request".into());
            format!(
                "thumbprint {got}, which is serial {}, issued for {whose}",
                other.serial_number
            )
        }
        None => format!("thumbprint {got}, which matches no certificate the CA issued"),
    };
    out.push(Violation::new(
        Rule::PkcsThumbprint,
        Some(r.sequence),
        expected,
        found,
    ));
}

pub(super) fn uploads(records: &[EventRecord], w: &WorldRecord, out: &mut Vec<Violation>) {
    // Per request: its upload events, in order.
    let mut events: BTreeMap<&str, Vec<&EventRecord>> = BTreeMap::new();
    for r in records {
        if matches!(r.event, EventId::UploadSuccess | EventId::UploadFailure) {
            if let (Some(_), Some(id)) = (kind_of(r), r.details.get(Detail::RequestId)) {
                events.entry(id).or_default().push(r);
            }
        }
    }
    let complete = w.intune.uploads_dropped == 0;
    for (id, list) in &events {
        let successes: Vec<&&EventRecord> = list
            .iter()
            .filter(|r| r.event == EventId::UploadSuccess)
            .collect();
        let accepted = w
            .intune
            .uploads
            .iter()
            .filter(|u| u.request_id == *id && u.verdict.recorded())
            .count();
        if complete && successes.len() > accepted {
            out.push(Violation::new(
                Rule::UploadTruthful,
                successes.get(accepted).map(|r| r.sequence),
                format!(
                    "at most {accepted} Upload_Success for request {id}: Intune recorded {accepted} result(s) for it"
                ),
                format!("{}", successes.len()),
            ));
        }
    }
    for entry in w.intune.ledger.iter().filter(|e| e.recorded > 0) {
        let list = events.get(entry.request_id.as_str());
        match list.and_then(|l| l.last()) {
            Some(last) if last.event == EventId::UploadSuccess => {}
            Some(last) => out.push(Violation::new(
                Rule::UploadTruthful,
                Some(last.sequence),
                format!(
                    "Upload_Success as the last upload event of request {}: Intune recorded its result",
                    entry.request_id
                ),
                describe(last),
            )),
            None => out.push(Violation::new(
                Rule::UploadTruthful,
                None,
                format!(
                    "an Upload_Success naming request {}: Intune recorded its result",
                    entry.request_id
                ),
                "no upload event names it".to_string(),
            )),
        }
    }
}

pub(super) fn revocations(records: &[EventRecord], w: &WorldRecord, out: &mut Vec<Violation>) {
    let mut revoked: BTreeMap<String, usize> = BTreeMap::new();
    for j in &w.ca_journal {
        if j.op == "revoke" && j.outcome == "revoked" {
            if let Some(s) = &j.serial {
                *revoked.entry(bare_hex(s)).or_default() += 1;
            }
        }
    }
    let mut successes: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.event == EventId::RevokeCertSuccess)
    {
        if let Some(s) = r.details.get(Detail::SerialNumber) {
            successes.entry(bare_hex(s)).or_default().push(r.sequence);
        }
    }
    for (serial, seqs) in &successes {
        let n = revoked.get(serial).copied().unwrap_or(0);
        if seqs.len() > n {
            out.push(Violation::new(
                Rule::RevokeTruthful,
                seqs.get(n).copied(),
                format!("RevokeCert_Success for serial {serial} only as often as the CA revoked it ({n})"),
                format!("{} RevokeCert_Success", seqs.len()),
            ));
        }
    }
    for serial in revoked.keys() {
        if !successes.contains_key(serial) {
            let last = records
                .iter()
                .rev()
                .find(|r| {
                    r.event == EventId::RevokeCertFailure
                        && r.details
                            .get(Detail::SerialNumber)
                            .is_some_and(|s| same_hex(s, serial))
                })
                .map(|r| r.sequence);
            out.push(Violation::new(
                Rule::RevokeTruthful,
                last,
                format!("a RevokeCert_Success for serial {serial}: the CA revoked it"),
                if last.is_some() {
                    "only RevokeCert_Failure names it".to_string()
                } else {
                    "no revocation event names it".to_string()
                },
            ));
        }
    }
}

pub(super) fn scep(records: &[EventRecord], w: &WorldRecord, out: &mut Vec<Violation>) {
    // A fault that answers a notification 2xx without recording it (`malformed`) looks like
    // success to any connector: a 20600 then is no lie. So is any call the bounded history
    // no longer shows.
    let notify_answered_ok_by_fault = w.intune.calls_dropped > 0
        || w.intune.calls.iter().any(|c| {
            c.fault.is_some()
                && (200..300).contains(&c.status)
                && c.path.to_ascii_lowercase().contains("notif")
        });
    for e in &w.enrollments {
        let t = e.transaction_id.as_str();
        let about: Vec<&EventRecord> = records
            .iter()
            .filter(|r| r.details.get(Detail::TransactionId) == Some(t))
            .collect();
        let verifies: Vec<&&EventRecord> =
            about.iter().filter(|r| r.event.is_crp_verify()).collect();
        let allowed = e.decision == Some(PolicyDecision::Issue);
        if e.decision.is_some() && verifies.len() != 1 {
            out.push(Violation::new(
                Rule::ScepVerify,
                verifies.get(1).map(|r| r.sequence),
                format!("one verify event (20500, 20501 or 20502) naming transaction {t}"),
                format!("{}", verifies.len()),
            ));
        }
        for v in &verifies {
            if (v.event == EventId::CrpVerifyMetricSuccess) != allowed {
                out.push(Violation::new(
                    Rule::ScepVerify,
                    Some(v.sequence),
                    if allowed {
                        format!(
                            "20500 CRPVerifyMetric_Success: the connector allowed transaction {t}"
                        )
                    } else {
                        format!("20501 or 20502: the connector refused transaction {t}")
                    },
                    describe(v),
                ));
            }
        }
        // A connector may ask both routes (the legacy one names the device): any `Success`
        // allows, and the challenge's subject comes from any answer that read it.
        let validations: Vec<&ValidationRecord> = w
            .intune
            .validations
            .iter()
            .filter(|v| v.transaction_id == t)
            .collect();
        let validation = validations
            .iter()
            .copied()
            .find(|v| v.device_id.is_some())
            .or_else(|| validations.last().copied());
        if allowed && !validations.iter().any(|v| v.code == "Success") {
            out.push(Violation::new(
                Rule::ScepDecision,
                verifies.first().map(|r| r.sequence),
                format!("transaction {t} refused: Intune's validation did not answer Success"),
                match validation {
                    Some(v) => format!("allowed although Intune answered {}", v.code),
                    None => "allowed without asking Intune".to_string(),
                },
            ));
        }
        let success_noted = w
            .intune
            .notifications
            .iter()
            .any(|(id, kind)| id == t && kind == "success");
        let notifies: Vec<&&EventRecord> =
            about.iter().filter(|r| r.event.is_crp_notify()).collect();
        if e.outcome == Some(IssueOutcome::Issued) && notifies.is_empty() {
            out.push(Violation::new(
                Rule::ScepNotify,
                None,
                format!("a notify event (20600 or 20602) naming transaction {t}: NDES issued its certificate"),
                "none".to_string(),
            ));
        }
        if e.outcome != Some(IssueOutcome::Issued) && success_noted {
            out.push(Violation::new(
                Rule::ScepNotify,
                None,
                format!("no success notification for transaction {t}: NDES did not issue"),
                "Intune recorded one".to_string(),
            ));
        }
        for n in notifies
            .iter()
            .filter(|r| r.event == EventId::CrpNotifyMetricSuccess)
        {
            if !success_noted && !notify_answered_ok_by_fault {
                out.push(Violation::new(
                    Rule::ScepNotify,
                    Some(n.sequence),
                    format!("20600 only once Intune recorded the success notification of transaction {t}"),
                    "Intune recorded none".to_string(),
                ));
            }
        }
        // Values.
        for r in &about {
            if let Some(d) = r.details.get(Detail::DeviceId) {
                let minted = validation.and_then(|v| v.device_id.as_deref());
                let subject = e.subject_cn.as_deref();
                if minted != Some(d) && subject != Some(d) {
                    let mut want: Vec<String> = Vec::new();
                    if let Some(m) = minted {
                        want.push(format!("{m} (the challenge's device)"));
                    }
                    if let Some(s) = subject {
                        want.push(format!("{s} (the request's subject)"));
                    }
                    out.push(Violation::new(
                        Rule::ScepValues,
                        Some(r.sequence),
                        format!(
                            "device_id={}",
                            if want.is_empty() {
                                "absent (nothing names the device)".to_string()
                            } else {
                                want.join(" or ")
                            }
                        ),
                        format!("device_id={d}"),
                    ));
                }
            }
            if let (Some(u), Some(want)) = (
                r.details.get(Detail::UserId),
                validation.and_then(|v| v.user_id.as_deref()),
            ) {
                if u != want {
                    out.push(Violation::new(
                        Rule::ScepValues,
                        Some(r.sequence),
                        format!("user_id={want} (the challenge's user)"),
                        format!("user_id={u}"),
                    ));
                }
            }
            if let (true, Some(c)) = (r.event == EventId::CrpNotifyMetricSuccess, &e.issued) {
                for (detail, want) in [
                    (Detail::Thumbprint, &c.thumbprint),
                    (Detail::SerialNumber, &c.serial_number),
                ] {
                    if let Some(got) = r.details.get(detail).filter(|g| !same_hex(g, want)) {
                        out.push(Violation::new(
                            Rule::ScepValues,
                            Some(r.sequence),
                            format!("{detail}={want} (the certificate NDES issued)"),
                            format!("{detail}={got}"),
                        ));
                    }
                }
            }
        }
    }
    // Transactions no enrollment had.
    for r in records
        .iter()
        .filter(|r| r.event.is_crp_verify() || r.event.is_crp_notify())
    {
        if let Some(t) = r.details.get(Detail::TransactionId) {
            if !w.enrollments.iter().any(|e| e.transaction_id == t) {
                out.push(Violation::new(
                    Rule::ScepVerify,
                    Some(r.sequence),
                    "a transaction_id of a SCEP request NDES asked the policy module about",
                    format!("{} names {t}, which no request had", describe(r)),
                ));
            }
        }
    }
}

pub(super) fn renewals(records: &[EventRecord], w: &WorldRecord, out: &mut Vec<Violation>) {
    for r in records
        .iter()
        .filter(|r| r.event == EventId::CertificateRenewalSuccess)
    {
        let Some(t) = r.details.get(Detail::Thumbprint) else {
            continue;
        };
        match w.intune.renewals.iter().find(|n| same_hex(&n.thumbprint, t)) {
            None => out.push(Violation::new(
                Rule::RenewalValues,
                Some(r.sequence),
                match w.intune.renewals.last() {
                    Some(n) => format!(
                        "thumbprint {} (the certificate Intune issued in the renewal)",
                        n.thumbprint
                    ),
                    None => "a thumbprint of a certificate Intune issued in a renewal, but Intune renewed none".to_string(),
                },
                format!("thumbprint {t}"),
            )),
            Some(n) => {
                if let Some(got) = r
                    .details
                    .get(Detail::NotAfter)
                    .filter(|g| !same_time(g, &n.not_after))
                {
                    out.push(Violation::new(
                        Rule::RenewalValues,
                        Some(r.sequence),
                        format!("not_after={} (the renewed certificate's expiry)", n.not_after),
                        format!("not_after={got}"),
                    ));
                }
            }
        }
    }
}
