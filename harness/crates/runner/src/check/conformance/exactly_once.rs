//! The exactly-once check, after Jepsen's total-queue checker: what Intune queued must come
//! back exactly once. It reads Intune's ledger of uploads and the CA's record of issuance, so
//! it fails when a connector uploads a result twice, loses one, answers an id never queued,
//! sends a result that contradicts itself, or has the CA issue twice for one request — each
//! reported separately.

use std::collections::BTreeMap;

use crate::contract::intune::admin::{IntuneState, Queue};

use super::rule::{Rule, Violation};
use super::world::IssuedCertificate;

fn queue_name(q: Queue) -> &'static str {
    match q {
        Queue::Pkcs => "PKCS request",
        Queue::Revocation => "revocation",
    }
}

/// Everything wrong with how the queued requests came back. `drained` adds the liveness half:
/// every request has its one final result and nothing is left pending.
pub(super) fn check(
    intune: &IntuneState,
    issued: &[IssuedCertificate],
    drained: bool,
) -> Vec<Violation> {
    sentences(intune, issued, drained)
        .into_iter()
        .map(|found| {
            Violation::new(
                Rule::ExactlyOnce,
                None,
                "every request Intune queued answered exactly once",
                found,
            )
        })
        .collect()
}

fn sentences(intune: &IntuneState, issued: &[IssuedCertificate], drained: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for e in &intune.ledger {
        let what = queue_name(e.queue);
        if e.duplicates > 0 || e.recorded > 1 {
            problems.push(format!(
                "duplicated: {what} {} was uploaded {} more time(s) after its final result was recorded",
                e.request_id,
                e.duplicates + e.recorded.saturating_sub(1)
            ));
        }
        if e.contradictory > 0 {
            problems.push(format!(
                "contradictory: {what} {} got {} result(s) that contradict themselves (succeeded with an error code or message, or not echoing the request)",
                e.request_id, e.contradictory
            ));
        }
        if drained && e.recorded == 0 {
            problems.push(format!(
                "lost: {what} {} has no final result recorded at Intune{}",
                e.request_id,
                if e.pending { " (still queued)" } else { "" }
            ));
        }
    }
    if intune.unknown_uploads > 0 {
        problems.push(format!(
            "unexpected: {} result(s) uploaded for ids Intune never queued (e.g. {})",
            intune.unknown_uploads,
            intune.unknown_examples.join(", ")
        ));
    }
    let mut by_request: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in issued {
        by_request
            .entry(c.csr_sha256.as_str())
            .or_default()
            .push(c.serial_number.as_str());
    }
    for (digest, serials) in by_request.iter().filter(|(_, s)| s.len() > 1) {
        problems.push(format!(
            "issued twice: the CA issued {} certificates ({}) for one certificate request (SHA-256 {})",
            serials.len(),
            serials.join(", "),
            digest.chars().take(16).collect::<String>()
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::intune::admin::LedgerEntry;

    fn entry(id: &str, recorded: u32, duplicates: u32, pending: bool) -> LedgerEntry {
        LedgerEntry {
            queue: Queue::Pkcs,
            request_id: id.into(),
            recorded,
            requeued: 0,
            duplicates,
            contradictory: 0,
            pending,
        }
    }

    #[test]
    fn lost_duplicated_and_unexpected_are_told_apart() {
        let state = IntuneState {
            ledger: vec![
                entry("ok", 1, 0, false),
                entry("twice", 1, 1, false),
                entry("lost", 0, 0, true),
            ],
            unknown_uploads: 1,
            unknown_examples: vec!["ghost".into()],
            ..IntuneState::default()
        };
        let p = sentences(&state, &[], true);
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(p[0].starts_with("duplicated: PKCS request twice"), "{p:#?}");
        assert!(
            p[1].starts_with(
                "lost: PKCS request lost has no final result recorded at Intune (still queued)"
            ),
            "{p:#?}"
        );
        assert!(
            p[2].starts_with("unexpected: 1 result(s)") && p[2].contains("ghost"),
            "{p:#?}"
        );
        // Without `drained`, a lost request is not (yet) a failure; a duplicate still is.
        let p = sentences(&state, &[], false);
        assert_eq!(p.len(), 2, "{p:#?}");
    }
}
