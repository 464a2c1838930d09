//! Reports of a run, both read from one [`Summary`] so they agree with each other and with the
//! exit code: the JUnit XML CI systems read, and a JSON document with the overall verdict, every
//! reason the run failed, each scenario's status, duration and events, and the coverage matrix.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;

use super::verdict::{Gate, Reason, ReasonKind, Summary};
use super::{Outcome, Status};

/// JUnit XML: suite `scenarios` has one test case per scenario; suite `run` has one failed test
/// case per reason outside the scenarios (`coverage-gate`, `invalid-pair …`,
/// `orphan-snapshot …`, `load-error …`, `duplicate-name …`, `run-error`).
pub fn junit(summary: &Summary) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("connector-harness");
    let mut scenarios = TestSuite::new("scenarios");
    scenarios.add_property(quick_junit::Property::new(
        "verdict-level",
        summary.level.name(),
    ));
    for o in &summary.outcomes {
        scenarios.add_test_case(scenario_case(o));
    }
    report.add_test_suite(scenarios);

    let mut run = TestSuite::new("run");
    if summary.coverage.is_some() {
        let gaps: Vec<&Reason> = summary
            .reasons_of(ReasonKind::CoverageGap)
            .chain(summary.reasons_of(ReasonKind::CauseGap))
            .collect();
        let status = if summary.gate != Gate::Applied {
            let mut s = TestCaseStatus::skipped();
            s.set_message(if summary.gate == Gate::Off {
                "--no-coverage-gate: the coverage gate is off"
            } else {
                "partial run: the coverage gate does not apply"
            });
            s
        } else if gaps.is_empty() {
            TestCaseStatus::success()
        } else {
            failure(
                format!(
                    "{} catalog pair(s) or connector cause(s) not reached by any scenario",
                    gaps.len()
                ),
                gaps.iter()
                    .map(|r| r.message.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        };
        run.add_test_case(run_case("coverage-gate", status));
    }
    for r in &summary.reasons {
        let name = match r.kind {
            ReasonKind::ScenarioFailed | ReasonKind::CoverageGap | ReasonKind::CauseGap => continue,
            ReasonKind::InvalidPair => format!("invalid-pair {}", r.subject),
            ReasonKind::OrphanSnapshot => format!("orphan-snapshot {}", r.subject),
            ReasonKind::LoadError => format!("load-error {}", r.subject),
            ReasonKind::DuplicateName => format!("duplicate-name {}", r.subject),
            ReasonKind::RunError => "run-error".to_string(),
        };
        let first = r.message.lines().next().unwrap_or_default().to_string();
        run.add_test_case(run_case(&name, failure(first, r.message.clone())));
    }
    report.add_test_suite(run);
    report.to_string()
}

fn failure(message: String, description: String) -> TestCaseStatus {
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
    s.set_message(message);
    s.set_description(description);
    s
}

fn run_case(name: &str, status: TestCaseStatus) -> TestCase {
    let mut case = TestCase::new(name, status);
    case.set_classname("run");
    case
}

fn scenario_case(o: &Outcome) -> TestCase {
    let status = match o.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Failed => {
            let mut text = o.problem_lines().join("\n");
            if let Some(d) = &o.diff {
                text += "\n";
                text += d;
            }
            text += &format!("\nseed {}; rerun: {}", o.seed, o.rerun_command());
            failure(
                o.problems
                    .first()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                text,
            )
        }
    };
    let mut case = TestCase::new(o.name.clone(), status);
    case.set_classname("scenarios");
    case.set_time(o.duration);
    case
}

/// The JSON report.
pub fn json(summary: &Summary) -> serde_json::Value {
    let scenarios: Vec<_> = summary
        .outcomes
        .iter()
        .map(|o| {
            json!({
                "name": o.name,
                "file": o.file.display().to_string(),
                "status": o.status,
                "seed": o.seed,
                "duration_ms": o.duration.as_millis() as u64,
                "level": o.level,
                "problems": o.problem_lines(),
                "findings": o.findings,
                "diff": o.diff,
                "rerun": o.rerun_command(),
                "event_count": o.events.len(),
                "events": o.events.iter().map(crate::event::WireRecord::from).collect::<Vec<_>>(),
            })
        })
        .collect();
    let coverage = summary.coverage.as_ref().map(|coverage| {
        let matrix: Vec<_> = coverage
            .matrix
            .iter()
            .map(|(p, who)| json!({"event_id": p.event.id(), "event": p.event.name(), "code": p.code.hex(), "code_name": p.code.name(), "scenarios": who}))
            .collect();
        json!({
            "reached": coverage.reached(),
            "total": coverage.matrix.len(),
            "gated": summary.gate == Gate::Applied,
            "invalid_pairs": coverage.invalid.iter().map(|(s, p)| json!({"scenario": s, "pair": p})).collect::<Vec<_>>(),
            "matrix": matrix,
            "causes": coverage.causes.as_ref().map(|m| {
                m.iter()
                    .map(|(c, who)| json!({"cause": c, "scenarios": who}))
                    .collect::<Vec<_>>()
            }),
        })
    });
    json!({
        "verdict": if summary.passed() { "passed" } else { "failed" },
        "level": summary.level,
        "reasons": summary.reasons,
        "selected": summary.selected,
        "passed": summary.passed_count(),
        "failed": summary.failed_count(),
        "coverage": coverage,
        "scenarios": scenarios,
    })
}
