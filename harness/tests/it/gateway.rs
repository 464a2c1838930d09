//! A SCEP gateway's world around it: the fake identity platform (client-credentials tokens at
//! the v1 and v2 endpoints, Entra ID's error document, every fault on the token hop), the fake
//! Intune checking those tokens, the stricter CSR checks, and transport deviations judged
//! rather than refused. Everything on 127.0.0.1, each call bounded in time.

use std::time::Duration;

use harness_runner::contract::fault::{Fault, FaultKind, IdentityOp, Scope};
use harness_runner::contract::identity::Resource;
use harness_runner::contract::intune::admin::MintChallenge;
use harness_runner::fakes::identity::{
    AppRegistration, FakeIdentity, IdentityConfig, TOKEN_LIFETIME,
};
use harness_runner::fakes::intune::{FakeIntune, IntuneConfig};
use harness_runner::sim::{Clock, Rng};
use serde_json::{json, Value};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

const GUID: &str = "5f0f8b8e-1c2d-4e3f-8a9b-0c1d2e3f4a5b";
const SCEP: &str = "ScepRequestValidationFEService";
const VERSION: &str = "2018-02-20";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("client")
}

/// The identity platform and an Intune that checks its tokens, on one clock.
struct Tenant {
    identity: FakeIdentity,
    intune: FakeIntune,
    clock: Clock,
    app: AppRegistration,
}

async fn tenant(seed: u64, tweak: impl FnOnce(&mut IntuneConfig)) -> Res<Tenant> {
    let clock = Clock::default();
    let rng = Rng::new(seed);
    let tenant_id = rng.fork("tenant").guid();
    let app = AppRegistration::test_gateway(&mut rng.fork("app"));
    let identity = FakeIdentity::start(
        IdentityConfig::new(&tenant_id, app.clone()),
        clock.clone(),
        rng.fork("identity"),
    )
    .await?;
    let mut config = IntuneConfig {
        tenant_id: Some(tenant_id),
        tokens: Some(identity.keys()),
        ..IntuneConfig::default()
    };
    tweak(&mut config);
    let intune = FakeIntune::start(config, clock.clone(), rng.fork("intune")).await?;
    Ok(Tenant {
        identity,
        intune,
        clock,
        app,
    })
}

impl Tenant {
    async fn shutdown(self) {
        self.intune.shutdown().await;
        self.identity.shutdown().await;
    }

