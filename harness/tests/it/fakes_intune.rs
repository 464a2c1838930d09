//! The fake Intune over a real socket, driven with requests written byte for byte as
//! Microsoft's reference clients (`microsoft/Intune-Resource-Access`, `src/CsrValidation`, C#
//! and Java) write them, headers included, and checked against the documented answers; plus
//! the transport rules, the exactly-once ledger, challenges and profiles, the legacy policy
//! module's calls, and every fault.

use std::time::Duration;

use harness_runner::contract::fault::{Fault, FaultKind, IntuneOp, Scope};
use harness_runner::contract::intune::admin::{
    IntuneState, MintChallenge, QueuePkcs, QueueRevocation, UploadVerdict,
};
use harness_runner::contract::intune::ScepErrorCode;
use harness_runner::csr::{CsrDigest, CsrSpec, KeyUse, San, CLIENT_AUTH};
use harness_runner::fakes::intune::{FakeIntune, IntuneConfig, SanKind, ScepProfile};
use harness_runner::fixtures;
use harness_runner::pki::b64;
use harness_runner::sim::{Clock, Rng};
use serde_json::{json, Value};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

const GUID: &str = "5f0f8b8e-1c2d-4e3f-8a9b-0c1d2e3f4a5b";

async fn start(seed: u64) -> Res<(FakeIntune, Clock)> {
    start_with(seed, IntuneConfig::default()).await
}

async fn start_with(seed: u64, config: IntuneConfig) -> Res<(FakeIntune, Clock)> {
    let clock = Clock::default();
    let fake = FakeIntune::start(config, clock.clone(), Rng::new(seed)).await?;
    Ok((fake, clock))
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("client")
}

/// What the reference client sends: bearer, activity id, api-version.
fn reference(req: reqwest::RequestBuilder, api_version: &str) -> reqwest::RequestBuilder {
    req.header(
        "Authorization",
        "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test.sig",
    )
    .header("client-request-id", GUID)
    .header("api-version", api_version)
    .header("content-type", "application/json; charset=utf-8")
}

/// POSTs a literal body to `<service>/<suffix>` the way the reference client does.
async fn post(
    fake: &FakeIntune,
    service: &str,
    suffix: &str,
    version: &str,
    body: &str,
) -> Res<(u16, Value)> {
    let url = format!("{}/{service}/{suffix}", fake.url());
    let resp = reference(http().post(url), version)
        .body(body.to_string())
        .send()
        .await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?
    };
    Ok((status, value))
}

const PKI_FE: (&str, &str) = ("PkiConnectorFEService", "5019-05-05");
const STATELESS: (&str, &str) = ("StatelessPkiConnectorService", "2018-02-20");
const SCEP: (&str, &str) = ("ScepRequestValidationFEService", "2018-02-20");

fn csr_for(device: &str, challenge: Option<&str>) -> Res<String> {
    let key = fixtures::device_key(0)?;
    Ok(b64(&CsrSpec::simple(device, challenge).build(&key)?))
}

fn mint(fake: &FakeIntune, device: &str, user: &str) -> Res<String> {
    Ok(fake
        .mint_challenge(MintChallenge {
            device_id: device.into(),
            user_id: user.into(),
            profile: "SCEP-Default".into(),
            validity_seconds: 3600,
        })?
        .challenge)
}

fn queue_pkcs(fake: &FakeIntune, device: &str) -> Res<String> {
    let key = fixtures::device_key(1)?;
    let csr = CsrSpec::simple(device, None).build(&key)?;
    Ok(fake
        .queue_pkcs(QueuePkcs {
            device_id: device.into(),
            user_id: "alice@contoso.test".into(),
            template_name: "IntuneUser".into(),
            ca_name: "TEST-ISSUING-CA".into(),
            certificate_request: b64(&csr),
            request_id: None,
        })?
        .request_id)
}

fn queue_revocation(fake: &FakeIntune, serial: &str) -> String {
    fake.queue_revocation(QueueRevocation {
        serial_number: serial.into(),
        issuer_name: "contoso-ca".into(),
        ca_configuration: None,
    })
    .expect("the queue has room")
    .request_context
}

fn ledger_of<'a>(
    state: &'a IntuneState,
    id: &str,
) -> &'a harness_runner::contract::intune::admin::LedgerEntry {
    state
        .ledger
        .iter()
        .find(|e| e.request_id == id)
        .expect("queued request in the ledger")
}

