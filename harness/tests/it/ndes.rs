//! The fake NDES over real HTTP: full enrolments with the harness's own SCEP client against a
//! tiny in-test CA, every NDES fault kind, malformed requests, and what the policy module hears.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use der::{Decode, Encode};
use harness_runner::contract::ca::{ca_paths, ErrorBody, IssueRequest, IssueResponse};
use harness_runner::contract::fault::{Fault, FaultKind, NdesOp, Scope};
use harness_runner::contract::policy::{AllowAll, Decision, Issued, PolicyFuture, PolicyModule};
use harness_runner::fakes::ca::{CaConfig, FakeCa};
use harness_runner::fakes::ndes::{FakeNdes, NdesConfig, NdesOperation, NdesOutcome};
use harness_runner::fixtures::{self, ISSUING_CA, RA_ENCRYPTION, RA_SIGNING};
use harness_runner::pki::{b64, build_csr, read_csr, serial_hex, thumbprint, unb64};
use harness_runner::scep::client::{build_pkcs_req, build_request, malformed};
use harness_runner::scep::Capabilities;
use harness_runner::scep::{
    parse_ca_certs, read_cert_rep, CertRepOutcome, ContentCipher, Device, FailInfo, MessageType,
    PkiMessage, RequestOptions,
};
use harness_runner::sim::{Clock, Rng};
use x509_cert::Certificate;

// ---------------------------------------------------------------- a minimal CA, test-only

const CA_OK: u8 = 0;
const CA_DENY: u8 = 1;
const CA_FAIL: u8 = 2;
const CA_MALFORMED: u8 = 3;
const CA_HANG: u8 = 4;

struct StubCa {
    url: String,
    mode: Arc<AtomicU8>,
    task: tokio::task::JoinHandle<()>,
}

fn sign_csr(csr: &[u8], serial: u64) -> Result<Vec<u8>, String> {
    let key = ISSUING_CA.rcgen_key().map_err(|e| e.to_string())?;
    let ca_der = ISSUING_CA.cert_der().map_err(|e| e.to_string())?;
    let issuer = rcgen::Issuer::from_ca_cert_der(&ca_der.into(), key).map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateSigningRequestParams::from_der(&csr.to_vec().into())
        .map_err(|e| e.to_string())?;
    params.params.serial_number = Some(rcgen::SerialNumber::from(serial));
    params.params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    Ok(params
        .signed_by(&issuer)
        .map_err(|e| e.to_string())?
        .der()
        .to_vec())
}

