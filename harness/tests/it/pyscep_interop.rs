//! Interop with PyScep (github.com/bikram990/PyScep), a second SCEP client no one here wrote,
//! through `connector-harness serve`. It sends what many real clients send: a SHA-1-signed
//! request asking for DNS and e-mail alternative names, key usage and extended key usage, over
//! the strongest cipher NDES advertises. The fake CA copies the names into the certificate and
//! `openssl` accepts it against the test chain; a 3072-bit key is refused as the profile's key
//! length mismatch, and the policy module logs both verdicts.
//!
//! Needs a Python with PyScep (`$HARNESS_PYTHON`; `.ci/run` builds a venv); skips with a notice
//! without one, fails under `HARNESS_REQUIRE_PEERS`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use connector_harness::catalog::Detail;
use harness_test_support::{peer, python_peer};

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn wait(mut child: Child, what: &str) -> Output {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if child.try_wait().ok().flatten().is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what} did not finish within 60 s");
}

/// Runs the PyScep script; returns its JSON verdict and stderr.
fn pyscep(
    python: &Path,
    url: &str,
    challenge: &str,
    bits: u32,
    cert: &Path,
) -> (serde_json::Value, String) {
    let child = Command::new(python)
        .arg(root().join("harness/tests/peers/pyscep_enroll.py"))
        .args([
            url,
            challenge,
            "device-1",
            "user-1@contoso.test",
            &bits.to_string(),
        ])
        .arg(cert)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    let out = wait(child, "PyScep");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let verdict = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("PyScep printed no verdict: {stdout}{stderr}"));
    (verdict, stderr)
}

fn mint(runtime: &tokio::runtime::Runtime, url: &str) -> String {
    let minted: serde_json::Value = runtime.block_on(async {
        reqwest::Client::new()
            .post(url)
            .json(&serde_json::json!({"deviceId": "device-1", "userId": "user-1"}))
            .send()
            .await
            .expect("mint call")
            .json()
            .await
            .expect("minted challenge")
    });
    minted["challenge"]
        .as_str()
        .expect("a challenge")
        .to_string()
}

#[test]
fn pyscep_enrolls_a_sha1_request_with_names_and_usages() {
    let Some(python) = python_peer("scep") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let urls_file = tmp.path().join("urls.json");
    let events = tmp.path().join("events.jsonl");
    let mut serve = Serve(
        Command::new(env!("CARGO_BIN_EXE_connector-harness"))
            .args(["serve", "--urls-file"])
            .arg(&urls_file)
            .arg("--events")
            .arg(&events)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts"),
    );
    let started = Instant::now();
    let urls: serde_json::Value = loop {
        if let Ok(v) = std::fs::read_to_string(&urls_file)
            .map_err(|_| ())
            .and_then(|t| serde_json::from_str(&t).map_err(|_| ()))
        {
            break v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve wrote no URLs within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let ndes = urls["ndes"].as_str().unwrap().to_string();
    let mint_url = urls["mint_challenge"].as_str().unwrap().to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let cert = tmp.path().join("cert.pem");
    let (verdict, stderr) = pyscep(&python, &ndes, &mint(&runtime, &mint_url), 2048, &cert);
    assert_eq!(verdict["status"], "issued", "PyScep: {verdict} {stderr}");
    if let Some(openssl) = peer("openssl") {
        let verify = Command::new(&openssl)
            .arg("verify")
            .arg("-CAfile")
            .arg(root().join("fixtures/root-ca.pem"))
            .arg("-untrusted")
            .arg(root().join("fixtures/issuing-ca.pem"))
            .arg(&cert)
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "openssl verify: {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
        let text = Command::new(&openssl)
            .args([
                "x509",
                "-noout",
                "-ext",
                "subjectAltName,keyUsage,extendedKeyUsage",
                "-in",
            ])
            .arg(&cert)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        for want in [
            "DNS:device-1.contoso.test",
            "email:user-1@contoso.test",
            "Digital Signature, Key Encipherment",
            "TLS Web Client Authentication",
        ] {
            assert!(
                text.contains(want),
                "issued certificate lacks {want}: {text}"
            );
        }
    }

    // SCEP-Default demands 2048-bit keys: a 3072-bit request is refused, and says why.
    let refused = tmp.path().join("refused.pem");
    let (verdict, stderr) = pyscep(&python, &ndes, &mint(&runtime, &mint_url), 3072, &refused);
    assert_eq!(verdict["status"], "failure", "PyScep: {verdict} {stderr}");
    assert!(!refused.exists());

    let _ = Command::new("kill")
        .args(["-INT", &serve.0.id().to_string()])
        .status();
    let started = Instant::now();
    while serve.0.try_wait().ok().flatten().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stream =
        connector_harness::event::from_jsonl(&std::fs::read_to_string(&events).unwrap()).unwrap();
    assert!(
        stream.iter().any(|r| r.event.id() == 20500),
        "the verification logged"
    );
    // The profile refusal is Intune's clean answer: 20501 with code 0, naming the reason.
    let refusal = stream
        .iter()
        .find(|r| r.event.id() == 20501)
        .expect("the refusal logged");
    assert_eq!(refusal.code.hex(), "0x00000000");
    let reason = refusal.details.get(Detail::Reason).unwrap_or_default();
    assert!(reason.contains("KeyLengthMismatch"), "{reason}");
}
