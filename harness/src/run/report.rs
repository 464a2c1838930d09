//! Reports of a run: the JUnit XML CI systems read, and a JSON document with every scenario's
//! status, duration, events and the coverage matrix.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;

use super::coverage::Coverage;
use super::{Outcome, Status};

/// JUnit XML: one test case per scenario.
pub fn junit(outcomes: &[Outcome]) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("connector-harness");
    let mut suite = TestSuite::new("scenarios");
    for o in outcomes {
        let status = match o.status {
            Status::Passed => TestCaseStatus::success(),
            Status::Failed => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(o.problems.first().cloned().unwrap_or_default());
                let mut text = o.problems.join("\n");
                if let Some(d) = &o.diff {
                    text += "\n";
                    text += d;
                }
                text += &format!("\nseed {}; rerun: {}", o.seed, o.rerun_command());
                s.set_description(text);
                s
            }
        };
        let mut case = TestCase::new(o.name.clone(), status);
        case.set_classname("scenarios");
        case.set_time(o.duration);
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report.to_string()
}

/// The JSON report.
pub fn json(outcomes: &[Outcome], coverage: &Coverage, gated: bool) -> serde_json::Value {
    let scenarios: Vec<_> = outcomes
        .iter()
        .map(|o| {
            json!({
                "name": o.name,
                "file": o.file.display().to_string(),
                "status": o.status,
                "seed": o.seed,
                "duration_ms": o.duration.as_millis() as u64,
                "problems": o.problems,
                "diff": o.diff,
                "rerun": o.rerun_command(),
                "event_count": o.events.len(),
                "events": o.events.iter().map(crate::event::WireRecord::from).collect::<Vec<_>>(),
            })
        })
        .collect();
    let matrix: Vec<_> = coverage
        .matrix
        .iter()
        .map(|(p, who)| json!({"event_id": p.event.id(), "event": p.event.name(), "code": p.code.hex(), "code_name": p.code.name(), "scenarios": who}))
        .collect();
    json!({
        "passed": outcomes.iter().filter(|o| o.status == Status::Passed).count(),
        "failed": outcomes.iter().filter(|o| o.status == Status::Failed).count(),
        "coverage": {
            "reached": coverage.reached(),
            "total": coverage.matrix.len(),
            "gated": gated,
            "invalid_pairs": coverage.invalid.iter().map(|(s, p)| json!({"scenario": s, "pair": p})).collect::<Vec<_>>(),
            "matrix": matrix,
        },
        "scenarios": scenarios,
    })
}
