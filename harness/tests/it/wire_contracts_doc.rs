//! `docs/wire-contracts.md` against the contract it describes: every path, header, service,
//! version, store file and code the contract defines is named on the page, and every JSON
//! example labelled `<!-- shape: … -->` parses as that type, with no field the type lacks.

use std::path::Path;

use harness_runner::contract::{ca, intune, store};
use harness_runner::fakes::ndes::MSCEP_PATH;
use harness_runner::scep::Capabilities;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/wire-contracts.md"))
        .expect("docs/wire-contracts.md")
}

/// Every key of `example` (recursively) is a key of `typed`: the example names no field the
/// type does not have.
fn keys_within(example: &Value, typed: &Value, at: &str) -> Result<(), String> {
    match (example, typed) {
        (Value::Object(e), Value::Object(t)) => {
            for (k, v) in e {
                let Some(tv) = t.get(k) else {
                    return Err(format!("{at}.{k} is not a field of the type"));
                };
                keys_within(v, tv, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(t)) => e
            .iter()
            .zip(t)
            .enumerate()
            .try_for_each(|(i, (a, b))| keys_within(a, b, &format!("{at}[{i}]"))),
        _ => Ok(()),
    }
}

fn check<T: DeserializeOwned + Serialize>(label: &str, json: &str) -> Result<(), String> {
    let typed: T = serde_json::from_str(json).map_err(|e| format!("{label}: {e}"))?;
    let example: Value = serde_json::from_str(json).map_err(|e| format!("{label}: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| format!("{label}: {e}"))?;
    keys_within(&example, &back, label)
}

fn check_shape(label: &str, json: &str) -> Result<(), String> {
    use intune::{admin, crp, pkcs, registration, revocation, scep};
    match label {
        "intune::ODataError" => check::<intune::ODataError>(label, json),
        "intune::Discovery" => check::<intune::Discovery>(label, json),
        "intune::scep::ValidateBody" => check::<scep::ValidateBody>(label, json),
        "intune::scep::ScepResponse" => {
            check::<scep::ScepResponse>(label, json)?;
            let r: scep::ScepResponse = serde_json::from_str(json).map_err(|e| e.to_string())?;
            r.parsed()
                .map(|_| ())
                .ok_or_else(|| format!("{label}: `{}` is not an ErrorCode", r.code))
        }
        "intune::scep::SuccessNotificationBody" => {
            check::<scep::SuccessNotificationBody>(label, json)
        }
        "intune::scep::FailureNotificationBody" => {
            check::<scep::FailureNotificationBody>(label, json)
        }
        "intune::revocation::DownloadRevocationRequests" => {
            check::<revocation::DownloadRevocationRequests>(label, json)
        }
        "intune::revocation::DownloadAnswer" => {
            check::<intune::ODataValue<Vec<revocation::RevocationRequest>>>(label, json)
        }
        "intune::revocation::UploadRevocationResults" => {
            check::<revocation::UploadRevocationResults>(label, json)
        }
        "intune::pkcs::DownloadCaRequests" => check::<pkcs::DownloadCaRequests>(label, json),
        "intune::pkcs::DownloadAnswer" => {
            check::<Vec<pkcs::CaRequest>>(label, json)?;
            let requests: Vec<pkcs::CaRequest> =
                serde_json::from_str(json).map_err(|e| e.to_string())?;
            for r in requests {
                check::<pkcs::PkcsParameters>(&format!("{label} parameters"), &r.parameters)?;
            }
            Ok(())
        }
        "intune::pkcs::UploadCaRequestResults" => {
            check::<pkcs::UploadCaRequestResults>(label, json)
        }
        "intune::crp::VerifyRequest" => check::<crp::VerifyRequest>(label, json),
        "intune::crp::VerifyAnswer" => check::<crp::VerifyAnswer>(label, json),
        "intune::crp::Notify" => check::<crp::Notify>(label, json),
        "intune::registration::Checkin" => check::<registration::Checkin>(label, json),
        "intune::admin::MintChallenge" => check::<admin::MintChallenge>(label, json),
        "intune::admin::MintedChallenge" => check::<admin::MintedChallenge>(label, json),
        "ca::IssueRequest" => check::<ca::IssueRequest>(label, json),
        "ca::ErrorBody" => check::<ca::ErrorBody>(label, json),
        "store::Settings" => check::<store::Settings>(label, json),
        other => Err(format!(
            "unknown shape label `{other}`: add it to this test"
        )),
    }
}

/// The labelled examples: (label, JSON).
fn examples(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("<!-- shape: ") {
        rest = &rest[i + "<!-- shape: ".len()..];
        let end = rest.find(" -->").expect("a shape label ends with -->");
        let label = rest[..end].to_string();
        let fence = rest
            .find("```json\n")
            .expect("a ```json block follows the label");
        let body_start = fence + "```json\n".len();
        let body_end = body_start + rest[body_start..].find("```").expect("the block ends");
        out.push((label, rest[body_start..body_end].to_string()));
        rest = &rest[body_end..];
    }
    out
}

#[test]
fn every_labelled_example_parses_as_its_type() {
    let text = doc();
    let found = examples(&text);
    assert!(found.len() >= 20, "only {} labelled examples", found.len());
    let problems: Vec<String> = found
        .iter()
        .filter_map(|(label, json)| check_shape(label, json).err())
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_wrong_example_is_caught() {
    // The check can fail: a misspelt field, a missing one, an unknown code.
    assert!(check_shape(
        "intune::scep::ValidateBody",
        r#"{"request": {"transactionId": "1", "certificateRequest": "x", "callerInfo": "c", "callerinfo": "c"}}"#
    )
    .is_err());
    assert!(check_shape(
        "intune::scep::ValidateBody",
        r#"{"request": {"transactionId": "1"}}"#
    )
    .is_err());
    assert!(check_shape(
        "intune::scep::ScepResponse",
        r#"{"code": "Expired", "errorDescription": ""}"#
    )
    .is_err());
    assert!(check_shape("intune::Nothing", "{}").is_err());
}

#[test]
fn the_page_names_everything_the_contract_defines() {
    use intune::{admin, crp, pkcs, registration, revocation, scep, transport};
    let text = doc();
    let mut names: Vec<String> = [
        intune::DISCOVERY_PATH,
        scep::VALIDATE,
        scep::SUCCESS_NOTIFICATION,
        scep::FAILURE_NOTIFICATION,
        revocation::DOWNLOAD,
        revocation::UPLOAD,
        revocation::DOWNLOAD_CONTEXT,
        pkcs::DOWNLOAD,
        pkcs::UPLOAD,
        pkcs::REQUEST_TYPE,
        crp::VERIFY_REQUEST,
        crp::NOTIFY,
        crp::USER_AGENT,
        registration::CHECKIN,
        registration::RENEW,
        registration::SIGNING_CERTIFICATE,
        admin::CHALLENGES,
        admin::PKCS_REQUESTS,
        admin::REVOCATION_REQUESTS,
        admin::STATE,
        transport::CLIENT_REQUEST_ID,
        transport::API_VERSION,
        transport::USER_AGENT,
        transport::CLIENT_CERT,
        ca::ca_paths::ISSUE,
        ca::ca_paths::REVOKE,
        ca::ca_paths::STATUS,
        ca::ca_paths::CRL,
        ca::ca_paths::CHAIN,
        ca::ca_paths::JOURNAL,
        ca::CLIENT_CERT_HEADER,
        store::REGISTRATION_CERT,
        store::REGISTRATION_KEY,
        store::SETTINGS,
        store::SIGNING_CERT,
        store::CRP_ENCRYPTION_CERT,
        MSCEP_PATH,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.push("Authorization: Bearer".into());
    for s in intune::Service::ALL {
        names.push(s.name().into());
        if let Some(v) = s.api_version() {
            names.push(format!("| `{}` | `{v}`", s.name()));
        }
    }
    for c in intune::ScepErrorCode::ALL {
        names.push(format!("`{}`", c.name()));
    }
    for c in intune::CaRequestErrorCode::ALL {
        names.push(format!("| `{}` | {} |", c.name(), c.value()));
    }
    for caps in [Capabilities::Ndes, Capabilities::Rfc8894] {
        for cap in caps.answer().split("\r\n").filter(|c| !c.is_empty()) {
            names.push(format!("`{cap}`"));
        }
    }
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !text.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/wire-contracts.md does not name: {missing:#?}"
    );
}