#[tokio::test]
async fn discovery_lists_every_service_in_both_spellings() -> Res {
    let (fake, _) = start(1).await?;
    let resp = http()
        .get(fake.discovery_url())
        .bearer_auth("token")
        .header("client-request-id", GUID)
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await?;
    let value = body["value"].as_array().ok_or("value")?;
    for name in [
        "ScepRequestValidationFEService",
        "PkiConnectorFEService",
        "StatelessPkiConnectorService",
    ] {
        let e = value
            .iter()
            .find(|e| e["providerName"] == name)
            .ok_or(name)?;
        assert_eq!(e["serviceName"], name);
        assert_eq!(e["uri"], format!("{}/{name}", fake.url()));
    }
    let anonymous = http().get(fake.discovery_url()).send().await?;
    assert_eq!(anonymous.status().as_u16(), 401);
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn transport_rules_refuse_what_the_reference_client_would_not_send() -> Res {
    let (fake, _) = start(2).await?;
    let url = format!(
        "{}/PkiConnectorFEService/CertificateAuthorityRequests/downloadRevocationRequests",
        fake.url()
    );
    let body = r#"{"downloadParameters":{"maxRequests":10,"issuerName":null}}"#;
    // The old dialect: no headers at all.
    let bare = http().post(&url).body(body).send().await?;
    assert_eq!(bare.status().as_u16(), 401);
    assert_eq!(bare.headers()["www-authenticate"], "Bearer");
    let text = bare.text().await?;
    assert!(text.contains("Authorization: Bearer"), "{text}");
    let no_id = http()
        .post(&url)
        .bearer_auth("t")
        .header("api-version", "5019-05-05")
        .body(body)
        .send()
        .await?;
    assert_eq!(no_id.status().as_u16(), 400);
    assert!(no_id.text().await?.contains("client-request-id"));
    let wrong_version = reference(http().post(&url), "2018-02-20")
        .body(body)
        .send()
        .await?;
    assert_eq!(wrong_version.status().as_u16(), 400);
    let text = wrong_version.text().await?;
    assert!(text.contains("api-version: 5019-05-05"), "{text}");
    let err: Value = serde_json::from_str(&text)?;
    assert_eq!(err["error"]["code"], "BadRequest", "OData error document");
    // Old dialect body: the PKCS parameter name on the revocation service.
    let (status, err) = post(
        &fake,
        PKI_FE.0,
        "CertificateAuthorityRequests/downloadRevocationRequests",
        PKI_FE.1,
        r#"{"downloadParameters":{"maxMessages":10}}"#,
    )
    .await?;
    assert_eq!(status, 400);
    let msg = err["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("maxRequests") && msg.contains("expected"),
        "{msg}"
    );
    let (status, _) = post(&fake, PKI_FE.0, "nothingHere", PKI_FE.1, "{}").await?;
    assert_eq!(status, 404);
    let get = reference(http().get(&url), PKI_FE.1).send().await?;
    assert_eq!(get.status().as_u16(), 405);
    // Every refused call is in the history; none struck state.
    let state = fake.state();
    assert!(state.calls.len() >= 5);
    assert!(state.ledger.is_empty());
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn revocation_in_the_csharp_and_java_clients_shapes() -> Res {
    let (fake, _) = start(3).await?;
    let a = queue_revocation(&fake, "1234567890");
    let b = queue_revocation(&fake, "0abcdef0");
    // C# (Newtonsoft, camelCase, nulls written).
    let (status, body) = post(
        &fake,
        PKI_FE.0,
        "CertificateAuthorityRequests/downloadRevocationRequests",
        PKI_FE.1,
        r#"{"downloadParameters":{"maxRequests":10,"issuerName":null}}"#,
    )
    .await?;
    assert_eq!(status, 200);
    assert!(body["@odata.context"]
        .as_str()
        .unwrap_or_default()
        .ends_with("$metadata#Collection(microsoft.management.services.api.caRevocationRequest)"));
    let value = body["value"].as_array().ok_or("value")?;
    assert_eq!(value.len(), 2);
    assert_eq!(value[0]["requestContext"], a.as_str());
    assert_eq!(value[0]["serialNumber"], "1234567890");
    assert_eq!(value[0]["issuerName"], "contoso-ca");
    assert!(value[0]["caConfiguration"].is_string());
    assert!(value[0].get("deviceId").is_none(), "no harness-only fields");
    // Filtered by issuer.
    let (_, other) = post(
        &fake,
        PKI_FE.0,
        "CertificateAuthorityRequests/downloadRevocationRequests",
        PKI_FE.1,
        r#"{"downloadParameters":{"maxRequests":10,"issuerName":"another-ca"}}"#,
    )
    .await?;
    assert_eq!(other["value"].as_array().map(Vec::len), Some(0));
    // C# upload: enum names, "None" beside succeeded.
    let csharp = format!(
        r#"{{"results":[{{"requestContext":"{a}","succeeded":true,"errorCode":"None","errorMessage":null}}]}}"#
    );
    let (status, body) = post(
        &fake,
        PKI_FE.0,
        "CertificateAuthorityRequests/uploadRevocationResults",
        PKI_FE.1,
        &csharp,
    )
    .await?;
    assert_eq!((status, &body["value"]), (200, &json!(true)), "{body}");
    // Java upload (Gson): numeric strings, nulls left out.
    let java = format!(
        r#"{{"results":[{{"requestContext":"{b}","succeeded":false,"errorCode":"4004","errorMessage":"Certificate not found"}}]}}"#
    );
    let (status, body) = post(
        &fake,
        PKI_FE.0,
        "CertificateAuthorityRequests/uploadRevocationResults",
        PKI_FE.1,
        &java,
    )
    .await?;
    assert_eq!((status, &body["value"]), (200, &json!(true)), "{body}");
    let state = fake.state();
    assert!(state.pending_revocations.is_empty());
    assert_eq!(ledger_of(&state, &a).recorded, 1);
    assert_eq!(ledger_of(&state, &b).recorded, 1);
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn uploads_are_recorded_exactly_once_or_refused_with_a_reason() -> Res {
    let (fake, _) = start(4).await?;
    let ctx = queue_revocation(&fake, "0a");
    let other = queue_revocation(&fake, "0b");
    let up = |body: String| {
        let fake = &fake;
        async move {
            post(
                fake,
                PKI_FE.0,
                "CertificateAuthorityRequests/uploadRevocationResults",
                PKI_FE.1,
                &body,
            )
            .await
        }
    };
    let result = |id: &str, succeeded: bool, code: &str| {
        format!(r#"{{"requestContext":"{id}","succeeded":{succeeded},"errorCode":"{code}"}}"#)
    };
    // Unknown id: refused, never recorded.
    let (status, body) = up(format!(
        r#"{{"results":[{}]}}"#,
        result("ghost", true, "None")
    ))
    .await?;
    assert_eq!(status, 404, "{body}");
    // Contradictory: succeeded with an error code.
    let (status, body) = up(format!(
        r#"{{"results":[{}]}}"#,
        result(&ctx, true, "ConflictError")
    ))
    .await?;
    assert_eq!(status, 400, "{body}");
    // A batch with one bad result records nothing, not even the good one.
    let (status, _) = up(format!(
        r#"{{"results":[{},{}]}}"#,
        result(&other, true, "None"),
        result("ghost-2", true, "None")
    ))
    .await?;
    assert_eq!(status, 404);
    // Retryable failure: recorded, the request goes back to the queue.
    let (status, body) = up(format!(
        r#"{{"results":[{}]}}"#,
        result(&ctx, false, "ServiceUnavailableException")
    ))
    .await?;
    assert_eq!((status, &body["value"]), (200, &json!(true)));
    assert!(fake.state().pending_revocations.contains(&ctx));
    // Final result, then a duplicate.
    let (status, _) = up(format!(r#"{{"results":[{}]}}"#, result(&ctx, true, "None"))).await?;
    assert_eq!(status, 200);
    let (status, body) = up(format!(r#"{{"results":[{}]}}"#, result(&ctx, true, "None"))).await?;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "Conflict");
    // Empty results.
    let (status, _) = up(r#"{"results":[]}"#.into()).await?;
    assert_eq!(status, 400);
    let state = fake.state();
    let e = ledger_of(&state, &ctx);
    assert_eq!(
        (
            e.recorded,
            e.requeued,
            e.duplicates,
            e.contradictory,
            e.pending
        ),
        (1, 1, 1, 1, false)
    );
    let o = ledger_of(&state, &other);
    assert_eq!((o.recorded, o.pending), (0, true), "refused with its batch");
    assert_eq!(state.unknown_uploads, 2);
    assert_eq!(
        state.unknown_examples,
        vec!["ghost".to_string(), "ghost-2".to_string()]
    );
    let verdicts: Vec<UploadVerdict> = state.uploads.iter().map(|u| u.verdict).collect();
    assert_eq!(
        verdicts,
        [
            UploadVerdict::RefusedUnknown,
            UploadVerdict::RefusedContradictory,
            UploadVerdict::RefusedWithBatch,
            UploadVerdict::RefusedUnknown,
            UploadVerdict::Requeued,
            UploadVerdict::Recorded,
            UploadVerdict::RefusedDuplicate,
        ]
    );
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn pkcs_queue_in_the_2020_draft_shapes() -> Res {
    let (fake, _) = start(5).await?;
    let id = queue_pkcs(&fake, "laptop-1")?;
    let (status, body) = post(&fake, STATELESS.0, "CertificateAuthorityRequests/downloadCARequests", STATELESS.1, r#"{"downloadParameters":{"certificateProviderName":null,"maxMessages":10,"requestType":null,"issuerName":null}}"#).await?;
    assert_eq!(status, 200);
    let reqs = body.as_array().ok_or("a JSON array")?;
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r["requestId"], id.as_str());
    assert_eq!(r["requestType"], "PkcsCertificate");
    assert_eq!(r["tenantId"], fake.tenant_id().as_str());
    let params: Value =
        serde_json::from_str(r["parameters"].as_str().ok_or("parameters is a string")?)?;
    assert_eq!(params["templateName"], "IntuneUser");
    // Handed out again until answered.
    let (_, again) = post(
        &fake,
        STATELESS.0,
        "CertificateAuthorityRequests/downloadCARequests",
        STATELESS.1,
        r#"{"downloadParameters":{"maxMessages":1}}"#,
    )
    .await?;
    assert_eq!(again.as_array().map(Vec::len), Some(1));
    let (status, _) = post(
        &fake,
        STATELESS.0,
        "CertificateAuthorityRequests/downloadCARequests",
        STATELESS.1,
        r#"{"downloadParameters":{"maxMessages":501}}"#,
    )
    .await?;
    assert_eq!(status, 400);
    // A result that does not echo the request is refused.
    let mut wrong = r.clone();
    wrong["deviceId"] = json!("someone-else");
    wrong["succeeded"] = json!(true);
    let (status, _) = post(
        &fake,
        STATELESS.0,
        "CertificateAuthorityRequests/uploadCARequestResults",
        STATELESS.1,
        &json!({"results": [wrong]}).to_string(),
    )
    .await?;
    assert_eq!(status, 400);
    let mut result = r.clone();
    result["succeeded"] = json!(true);
    result["errorCode"] = json!("None");
    if let Some(o) = result.as_object_mut() {
        o.remove("parameters");
    }
    let (status, body) = post(
        &fake,
        STATELESS.0,
        "CertificateAuthorityRequests/uploadCARequestResults",
        STATELESS.1,
        &json!({"results": [result]}).to_string(),
    )
    .await?;
    assert_eq!((status, body), (200, json!(true)), "the literal true");
    let state = fake.state();
    assert!(state.pending_pkcs.is_empty());
    assert_eq!(ledger_of(&state, &id).recorded, 1);
    assert_eq!(ledger_of(&state, &id).contradictory, 1);
    fake.shutdown().await;
    Ok(())
}

async fn validate(fake: &FakeIntune, txid: &str, csr: &str) -> Res<(u16, Value)> {
    let body = json!({"request": {"transactionId": txid, "certificateRequest": csr, "callerInfo": "Contoso SCEP/1.2"}});
    post(
        fake,
        SCEP.0,
        "ScepActions/validateRequest",
        SCEP.1,
        &body.to_string(),
    )
    .await
}

fn code_of(v: &Value) -> String {
    v["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn validation_and_notifications_in_the_reference_shapes() -> Res {
    let (fake, _) = start(6).await?;
    let challenge = mint(&fake, "phone-1", "bob@contoso.test")?;
    let csr = csr_for("phone-1", Some(&challenge))?;
    let (status, v) = validate(&fake, "TX-1", &csr).await?;
    assert_eq!(status, 200);
    assert_eq!(v, json!({"code": "Success", "errorDescription": ""}));
    // One-time: the certificate request behind the challenge is fulfilled.
    let (_, again) = validate(&fake, "TX-2", &csr).await?;
    assert_eq!(code_of(&again), "BadCertificateRequestIdInChallenge");
    // Success notification, as the newer C# client sends it.
    let success = json!({"notification": {
        "transactionId": "TX-1", "certificateRequest": csr,
        "certificateThumbprint": "C13416448953C0EE94BAC95070277282C7F92DCB",
        "certificateSerialNumber": "02B33801604B748DC98479CF4F644667",
        "certificateExpirationDateUtc": "2027-01-01T00:00:00.0000000Z",
        "issuingCertificateAuthority": "CN=TEST ONLY Issuing CA", "callerInfo": "Contoso SCEP/1.2",
        "caConfiguration": "ca01\\contoso-ca", "certificateAuthority": "contoso-ca"}});
    let (status, v) = post(
        &fake,
        SCEP.0,
        "ScepActions/successNotification",
        SCEP.1,
        &success.to_string(),
    )
    .await?;
    assert_eq!((status, code_of(&v)), (200, "Success".into()));
    let (status, _) = post(
        &fake,
        SCEP.0,
        "ScepActions/successNotification",
        SCEP.1,
        &success.to_string(),
    )
    .await?;
    assert_eq!(status, 409, "notified twice");
    let never = json!({"notification": {"transactionId": "TX-NEVER", "certificateRequest": csr,
        "hResult": -2146877422i64, "errorDescription": "denied", "callerInfo": "x"}});
    let (status, _) = post(
        &fake,
        SCEP.0,
        "ScepActions/failureNotification",
        SCEP.1,
        &never.to_string(),
    )
    .await?;
    assert_eq!(status, 404, "a transaction never validated");
    let long = json!({"notification": {"transactionId": "TX-1", "certificateRequest": csr,
        "hResult": 1, "errorDescription": "x".repeat(256), "callerInfo": "x"}});
    let (status, _) = post(
        &fake,
        SCEP.0,
        "ScepActions/failureNotification",
        SCEP.1,
        &long.to_string(),
    )
    .await?;
    assert_eq!(status, 400, "errorDescription over 255 characters");
    assert_eq!(
        fake.state().notifications,
        vec![("TX-1".to_string(), "success".to_string())]
    );
    fake.shutdown().await;
    Ok(())
}

/// A profile that demands everything, for the CSR checks.
fn strict_profile() -> ScepProfile {
    ScepProfile {
        name: "Strict".into(),
        subject_is_device: true,
        sans: vec![SanKind::Upn, SanKind::Dns],
        key_usage: Some(vec![KeyUse::DigitalSignature, KeyUse::KeyEncipherment]),
        key_length: Some(2048),
        extended_key_usage: Some(vec![CLIENT_AUTH]),
    }
}

fn good_spec(challenge: &str) -> CsrSpec {
    CsrSpec {
        common_name: Some("dev-1".into()),
        challenge: Some(challenge.into()),
        sans: vec![
            San::Upn("alice@contoso.test".into()),
            San::Dns("dev-1".into()),
        ],
        key_usage: vec![KeyUse::DigitalSignature, KeyUse::KeyEncipherment],
        extended_key_usage: vec![CLIENT_AUTH],
        subject_key_identifier: true,
        digest: CsrDigest::Sha1,
    }
}

/// Every one of the 25 codes, reached by the request or the challenge where the real service
/// decides it, by a fault otherwise.
#[tokio::test]
async fn every_error_code_is_reachable() -> Res {
    let config = IntuneConfig {
        profiles: vec![
            ScepProfile::default_profile(),
            strict_profile(),
            ScepProfile {
                name: "Big".into(),
                key_length: Some(3072),
                ..strict_profile()
            },
        ],
        ..IntuneConfig::default()
    };
    let (fake, clock) = start_with(7, config).await?;
    let key = fixtures::device_key(0)?;
    let strict = |fake: &FakeIntune, device: &str, user: &str| -> Res<String> {
        Ok(fake
            .mint_challenge(MintChallenge {
                device_id: device.into(),
                user_id: user.into(),
                profile: "Strict".into(),
                validity_seconds: 3600,
            })?
            .challenge)
    };
    let mut reached = std::collections::BTreeSet::new();
    let mut n = 0;
    let mut check = |code: &str, v: Value| {
        assert_eq!(code_of(&v), code, "{v}");
        reached.insert(code.to_string());
    };
    macro_rules! case {
        ($code:expr, $csr:expr) => {{
            n += 1;
            let (status, v) = validate(&fake, &format!("TX-{n}"), &$csr).await?;
            assert_eq!(status, 200);
            check($code, v);
        }};
    }
    // A strict request that passes, then one field wrong at a time.
    case!(
        "Success",
        b64(&good_spec(&strict(&fake, "dev-1", "alice@contoso.test")?).build(&key)?)
    );
    case!(
        "CertificateRequestDecodingFailed",
        String::from("bm90IGEgQ1NS")
    );
    let mut bad_sig = good_spec(&strict(&fake, "dev-1", "alice@contoso.test")?).build(&key)?;
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 1;
    case!("SignatureValidationFailed", b64(&bad_sig));
    case!("ChallengePasswordMissing", csr_for("dev-1", None)?);
    case!(
        "ChallengeDecodingError",
        csr_for("dev-1", Some("not base64 at all!"))?
    );
    case!(
        "ChallengeDeserializationError",
        csr_for("dev-1", Some("AAAAAAAA"))?
    );
    case!(
        "ChallengeDecryptionError",
        csr_for("dev-1", Some(&fake.foreign_challenge(&mut Rng::new(99))))?
    );
    let soon = fake.mint_challenge(MintChallenge {
        device_id: "dev-1".into(),
        user_id: "alice@contoso.test".into(),
        profile: "SCEP-Default".into(),
        validity_seconds: 60,
    })?;
    clock.advance(Duration::from_secs(61));
    case!("ChallengeExpired", csr_for("dev-1", Some(&soon.challenge))?);
    let spec = |f: &dyn Fn(&mut CsrSpec)| -> Res<String> {
        let mut s = good_spec(&strict(&fake, "dev-1", "alice@contoso.test")?);
        f(&mut s);
        Ok(b64(&s.build(&key)?))
    };
    case!("SubjectNameMissing", spec(&|s| s.common_name = None)?);
    case!(
        "SubjectNameMismatch",
        spec(&|s| s.common_name = Some("dev-2".into()))?
    );
    case!("SubjectAltNameMissing", spec(&|s| s.sans.clear())?);
    case!(
        "SubjectAltNameMismatch",
        spec(&|s| s.sans[0] = San::Upn("mallory@contoso.test".into()))?
    );
    case!(
        "KeyUsageMismatch",
        spec(&|s| s.key_usage = vec![KeyUse::DigitalSignature])?
    );
    case!(
        "EnhancedKeyUsageMissing",
        spec(&|s| s.extended_key_usage.clear())?
    );
    case!(
        "EnhancedKeyUsageMismatch",
        spec(&|s| s.extended_key_usage = vec![harness_runner::csr::SERVER_AUTH])?
    );
    // The profile demands 3072-bit keys; the device's is 2048.
    let big = fake.mint_challenge(MintChallenge {
        device_id: "dev-1".into(),
        user_id: "alice@contoso.test".into(),
        profile: "Big".into(),
        validity_seconds: 3600,
    })?;
    case!(
        "KeyLengthMismatch",
        b64(&good_spec(&big.challenge).build(&key)?)
    );
    let c = strict(&fake, "dev-1", "alice@contoso.test")?;
    fake.remove_profile("Strict");
    case!(
        "ScepProfileNoLongerTargetedToTheClient",
        b64(&good_spec(&c).build(&key)?)
    );
    fake.put_profile(strict_profile());
    let c = strict(&fake, "dev-9", "alice@contoso.test")?;
    fake.retire_device("dev-9");
    case!("BadDeviceIdInChallenge", csr_for("dev-9", Some(&c))?);
    let c = mint(&fake, "dev-8", "eve@contoso.test")?;
    fake.retire_user("eve@contoso.test");
    case!("BadUserIdInChallenge", csr_for("dev-8", Some(&c))?);
    let c = mint(&fake, "dev-7", "bob@contoso.test")?;
    case!("Success", csr_for("dev-7", Some(&c))?);
    case!(
        "BadCertificateRequestIdInChallenge",
        csr_for("dev-7", Some(&c))?
    );
    // What the service decides from state a request cannot show: by fault.
    for code in [
        ScepErrorCode::AadKeyIdentifierListMissing,
        ScepErrorCode::RegisteredKeyMismatch,
        ScepErrorCode::SigningCertThumbprintMismatch,
        ScepErrorCode::ChallengeInvalidTimestamp,
        ScepErrorCode::Unknown,
    ] {
        fake.inject(
            IntuneOp::Validate,
            Fault {
                kind: FaultKind::Answer(code),
                scope: Scope::Times(1),
            },
        )?;
        case!(code.name(), csr_for("dev-1", None)?);
    }
    let all: std::collections::BTreeSet<String> = ScepErrorCode::ALL
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let missing: Vec<_> = all.difference(&reached).collect();
    assert!(missing.is_empty(), "codes never reached: {missing:?}");
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_legacy_policy_module_calls_share_the_challenges() -> Res {
    let (fake, _) = start(8).await?;
    let signing = fake.signing_certificate().certificate;
    let challenge = mint(&fake, "phone-1", "bob@contoso.test")?;
    let csr = csr_for("phone-1", Some(&challenge))?;
    let url = |op: &str| format!("{}/CertificateRegistrationSvc/Certificate/{op}", fake.url());
    let body =
        json!({"transactionId": "TX-1", "certificateRequest": csr, "callerInfo": "NDES_Plugin"});
    let crp = |req: reqwest::RequestBuilder| {
        req.header("client-request-id", GUID)
            .header("user-agent", "NDES_Plugin")
    };
    let anonymous = crp(http().post(url("VerifyRequest")))
        .json(&body)
        .send()
        .await?;
    assert_eq!(anonymous.status().as_u16(), 401);
    let stranger = crp(http().post(url("VerifyRequest")))
        .header(
            "x-client-certificate",
            b64(&fixtures::DIGICERT_RA.cert_der()?),
        )
        .json(&body)
        .send()
        .await?;
    assert_eq!(stranger.status().as_u16(), 403);
    let allowed = crp(http().post(url("VerifyRequest")))
        .header("x-client-certificate", &signing)
        .json(&body)
        .send()
        .await?;
    assert_eq!(allowed.status().as_u16(), 201);
    let v: Value = allowed.json().await?;
    assert_eq!(v["code"], "Success");
    assert_eq!(
        (v["deviceId"].as_str(), v["userId"].as_str()),
        (Some("phone-1"), Some("bob@contoso.test"))
    );
    let refused = crp(http().post(url("VerifyRequest")))
        .header("x-client-certificate", &signing)
        .json(&json!({"transactionId": "TX-2", "certificateRequest": csr, "callerInfo": "NDES_Plugin"}))
        .send()
        .await?;
    assert_eq!(refused.status().as_u16(), 403);
    let v: Value = refused.json().await?;
    assert_eq!(v["code"], "BadCertificateRequestIdInChallenge");
    let notify = json!({"transactionId": "TX-1", "certificateRequest": csr, "callerInfo": "NDES_Plugin",
        "outcome": {"status": "success", "certificateThumbprint": "AB", "certificateSerialNumber": "01",
            "certificateExpirationDateUtc": "2027-01-01T00:00:00Z", "issuingCertificateAuthority": "ca"}});
    let noted = crp(http().post(url("Notify")))
        .header("x-client-certificate", &signing)
        .json(&notify)
        .send()
        .await?;
    assert_eq!(noted.status().as_u16(), 204);
    // ScepActions sees the same transaction as notified.
    let again = json!({"notification": {"transactionId": "TX-1", "certificateRequest": csr,
        "hResult": 1, "errorDescription": "late", "callerInfo": "x"}});
    let (status, _) = post(
        &fake,
        SCEP.0,
        "ScepActions/failureNotification",
        SCEP.1,
        &again.to_string(),
    )
    .await?;
    assert_eq!(status, 409);
    fake.shutdown().await;
    Ok(())
}

/// One call per operation, in the reference shapes, and whether its answer is the normal one.
async fn call(fake: &FakeIntune, op: IntuneOp, csr: &str) -> Res<(u16, String)> {
    let (service, suffix, version, body) = match op {
        IntuneOp::DownloadRequests => (
            STATELESS.0,
            "CertificateAuthorityRequests/downloadCARequests",
            STATELESS.1,
            json!({"downloadParameters": {"maxMessages": 5}}),
        ),
        IntuneOp::UploadResults => (
            STATELESS.0,
            "CertificateAuthorityRequests/uploadCARequestResults",
            STATELESS.1,
            json!({"results": [{"tenantId": "t", "userId": "u", "deviceId": "d", "requestId": "nope", "requestType": "PkcsCertificate", "succeeded": true}]}),
        ),
        IntuneOp::DownloadRevocations => (
            PKI_FE.0,
            "CertificateAuthorityRequests/downloadRevocationRequests",
            PKI_FE.1,
            json!({"downloadParameters": {"maxRequests": 5}}),
        ),
        IntuneOp::UploadRevocationResults => (
            PKI_FE.0,
            "CertificateAuthorityRequests/uploadRevocationResults",
            PKI_FE.1,
            json!({"results": [{"requestContext": "nope", "succeeded": true}]}),
        ),
        IntuneOp::Validate => (
            SCEP.0,
            "ScepActions/validateRequest",
            SCEP.1,
            json!({"request": {"transactionId": "T", "certificateRequest": csr, "callerInfo": "x"}}),
        ),
        IntuneOp::Notify => (
            SCEP.0,
            "ScepActions/failureNotification",
            SCEP.1,
            json!({"notification": {"transactionId": "T-never-validated", "certificateRequest": csr, "hResult": 1, "errorDescription": "x", "callerInfo": "x"}}),
        ),
        IntuneOp::Renew => (
            "ConnectorRegistrationService",
            "renewCertificate",
            "2023-06-01",
            json!({"thumbprint": "AB", "certificateRequest": "AAAA"}),
        ),
        IntuneOp::Checkin => (
            "ConnectorRegistrationService",
            "checkin",
            "2023-06-01",
            json!({"state": "started", "thumbprint": "AB"}),
        ),
        IntuneOp::DownloadCertificate => (
            "ConnectorRegistrationService",
            "downloadSigningCertificate",
            "2023-06-01",
            json!({"thumbprint": "AB"}),
        ),
        IntuneOp::Discovery => {
            let resp = http()
                .get(fake.discovery_url())
                .bearer_auth("t")
                .header("client-request-id", GUID)
                .send()
                .await?;
            return Ok((resp.status().as_u16(), resp.text().await?));
        }
    };
    let url = format!("{}/{service}/{suffix}", fake.url());
    let resp = reference(http().post(url), version)
        .body(body.to_string())
        .send()
        .await?;
    Ok((resp.status().as_u16(), resp.text().await?))
}

const OPS: [IntuneOp; 10] = [
    IntuneOp::DownloadRequests,
    IntuneOp::UploadResults,
    IntuneOp::DownloadRevocations,
    IntuneOp::UploadRevocationResults,
    IntuneOp::Validate,
    IntuneOp::Notify,
    IntuneOp::Renew,
    IntuneOp::Checkin,
    IntuneOp::DownloadCertificate,
    IntuneOp::Discovery,
];

#[tokio::test]
async fn every_fault_strikes_once_and_changes_nothing() -> Res {
    use harness_runner::contract::fault::FaultTarget;
    let (fake, _) = start(9).await?;
    // Calls that change nothing when they work, so a baseline can be repeated.
    let plain = csr_for("phone-1", None)?;
    for op in OPS {
        let baseline = call(&fake, op, &plain).await?;
        for name in FaultTarget::Intune(op).kinds() {
            let kind = match name {
                harness_runner::contract::fault::KindName::Status => FaultKind::Status(503),
                harness_runner::contract::fault::KindName::Hang => continue,
                harness_runner::contract::fault::KindName::Answer => {
                    FaultKind::Answer(ScepErrorCode::KeyUsageMismatch)
                }
                other => FaultKind::from_name(*other).ok_or("kind")?,
            };
            fake.inject(
                op,
                Fault {
                    kind,
                    scope: Scope::Times(1),
                },
            )?;
            let faulted = call(&fake, op, &plain).await?;
            assert_ne!(faulted, baseline, "{op:?} {kind}: the fault did not strike");
            let after = call(&fake, op, &plain).await?;
            assert_eq!(after.0, baseline.0, "{op:?} {kind}: struck more than once");
        }
    }
    // A faulted validation does not consume the challenge: it still validates, once.
    let challenge = mint(&fake, "phone-1", "bob@contoso.test")?;
    let csr = csr_for("phone-1", Some(&challenge))?;
    fake.inject(
        IntuneOp::Validate,
        Fault {
            kind: FaultKind::Status(500),
            scope: Scope::Times(1),
        },
    )?;
    assert_eq!(validate(&fake, "TX-faulted", &csr).await?.0, 500);
    let (_, v) = validate(&fake, "TX-final", &csr).await?;
    assert_eq!(code_of(&v), "Success");
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_hang_is_held_until_healed() -> Res {
    let (fake, _) = start(10).await?;
    fake.inject(
        IntuneOp::Checkin,
        Fault {
            kind: FaultKind::Hang,
            scope: Scope::UntilHealed,
        },
    )?;
    let url = fake.url();
    let pending = tokio::spawn(async move {
        let url = format!("{url}/ConnectorRegistrationService/checkin");
        reference(http().post(url), "2023-06-01")
            .body(r#"{"state":"started","thumbprint":"AB"}"#)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!pending.is_finished(), "answered before heal");
    fake.heal(IntuneOp::Checkin);
    let status = tokio::time::timeout(Duration::from_secs(5), pending).await???;
    assert_eq!(status, 503);
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn bad_admin_values_are_refused_not_panicked_on() -> Res {
    let (fake, _) = start(11).await?;
    for body in [
        r#"{"deviceId":"d","userId":"u","validitySeconds":18446744073709551615}"#,
        r#"{"deviceId":"d","userId":"u","validitySeconds":0}"#,
        r#"{"deviceId":"d","userId":"u","validitySeconds":-1}"#,
        r#"{"deviceId":"d"}"#,
        r#"{"deviceId":"d","userId":"u","profile":"No-Such-Profile"}"#,
    ] {
        let resp = http()
            .post(format!("{}/admin/challenges", fake.url()))
            .body(body)
            .send()
            .await?;
        assert_eq!(resp.status().as_u16(), 400, "{body}");
    }
    assert!(fake.incidents().is_empty());
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn same_seed_same_ids_and_challenges() -> Res {
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (fake, _) = start(12).await?;
        let id = queue_pkcs(&fake, "d")?;
        let ctx = queue_revocation(&fake, "0a");
        let challenge = mint(&fake, "d", "u")?;
        seen.push((fake.tenant_id(), id, ctx, challenge));
        fake.shutdown().await;
    }
    assert_eq!(seen[0], seen[1]);
    Ok(())
}
