//! The reference connector issuing several PKCS requests at once still writes its events and
//! uploads its results in the order Intune handed the requests out, never in the order the CA
//! happened to answer: here a CA (wiremock) answers the first request last.

use std::time::Duration;

use harness_runner::catalog::{Detail, EventId};
use harness_runner::connector::{env, Bugs, Connector, ConnectorConfig, RetryPolicy};
use harness_runner::contract::ca::{ca_paths, IssueResponse};
use harness_runner::contract::intune::admin::{QueuePkcs, UploadVerdict};
use harness_runner::event::Sink;
use harness_runner::fakes::intune::{FakeIntune, IntuneConfig};
use harness_runner::provision::{provision, StoreCondition, StoreSetup};
use harness_runner::sim::{Clock, Rng, DEFAULT_EPOCH};
use harness_runner::{fixtures, pki};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REQUESTS: usize = 6;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The events (event, device) and the upload order of one sync with `in_flight`.
async fn one_sync(in_flight: usize) -> (Vec<(EventId, String)>, Vec<String>) {
    let clock = Clock::new(DEFAULT_EPOCH);
    let intune = FakeIntune::start(IntuneConfig::default(), clock.clone(), Rng::new(7))
        .await
        .unwrap();
    let ca = MockServer::start().await;
    let mut devices = Vec::new();
    for n in 0..REQUESTS {
        let device = format!("order-{n}");
        let csr = pki::b64(
            &pki::build_csr(&fixtures::device_key(n % 4).unwrap(), &device, None).unwrap(),
        );
        // The first request is answered last, the last first.
        Mock::given(method("POST"))
            .and(path(ca_paths::ISSUE))
            .and(body_string_contains(csr.clone()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(IssueResponse {
                        serial_number: format!("0{n}"),
                        thumbprint: format!("{n:040X}"),
                        certificate: String::new(),
                        chain: Vec::new(),
                        not_after: "2027-01-01T00:00:00Z".into(),
                    })
                    .set_delay(Duration::from_millis(60 * (REQUESTS - n) as u64)),
            )
            .mount(&ca)
            .await;
        intune
            .queue_pkcs(QueuePkcs {
                device_id: device.clone(),
                user_id: "u@contoso.test".into(),
                template_name: "IntuneUser".into(),
                ca_name: "TEST-ISSUING-CA".into(),
                certificate_request: csr,
                request_id: None,
            })
            .unwrap();
        devices.push(device);
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
        &pki::unb64(&intune.signing_certificate().certificate).unwrap(),
    )
    .unwrap();
    let sink = Sink::new(clock.clone());
    let (time, log) = env::in_process(&clock, &sink);
    let connector = Connector::new(
        ConnectorConfig {
            discovery_url: intune.discovery_url(),
            ca_url: ca.uri(),
            ca_name: "TEST-ISSUING-CA".into(),
            store_dir: store.path().to_path_buf(),
            retry: RetryPolicy {
                timeout: Duration::from_secs(5),
                ..RetryPolicy::default()
            },
            renewal_window: day * 30,
            batch_size: 100,
            ra_certificate: false,
            scep_template: "IntuneDevice".into(),
            bugs: Bugs::default(),
        },
        log,
        time,
    )
    .with_pkcs_in_flight(in_flight);
    assert!(connector.start().await);
    connector.sync().await;
    let events = sink
        .records()
        .into_iter()
        .filter(|r| {
            matches!(
                r.event,
                EventId::PkcsCertIssueSuccess | EventId::UploadSuccess
            )
        })
        .map(|r| {
            (
                r.event,
                r.details
                    .get(Detail::DeviceId)
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let state = intune.state();
    let by_id: std::collections::HashMap<_, _> = state.queued_pkcs.iter().cloned().collect();
    let uploads = state
        .uploads
        .iter()
        .filter(|u| u.verdict == UploadVerdict::Recorded)
        .map(|u| by_id[&u.request_id].clone())
        .collect();
    intune.shutdown().await;
    (events, uploads)
}

#[test]
fn events_and_uploads_follow_the_download_order_not_the_cas() {
    let rt = runtime();
    let expected: Vec<(EventId, String)> = (0..REQUESTS)
        .flat_map(|n| {
            let d = format!("order-{n}");
            [
                (EventId::PkcsCertIssueSuccess, d.clone()),
                (EventId::UploadSuccess, d),
            ]
        })
        .collect();
    let in_order: Vec<String> = (0..REQUESTS).map(|n| format!("order-{n}")).collect();
    for in_flight in [1, 4, REQUESTS] {
        let (events, uploads) = rt.block_on(one_sync(in_flight));
        assert_eq!(events, expected, "events with {in_flight} in flight");
        assert_eq!(uploads, in_order, "uploads with {in_flight} in flight");
    }
}