    /// A v2 token request with `secret` for `scope`: status and body.
    async fn token_v2(&self, secret: &str, scope: &str) -> Res<(u16, Value)> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.app.client_id.as_str()),
            ("client_secret", secret),
            ("scope", scope),
        ];
        let resp = http()
            .post(self.identity.token_v2_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&form))
            .send()
            .await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// A token for `resource` at the v2 endpoint, with the right secret.
    async fn token(&self, resource: Resource) -> Res<String> {
        let (status, body) = self
            .token_v2(&self.app.client_secret.clone(), &resource.scope())
            .await?;
        assert_eq!(status, 200, "{body}");
        Ok(body["access_token"]
            .as_str()
            .ok_or("access_token")?
            .to_string())
    }

    /// `ScepActions/validateRequest` with `token` and `client_request_id`.
    async fn validate(
        &self,
        token: &str,
        client_request_id: Option<&str>,
        csr: &str,
    ) -> Res<(u16, Value)> {
        let body = json!({"request": {"transactionId": "TX-1", "certificateRequest": csr, "callerInfo": "gateway-test/1"}});
        let mut req = http()
            .post(format!(
                "{}/{SCEP}/ScepActions/validateRequest",
                self.intune.url()
            ))
            .bearer_auth(token)
            .header("api-version", VERSION)
            .body(body.to_string());
        if let Some(id) = client_request_id {
            req = req.header("client-request-id", id);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn csr(device: &str, challenge: Option<&str>) -> Res<String> {
    let key = harness_runner::fixtures::device_key(0)?;
    Ok(harness_runner::pki::b64(
        &harness_runner::csr::CsrSpec::simple(device, challenge).build(&key)?,
    ))
}

#[tokio::test]
async fn tokens_from_both_endpoints_are_checked_by_intune() -> Res {
    let t = tenant(1, |_| {}).await?;
    let intune_token = t.token(Resource::Intune).await?;
    let challenge = t
        .intune
        .mint_challenge(MintChallenge {
            device_id: "phone-1".into(),
            user_id: "bob@contoso.test".into(),
            profile: "SCEP-Default".into(),
            validity_seconds: 3600,
        })?
        .challenge;
    let request = csr("phone-1", Some(&challenge))?;
    let (status, v) = t.validate(&intune_token, Some(GUID), &request).await?;
    assert_eq!((status, v["code"].as_str()), (200, Some("Success")), "{v}");

    // v1: `resource`, numbers as strings; a Graph token opens discovery, not SCEP validation.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", t.app.client_id.as_str()),
        ("client_secret", t.app.client_secret.as_str()),
        ("resource", "https://graph.microsoft.com"),
    ];
    let v1: Value = http()
        .post(t.identity.token_v1_url())
        .body(form_body(&form))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(v1["resource"], "https://graph.microsoft.com/");
    assert_eq!(v1["expires_in"], TOKEN_LIFETIME.as_secs().to_string());
    let graph = v1["access_token"].as_str().ok_or("v1 token")?;
    let discovery = http()
        .get(t.intune.discovery_url())
        .bearer_auth(graph)
        .send()
        .await?;
    assert_eq!(discovery.status().as_u16(), 200);
    let (status, v) = t.validate(graph, Some(GUID), &request).await?;
    assert_eq!(status, 401, "a Graph token on the Intune API: {v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("audience"),
        "{v}"
    );
    let discovery = http()
        .get(t.intune.discovery_url())
        .bearer_auth(&intune_token)
        .send()
        .await?;
    assert_eq!(discovery.status().as_u16(), 401, "an Intune token on Graph");

    // Not issued by this platform: anything made up, or another tenant's platform.
    let (status, _) = t
        .validate("eyJhbGciOi.made.up", Some(GUID), &request)
        .await?;
    assert_eq!(status, 401);
    let other = tenant(2, |_| {}).await?;
    let foreign = other.token(Resource::Intune).await?;
    let (status, _) = t.validate(&foreign, Some(GUID), &request).await?;
    assert_eq!(status, 401, "another tenant's token");
    other.shutdown().await;

    // Expired on the scenario clock.
    t.clock.advance(TOKEN_LIFETIME);
    let (status, v) = t.validate(&intune_token, Some(GUID), &request).await?;
    assert_eq!(status, 401, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expired"),
        "{v}"
    );
    t.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn refusals_are_entra_id_error_documents() -> Res {
    let t = tenant(3, |_| {}).await?;
    let scope = Resource::Intune.scope();
    let (status, v) = t.token_v2("TEST-ONLY-wrong-secret", &scope).await?;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"], json!([7_000_215]));
    assert!(
        v["error_description"]
            .as_str()
            .unwrap_or_default()
            .starts_with("AADSTS7000215: "),
        "{v}"
    );
    for key in ["timestamp", "trace_id", "correlation_id"] {
        assert!(v[key].is_string(), "{key} in {v}");
    }
    let secret = t.app.client_secret.clone();
    let (status, v) = t.token_v2(&secret, "https://example.test/.default").await?;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_scope")));
    let bad_grant = http()
        .post(t.identity.token_v2_url())
        .body(form_body(&[
            ("grant_type", "password"),
            ("client_id", &t.app.client_id),
        ]))
        .send()
        .await?;
    assert_eq!(bad_grant.status().as_u16(), 400);
    let v: Value = bad_grant.json().await?;
    assert_eq!(v["error"], "unsupported_grant_type");
    let unknown_app = http()
        .post(t.identity.token_v2_url())
        .body(form_body(&[
            ("grant_type", "client_credentials"),
            ("client_id", GUID),
            ("client_secret", &secret),
            ("scope", &scope),
        ]))
        .send()
        .await?;
    let v: Value = unknown_app.json().await?;
    assert_eq!(v["error"], "unauthorized_client");
    let bad_resource = http()
        .post(t.identity.token_v1_url())
        .body(form_body(&[
            ("grant_type", "client_credentials"),
            ("client_id", &t.app.client_id),
            ("client_secret", &secret),
            ("resource", "https://example.test/"),
        ]))
        .send()
        .await?;
    let v: Value = bad_resource.json().await?;
    assert_eq!(v["error"], "invalid_resource");
    let wrong_tenant = http()
        .post(format!("{}/{GUID}/oauth2/v2.0/token", t.identity.url()))
        .body(form_body(&[("grant_type", "client_credentials")]))
        .send()
        .await?;
    assert_eq!(wrong_tenant.status().as_u16(), 400);
    let requests = t.identity.requests();
    assert_eq!(requests.len(), 6);
    assert_eq!(requests[0].error.as_deref(), Some("invalid_client"));
    t.shutdown().await;
    Ok(())
}

fn fault(kind: FaultKind, scope: Scope) -> Fault {
    Fault { kind, scope }
}

#[tokio::test]
async fn every_fault_on_the_token_hop_strikes_as_named() -> Res {
    let t = tenant(4, |_| {}).await?;
    let secret = t.app.client_secret.clone();
    let scope = Resource::Intune.scope();
    let once = Scope::Times(1);
    for (kind, status, error) in [
        (FaultKind::Status(500), 500, "server_error"),
        (FaultKind::Status(503), 503, "temporarily_unavailable"),
        (FaultKind::Status(401), 401, "server_error"),
        (FaultKind::InvalidClient, 400, "invalid_client"),
    ] {
        t.identity
            .inject(IdentityOp::Token, fault(kind, once))
            .await?;
        let (got, v) = t.token_v2(&secret, &scope).await?;
        assert_eq!(
            (got, v["error"].as_str()),
            (status, Some(error)),
            "{kind}: {v}"
        );
        let (got, _) = t.token_v2(&secret, &scope).await?;
        assert_eq!(got, 200, "{kind} struck once");
    }
    t.identity
        .inject(IdentityOp::Token, fault(FaultKind::Malformed, once))
        .await?;
    let (got, v) = t.token_v2(&secret, &scope).await?;
    assert_eq!(got, 200);
    assert!(v.is_string(), "not JSON: {v}");

    // A token already expired when handed out: Intune refuses it.
    t.identity
        .inject(IdentityOp::Token, fault(FaultKind::ExpiredToken, once))
        .await?;
    let stale = t.token(Resource::Intune).await?;
    let (got, _) = t.validate(&stale, Some(GUID), "AAAA").await?;
    assert_eq!(got, 401);

    // Refused: the port is closed until healed, and the same port opens again.
    t.identity
        .inject(
            IdentityOp::Token,
            fault(FaultKind::Unavailable, Scope::UntilHealed),
        )
        .await?;
    let refused = http().post(t.identity.token_v2_url()).send().await;
    assert!(refused.is_err_and(|e| e.is_connect()), "connection refused");
    t.identity.heal(IdentityOp::Token).await?;
    assert_eq!(t.token_v2(&secret, &scope).await?.0, 200);

    // A timeout: the call is held until healed.
    t.identity
        .inject(IdentityOp::Token, fault(FaultKind::Hang, once))
        .await?;
    let short = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .no_proxy()
        .build()?;
    let held = short.post(t.identity.token_v2_url()).send().await;
    assert!(held.is_err_and(|e| e.is_timeout()), "held");
    t.identity.heal(IdentityOp::Token).await?;
    // The held call is recorded once released: wait for it, boundedly.
    for _ in 0..50 {
        if t.identity.requests().len() >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let faults: Vec<_> = t
        .identity
        .requests()
        .iter()
        .filter_map(|r| r.fault.clone())
        .collect();
    assert_eq!(
        faults,
        [
            "status 500",
            "status 503",
            "status 401",
            "invalid_client",
            "malformed",
            "expired_token",
            "hang"
        ]
    );
    t.shutdown().await;
    Ok(())
}

/// The fault is a scenario step like any other: loaded, checked against its target's kinds,
/// injected into the run's identity platform and healed.
#[test]
fn identity_faults_are_scenario_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("identity-faults.yaml");
    std::fs::write(
        &file,
        "name: identity-faults\nsummary: s\nsteps:\n  - start\n  - fault: {target: identity.token, kind: invalid_client, times: 1}\n  - fault: {target: identity.token, kind: unavailable}\n  - heal: identity.token\n  - fault: {target: identity.token, kind: expired_token}\n  - heal: all\n  - stop\n",
    )
    .expect("write");
    let scenario = harness_runner::scenario::load_file(&file).expect("loads");
    let options = harness_runner::run::RunOptions {
        ci: true,
        ..harness_runner::run::RunOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let outcome = runtime.block_on(harness_runner::run::run_scenario(
        &scenario, &file, &options,
    ));
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
    std::fs::write(
        &file,
        "name: identity-faults\nsummary: s\nsteps:\n  - fault: {target: identity.token, kind: deny}\n",
    )
    .expect("write");
    let err = harness_runner::scenario::load_file(&file)
        .expect_err("deny is not a token fault")
        .to_string();
    assert!(err.contains("invalid_client"), "{err}");
}

/// A profile that demands the user's UPN.
fn upn_profile() -> harness_runner::fakes::intune::ScepProfile {
    harness_runner::fakes::intune::ScepProfile {
        name: "SCEP-Upn".into(),
        sans: vec![harness_runner::fakes::intune::SanKind::Upn],
        ..harness_runner::fakes::intune::ScepProfile::default_profile()
    }
}

/// Validates a CSR for `phone-1` of `bob@contoso.test` under `profile` carrying `sans`.
async fn san_verdict(
    t: &Tenant,
    profile: &str,
    sans: Vec<harness_runner::csr::San>,
) -> Res<String> {
    let challenge = t
        .intune
        .mint_challenge(MintChallenge {
            device_id: "phone-1".into(),
            user_id: "bob@contoso.test".into(),
            profile: profile.into(),
            validity_seconds: 3600,
        })?
        .challenge;
    let key = harness_runner::fixtures::device_key(0)?;
    let spec = harness_runner::csr::CsrSpec {
        sans,
        subject_key_identifier: true,
        ..harness_runner::csr::CsrSpec::simple("phone-1", Some(&challenge))
    };
    let request = harness_runner::pki::b64(&spec.build(&key)?);
    let token = t.token(Resource::Intune).await?;
    let (status, v) = t.validate(&token, Some(GUID), &request).await?;
    assert_eq!(status, 200, "{v}");
    Ok(v["code"].as_str().unwrap_or_default().to_string())
}

/// A subject alternative name the challenge's profile does not expect — another user's UPN
/// beside the right one or under a profile that demands none, another device's DNS name — is
/// refused with Microsoft's `SubjectAltNameMismatch`; the device's and user's own names pass.
#[tokio::test]
async fn a_san_the_profile_does_not_expect_is_a_mismatch() -> Res {
    use harness_runner::csr::San;
    let t = tenant(5, |c| c.profiles.push(upn_profile())).await?;
    let bob = || San::Upn("bob@contoso.test".into());
    let mallory = || San::Upn("mallory@contoso.test".into());
    assert_eq!(san_verdict(&t, "SCEP-Upn", vec![bob()]).await?, "Success");
    assert_eq!(
        san_verdict(&t, "SCEP-Upn", vec![bob(), mallory()]).await?,
        "SubjectAltNameMismatch",
        "another user's UPN beside the user's own"
    );
    assert_eq!(
        san_verdict(&t, "SCEP-Upn", vec![bob(), San::Dns("laptop-9".into())]).await?,
        "SubjectAltNameMismatch",
        "another device's DNS name"
    );
    assert_eq!(
        san_verdict(
            &t,
            "SCEP-Default",
            vec![bob(), San::Dns("phone-1.contoso.test".into())]
        )
        .await?,
        "Success",
        "the device's own names are expected whatever the profile demands"
    );
    assert_eq!(
        san_verdict(&t, "SCEP-Default", vec![mallory()]).await?,
        "SubjectAltNameMismatch",
        "a UPN under a profile that demands no names"
    );
    assert_eq!(san_verdict(&t, "SCEP-Default", vec![]).await?, "Success");
    t.shutdown().await;
    Ok(())
}

/// Judge, don't block: in judge mode a SCEP validation call with a non-GUID or missing
/// `client-request-id`, or no `api-version`, is answered as the service would and recorded as
/// a finding naming the rule; strict mode (the default) refuses it with 400 as before.
#[tokio::test]
async fn transport_deviations_are_judged_or_refused_by_mode() -> Res {
    use harness_runner::contract::intune::judged::{TransportMode, TransportRule};
    let judge = tenant(6, |c| c.transport = TransportMode::Judge).await?;
    let token = judge.token(Resource::Intune).await?;
    let (status, v) = judge
        .validate(&token, Some("31B73087838AC0F7"), "AAAA")
        .await?;
    assert_eq!(status, 200, "answered: {v}");
    assert_eq!(v["code"], "CertificateRequestDecodingFailed");
    let (status, _) = judge.validate(&token, None, "AAAA").await?;
    assert_eq!(status, 200);
    let no_version = http()
        .post(format!("{}/{SCEP}/ScepActions/validateRequest", judge.intune.url()))
        .bearer_auth(&token)
        .header("client-request-id", GUID)
        .body(json!({"request": {"transactionId": "TX-2", "certificateRequest": "AAAA", "callerInfo": "x"}}).to_string())
        .send()
        .await?;
    assert_eq!(no_version.status().as_u16(), 200);
    let (status, _) = judge.validate("not-a-token", Some("x"), "AAAA").await?;
    assert_eq!(status, 401, "a token is never judged");
    let rules: Vec<(TransportRule, Option<String>)> = judge
        .intune
        .state()
        .transport_findings
        .into_iter()
        .map(|f| (f.rule, f.got))
        .collect();
    assert_eq!(
        rules,
        [
            (
                TransportRule::ClientRequestIdNotGuid,
                Some("31B73087838AC0F7".into())
            ),
            (TransportRule::ClientRequestIdMissing, None),
            (TransportRule::ApiVersionMissing, None),
        ]
    );
    judge.shutdown().await;

    let strict = tenant(7, |_| {}).await?;
    let token = strict.token(Resource::Intune).await?;
    let (status, v) = strict
        .validate(&token, Some("31B73087838AC0F7"), "AAAA")
        .await?;
    assert_eq!(status, 400, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("client-request-id"));
    assert!(strict.intune.state().transport_findings.is_empty());
    strict.shutdown().await;
    Ok(())
}

mod under_test {
    //! The gateway seam: the reference gateway (fake NDES + the reference policy over real
    //! sockets) keeps every rule; each switchable bug breaks one, and the checker names it.

    use std::collections::BTreeSet;

    use harness_runner::contract::fault::{Fault, FaultKind, IntuneOp, Scope};
    use harness_runner::gateway::devices::{DevicePlan, Received};
    use harness_runner::gateway::{GatewayBug, GatewayRule, GatewayUnderTest, GatewayWorld};
    use harness_runner::scep::FailInfo;

    use super::Res;

    /// What breaking things looks like before the devices enroll.
    #[derive(Clone, Copy, Debug)]
    enum Setup {
        Healthy,
        NotifyFails,
        NotifyRefused,
        CaDenies,
    }

    async fn world(bugs: &[GatewayBug], setup: Setup) -> Res<GatewayWorld> {
        let bugs: BTreeSet<GatewayBug> = bugs.iter().copied().collect();
        let w = GatewayWorld::start(18, &GatewayUnderTest::Reference(bugs)).await?;
        let once = |kind| Fault {
            kind,
            scope: Scope::Times(1),
        };
        match setup {
            Setup::Healthy => {}
            Setup::NotifyFails => w
                .intune
                .inject(IntuneOp::Notify, once(FaultKind::Status(500)))?,
            Setup::NotifyRefused => w
                .intune
                .inject(IntuneOp::Notify, once(FaultKind::UnknownCode))?,
            Setup::CaDenies => w.ca.remove_template("IntuneDevice"),
        }
        Ok(w)
    }

    fn rules(v: &harness_runner::gateway::GatewayVerdict) -> BTreeSet<GatewayRule> {
        v.findings.iter().map(|f| f.rule).collect()
    }

    #[tokio::test]
    async fn the_reference_gateway_keeps_every_rule() -> Res {
        let w = world(&[], Setup::Healthy).await?;
        let v = w
            .run(&[
                DevicePlan::valid("phone-1", "bob@contoso.test"),
                DevicePlan::foreign("phone-2", "bob@contoso.test"),
                DevicePlan::valid("phone-3", "carol@contoso.test"),
            ])
            .await?;
        assert!(v.findings.is_empty(), "{:#?}", v.findings);
        assert!(matches!(
            v.devices[0].received,
            Received::Certificate { .. }
        ));
        assert_eq!(
            v.devices[1].received,
            Received::Failure(FailInfo::BadRequest)
        );
        assert!(matches!(
            v.devices[2].received,
            Received::Certificate { .. }
        ));
        // Tokens came from the identity platform and were checked: one per resource, reused.
        assert_eq!(
            w.identity.requests().len(),
            2,
            "{:#?}",
            w.identity.requests()
        );
        w.shutdown().await;

        // Intune's answers decide: a failed or refused success notification, no certificate;
        // a CA refusal after a passed validation, a failure notification.
        for setup in [Setup::NotifyFails, Setup::NotifyRefused, Setup::CaDenies] {
            let w = world(&[], setup).await?;
            let v = w
                .run(&[DevicePlan::valid("phone-1", "bob@contoso.test")])
                .await?;
            assert!(v.findings.is_empty(), "{setup:?}: {:#?}", v.findings);
            assert_eq!(
                v.devices[0].received,
                Received::Failure(FailInfo::BadRequest),
                "{setup:?}"
            );
            w.shutdown().await;
        }
        Ok(())
    }

    /// Each bug, the setup that shows it, and the rule that must catch it. The same setup
    /// with the bug switched off finds nothing (the test above), so each finding is the bug's.
    #[tokio::test]
    async fn each_bug_is_caught_by_the_finding_that_names_it() -> Res {
        let valid = || DevicePlan::valid("phone-1", "bob@contoso.test");
        let foreign = || DevicePlan::foreign("phone-2", "bob@contoso.test");
        let cases = [
            (
                GatewayBug::CertAfterFailedNotification,
                Setup::NotifyFails,
                valid(),
                GatewayRule::CertificateAfterFailedSuccessNotification,
            ),
            (
                GatewayBug::IgnoresNotificationAnswer,
                Setup::NotifyRefused,
                valid(),
                GatewayRule::CertificateAfterRefusedSuccessNotification,
            ),
            (
                GatewayBug::ChallengeAsTransactionId,
                Setup::Healthy,
                valid(),
                GatewayRule::TransactionIdNotScep,
            ),
            (
                GatewayBug::ReusedClientRequestId,
                Setup::Healthy,
                valid(),
                GatewayRule::ClientRequestIdReused,
            ),
            (
                GatewayBug::FailureNotificationAfterRefusal,
                Setup::Healthy,
                foreign(),
                GatewayRule::FailureNotificationAfterRefusal,
            ),
            (
                GatewayBug::IssuesBeforeValidating,
                Setup::Healthy,
                foreign(),
                GatewayRule::IssuedWithoutValidation,
            ),
        ];
        for (bug, setup, plan, rule) in cases {
            let w = world(&[bug], setup).await?;
            let v = w.run(std::slice::from_ref(&plan)).await?;
            assert!(
                rules(&v).contains(&rule),
                "{} not caught as {rule}: {:#?}",
                bug.name(),
                v.findings
            );
            w.shutdown().await;
        }
        Ok(())
    }
}

mod checker {
    //! The checker's remaining rules on records written by hand: each with the one field that
    //! breaks it, beside the record that keeps it.

    use harness_runner::contract::intune::judged::{ScepCall, ScepOp};
    use harness_runner::gateway::checker::check;
    use harness_runner::gateway::devices::{DevicePlan, DeviceResult, Received};
    use harness_runner::gateway::GatewayRule;

    const TX: &str = "31B73087838AC0F7136DF156CF0B45B4";
    const CSR: &str = "C13416448953C0EE94BAC95070277282C7F92DCB";

    fn call(seq: u64, op: ScepOp) -> ScepCall {
        ScepCall {
            seq,
            op,
            client_request_id: Some(format!("5f0f8b8e-1c2d-4e3f-8a9b-0c1d2e3f4a{seq:02x}")),
            transaction_id: Some(TX.into()),
            request_thumbprint: Some(CSR.into()),
            status: 200,
            code: Some("Success".into()),
            thumbprint: None,
            serial_number: None,
            expires: None,
            h_result: None,
            error_description: None,
        }
    }

    fn success(seq: u64) -> ScepCall {
        ScepCall {
            thumbprint: Some("da00c3b0a240bfd08bf374bd2c24ad7055a84c2d".into()),
            serial_number: Some("02B33801604B748DC98479CF4F644667".into()),
            expires: Some("2027-01-01T00:00:00.000Z".into()),
            ..call(seq, ScepOp::SuccessNotification)
        }
    }

    fn failure(seq: u64) -> ScepCall {
        ScepCall {
            h_result: Some(0x8009_4012),
            error_description: Some("the CA denied the request".into()),
            ..call(seq, ScepOp::FailureNotification)
        }
    }

    fn device(received: Received, calls_before_answer: u64) -> DeviceResult {
        DeviceResult {
            plan: DevicePlan::valid("phone-1", "bob@contoso.test"),
            transaction_id: TX.into(),
            csr_thumbprint: CSR.into(),
            received,
            calls_before_answer,
            calls_before_issuance: None,
        }
    }

    fn issued() -> Received {
        Received::Certificate {
            thumbprint: "DA00C3B0A240BFD08BF374BD2C24AD7055A84C2D".into(),
            serial_number: "2B33801604B748DC98479CF4F644667".into(),
            not_after: 1_798_761_600,
        }
    }

    fn found(calls: &[ScepCall], d: DeviceResult) -> Vec<GatewayRule> {
        check(calls, &[d]).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_kept_contract_has_no_findings() {
        let good = [call(0, ScepOp::ValidateRequest), success(1)];
        assert_eq!(found(&good, device(issued(), 2)), []);
        let failed = [call(0, ScepOp::ValidateRequest), failure(1)];
        let refused = Received::Failure(harness_runner::scep::FailInfo::BadRequest);
        assert_eq!(found(&failed, device(refused, 2)), []);
    }

    #[test]
    fn each_rule_is_broken_by_its_own_field() {
        use GatewayRule as R;
        let v = || call(0, ScepOp::ValidateRequest);
        let refused = Received::Failure(harness_runner::scep::FailInfo::BadRequest);
        assert_eq!(
            found(&[v()], device(issued(), 1)),
            [R::CertificateWithoutSuccessNotification]
        );
        assert_eq!(
            found(&[v(), success(1)], device(issued(), 1)),
            [R::SuccessNotificationAfterCertRep]
        );
        let wrong_serial = ScepCall {
            serial_number: Some("1234".into()),
            ..success(1)
        };
        assert_eq!(
            found(&[v(), wrong_serial], device(issued(), 2)),
            [R::NotificationCertificateMismatch]
        );
        let wrong_expiry = ScepCall {
            expires: Some("2027-01-01T00:00:01Z".into()),
            ..success(1)
        };
        assert_eq!(
            found(&[v(), wrong_expiry], device(issued(), 2)),
            [R::NotificationCertificateMismatch]
        );
        let zero = ScepCall {
            h_result: Some(0),
            ..failure(1)
        };
        assert_eq!(
            found(&[v(), zero], device(refused.clone(), 2)),
            [R::FailureNotificationZeroHResult]
        );
        let long = ScepCall {
            error_description: Some("x".repeat(256)),
            ..failure(1)
        };
        assert_eq!(
            found(&[v(), long], device(refused.clone(), 2)),
            [R::FailureNotificationBadDescription]
        );
        let not_guid = ScepCall {
            client_request_id: Some(TX.into()),
            ..success(1)
        };
        assert_eq!(
            found(&[v(), not_guid], device(issued(), 2)),
            [R::ClientRequestIdNotGuid]
        );
        let refused_validation = ScepCall {
            code: Some("ChallengeExpired".into()),
            ..v()
        };
        assert_eq!(
            found(&[refused_validation, success(1)], device(issued(), 2)),
            [R::IssuedWithoutValidation]
        );
    }
}

mod library {
    //! The gateway scenario library (`scenarios/gateway/`): the reference gateway passes every
    //! scenario; each bug fails at least one, with a finding that names the bug's rule.

    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use harness_runner::gateway::scenario::{self, GatewayScenario};
    use harness_runner::gateway::{GatewayBug, GatewayRule, GatewayUnderTest};

    fn library() -> Vec<GatewayScenario> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/gateway");
        scenario::files(&dir)
            .expect("scenarios/gateway")
            .iter()
            .map(|f| scenario::load(f).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    async fn run_all(under_test: &GatewayUnderTest) -> Vec<scenario::ScenarioOutcome> {
        let mut out = Vec::new();
        for s in library() {
            out.push(
                scenario::run(&s, under_test)
                    .await
                    .expect("the world starts"),
            );
        }
        out
    }

    #[tokio::test]
    async fn the_reference_gateway_passes_the_library() {
        let lib = library();
        assert!(lib.len() >= 6, "{} scenarios", lib.len());
        assert!(lib.iter().all(|s| s.tags.iter().any(|t| t == "gateway")));
        for o in run_all(&GatewayUnderTest::Reference(BTreeSet::new())).await {
            assert!(o.problems.is_empty(), "{}: {:#?}", o.name, o.problems);
        }
    }

    #[tokio::test]
    async fn every_bug_fails_the_library_naming_its_rule() {
        for (name, bug, rule) in [
            (
                "cert-after-failed-notification",
                GatewayBug::CertAfterFailedNotification,
                GatewayRule::CertificateAfterFailedSuccessNotification,
            ),
            (
                "ignores-notification-answer",
                GatewayBug::IgnoresNotificationAnswer,
                GatewayRule::CertificateAfterRefusedSuccessNotification,
            ),
            (
                "challenge-as-transaction-id",
                GatewayBug::ChallengeAsTransactionId,
                GatewayRule::TransactionIdNotScep,
            ),
            (
                "reused-client-request-id",
                GatewayBug::ReusedClientRequestId,
                GatewayRule::ClientRequestIdReused,
            ),
            (
                "failure-notification-after-refusal",
                GatewayBug::FailureNotificationAfterRefusal,
                GatewayRule::FailureNotificationAfterRefusal,
            ),
            (
                "issues-before-validating",
                GatewayBug::IssuesBeforeValidating,
                GatewayRule::IssuedWithoutValidation,
            ),
        ] {
            assert_eq!(name.parse::<GatewayBug>(), Ok(bug));
            let outcomes = run_all(&GatewayUnderTest::Reference(BTreeSet::from([bug]))).await;
            let named = outcomes
                .iter()
                .flat_map(|o| o.problems.iter())
                .any(|p| p.contains(rule.name()));
            assert!(
                named,
                "{name}: no failure names {rule}: {:#?}",
                outcomes
                    .iter()
                    .map(|o| (&o.name, &o.problems))
                    .collect::<Vec<_>>()
            );
        }
    }
}

/// `connector-harness gateway`: the reference gateway passes a scenario (exit 0); with a bug
/// the same scenario fails (exit 1) naming the rule; a bug name it does not know is bad input.
#[test]
fn the_gateway_command_judges_and_names_the_rule() {
    let dir = crate::common::root().join("scenarios/gateway");
    let dir = dir.to_str().expect("a UTF-8 path");
    let (code, out, err) =
        crate::common::harness(&["gateway", "--scenarios", dir, "--exact", "gateway-enroll"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("passed: gateway-enroll"), "{out}");
    let (code, out, _) = crate::common::harness(&[
        "gateway",
        "--scenarios",
        dir,
        "--exact",
        "gateway-enroll",
        "--bug",
        "reused-client-request-id",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("client_request_id_reused"), "{out}");
    let (code, _, err) = crate::common::harness(&["gateway", "--bug", "no-such-bug"]);
    assert_eq!(code, 2, "{err}");
}

/// A gateway that hands out a certificate after its success notification failed fails in both
/// reports CI reads, with the finding that names the rule: JSON by rule, JUnit by test case.
#[test]
fn a_certificate_after_a_failed_notification_fails_in_json_and_junit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (json, junit) = (tmp.path().join("g.json"), tmp.path().join("g.xml"));
    let dir = crate::common::root().join("scenarios/gateway");
    let args = |bug: Option<&str>| {
        let mut a = vec![
            "gateway".to_string(),
            "--scenarios".into(),
            dir.display().to_string(),
            "--json".into(),
            json.display().to_string(),
            "--junit".into(),
            junit.display().to_string(),
        ];
        if let Some(b) = bug {
            a.extend(["--bug".to_string(), b.to_string()]);
        }
        a
    };
    let run = |bug: Option<&str>| {
        let a = args(bug);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let (code, out, err) = crate::common::harness(&a);
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
                .expect("JSON");
        let xml = std::fs::read_to_string(&junit).expect("junit written");
        (code, format!("{out}{err}"), report, xml)
    };

    let (code, text, report, xml) = run(None);
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["verdict"], "passed", "{report}");
    assert_eq!(report["failed"], 0);
    assert!(!xml.contains("<failure"), "{xml}");

    let (code, text, report, xml) = run(Some("cert-after-failed-notification"));
    assert_eq!(code, 1, "{text}");
    assert_eq!(report["verdict"], "failed", "{report}");
    let rule = "certificate_after_failed_success_notification";
    let named: Vec<&serde_json::Value> = report["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter(|s| {
            s["status"] == "failed"
                && s["findings"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|f| f["rule"] == rule))
        })
        .collect();
    assert!(
        !named.is_empty(),
        "no failed scenario names {rule}: {report}"
    );
    assert!(
        xml.contains("<failure") && xml.contains(rule),
        "JUnit names no {rule}: {xml}"
    );
    assert_eq!(
        xml.matches("<failure").count(),
        report["failed"].as_u64().expect("count") as usize,
        "both reports count the same failures"
    );

    let dir_arg = dir.display().to_string();
    let (code, _, err) = crate::common::harness(&[
        "gateway",
        "--scenarios",
        &dir_arg,
        "--json",
        "/dev/null/g.json",
    ]);
    assert_eq!(code, 2, "an unwritable report is bad input: {err}");
    assert!(err.contains("/dev/null"), "the error names the path: {err}");
}

/// A vendor's gateway started by the harness gets its configuration in a file and in
/// `HARNESS_*` variables, and is stopped at the end. Here the "gateway" is a shell that records
/// what it was given in front of another world's reference gateway (whose Intune never minted
/// these devices' challenges, so they are refused — and nothing is found: no certificate, no
/// call of this Intune's).
#[tokio::test]
async fn an_external_gateway_command_gets_its_configuration() -> Res {
    use harness_runner::gateway::devices::{DevicePlan, Received};
    use harness_runner::gateway::{GatewayUnderTest, GatewayWorld};
    let front = GatewayWorld::start(1, &GatewayUnderTest::Reference(Default::default())).await?;
    let dir = tempfile::tempdir()?;
    let seen = dir.path().join("seen");
    let command = format!(
        // The env file is renamed into place last: once it is there, both files are whole.
        "env | grep '^HARNESS_' | sort > '{0}.tmp'; cat \"$HARNESS_GATEWAY_CONFIG\" > '{0}.json'; mv '{0}.tmp' '{0}.env'; exec sleep 60",
        seen.display()
    );
    let w = GatewayWorld::start(
        2,
        &GatewayUnderTest::External {
            scep_url: front.scep_url.clone(),
            command: Some(command),
        },
    )
    .await?;
    let v = w
        .run(&[DevicePlan::valid("phone-1", "bob@contoso.test")])
        .await?;
    assert!(v.findings.is_empty(), "{:#?}", v.findings);
    assert_eq!(
        v.devices[0].received,
        Received::Failure(harness_runner::scep::FailInfo::BadRequest)
    );
    let mut env = String::new();
    for _ in 0..100 {
        env = std::fs::read_to_string(seen.with_extension("env")).unwrap_or_default();
        if env.contains("HARNESS_TENANT_ID") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c = w.config.clone();
    for line in [
        format!("HARNESS_TENANT_ID={}", c.tenant_id),
        format!("HARNESS_CLIENT_ID={}", c.client_id),
        format!("HARNESS_CLIENT_SECRET={}", c.client_secret),
        format!("HARNESS_LOGIN_URL={}", c.login_url),
        format!("HARNESS_GRAPH_URL={}", c.graph_url),
    ] {
        assert!(env.lines().any(|l| l == line), "{line} in\n{env}");
    }
    let file: harness_runner::gateway::config::GatewayConfig =
        serde_json::from_str(&std::fs::read_to_string(seen.with_extension("json"))?)?;
    assert_eq!(file, c);
    w.shutdown().await;
    front.shutdown().await;
    Ok(())
}
