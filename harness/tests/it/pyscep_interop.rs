//! Interop with PyScep (github.com/bikram990/PyScep), a second SCEP client no one here wrote,
//! through `connector-harness serve`. It sends what many real clients send: a SHA-1-signed
//! request asking for DNS and e-mail alternative names, key usage and extended key usage, over
//! the strongest cipher NDES advertises. The fake CA copies the names into the certificate and
//! `openssl` accepts it against the test chain; a 3072-bit key is refused as the profile's key
//! length mismatch, and the policy module logs both verdicts.
//!
//! Needs a Python with PyScep (`$HARNESS_PYTHON`; `.ci/run` builds a venv); skips with a notice
//! without one, fails under `HARNESS_REQUIRE_PEERS`.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use harness_runner::catalog::Detail;
use harness_test_support::{peer, python_peer};

use crate::common::root;
use crate::serve_support::{runtime, Admin, Process};

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

#[test]
fn pyscep_enrolls_a_sha1_request_with_names_and_usages() {
    let Some(python) = python_peer("scep") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("events.jsonl");
    let mut serve = Process::spawn(&["--events", &events.display().to_string()]);
    let urls = serve.urls();
    let ndes = urls.ndes.clone();
    let admin = Admin::new(&urls);
    let runtime = runtime();
    // The request names the user's e-mail: the challenge is minted for that user, since the
    // fake Intune refuses alternative names of anyone else (SubjectAltNameMismatch).
    let mint = || runtime.block_on(admin.mint_for("device-1", "user-1@contoso.test", 3600));

    let cert = tmp.path().join("cert.pem");
    let (verdict, stderr) = pyscep(&python, &ndes, &mint(), 2048, &cert);
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
    let (verdict, stderr) = pyscep(&python, &ndes, &mint(), 3072, &refused);
    assert_eq!(verdict["status"], "failure", "PyScep: {verdict} {stderr}");
    assert!(!refused.exists());

    serve.signal("INT");
    let (code, stderr) = serve.wait();
    assert_eq!(code, Some(0), "serve on SIGINT: {stderr}");
    let stream =
        harness_runner::event::from_jsonl(&std::fs::read_to_string(&events).unwrap()).unwrap();
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
