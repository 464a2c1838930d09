//! The reference connector's policy module against an HTTP peer that is not our fake: a
//! wiremock server playing the Certificate Registration Point, answering each way a real
//! service can. What the connector decides and the event it writes must follow from the
//! answer alone: a verdict, a refusal with Intune's code, a malformed body, an unknown code, a
//! slow service, a failure that a retry cures, a closed port.

use std::time::Duration;

use harness_runner::catalog::Detail;
use harness_runner::connector::{env, process::config_of, Bugs, Connector};
use harness_runner::contract::intune::{crp, Service, DISCOVERY_PATH};
use harness_runner::contract::policy::Decision;
use harness_runner::contract::process::Config;
use harness_runner::event::{EventRecord, Sink};
use harness_runner::provision::{provision, StoreCondition, StoreSetup};
use harness_runner::sim::{Clock, DEFAULT_EPOCH};
use harness_runner::{fixtures, pki};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TIMEOUT_MS: u64 = 300;

struct Verdict {
    decision: Decision,
    events: Vec<EventRecord>,
}

/// A CRP at `server` answering VerifyRequest with `answers` (mounted in order: the first
/// matching mock with calls left answers).
async fn verify_against(server: &MockServer, answers: Vec<Mock>) -> Verdict {
    let crp_uri = format!(
        "{}/{}",
        server.uri(),
        Service::CertificateRegistration.name()
    );
    Mock::given(method("GET"))
        .and(path(DISCOVERY_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [
            {"serviceName": Service::CertificateRegistration.name(), "uri": crp_uri}
        ]})))
        .mount(server)
        .await;
    for m in answers {
        m.mount(server).await;
    }
    let store = tempfile::tempdir().unwrap();
    let day = time::Duration::days(1);
    provision(
        store.path(),
        &StoreSetup {
            condition: StoreCondition::Present,
            not_before: DEFAULT_EPOCH - day,
            not_after: DEFAULT_EPOCH + day * 365,
            signing_certificate: true,
            crp_encryption_certificate: true,
        },
        &fixtures::RA_SIGNING.cert_der().unwrap(),
    )
    .unwrap();
    let config = Config {
        discovery_url: format!("{}{DISCOVERY_PATH}", server.uri()),
        ca_url: "http://127.0.0.1:9".into(),
        ca_name: "TEST-ISSUING-CA".into(),
        store_dir: store.path().display().to_string(),
        timeout_ms: TIMEOUT_MS,
        retries: 2,
        backoff_ms: 30_000,
        renewal_window_ms: 30 * 86_400_000,
        batch_size: 100,
        ra_certificate: false,
        scep_template: "IntuneDevice".into(),
    };
    let clock = Clock::new(DEFAULT_EPOCH);
    let sink = Sink::new(clock.clone());
    let (time, log) = env::in_process(&clock, &sink);
    let connector = Connector::new(config_of(&config, Bugs::default()), log, time);
    let key = fixtures::device_key(0).unwrap();
    let csr = pki::build_csr(&key, "phone-1", Some("a-challenge")).unwrap();
    let decision = connector.verify_challenge("TX-1", &csr).await;
    Verdict {
        decision,
        events: sink.records(),
    }
}

fn verify_mock() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(format!(
            "/{}/{}",
            Service::CertificateRegistration.name(),
            crp::VERIFY_REQUEST
        )))
        .and(header("user-agent", crp::USER_AGENT))
}

