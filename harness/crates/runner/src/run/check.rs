//! Judging a run: the catalog violations the sink kept, the scenario's own expectations (the
//! same code `check --scenario` uses on a log), and the conformance rules against what the
//! world recorded. Every finding is typed; the runner prints them.

use crate::check::conformance::{self, Rule, Violation, WorldRecord};
use crate::event::{ContractViolation, EventRecord, Origin};
use crate::scenario::model::Expect;

/// Everything wrong with a run's stream under the conformance contract.
pub fn check(
    records: &[EventRecord],
    violations: &[ContractViolation],
    expect: &Expect,
    world: &WorldRecord,
) -> Vec<Violation> {
    let mut out: Vec<Violation> = violations
        .iter()
        .map(|v| {
            let rule = match v {
                ContractViolation::PairNotAllowed { .. } => Rule::CatalogPair,
                _ => Rule::CatalogDetail,
            };
            Violation::new(rule, None, rule.text(), v.to_string())
        })
        .collect();
    let located: Vec<(Origin, EventRecord)> = records
        .iter()
        .map(|r| {
            let origin = Origin {
                index: r.sequence,
                record_id: Some(r.sequence),
                ..Origin::default()
            };
            (origin, r.clone())
        })
        .collect();
    crate::check::check_expectations(&located, expect, &mut |f| out.push(f.to_violation()));
    out.extend(conformance::judge(records, Some(world), expect.drained));
    out
}
