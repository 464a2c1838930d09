//! Interop through `connector-harness serve`: micromdm's `scepclient` (Debian's `scep`), a
//! client no one here wrote, enrolls against serve's NDES with a challenge minted on serve's
//! admin endpoint, and `openssl verify` accepts the certificate against the test chain. With a
//! wrong challenge it gets a CertRep FAILURE. The reference connector, as NDES's policy module,
//! logs the verification and the notification.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness_test_support::peer;

use crate::common::root;
use crate::serve_support::{runtime, Admin, Process};

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
    let events = tmp.path().join("events.jsonl");
    let mut serve = Process::spawn(&["--events", &events.display().to_string()]);
    let urls = serve.urls();
    let ndes = urls.ndes.clone();
    let challenge = runtime().block_on(Admin::new(&urls).mint("device-1", 3600));
    let challenge = challenge.as_str();

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
    serve.signal("INT");
    let (code, stderr) = serve.wait();
    assert_eq!(code, Some(0), "serve on SIGINT: {stderr}");
    let stream =
        harness_runner::event::from_jsonl(&std::fs::read_to_string(&events).unwrap()).unwrap();
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
