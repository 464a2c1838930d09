//! `connector-harness load scep` against two servers it did not write the other half of:
//! `connector-harness serve` (challenges minted on its admin endpoint) and micromdm's
//! `scepserver` from Debian's `scep` (static challenge; skipped with a notice when absent,
//! failing under `HARNESS_REQUIRE_PEERS=1`). Small N: this proves the tool, the benchmark
//! (`cargo xtask bench`) measures it.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use harness_test_support::peer;

/// Kills its child on drop (a failing assertion must not leave a server behind).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `load scep ARGS --json FILE`; the exit code and the JSON report.
fn load(args: &[&str], dir: &Path) -> (i32, serde_json::Value, String) {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let json = dir.join(format!(
        "report-{}.json",
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .args(["load", "scep"])
        .args(args)
        .arg("--json")
        .arg(&json)
        .arg("--timeout")
        .arg("20")
        .output()
        .expect("load runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), report, text)
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn load_scep_enrolls_against_serve_with_minted_challenges() {
    let tmp = tempfile::tempdir().unwrap();
    let urls_file = tmp.path().join("urls.json");
    let _serve = Reaped(
        Command::new(env!("CARGO_BIN_EXE_connector-harness"))
            .args(["serve", "--urls-file"])
            .arg(&urls_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts"),
    );
    let mut urls = serde_json::Value::Null;
    wait_until("serve writes its URLs", || {
        urls = std::fs::read_to_string(&urls_file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        !urls.is_null()
    });
    let ndes = urls["ndes"].as_str().unwrap();
    let mint = urls["mint_challenge"].as_str().unwrap();

    let (code, report, text) = load(
        &[
            "--url",
            ndes,
            "--devices",
            "24",
            "--concurrency",
            "4",
            "--mint",
            mint,
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["enrolled"], 24, "{text}");
    assert_eq!(report["distinct_serials"], 24, "{text}");
    assert_eq!(report["challenge"], "minted");
    // NDES advertises triple DES and SHA-512, no AES: the generator uses what it advertises.
    assert_eq!(report["cipher"], "Des3Cbc");
    assert_eq!(report["digest"], "Sha512");
    assert!(text.contains("enrollments/s"), "{text}");

    // A challenge Intune never minted: every enrollment refused, counted by failInfo.
    let (code, report, text) = load(
        &[
            "--url",
            ndes,
            "--devices",
            "3",
            "--challenge",
            "never-minted",
        ],
        tmp.path(),
    );
    assert_eq!(code, 1, "{text}");
    assert_eq!(report["enrolled"], 0, "{text}");
    assert_eq!(report["refused"]["badRequest"], 3, "{text}");

    // Bad input is exit 2 and says which flag.
    let (code, _, text) = load(&["--url", ndes, "--devices", "0"], tmp.path());
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--devices"), "{text}");
    // So it is for the PKCS driver, whose bounds the library checks.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .args(["load", "pkcs", "--requests", "0"])
        .output()
        .expect("load pkcs runs");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("--requests"), "{text}");
}

#[test]
fn load_scep_enrolls_against_micromdm_scepserver() {
    let Some(scepserver) = peer("scepserver") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let depot = tmp.path().join("depot");
    let init = Command::new(&scepserver)
        .args(["ca", "-init", "-keySize", "2048", "-organization"])
        .arg("TEST ONLY load test")
        .arg("-depot")
        .arg(&depot)
        .output()
        .unwrap();
    assert!(init.status.success(), "scepserver ca -init: {init:?}");
    // scepserver has no bind flag (it listens on every interface): take a free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Reaped(
        Command::new(&scepserver)
            .arg("-depot")
            .arg(&depot)
            .args(["-port", &port.to_string(), "-challenge", "TEST-ONLY-secret"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until("scepserver listens", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let url = format!("http://127.0.0.1:{port}/scep");

    // One at a time: micromdm's serial counter races under concurrency (duplicates are the
    // server's, and the report counts them; see the bench).
    let (code, report, text) = load(
        &[
            "--url",
            &url,
            "--devices",
            "8",
            "--concurrency",
            "1",
            "--challenge",
            "TEST-ONLY-secret",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["enrolled"], 8, "{text}");
    assert_eq!(report["distinct_serials"], 8, "{text}");
    // micromdm advertises AES and SHA-256 too, though its own client sends DES / SHA-1.
    assert_eq!(report["cipher"], "Aes128Cbc");

    let (code, report, text) = load(
        &["--url", &url, "--devices", "2", "--challenge", "wrong"],
        tmp.path(),
    );
    assert_eq!(code, 1, "{text}");
    assert_eq!(report["refused"]["badRequest"], 2, "{text}");
}
