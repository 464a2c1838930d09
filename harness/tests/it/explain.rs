//! `connector-harness explain`: pairs, Intune's codes, what to check, and the scenarios it
//! names really reproduce what it says.

use std::path::Path;
use std::process::Command;

use connector_harness::explain::{intune_scenario, resolve, ExplainError, Subject};
use harness_runner::catalog::{Detail, EventId};
use harness_runner::connector::Cause;
use harness_runner::contract::intune::{CaRequestErrorCode, ScepErrorCode};

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .arg("explain")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn terms(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

#[test]
fn an_event_and_a_code_explain_their_pair_in_either_order() {
    for args in [
        ["20502", "0x409"],
        ["0x00000409", "CRPVerifyMetric_Failure"],
    ] {
        let (code, out, err) = cli(&args);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.starts_with(
                "Event 20502 CRPVerifyMetric_Failure with 0x00000409 CRPSCEPSigningCert_NotFound"
            ),
            "{out}"
        );
        // The one cause of this pair, what to check on a real server, and its scenario.
        assert!(out.contains("NDESConnector\\SigningCertificate"), "{out}");
        assert!(
            out.contains(
                "reproduce: cargo xtask run-scenarios --exact scep-signing-certificate-missing"
            ),
            "{out}"
        );
        assert_eq!(out.matches("reproduce:").count(), 1, "{out}");
    }
    // 20602 with code 0 has two causes; both are listed, each with its scenario.
    let (_, out, _) = cli(&["20602", "0"]);
    assert!(out.contains("--exact scep-notify-ca-denied"), "{out}");
    assert!(out.contains("--exact scep-notify-denied"), "{out}");
}

#[test]
fn a_pair_the_catalog_forbids_is_refused_with_the_allowed_codes() {
    let (code, _, err) = cli(&["20502", "0x405"]);
    assert_eq!(code, 2);
    assert!(err.contains("never carries 0x00000405"), "{err}");
    assert!(
        err.contains("0x00000409 CRPSCEPSigningCert_NotFound"),
        "{err}"
    );
    assert!(matches!(
        resolve(&terms(&["20100", "20102"])),
        Err(ExplainError::NotEventAndCode(..))
    ));
    assert!(matches!(
        resolve(&terms(&["20502", "ChallengeExpired"])),
        Err(ExplainError::NotEventAndCode(..))
    ));
    let (code, _, _) = cli(&["20502", "0x409", "extra"]);
    assert_eq!(code, 2);
    let (code, _, err) = cli(&["NoSuchThing"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("ChallengeExpired"),
        "names every kind of term: {err}"
    );
}

#[test]
fn intunes_codes_name_the_event_the_connector_writes() {
    let (code, out, _) = cli(&["ChallengeExpired"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("Intune SCEP validation code ChallengeExpired"),
        "{out}"
    );
    assert!(
        out.contains("20501 CRPVerifyMetric_Warning with 0x00000411"),
        "{out}"
    );
    assert!(out.contains("--exact scep-challenge-expired"), "{out}");
    assert!(
        out.contains("kind: answer, code: ChallengeExpired"),
        "{out}"
    );

    let (_, out, _) = cli(&["challengedecodingerror"]);
    assert!(
        out.contains("20502 CRPVerifyMetric_Failure with 0x00000410"),
        "{out}"
    );

    let (_, out, _) = cli(&["SigningCertThumbprintMismatch"]);
    assert!(out.contains("No scenario earns it"), "{out}");

    for (term, want) in [
        ("ConflictError", CaRequestErrorCode::ConflictError),
        ("4005", CaRequestErrorCode::ConflictError),
        (
            "ServiceUnavailableException",
            CaRequestErrorCode::ServiceUnavailableException,
        ),
    ] {
        assert_eq!(resolve(&terms(&[term])).unwrap(), Subject::CaResult(want));
    }
    let (_, out, _) = cli(&["4101"]);
    assert!(out.contains("ServiceUnavailableException (4101)"), "{out}");
    assert!(out.contains("Retryable: yes"), "{out}");
    // Catalog terms keep their meaning: 1033 is the decimal of 0x409, not a request code.
    assert_eq!(
        resolve(&terms(&["1033"])).unwrap(),
        Subject::Code(harness_runner::catalog::DiagnosticCode::CrpScepSigningCertNotFound)
    );
}

/// Every scenario `explain` names for one of Intune's codes expects the event that code makes
/// the connector write, with the code as its reason; running the scenario proves it.
#[test]
fn the_scenario_named_for_each_intune_code_demands_that_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut named = 0;
    for &code in ScepErrorCode::ALL {
        let Some(name) = intune_scenario(code) else {
            continue;
        };
        named += 1;
        let scenario =
            harness_runner::scenario::load_file(&dir.join(format!("{name}.yaml"))).unwrap();
        let pair = Cause::for_validation(code).pair();
        let demanded = scenario.expect.sequence.iter().any(|m| {
            let m = &m.value;
            m.event == pair.event
                && m.code.is_none_or(|c| c == pair.code)
                && (code == ScepErrorCode::Success
                    || m.details.get(&Detail::Reason).map(String::as_str) == Some(code.name()))
        });
        assert!(
            demanded,
            "{name} does not expect {} with reason {}",
            pair,
            code.name()
        );
        assert_eq!(
            pair.event == EventId::CrpVerifyMetricSuccess,
            code == ScepErrorCode::Success
        );
    }
    assert!(
        named >= 17,
        "only {named} of Intune's codes have a scenario"
    );
}
