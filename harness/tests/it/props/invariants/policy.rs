//! Invariants of NDES's policy module: one verify event per enrollment that reaches it, at
//! most one notify, in the order the devices enrolled.

use super::{shown, v, Invariant, Violation};
use crate::props::lower::Plan;
use harness_runner::catalog::{Detail, EventId};
use harness_runner::event::EventRecord;

/// The policy module's events, in order, against the enrollments that reach it: each has one
/// verify event naming its device (or the device its challenge was minted for), then at most
/// one notify event, and a notify only after a successful verification.
pub(super) fn enrollments(plan: &Plan, events: &[EventRecord]) -> Vec<Violation> {
    let crp: Vec<&EventRecord> = events
        .iter()
        .filter(|r| r.event.is_crp_verify() || r.event.is_crp_notify())
        .collect();
    let mut out = Vec::new();
    let mut at = 0;
    for (n, e) in plan
        .enrollments
        .iter()
        .enumerate()
        .filter(|(_, e)| e.reaches_policy)
    {
        let names = |r: &EventRecord| {
            let d = r.details.get(Detail::DeviceId).unwrap_or("");
            d == e.device || d == format!("{}-other", e.device)
        };
        let Some(verify) = crp.get(at).filter(|r| r.event.is_crp_verify() && names(r)) else {
            out.push(v(
                Invariant::Verify,
                format!(
                    "enrollment {} ({}) reaches the policy module but the next policy event is {}",
                    n + 1,
                    e.device,
                    crp.get(at)
                        .map(|r| shown(r))
                        .unwrap_or_else(|| "none".into())
                ),
            ));
            return out;
        };
        at += 1;
        let mut notified = 0;
        while let Some(r) = crp.get(at).filter(|r| r.event.is_crp_notify()) {
            notified += 1;
            if verify.event != EventId::CrpVerifyMetricSuccess {
                out.push(v(
                    Invariant::Notify,
                    format!(
                        "{} follows a refused verification {}",
                        shown(r),
                        shown(verify)
                    ),
                ));
            }
            if !names(r) {
                out.push(v(
                    Invariant::Notify,
                    format!("{} is not about {}", shown(r), e.device),
                ));
            }
            at += 1;
        }
        if notified > 1 {
            out.push(v(
                Invariant::Notify,
                format!(
                    "enrollment {} ({}) has {notified} notify events",
                    n + 1,
                    e.device
                ),
            ));
        }
    }
    if let Some(extra) = crp.get(at) {
        let refused: Vec<&str> = plan
            .enrollments
            .iter()
            .filter(|e| !e.reaches_policy)
            .map(|e| e.device.as_str())
            .collect();
        out.push(v(
            Invariant::Verify,
            format!(
                "{} policy events beyond the enrollments that reach the policy module, from {} (NDES refused {refused:?} before it)",
                crp.len() - at,
                shown(extra)
            ),
        ));
    }
    out
}