fn one(v: &Verdict) -> (u16, String, Option<String>, Option<String>) {
    assert_eq!(v.events.len(), 1, "{:?}", v.events);
    let r = &v.events[0];
    (
        r.event.id(),
        r.code.hex(),
        r.details.get(Detail::Reason).map(str::to_string),
        r.details.get(Detail::Attempts).map(str::to_string),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_policy_module_follows_the_services_answer() {
    runtime().block_on(async {
        // Allowed: 201 with the verdict; the event names the device Intune named.
        let server = MockServer::start().await;
        let v =
            verify_against(
                &server,
                vec![verify_mock().respond_with(ResponseTemplate::new(201).set_body_json(
                json!({"code": "Success", "deviceId": "phone-1", "userId": "bob@contoso.test"}),
            ))],
            )
            .await;
        assert!(matches!(v.decision, Decision::Issue { .. }));
        assert_eq!(one(&v).0, 20500);
        assert_eq!(
            v.events[0].details.get(Detail::UserId),
            Some("bob@contoso.test")
        );

        // Refused with Intune's code: 20501 with code 0, the reason is the code.
        let server = MockServer::start().await;
        let v = verify_against(
            &server,
            vec![verify_mock().respond_with(
                ResponseTemplate::new(403).set_body_json(
                    json!({"code": "KeyLengthMismatch", "errorDescription": "1024"}),
                ),
            )],
        )
        .await;
        assert!(matches!(v.decision, Decision::Refuse { .. }));
        assert_eq!(
            one(&v),
            (
                20501,
                "0x00000000".into(),
                Some("KeyLengthMismatch".into()),
                None
            )
        );

        // A code the client does not know is a failure of the call, not a verdict.
        let server = MockServer::start().await;
        let v = verify_against(
            &server,
            vec![verify_mock()
                .respond_with(ResponseTemplate::new(201).set_body_json(json!({"code": "Bogus"})))],
        )
        .await;
        assert!(matches!(v.decision, Decision::Refuse { .. }));
        let (id, code, reason, _) = one(&v);
        assert_eq!((id, code.as_str()), (20502, "0x0FFFFFFF"));
        assert!(reason.is_some_and(|r| r.contains("Bogus")));
    });
}

#[test]
fn broken_answers_are_retried_and_then_reported_truly() {
    runtime().block_on(async {
        // 200 with a body that is not JSON, every time: retried, then 20502 / 0x0FFFFFFF.
        let server = MockServer::start().await;
        let v = verify_against(
            &server,
            vec![verify_mock().respond_with(ResponseTemplate::new(200).set_body_string("<html>"))],
        )
        .await;
        assert!(matches!(v.decision, Decision::Refuse { .. }));
        assert_eq!(
            one(&v),
            (
                20502,
                "0x0FFFFFFF".into(),
                Some("malformed answer".into()),
                Some("3".into())
            )
        );
        assert_eq!(
            server
                .received_requests()
                .await
                .unwrap()
                .iter()
                .filter(|r| r.method.as_str() == "POST")
                .count(),
            3,
            "one call and two retries"
        );

        // Slower than the timeout, every time: the reason says so, with no address in it.
        let server = MockServer::start().await;
        let v = verify_against(
            &server,
            vec![verify_mock().respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(json!({"code": "Success"}))
                    .set_delay(Duration::from_millis(TIMEOUT_MS * 4)),
            )],
        )
        .await;
        let (id, code, reason, _) = one(&v);
        assert_eq!((id, code.as_str()), (20502, "0x0FFFFFFF"));
        assert_eq!(reason.as_deref(), Some("no answer within 300 ms"));

        // HTTP 500 once, then the verdict: verified after a retry, 20500 / 0x0FFFFFFF.
        let server = MockServer::start().await;
        let v = verify_against(
            &server,
            vec![
                verify_mock()
                    .respond_with(ResponseTemplate::new(500))
                    .up_to_n_times(1)
                    .with_priority(1),
                verify_mock()
                    .respond_with(
                        ResponseTemplate::new(201).set_body_json(json!({"code": "Success"})),
                    )
                    .with_priority(2),
            ],
        )
        .await;
        assert!(matches!(v.decision, Decision::Issue { .. }));
        assert_eq!(
            one(&v),
            (20500, "0x0FFFFFFF".into(), None, Some("2".into()))
        );
    });
}