async fn stub_ca() -> StubCa {
    let mode = Arc::new(AtomicU8::new(CA_OK));
    let serial = Arc::new(AtomicU64::new(0x1000));
    let m = mode.clone();
    let app = Router::new().route(
        ca_paths::ISSUE,
        post(move |Json(req): Json<IssueRequest>| {
            let m = m.clone();
            let serial = serial.clone();
            async move {
                use axum::response::IntoResponse;
                match m.load(Ordering::SeqCst) {
                    CA_DENY => (
                        StatusCode::FORBIDDEN,
                        Json(ErrorBody {
                            error: "denied".into(),
                            message: format!("template {} not allowed", req.template),
                        }),
                    )
                        .into_response(),
                    CA_FAIL => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
                    CA_MALFORMED => (StatusCode::OK, "{not json").into_response(),
                    CA_HANG => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        (StatusCode::OK, "late").into_response()
                    }
                    _ => {
                        let csr = unb64(&req.csr).unwrap_or_default();
                        match sign_csr(&csr, serial.fetch_add(1, Ordering::SeqCst)) {
                            Ok(der) => {
                                let cert = Certificate::from_der(&der).unwrap();
                                Json(IssueResponse {
                                    serial_number: serial_hex(&cert),
                                    thumbprint: thumbprint(&der),
                                    certificate: b64(&der),
                                    chain: vec![],
                                    not_after: "2040-01-01T00:00:00Z".into(),
                                })
                                .into_response()
                            }
                            Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
                        }
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    StubCa { url, mode, task }
}

// ---------------------------------------------------------------- a recording policy

/// Accepts the challenge `good`, refuses everything else; records every call.
#[derive(Default)]
struct Recording {
    calls: Mutex<Vec<String>>,
    notified: Mutex<Vec<(String, Issued)>>,
}

impl PolicyModule for Recording {
    fn verify<'a>(&'a self, txid: &'a str, csr: &'a [u8]) -> PolicyFuture<'a, Decision> {
        Box::pin(async move {
            self.calls.lock().unwrap().push(format!("verify {txid}"));
            match read_csr(csr).ok().and_then(|i| i.challenge_password) {
                Some(c) if c == "good" => Decision::Issue {
                    template: "SCEP-Template".into(),
                },
                other => Decision::Refuse {
                    reason: format!("challenge {other:?} refused"),
                },
            }
        })
    }
    fn notify<'a>(&'a self, txid: &'a str, _: &'a [u8], outcome: Issued) -> PolicyFuture<'a, ()> {
        Box::pin(async move {
            self.notified
                .lock()
                .unwrap()
                .push((txid.to_string(), outcome));
        })
    }
}

// ---------------------------------------------------------------- helpers

const BOUND: Duration = Duration::from_millis(200);

fn http(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .unwrap()
}

async fn start(ca_url: &str, policy: Arc<dyn PolicyModule>, seed: u64) -> FakeNdes {
    FakeNdes::start(
        NdesConfig {
            ca_url: ca_url.into(),
            timeout: Duration::from_secs(2),
            ..NdesConfig::default()
        },
        policy,
        Rng::new(seed).fork("ndes"),
    )
    .await
    .unwrap()
}

async fn post_pki(url: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let r = http(Duration::from_secs(10))
        .post(format!("{url}?operation=PKIOperation"))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn get_op(url: &str, op: &str) -> (u16, Vec<u8>) {
    let r = http(Duration::from_secs(10))
        .get(format!("{url}?operation={op}"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

/// The URL of a port nobody listens on.
async fn closed_port_url() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

/// URL-escapes standard base64 (`+`, `/`, `=`).
fn url_escape(b64: &str) -> String {
    b64.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

struct Dev {
    device: Device,
    csr: Vec<u8>,
    rng: Rng,
}

fn device(n: usize, challenge: &str) -> Dev {
    let mut rng = Rng::new(100 + n as u64).fork("device");
    let device = Device::self_signed(
        fixtures::device_key(n).unwrap(),
        &format!("device-{n}"),
        &mut rng,
    )
    .unwrap();
    let csr = build_csr(&device.key, &format!("device-{n}"), Some(challenge)).unwrap();
    Dev { device, csr, rng }
}

fn ra_enc() -> Certificate {
    RA_ENCRYPTION.certificate().unwrap()
}

fn ra_sign() -> Certificate {
    RA_SIGNING.certificate().unwrap()
}

fn inject(ndes: &FakeNdes, op: NdesOp, kind: FaultKind) {
    ndes.switchboard().inject(
        op,
        Fault {
            kind,
            scope: Scope::UntilHealed,
        },
    );
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn full_enrolment_post_and_get_with_every_client_profile() {
    let ca = stub_ca().await;
    let policy = Arc::new(Recording::default());
    let ndes = start(&ca.url, policy.clone(), 1).await;
    let url = ndes.url();
    assert!(url.ends_with("/certsrv/mscep/mscep.dll"));

    let (code, caps) = get_op(&url, "GetCACaps").await;
    assert_eq!(code, 200);
    // As a Windows NDES answers: no AES, no SCEPStandard.
    assert_eq!(
        String::from_utf8(caps).unwrap(),
        "POSTPKIOperation\r\nRenewal\r\nSHA-512\r\nSHA-256\r\nSHA-1\r\nDES3\r\n"
    );
    let r = http(Duration::from_secs(10))
        .get(format!("{url}?operation=GetCACert"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/x-x509-ca-ra-cert"
    );
    let body = r.bytes().await.unwrap().to_vec();
    let certs = parse_ca_certs(&body).unwrap();
    assert_eq!(certs.len(), 3);
    assert!(certs.contains(&ra_enc()) && certs.contains(&ra_sign()));
    assert!(certs.contains(&ISSUING_CA.certificate().unwrap()));

    let profiles = [
        (RequestOptions::default(), false),
        (RequestOptions::micromdm(), false),
        (
            RequestOptions {
                cipher: ContentCipher::Des3Cbc,
                digest: harness_runner::scep::DigestAlg::Sha256,
            },
            true,
        ),
    ];
    for (i, (opts, by_get)) in profiles.into_iter().enumerate() {
        let mut d = device(i, "good");
        // Encrypted to every GetCACert certificate, as micromdm does.
        let all: Vec<&Certificate> = certs.iter().collect();
        let sent = build_request(
            &d.device,
            MessageType::PkcsReq,
            &d.csr,
            &all,
            &opts,
            &mut d.rng,
        )
        .unwrap();
        let (code, body) = if by_get {
            let r = http(Duration::from_secs(10))
                .get(format!(
                    "{url}?operation=PKIOperation&message={}",
                    url_escape(&b64(&sent.message))
                ))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
        } else {
            post_pki(&url, sent.message.clone()).await
        };
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
        match read_cert_rep(&body, &d.device, &sent, Some(&ra_sign())).unwrap() {
            CertRepOutcome::Success {
                certificate_der,
                cipher,
                ..
            } => {
                assert_eq!(cipher, opts.cipher, "answers with the request's cipher");
                let cert = Certificate::from_der(&certificate_der).unwrap();
                assert_eq!(
                    cert.tbs_certificate.issuer,
                    ISSUING_CA.certificate().unwrap().tbs_certificate.subject
                );
                assert_eq!(
                    cert.tbs_certificate.subject_public_key_info,
                    d.device.cert.tbs_certificate.subject_public_key_info
                );
                let notified = policy.notified.lock().unwrap().clone();
                let (txid, outcome) = notified.last().unwrap();
                assert_eq!(txid, &sent.transaction_id);
                match outcome {
                    Issued::Issued {
                        thumbprint: t,
                        ca_name,
                        serial_number,
                        ..
                    } => {
                        assert_eq!(t, &thumbprint(&certificate_der));
                        assert_eq!(serial_number, &serial_hex(&cert));
                        assert_eq!(ca_name, "TEST ONLY Contoso Issuing CA");
                    }
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("{other:?}"),
        }
    }
    let recs = ndes.requests();
    assert_eq!(recs.len(), 5);
    assert!(recs[2..]
        .iter()
        .all(|r| r.operation == NdesOperation::PkiOperation
            && r.message_type == Some(MessageType::PkcsReq)
            && matches!(r.outcome, NdesOutcome::Success { .. })));
    ndes.shutdown().await;
    ca.task.abort();
}

#[tokio::test]
async fn refusal_and_ca_errors_answer_failure_bad_request() {
    let ca = stub_ca().await;
    let policy = Arc::new(Recording::default());
    let ndes = start(&ca.url, policy.clone(), 2).await;
    let url = ndes.url();

    // Wrong challenge: refused, FAILURE badRequest, no notification.
    let mut d = device(0, "bad");
    let sent = build_pkcs_req(
        &d.device,
        &d.csr,
        &ra_enc(),
        &RequestOptions::default(),
        &mut d.rng,
    )
    .unwrap();
    let (code, body) = post_pki(&url, sent.message.clone()).await;
    assert_eq!(code, 200);
    assert_eq!(
        read_cert_rep(&body, &d.device, &sent, Some(&ra_sign())).unwrap(),
        CertRepOutcome::Failure(FailInfo::BadRequest)
    );
    assert!(policy.notified.lock().unwrap().is_empty());

    // The CA denies, fails, answers garbage, or is gone.
    type Expect = fn(&Issued) -> bool;
    let cases: [(Option<u8>, Expect); 5] = [
        (
            Some(CA_HANG),
            |i| matches!(i, Issued::CaFailed { reason } if reason == "the CA: no answer within 300 ms"),
        ),
        (
            Some(CA_DENY),
            |i| matches!(i, Issued::CaDenied { reason } if reason.contains("denied")),
        ),
        (Some(CA_FAIL), |i| matches!(i, Issued::CaFailed { .. })),
        (
            Some(CA_MALFORMED),
            |i| matches!(i, Issued::CaFailed { reason } if reason.contains("malformed")),
        ),
        (
            None,
            |i| matches!(i, Issued::CaFailed { reason } if reason == "the CA: connection refused"),
        ),
    ];
    let gone = start(&closed_port_url().await, policy.clone(), 2).await;
    let quick = FakeNdes::start(
        NdesConfig {
            ca_url: ca.url.clone(),
            timeout: Duration::from_millis(300),
            ..NdesConfig::default()
        },
        policy.clone(),
        Rng::new(2),
    )
    .await
    .unwrap();
    for (mode, expect) in cases {
        let target = match mode {
            Some(CA_HANG) => {
                ca.mode.store(CA_HANG, Ordering::SeqCst);
                &quick.url()
            }
            Some(m) => {
                ca.mode.store(m, Ordering::SeqCst);
                &url
            }
            None => &gone.url(),
        };
        let mut d = device(1, "good");
        let sent = build_pkcs_req(
            &d.device,
            &d.csr,
            &ra_enc(),
            &RequestOptions::default(),
            &mut d.rng,
        )
        .unwrap();
        let (code, body) = post_pki(target, sent.message.clone()).await;
        assert_eq!(code, 200);
        assert_eq!(
            read_cert_rep(&body, &d.device, &sent, Some(&ra_sign())).unwrap(),
            CertRepOutcome::Failure(FailInfo::BadRequest)
        );
        let notified = policy.notified.lock().unwrap().clone();
        let (txid, outcome) = notified.last().unwrap();
        assert_eq!(txid, &sent.transaction_id);
        assert!(expect(outcome), "{outcome:?}");
    }
    ndes.shutdown().await;
    gone.shutdown().await;
    quick.shutdown().await;
    ca.task.abort();
}

#[tokio::test]
async fn hang_on_each_operation_times_out_and_shutdown_releases_it() {
    let policy = Arc::new(AllowAll::new("t"));
    let ndes = start("http://127.0.0.1:9", policy, 3).await;
    let url = ndes.url();
    let mut d = device(2, "good");
    let sent = build_pkcs_req(
        &d.device,
        &d.csr,
        &ra_enc(),
        &RequestOptions::default(),
        &mut d.rng,
    )
    .unwrap();
    for op in [NdesOp::GetCaCaps, NdesOp::GetCaCert, NdesOp::PkiOperation] {
        inject(&ndes, op, FaultKind::Hang);
    }
    let client = http(BOUND);
    for req in [
        client.get(format!("{url}?operation=GetCACaps")),
        client.get(format!("{url}?operation=GetCACert")),
        client
            .post(format!("{url}?operation=PKIOperation"))
            .body(sent.message.clone()),
    ] {
        let t = Instant::now();
        let err = req.send().await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(t.elapsed() < BOUND * 5);
    }
    // A request still hanging when the server stops is released.
    let pending = tokio::spawn(
        http(Duration::from_secs(30))
            .get(format!("{url}?operation=GetCACaps"))
            .send(),
    );
    let hung = || {
        ndes.requests()
            .iter()
            .filter(|r| r.outcome == NdesOutcome::Hung)
            .count()
    };
    let t = Instant::now();
    while hung() < 4 && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(hung(), 4);
    let t = Instant::now();
    ndes.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let answered = tokio::time::timeout(Duration::from_secs(3), pending)
        .await
        .expect("the hung request ends with the server");
    assert!(answered.is_ok());
}

#[tokio::test]
async fn a_hang_is_released_by_heal_not_only_by_shutdown() {
    let ndes = start("http://127.0.0.1:9", Arc::new(AllowAll::new("t")), 3).await;
    let url = ndes.url();
    inject(&ndes, NdesOp::GetCaCaps, FaultKind::Hang);
    let pending = tokio::spawn(
        http(Duration::from_secs(30))
            .get(format!("{url}?operation=GetCACaps"))
            .send(),
    );
    let t = Instant::now();
    while ndes.requests().is_empty() && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ndes.requests().len(), 1, "the call did not arrive");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished(), "released before heal");
    ndes.switchboard().heal(NdesOp::GetCaCaps);
    let answered = tokio::time::timeout(Duration::from_secs(3), pending)
        .await
        .expect("heal releases the held call")
        .expect("task")
        .expect("an answer");
    assert_eq!(answered.status().as_u16(), 503);
    // The operation works again, with the server still up.
    assert_eq!(get_op(&url, "GetCACaps").await.0, 200);
    ndes.shutdown().await;
}

#[tokio::test]
async fn status_fault_on_each_operation() {
    let ndes = start("http://127.0.0.1:9", Arc::new(AllowAll::new("t")), 4).await;
    let url = ndes.url();
    for (op, name) in [
        (NdesOp::GetCaCaps, "GetCACaps"),
        (NdesOp::GetCaCert, "GetCACert"),
        (NdesOp::PkiOperation, "PKIOperation"),
    ] {
        ndes.switchboard().inject(
            op,
            Fault {
                kind: FaultKind::Status(500),
                scope: Scope::Times(1),
            },
        );
        assert_eq!(get_op(&url, name).await.0, 500);
    }
    // Once spent, the operations work again.
    assert_eq!(get_op(&url, "GetCACaps").await.0, 200);
    ndes.shutdown().await;
}

#[tokio::test]
async fn missing_ra_encryption_certificate() {
    let ca = stub_ca().await;
    let policy = Arc::new(Recording::default());
    let ndes = start(&ca.url, policy.clone(), 5).await;
    inject(&ndes, NdesOp::RaEncryption, FaultKind::Missing);
    let url = ndes.url();
    let certs = parse_ca_certs(&get_op(&url, "GetCACert").await.1).unwrap();
    assert_eq!(certs.len(), 2);
    assert!(!certs.contains(&ra_enc()));
    let mut d = device(3, "good");
    let sent = build_pkcs_req(
        &d.device,
        &d.csr,
        &ra_enc(),
        &RequestOptions::default(),
        &mut d.rng,
    )
    .unwrap();
    let (code, body) = post_pki(&url, sent.message.clone()).await;
    assert_eq!(code, 200);
    assert_eq!(
        read_cert_rep(&body, &d.device, &sent, Some(&ra_sign())).unwrap(),
        CertRepOutcome::Failure(FailInfo::BadMessageCheck)
    );
    // NDES refuses on its own: the policy module is never asked.
    assert!(policy.calls.lock().unwrap().is_empty());
    assert!(policy.notified.lock().unwrap().is_empty());
    ndes.shutdown().await;
    ca.task.abort();
}

#[tokio::test]
async fn missing_ra_signing_certificate() {
    let policy = Arc::new(Recording::default());
    let ndes = start("http://127.0.0.1:9", policy.clone(), 6).await;
    inject(&ndes, NdesOp::RaSigning, FaultKind::Missing);
    let url = ndes.url();
    let certs = parse_ca_certs(&get_op(&url, "GetCACert").await.1).unwrap();
    assert_eq!(certs.len(), 2);
    assert!(!certs.contains(&ra_sign()));
    let mut d = device(0, "good");
    let sent = build_pkcs_req(
        &d.device,
        &d.csr,
        &ra_enc(),
        &RequestOptions::default(),
        &mut d.rng,
    )
    .unwrap();
    let (code, _) = post_pki(&url, sent.message.clone()).await;
    assert_eq!(code, 500);
    assert!(policy.calls.lock().unwrap().is_empty());
    assert!(matches!(
        ndes.requests().last().map(|r| &r.outcome),
        Some(NdesOutcome::Http { status: 500, reason }) if reason.contains("RA signing certificate")
    ));
    ndes.shutdown().await;
}

#[tokio::test]
async fn malformed_requests_get_400_or_failure() {
    let policy = Arc::new(Recording::default());
    let ndes = start("http://127.0.0.1:9", policy.clone(), 7).await;
    let url = ndes.url();
    let opts = RequestOptions::default();
    let mut d = device(1, "good");
    let good = build_pkcs_req(&d.device, &d.csr, &ra_enc(), &opts, &mut d.rng).unwrap();

    // Unreadable: HTTP 400.
    assert_eq!(
        post_pki(&url, malformed::truncated(&good.message)).await.0,
        400
    );
    let wct = malformed::wrong_content_type(&d.csr, &ra_enc(), &opts, &mut d.rng).unwrap();
    assert_eq!(post_pki(&url, wct).await.0, 400);
    assert_eq!(post_pki(&url, b"hello".to_vec()).await.0, 400);
    let r = http(Duration::from_secs(10))
        .get(format!(
            "{url}?operation=PKIOperation&message=%%%not-base64!!"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(get_op(&url, "PKIOperation").await.0, 400);
    assert_eq!(get_op(&url, "Explode").await.0, 400);
    let r = http(Duration::from_secs(10))
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // Readable but wrong: signed FAILURE badMessageCheck.
    let bad = malformed::bad_signature(&d.device, &d.csr, &ra_enc(), &opts, &mut d.rng).unwrap();
    let (code, body) = post_pki(&url, bad.message.clone()).await;
    assert_eq!(code, 200);
    assert_eq!(
        read_cert_rep(&body, &d.device, &bad, Some(&ra_sign())).unwrap(),
        CertRepOutcome::Failure(FailInfo::BadMessageCheck)
    );
    let other = malformed::for_other_recipient(
        &d.device,
        &d.csr,
        &ISSUING_CA.certificate().unwrap(),
        &opts,
        &mut d.rng,
    )
    .unwrap();
    let (code, body) = post_pki(&url, other.message.clone()).await;
    assert_eq!(code, 200);
    assert_eq!(
        read_cert_rep(&body, &d.device, &other, Some(&ra_sign())).unwrap(),
        CertRepOutcome::Failure(FailInfo::BadMessageCheck)
    );
    // None of these reached the policy module; NDES recorded why for each.
    assert!(policy.calls.lock().unwrap().is_empty());
    let failed: Vec<_> = ndes
        .requests()
        .into_iter()
        .filter(|r| matches!(r.outcome, NdesOutcome::Failure { .. }))
        .filter_map(|r| r.transaction_id)
        .collect();
    assert_eq!(failed, vec![bad.transaction_id, other.transaction_id]);

    // Random bodies: never a 5xx, never a hang.
    let mut rng = Rng::new(77);
    for n in 0..24 {
        let mut body = rng.bytes(1 + n * 37);
        if n % 2 == 0 {
            // Start like a SEQUENCE to get past the first byte.
            body[0] = 0x30;
        }
        let (code, _) = post_pki(&url, body).await;
        assert!(code == 400 || code == 200, "{code}");
    }
    ndes.shutdown().await;
}

#[tokio::test]
async fn answers_are_deterministic_for_a_seed() {
    let run = || async {
        let ca = stub_ca().await;
        let ndes = start(&ca.url, Arc::new(AllowAll::new("t")), 42).await;
        let mut d = device(2, "good");
        let sent = build_pkcs_req(
            &d.device,
            &d.csr,
            &ra_enc(),
            &RequestOptions::default(),
            &mut d.rng,
        )
        .unwrap();
        let (_, body) = post_pki(&ndes.url(), sent.message).await;
        ndes.shutdown().await;
        ca.task.abort();
        body
    };
    let a = run().await;
    let b = run().await;
    assert!(PkiMessage::parse(&a).is_ok());
    assert_eq!(a, b);
    let _ = a.to_der();
}

/// A real fake CA and an NDES in front of it, allowing every request.
async fn with_fake_ca(seed: u64, capabilities: Capabilities) -> (FakeCa, FakeNdes) {
    let ca = FakeCa::start(CaConfig::default(), Clock::default(), Rng::new(seed))
        .await
        .unwrap();
    let ndes = FakeNdes::start(
        NdesConfig {
            ca_url: ca.url().to_string(),
            timeout: Duration::from_secs(5),
            capabilities,
            ..NdesConfig::default()
        },
        Arc::new(AllowAll::new("IntuneDevice")),
        Rng::new(seed),
    )
    .await
    .unwrap();
    (ca, ndes)
}

async fn enroll_as(
    url: &str,
    signer: &Device,
    kind: MessageType,
    csr: &[u8],
    opts: &RequestOptions,
    rng: &mut Rng,
) -> CertRepOutcome {
    let sent = build_request(signer, kind, csr, &[&ra_enc()], opts, rng).unwrap();
    let (code, body) = post_pki(url, sent.message.clone()).await;
    assert_eq!(code, 200);
    read_cert_rep(&body, signer, &sent, Some(&ra_sign())).unwrap()
}

#[tokio::test]
async fn renewal_needs_a_signer_this_ca_issued_and_pkcsreq_the_requests_own_key() {
    let (ca, ndes) = with_fake_ca(8, Capabilities::Ndes).await;
    let url = ndes.url();
    let opts = RequestOptions::default();
    let mut d = device(3, "good");
    // A PKCSReq signed with another key than the one it certifies: refused.
    let stranger = device(1, "good");
    assert_eq!(
        enroll_as(
            &url,
            &stranger.device,
            MessageType::PkcsReq,
            &d.csr,
            &opts,
            &mut d.rng
        )
        .await,
        CertRepOutcome::Failure(FailInfo::BadRequest)
    );
    // A RenewalReq signed with the device's self-signed certificate: refused.
    assert_eq!(
        enroll_as(
            &url,
            &d.device,
            MessageType::RenewalReq,
            &d.csr,
            &opts,
            &mut d.rng
        )
        .await,
        CertRepOutcome::Failure(FailInfo::BadRequest)
    );
    // Enroll, then renew with the certificate the CA issued.
    let CertRepOutcome::Success {
        certificate_der, ..
    } = enroll_as(
        &url,
        &d.device,
        MessageType::PkcsReq,
        &d.csr,
        &opts,
        &mut d.rng,
    )
    .await
    else {
        panic!("the PKCSReq was not issued");
    };
    let issued = Device {
        key: d.device.key.clone(),
        cert: Certificate::from_der(&certificate_der).unwrap(),
        cert_der: certificate_der.clone(),
    };
    let renewal_csr = build_csr(&issued.key, "device-3", None).unwrap();
    assert!(matches!(
        enroll_as(
            &url,
            &issued,
            MessageType::RenewalReq,
            &renewal_csr,
            &opts,
            &mut d.rng
        )
        .await,
        CertRepOutcome::Success { .. }
    ));
    // Once revoked, it no longer renews.
    let serial = serial_hex(&issued.cert);
    let r = http(Duration::from_secs(5))
        .post(format!("{}{}", ca.url(), ca_paths::REVOKE))
        .json(&serde_json::json!({"serialNumber": serial}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        enroll_as(
            &url,
            &issued,
            MessageType::RenewalReq,
            &renewal_csr,
            &opts,
            &mut d.rng
        )
        .await,
        CertRepOutcome::Failure(FailInfo::BadRequest)
    );
    // Other message types are refused.
    assert_eq!(
        enroll_as(
            &url,
            &d.device,
            MessageType::GetCert,
            &d.csr,
            &opts,
            &mut d.rng
        )
        .await,
        CertRepOutcome::Failure(FailInfo::BadRequest)
    );
    let reasons: Vec<String> = ndes
        .requests()
        .iter()
        .filter_map(|r| match &r.outcome {
            NdesOutcome::Failure { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert!(reasons[0].contains("signed with the key"), "{reasons:?}");
    assert!(reasons[1].contains("this CA issued"), "{reasons:?}");
    assert!(reasons[2].contains("revoked"), "{reasons:?}");
    ndes.shutdown().await;
    ca.shutdown().await;
}

#[tokio::test]
async fn the_rfc8894_profile_advertises_scepstandard_and_refuses_single_des() {
    let (ca, ndes) = with_fake_ca(9, Capabilities::Rfc8894).await;
    let url = ndes.url();
    let (_, caps) = get_op(&url, "GetCACaps").await;
    let caps = String::from_utf8(caps).unwrap();
    assert!(caps.contains("SCEPStandard") && caps.contains("AES") && !caps.contains("DES3"));
    let mut d = device(2, "good");
    let des = RequestOptions {
        cipher: ContentCipher::DesCbc,
        ..RequestOptions::default()
    };
    assert_eq!(
        enroll_as(
            &url,
            &d.device,
            MessageType::PkcsReq,
            &d.csr,
            &des,
            &mut d.rng
        )
        .await,
        CertRepOutcome::Failure(FailInfo::BadAlg)
    );
    assert!(matches!(
        enroll_as(
            &url,
            &d.device,
            MessageType::PkcsReq,
            &d.csr,
            &RequestOptions::default(),
            &mut d.rng
        )
        .await,
        CertRepOutcome::Success { .. }
    ));
    ndes.shutdown().await;
    ca.shutdown().await;
}

#[tokio::test]
async fn captured_micromdm_request_for_another_server_gets_a_signed_failure() {
    let Some(shared) = harness_test_support::shared_dir("fixtures/scep-micromdm") else {
        return;
    };
    let bytes =
        std::fs::read(shared.join("fixtures/scep-micromdm/pkcsreq-valid-challenge.der")).unwrap();
    let policy = Arc::new(Recording::default());
    let ndes = start("http://127.0.0.1:9", policy.clone(), 9).await;
    // Real micromdm bytes (BER, SHA-1, DES) encrypted to micromdm's own CA, not our RA.
    let (code, body) = post_pki(&ndes.url(), bytes.clone()).await;
    assert_eq!(code, 200);
    let req = PkiMessage::parse(&bytes).unwrap();
    let rep = PkiMessage::parse(&body).unwrap();
    assert_eq!(rep.signer, ra_sign());
    assert_eq!(rep.transaction_id, req.transaction_id);
    assert_eq!(rep.recipient_nonce.as_ref(), Some(&req.sender_nonce));
    assert_eq!(rep.fail_info, Some(FailInfo::BadMessageCheck));
    assert_eq!(rep.digest, harness_runner::scep::DigestAlg::Sha1);
    assert!(policy.calls.lock().unwrap().is_empty());
    // The failure carries what micromdm's own server sends (captured beside the request): no
    // pkcsPKIEnvelope, but an empty eContent, which clients such as PyScep digest and check.
    let captured =
        std::fs::read(shared.join("fixtures/scep-micromdm/certrep-failure.der")).unwrap();
    assert_eq!(econtent(&captured), Some(Vec::new()));
    assert_eq!(econtent(&body), econtent(&captured));
    let records = ndes.requests();
    assert!(
        matches!(&records[..], [r] if r.transaction_id.as_deref() == Some(req.transaction_id.as_str())
            && matches!(&r.outcome, NdesOutcome::Failure { reason, .. } if reason.contains("not for us"))),
        "{records:?}"
    );
    ndes.shutdown().await;
}

/// The eContent of a SignedData `ContentInfo`: `None` when absent.
fn econtent(der_bytes: &[u8]) -> Option<Vec<u8>> {
    use der::Decode;
    let ci = cms::content_info::ContentInfo::from_der(der_bytes).unwrap();
    let sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    sd.encap_content_info.econtent.map(|a| a.value().to_vec())
}
