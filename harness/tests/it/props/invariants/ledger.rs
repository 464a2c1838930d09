//! Invariants of the queues, after Jepsen's total-queue checker: Intune's upload ledger, the
//! stream's account of each request, and the CA's record of what it issued and revoked.

use std::collections::BTreeMap;

use super::{shown, v, Invariant, Violation};
use crate::props::lower::Plan;
use harness_runner::catalog::{Detail, EventId};
use harness_runner::event::EventRecord;
use harness_runner::run::Recorded;

/// After Jepsen's total-queue checker: lost, duplicated and unexpected reported apart, from
/// Intune's ledger; and the CA's issuance once per request.
pub(super) fn exactly_once(plan: &Plan, r: &Recorded) -> Vec<Violation> {
    use harness_runner::contract::intune::admin::Queue;
    let mut out = Vec::new();
    for (queue, want, what) in [
        (Queue::Pkcs, plan.pkcs_requests, "PKCS requests"),
        (Queue::Revocation, plan.revocations, "revocations"),
    ] {
        let got = r
            .world
            .intune
            .ledger
            .iter()
            .filter(|e| e.queue == queue)
            .count();
        if got < want {
            out.push(v(
                Invariant::Lost,
                format!("the steps queued {want} {what}, Intune's ledger knows {got}"),
            ));
        } else if got > want {
            out.push(v(
                Invariant::Unexpected,
                format!("the steps queued {want} {what}, Intune's ledger has {got}"),
            ));
        }
    }
    for e in &r.world.intune.ledger {
        if plan.usable && e.recorded == 0 {
            out.push(v(
                Invariant::Lost,
                format!(
                    "{:?} {} has no final result after the liveness phase ({} requeued, {})",
                    e.queue,
                    e.request_id,
                    e.requeued,
                    if e.pending {
                        "still queued"
                    } else {
                        "not queued"
                    }
                ),
            ));
        }
        if e.recorded > 1 || e.duplicates > 0 {
            out.push(v(
                Invariant::Duplicated,
                format!(
                    "{:?} {}: {} final results recorded, {} more refused as duplicates",
                    e.queue, e.request_id, e.recorded, e.duplicates
                ),
            ));
        }
        if e.contradictory > 0 {
            out.push(v(
                Invariant::Contradictory,
                format!(
                    "{:?} {}: {} results contradicted themselves",
                    e.queue, e.request_id, e.contradictory
                ),
            ));
        }
    }
    if r.world.intune.unknown_uploads > 0 {
        out.push(v(
            Invariant::Unexpected,
            format!(
                "{} results uploaded for ids never queued (e.g. {:?})",
                r.world.intune.unknown_uploads, r.world.intune.unknown_examples
            ),
        ));
    }
    let mut by_request: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &r.issued {
        by_request
            .entry(&c.request_digest)
            .or_default()
            .push(&c.serial);
    }
    for (digest, serials) in by_request.into_iter().filter(|(_, s)| s.len() > 1) {
        out.push(v(
            Invariant::IssuedTwice,
            format!("the CA issued {serials:?} for one request (SHA-256 {digest})"),
        ));
    }
    out
}

