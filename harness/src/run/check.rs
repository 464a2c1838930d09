//! Checking a run: the catalog contract, the scenario's own expectations, and whether Intune
//! ended with every request answered exactly once.

use crate::contract::intune::admin::IntuneState;
use crate::event::{ContractViolation, EventRecord};
use crate::fakes::ca::IssuedCert;
use crate::scenario::model::Expect;

/// Everything wrong with a run's stream, as sentences.
pub fn check(
    records: &[EventRecord],
    violations: &[ContractViolation],
    expect: &Expect,
    intune: &IntuneState,
    issued: &[IssuedCert],
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
    problems.extend(super::exactly_once::check(intune, issued, expect.drained));
    problems
}
