//! Reports of a gateway run, for CI: a JSON document and JUnit XML, both read from the same
//! list of scenario outcomes, so they agree with each other and with the exit code. Each
//! finding keeps its rule's name, what the rule says and the device it is about.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;

use super::scenario::ScenarioOutcome;

/// The JSON report: the verdict, the counts, and each scenario with its findings.
pub fn json(ran: &[ScenarioOutcome]) -> serde_json::Value {
    let failed = ran.iter().filter(|r| !r.passed()).count();
    json!({
        "verdict": if failed == 0 { "passed" } else { "failed" },
        "scenarios_run": ran.len(),
        "passed": ran.len() - failed,
        "failed": failed,
        "scenarios": ran.iter().map(|r| json!({
            "name": r.name,
            "status": if r.passed() { "passed" } else { "failed" },
            "findings": r.findings.iter().map(|f| json!({
                "rule": f.rule.name(),
                "says": f.rule.says(),
                "device": f.device,
                "detail": f.detail,
            })).collect::<Vec<_>>(),
            "problems": r.problems,
        })).collect::<Vec<_>>(),
    })
}

/// JUnit XML: suite `gateway`, one test case per scenario; a failed one's message names the
/// rules broken, its text has every problem.
pub fn junit(ran: &[ScenarioOutcome]) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("connector-harness gateway");
    let mut suite = TestSuite::new("gateway");
    for r in ran {
        let status = if r.passed() {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let mut rules: Vec<&str> = Vec::new();
            for f in &r.findings {
                if !rules.contains(&f.rule.name()) {
                    rules.push(f.rule.name());
                }
            }
            s.set_message(if rules.is_empty() {
                r.problems.first().cloned().unwrap_or_default()
            } else {
                format!("rules broken: {}", rules.join(", "))
            });
            s.set_description(r.problems.join("\n"));
            s
        };
        suite.add_test_case(TestCase::new(r.name.as_str(), status));
    }
    report.add_test_suite(suite);
    report.to_string()
}