/// The stream's account of each request against Intune's ledger.
pub(super) fn terminal(events: &[EventRecord], r: &Recorded) -> Vec<Violation> {
    use harness_runner::contract::intune::admin::Queue;
    #[derive(Default)]
    struct Seen {
        successes: u32,
        failures: u32,
        uploaded: u32,
    }
    let mut seen: BTreeMap<(Queue, &str), Seen> = BTreeMap::new();
    for e in events {
        let Some(id) = e.details.get(Detail::RequestId) else {
            continue;
        };
        let (queue, kind) = match e.event {
            EventId::PkcsCertIssueSuccess => (Queue::Pkcs, 0),
            EventId::PkcsCertIssueFailure => (Queue::Pkcs, 1),
            EventId::RevokeCertSuccess => (Queue::Revocation, 0),
            EventId::RevokeCertFailure => (Queue::Revocation, 1),
            EventId::UploadSuccess => match e.details.get(Detail::RequestKind) {
                Some("revoke") => (Queue::Revocation, 2),
                _ => (Queue::Pkcs, 2),
            },
            _ => continue,
        };
        let s = seen.entry((queue, id)).or_default();
        match kind {
            0 => s.successes += 1,
            1 => s.failures += 1,
            _ => s.uploaded += 1,
        }
    }
    let mut out = Vec::new();
    for e in &r.world.intune.ledger {
        let s = seen
            .remove(&(e.queue, e.request_id.as_str()))
            .unwrap_or_default();
        let what = format!("{:?} {}", e.queue, e.request_id);
        if s.successes > 1 {
            out.push(v(
                Invariant::Terminal,
                format!("{what} has {} success events", s.successes),
            ));
        }
        if e.recorded > 0 && s.successes + s.failures == 0 {
            out.push(v(
                Invariant::Terminal,
                format!("{what} has a final result but no outcome event"),
            ));
        }
        if s.uploaded != e.recorded + e.requeued {
            out.push(v(
                Invariant::Terminal,
                format!(
                    "{what}: {} Upload_Success events, but Intune kept {} results ({} final, {} requeued)",
                    s.uploaded,
                    e.recorded + e.requeued,
                    e.recorded,
                    e.requeued
                ),
            ));
        }
    }
    for ((queue, id), _) in seen {
        out.push(v(
            Invariant::Terminal,
            format!("events name {queue:?} {id}, which Intune never queued"),
        ));
    }
    out
}

/// The stream against the CA's own record of what it issued and revoked.
pub(super) fn ca_agrees(plan: &Plan, events: &[EventRecord], r: &Recorded) -> Vec<Violation> {
    let mut out = Vec::new();
    fn issued_to<'a>(
        r: &'a Recorded,
        device: &'a str,
    ) -> impl Iterator<Item = &'a harness_runner::fakes::ca::IssuedCert> + 'a {
        r.issued
            .iter()
            .filter(move |c| c.subject_cn.as_deref() == Some(device))
    }
    for e in events {
        let device = e.details.get(Detail::DeviceId).unwrap_or("");
        let serial = e
            .details
            .get(Detail::SerialNumber)
            .map(str::to_ascii_uppercase);
        match e.event {
            EventId::PkcsCertIssueSuccess if issued_to(r, device).next().is_none() => {
                out.push(v(
                    Invariant::CaAgrees,
                    format!("{} but the CA issued nothing to {device}", shown(e)),
                ));
            }
            EventId::CrpNotifyMetricSuccess
                if !issued_to(r, device).any(|c| Some(c.serial.to_ascii_uppercase()) == serial) =>
            {
                out.push(v(
                    Invariant::CaAgrees,
                    format!(
                        "{} names serial {serial:?}, which the CA did not issue to {device}",
                        shown(e)
                    ),
                ));
            }
            EventId::RevokeCertSuccess
                if !r
                    .issued
                    .iter()
                    .any(|c| c.revoked && Some(c.serial.to_ascii_uppercase()) == serial) =>
            {
                out.push(v(
                    Invariant::CaAgrees,
                    format!("{} but the CA has not revoked serial {serial:?}", shown(e)),
                ));
            }
            _ => {}
        }
    }
    let mut devices: Vec<&str> = plan.enrollments.iter().map(|e| e.device.as_str()).collect();
    devices.sort_unstable();
    devices.dedup();
    for device in devices {
        let certificates = issued_to(r, device).count();
        let other = format!("{device}-other");
        let verified = events
            .iter()
            .filter(|e| e.event == EventId::CrpVerifyMetricSuccess)
            .filter(
                |e| matches!(e.details.get(Detail::DeviceId), Some(d) if d == device || d == other),
            )
            .count();
        if certificates > verified {
            out.push(v(
                Invariant::CaAgrees,
                format!("the CA issued {certificates} certificates to {device}, which the policy module verified {verified} times"),
            ));
        }
    }
    out
}
