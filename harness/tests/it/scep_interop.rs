//! Interop with a SCEP client nobody here wrote: micromdm's `scepclient` (Debian `scep`
//! 2.1.0) enrols against the fake NDES. Skipped with a notice when `scepclient` is not
//! installed, unless `HARNESS_REQUIRE_PEERS` is set.

use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use der::Decode;
use harness_runner::contract::ca::{ca_paths, IssueRequest, IssueResponse};
use harness_runner::contract::policy::{Decision, Issued, PolicyFuture, PolicyModule};
use harness_runner::fakes::ndes::{FakeNdes, NdesConfig, NdesOperation, NdesOutcome};
use harness_runner::fixtures::{pem_to_der, ISSUING_CA, ROOT_CA};
use harness_runner::pki::{b64, read_csr, serial_hex, thumbprint, unb64};
use harness_runner::scep::{FailInfo, MessageType};
use harness_runner::sim::Rng;
use harness_test_support::peer;
use x509_cert::Certificate;

const CHALLENGE: &str = "TEST-ONLY-interop-secret";

/// Issues when the CSR carries [`CHALLENGE`], refuses otherwise.
struct OneChallenge;

impl PolicyModule for OneChallenge {
    fn verify<'a>(&'a self, _: &'a str, csr: &'a [u8]) -> PolicyFuture<'a, Decision> {
        Box::pin(async move {
            match read_csr(csr).ok().and_then(|i| i.challenge_password) {
                Some(c) if c == CHALLENGE => Decision::Issue {
                    template: "SCEP".into(),
                },
                other => Decision::Refuse {
                    reason: format!("challenge {other:?} is not the one minted"),
                },
            }
        })
    }
    fn notify<'a>(&'a self, _: &'a str, _: &'a [u8], outcome: Issued) -> PolicyFuture<'a, ()> {
        Box::pin(async move { eprintln!("policy: notified: {outcome:?}") })
    }
}

/// A minimal CA for this test only: signs every CSR with the issuing CA (rcgen).
async fn stub_ca() -> (String, tokio::task::JoinHandle<()>) {
    let serial = Arc::new(AtomicU64::new(0x2000));
    let app = Router::new().route(
        ca_paths::ISSUE,
        post(move |Json(req): Json<IssueRequest>| {
            let serial = serial.clone();
            async move {
                let signed = (|| -> Result<Vec<u8>, String> {
                    let csr = unb64(&req.csr).map_err(|e| e.to_string())?;
                    let key = ISSUING_CA.rcgen_key().map_err(|e| e.to_string())?;
                    let ca = ISSUING_CA.cert_der().map_err(|e| e.to_string())?;
                    let issuer = rcgen::Issuer::from_ca_cert_der(&ca.into(), key)
                        .map_err(|e| e.to_string())?;
                    let mut p = rcgen::CertificateSigningRequestParams::from_der(&csr.into())
                        .map_err(|e| e.to_string())?;
                    p.params.serial_number = Some(rcgen::SerialNumber::from(
                        serial.fetch_add(1, Ordering::SeqCst),
                    ));
                    p.params.not_before = rcgen::date_time_ymd(2024, 1, 1);
                    p.params.not_after = rcgen::date_time_ymd(2040, 1, 1);
                    Ok(p.signed_by(&issuer)
                        .map_err(|e| e.to_string())?
                        .der()
                        .to_vec())
                })();
                match signed {
                    Ok(der) => {
                        let cert = Certificate::from_der(&der).map_err(|e| e.to_string());
                        let serial_number = cert.as_ref().map(serial_hex).unwrap_or_default();
                        Json(IssueResponse {
                            serial_number,
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
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

async fn scepclient(exe: &Path, url: &str, challenge: &str, dir: &Path, cn: &str) -> Output {
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("-server-url")
        .arg(url)
        .arg("-challenge")
        .arg(challenge)
        .arg("-private-key")
        .arg(dir.join("key.pem"))
        .arg("-certificate")
        .arg(dir.join("cert.pem"))
        .arg("-cn")
        .arg(cn)
        .arg("-organization")
        .arg("TEST ONLY interop")
        .arg("-keySize")
        .arg("2048")
        .kill_on_drop(true);
    match tokio::time::timeout(Duration::from_secs(20), cmd.output()).await {
        Ok(out) => out.unwrap(),
        Err(_) => panic!("scepclient did not finish within 20 s"),
    }
}

fn openssl_present() -> bool {
    std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn micromdm_scepclient_enrols_and_is_refused_with_a_wrong_challenge() {
    let Some(exe) = peer("scepclient") else {
        return;
    };
    let (ca_url, ca_task) = stub_ca().await;
    let ndes = FakeNdes::start(
        NdesConfig {
            ca_url,
            ..NdesConfig::default()
        },
        Arc::new(OneChallenge),
        Rng::new(8894).fork("ndes"),
    )
    .await
    .unwrap();

    // The right challenge: a certificate issued by the issuing CA over scepclient's key.
    let good = tempfile::tempdir().unwrap();
    let out = scepclient(&exe, &ndes.url(), CHALLENGE, good.path(), "device-1").await;
    let log = format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "scepclient failed\n{log}");
    let pem = std::fs::read_to_string(good.path().join("cert.pem")).unwrap();
    let cert = Certificate::from_der(&pem_to_der(&pem).unwrap()).unwrap();
    assert_eq!(
        cert.tbs_certificate.issuer,
        ISSUING_CA.certificate().unwrap().tbs_certificate.subject
    );
    let recs = ndes.requests();
    let pki: Vec<_> = recs
        .iter()
        .filter(|r| r.operation == NdesOperation::PkiOperation)
        .collect();
    assert_eq!(pki.len(), 1, "{recs:?}");
    assert_eq!(pki[0].message_type, Some(MessageType::PkcsReq));
    assert!(matches!(pki[0].outcome, NdesOutcome::Success { .. }));

    if openssl_present() {
        std::fs::write(good.path().join("root.pem"), ROOT_CA.cert_pem).unwrap();
        std::fs::write(good.path().join("issuing.pem"), ISSUING_CA.cert_pem).unwrap();
        let v = std::process::Command::new("openssl")
            .current_dir(good.path())
            .args([
                "verify",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "issuing.pem",
                "cert.pem",
            ])
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "openssl verify: {}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
    } else {
        eprintln!("notice: openssl not installed; chain not checked");
    }

    // A wrong challenge: CertRep FAILURE badRequest, scepclient exits with an error.
    let bad = tempfile::tempdir().unwrap();
    let out = scepclient(&exe, &ndes.url(), "wrong", bad.path(), "device-2").await;
    assert!(
        !out.status.success(),
        "scepclient succeeded with a wrong challenge"
    );
    assert!(!bad.path().join("cert.pem").exists());
    let last = ndes.requests().last().cloned().unwrap();
    assert_eq!(last.operation, NdesOperation::PkiOperation);
    assert!(
        matches!(
            last.outcome,
            NdesOutcome::Failure {
                fail_info: FailInfo::BadRequest,
                ..
            }
        ),
        "{last:?}"
    );
    ndes.shutdown().await;
    ca_task.abort();
}
