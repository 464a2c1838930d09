//! Interop through `connector-harness serve`: micromdm's `scepclient` (Debian's `scep`), a
//! client no one here wrote, enrolls against serve's NDES with a challenge minted on serve's
//! admin endpoint, and `openssl verify` accepts the certificate against the test chain. With a
//! wrong challenge it gets a CertRep FAILURE. The reference connector, as NDES's policy module,
//! logs the verification and the notification.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness_test_support::peer;

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

fn scepclient(exe: &Path, url: &str, challenge: &str, dir: &Path) -> std::process::Output {
    let mut child = Command::new(exe)
        .args([
            "-server-url",
            url,
            "-challenge",
            challenge,
            "-cn",
            "device-1",
            "-organization",
            "TEST ONLY interop",
            "-keySize",
            "2048",
        ])
        .arg("-private-key")
        .arg(dir.join("key.pem"))
        .arg("-certificate")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("scepclient starts");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if child.try_wait().ok().flatten().is_some() {
            return child.wait_with_output().expect("scepclient output");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("scepclient did not finish within 20 s");
}

#[test]
fn scepclient_enrolls_through_serve() {
    let Some(scep) = peer("scepclient") else {
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
        if let Ok(text) = std::fs::read_to_string(&urls_file) {
            if let Ok(v) = serde_json::from_str(&text) {
                break v;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve wrote no URLs within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let ndes = urls["ndes"].as_str().unwrap().to_string();
    let mint = urls["mint_challenge"].as_str().unwrap().to_string();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let minted: serde_json::Value = runtime.block_on(async {
        reqwest::Client::new()
            .post(&mint)
            .json(&serde_json::json!({"deviceId": "device-1", "userId": "user-1"}))
            .send()
            .await
            .expect("mint call")
            .json()
            .await
            .expect("minted challenge")
    });
    let challenge = minted["challenge"].as_str().unwrap();

    let good = tempfile::tempdir().unwrap();
    let out = scepclient(&scep, &ndes, challenge, good.path());
    assert!(
        out.status.success(),
        "scepclient failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = good.path().join("cert.pem");
    assert!(cert.exists(), "scepclient wrote no certificate");
    if let Some(openssl) = peer("openssl") {
        let v = Command::new(openssl)
            .arg("verify")
            .arg("-CAfile")
            .arg(root().join("fixtures/root-ca.pem"))
            .arg("-untrusted")
            .arg(root().join("fixtures/issuing-ca.pem"))
            .arg(&cert)
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "openssl verify: {}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
    }

    // The same challenge again (one-time use) and a made-up one: both refused.
    for wrong in [challenge, "not-a-minted-challenge"] {
        let bad = tempfile::tempdir().unwrap();
        let out = scepclient(&scep, &ndes, wrong, bad.path());
        assert!(
            !out.status.success(),
            "scepclient enrolled with challenge `{wrong}`"
        );
        assert!(!bad.path().join("cert.pem").exists());
    }

    // Stop serve with Ctrl-C (SIGINT) so it writes its event stream.
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
    let ids: Vec<u16> = stream.iter().map(|r| r.event.id()).collect();
    assert!(
        ids.contains(&20500) && ids.contains(&20600),
        "verification and notification logged: {ids:?}"
    );
    // The reused challenge is refused (20501); the made-up one is not an Intune challenge at
    // all, so the challenge request cannot be deserialized (20502 with 0x00000410).
    let pairs: Vec<(u16, String)> = stream
        .iter()
        .map(|r| (r.event.id(), r.code.hex()))
        .collect();
    assert!(
        pairs.contains(&(20501, "0x00000000".into()))
            && pairs.contains(&(20502, "0x00000410".into())),
        "both refusals logged: {pairs:?}"
    );
}
