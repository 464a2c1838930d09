//! `serve --tls`: every port answers HTTPS with a certificate from the test CA, which a
//! client trusting only the CA file serve wrote accepts (rustls here; `openssl s_client
//! -verify_return_error` and `curl --cacert` as outside peers), and a client trusting
//! anything else refuses. Intune's discovery names its services over https.

use crate::serve_support;

use std::process::Command;

use crate::serve_support::{https_get, runtime, Process};
use harness_test_support::peer;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_port_answers_https_that_only_the_ca_file_makes_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    let mut serve = Process::spawn(&["--tls", "--ca-file", ca_file.to_str().unwrap()]);
    let urls = serve.urls();
    assert_eq!(urls.ca_file.as_deref(), Some(ca_file.as_path()));
    let ndes_caps = format!("{}?operation=GetCACaps", urls.ndes);
    let ca_chain = format!("{}/ca/chain", urls.ca);
    let admin_clock = format!("{}/clock", urls.admin);
    let rt = runtime();
    for url in [&ndes_caps, &ca_chain, &admin_clock] {
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        let (status, body) = rt
            .block_on(https_get(url, &ca_file, &[]))
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(status, 200, "{url}: {body}");
    }
    let (status, discovered) = rt
        .block_on(https_get(
            &urls.intune_discovery,
            &ca_file,
            &[("authorization", "Bearer TEST-ONLY")],
        ))
        .unwrap();
    assert_eq!(status, 200, "{discovered}");
    let discovered: serde_json::Value = serde_json::from_str(&discovered).unwrap();
    let uris: Vec<&str> = discovered["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    assert!(
        !uris.is_empty() && uris.iter().all(|u| u.starts_with(&urls.intune)),
        "discovery over TLS names https services: {uris:?}"
    );
    // Trusting another CA (the DigiCert-style RA certificate), the same client refuses.
    let other = root().join("fixtures/digicert-ra.pem");
    let refused = rt.block_on(https_get(&admin_clock, &other, &[]));
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("TLS")),
        "{refused:?}"
    );
}

#[test]
fn without_a_path_serve_writes_the_ca_file_itself() {
    let mut serve = Process::spawn(&["--tls"]);
    let urls = serve.urls();
    let ca_file = urls.ca_file.expect("serve names the CA file");
    assert_eq!(
        std::fs::read_to_string(&ca_file).unwrap(),
        harness_runner::fixtures::ROOT_CA.cert_pem
    );
    let (status, _) = runtime()
        .block_on(https_get(&format!("{}/urls", urls.admin), &ca_file, &[]))
        .unwrap();
    assert_eq!(status, 200);
}

#[test]
fn openssl_and_curl_verify_against_the_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    let mut serve = Process::spawn(&["--tls", "--ca-file", ca_file.to_str().unwrap()]);
    let urls = serve.urls();
    if let Some(openssl) = peer("openssl") {
        let host = urls
            .ndes
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let s_client = |ca: &std::path::Path| {
            Command::new(&openssl)
                .args([
                    "s_client",
                    "-connect",
                    &host,
                    "-verify_return_error",
                    "-CAfile",
                ])
                .arg(ca)
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        };
        let ok = s_client(&ca_file);
        let out = String::from_utf8_lossy(&ok.stdout);
        assert!(
            ok.status.success() && out.contains("Verify return code: 0 (ok)"),
            "openssl s_client: {out}{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        let other = s_client(&root().join("fixtures/digicert-ra.pem"));
        assert!(
            !other.status.success(),
            "openssl trusted a certificate the CA file did not vouch for"
        );
    }
    if let Some(curl) = peer("curl") {
        let out = Command::new(curl)
            .args([
                "--silent",
                "--show-error",
                "--fail",
                "--max-time",
                "30",
                "--cacert",
            ])
            .arg(&ca_file)
            .arg(format!("{}/faults", urls.admin))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "curl --cacert: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "[]");
    }
}

/// Under `--tls` the ports still answer plain HTTP: the reference connector inside serve (no
/// TLS client) verifies and notifies through Intune, and the CA issues for NDES, so an
/// enrollment succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_still_reaches_every_port_under_tls() {
    use harness_runner::serve::device::{Enrolled, ScepDevices};
    let serve = serve_support::start(|o| o.tls = true).await;
    let urls = serve.urls();
    assert!(
        urls.ndes.starts_with("https://") && urls.ca_file.is_some(),
        "{urls:?}"
    );
    let plain = |u: &str| u.replacen("https://", "http://", 1);
    let admin = serve_support::Admin {
        http: serve_support::http(),
        base: plain(&urls.admin),
    };
    let challenge = admin.mint("device-1", 3600).await;
    let scep = ScepDevices::new(
        serve_support::http(),
        &plain(&urls.ndes),
        &mut harness_runner::sim::Rng::new(2),
    )
    .await
    .unwrap();
    let enrolled = scep
        .enroll(
            0,
            "device-1",
            Some(&challenge),
            &mut harness_runner::sim::Rng::new(3),
        )
        .await
        .unwrap();
    assert!(matches!(enrolled, Enrolled::Issued(_)), "{enrolled:?}");
    serve.shutdown().await.unwrap();
}
