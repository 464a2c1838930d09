//! Checking a run: the catalog contract, the scenario's own expectations, and whether Intune
//! ended with every request answered exactly once.

use std::collections::BTreeMap;

use crate::contract::intune::IntuneSnapshot;
use crate::event::{ContractViolation, EventRecord};
use crate::scenario::model::Expect;

use super::steps::Ledger;

/// Everything wrong with a run's stream, as sentences.
pub fn check(
    records: &[EventRecord],
    violations: &[ContractViolation],
    expect: &Expect,
    ledger: &Ledger,
    intune: &IntuneSnapshot,
) -> Vec<String> {
    let mut problems: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
    let mut from = 0;
    for want in &expect.sequence {
        match records[from..].iter().position(|r| want.value.matches(r)) {
            Some(i) => from += i + 1,
            None => {
                let anywhere = records.iter().any(|r| want.value.matches(r));
                problems.push(format!(
                    "expected (line {}): {}{}",
                    want.referenced.line(),
                    want.value,
                    if anywhere {
                        " — it appears, but not after the events expected before it"
                    } else {
                        " — it never appears"
                    }
                ));
                break;
            }
        }
    }
    for banned in &expect.absent {
        if let Some(r) = records.iter().find(|r| banned.value.matches(r)) {
            problems.push(format!(
                "must not appear (line {}): {} — but event #{} is {} {} with {}",
                banned.referenced.line(),
                banned.value,
                r.sequence,
                r.event.id(),
                r.event.name(),
                r.code
            ));
        }
    }
    if expect.drained {
        problems.extend(drained(ledger, intune));
    }
    problems
}

/// Whether every queued request ended in exactly one recorded result.
pub fn drained(ledger: &Ledger, intune: &IntuneSnapshot) -> Vec<String> {
    let mut problems = Vec::new();
    if !intune.pending_pkcs.is_empty() {
        problems.push(format!(
            "PKCS requests still pending at Intune: {}",
            intune.pending_pkcs.join(", ")
        ));
    }
    if !intune.pending_revocations.is_empty() {
        problems.push(format!(
            "revocations still pending at Intune: {}",
            intune.pending_revocations.join(", ")
        ));
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &intune.pkcs_results {
        *counts.entry(r.request_id.as_str()).or_default() += 1;
    }
    for id in &ledger.pkcs_requests {
        match counts.get(id.as_str()) {
            Some(1) => {}
            Some(n) => problems.push(format!(
                "PKCS request {id} has {n} recorded results; expected exactly one"
            )),
            None => problems.push(format!("PKCS request {id} has no recorded result")),
        }
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &intune.revocation_results {
        *counts.entry(r.request_context.as_str()).or_default() += 1;
    }
    for id in &ledger.revocations {
        match counts.get(id.as_str()) {
            Some(1) => {}
            Some(n) => problems.push(format!(
                "revocation {id} has {n} recorded results; expected exactly one"
            )),
            None => problems.push(format!("revocation {id} has no recorded result")),
        }
    }
    problems
}
