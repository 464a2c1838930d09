//! Helpers of the `serve_*` tests: a serve in-process (the library) or as a real process (the
//! binary), and a small JSON client for its admin API. Every call is bounded in time.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness_runner::serve::clock::ClockMode;
use harness_runner::serve::{Serve, ServeOptions, Urls};
use serde_json::Value;

/// Serve's clock in these tests: frozen at a fixed start, so every time is exact.
pub const START: time::OffsetDateTime = time::macros::datetime!(2030-01-01 00:00:00 UTC);

/// A serve in this process with a frozen clock at [`START`], `tweak`ed.
pub async fn start(tweak: impl FnOnce(&mut ServeOptions)) -> Serve {
    let mut opts = ServeOptions::at(START);
    opts.clock = ClockMode::Frozen;
    tweak(&mut opts);
    Serve::start(opts).await.expect("serve starts")
}

/// A plain HTTP client with a deadline on every call.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .expect("client")
}

/// The admin API of one serve.
pub struct Admin {
    pub http: reqwest::Client,
    pub base: String,
}

impl Admin {
    pub fn new(urls: &Urls) -> Admin {
        Admin {
            http: http(),
            base: urls.admin.clone(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("admin call");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("admin answer");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("admin answer is not JSON ({e}): {text}"));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.put(format!("{}{path}", self.base)).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    /// Mints a challenge for `device` (of `user-1`) valid `seconds` of scenario time.
    pub async fn mint(&self, device: &str, seconds: u64) -> String {
        self.mint_for(device, "user-1", seconds).await
    }

    /// Mints a challenge for `device` of `user` valid `seconds` of scenario time.
    pub async fn mint_for(&self, device: &str, user: &str, seconds: u64) -> String {
        let (status, v) = self
            .post(
                "/challenges",
                serde_json::json!({"deviceId": device, "userId": user, "validitySeconds": seconds}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v["challenge"].as_str().expect("challenge").to_string()
    }
}

/// A `connector-harness serve` process, killed when dropped.
pub struct Process {
    pub child: Child,
    pub dir: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `serve` with `args` plus `--urls-file` in a fresh folder and `--quiet`.
    pub fn spawn(args: &[&str]) -> Process {
        let dir = tempfile::tempdir().expect("temp dir");
        let child = Command::new(env!("CARGO_BIN_EXE_connector-harness"))
            .arg("serve")
            .arg("--urls-file")
            .arg(dir.path().join("urls.json"))
            .arg("--quiet")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        Process { child, dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The URLs, once serve wrote them (within 60 s).
    pub fn urls(&mut self) -> Urls {
        serde_json::from_value(self.urls_json()).expect("the urls file names every URL")
    }

    /// The urls file as JSON, once serve wrote it (within 60 s): serve is listening.
    pub fn urls_json(&mut self) -> Value {
        let file = self.path("urls.json");
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                if let Ok(v) = serde_json::from_str(&text) {
                    return v;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("serve exited with {status} before writing its URLs");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "serve wrote no URLs within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` (`TERM`, `INT`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    /// Waits (up to 30 s) for the process to exit; its exit code and stderr.
    pub fn wait(&mut self) -> (Option<i32>, String) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return (status.code(), err);
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "serve did not exit within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A current-thread runtime for a test that drives a serve process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The event ids in a JSON Lines event file.
pub fn event_ids(path: &Path) -> Vec<u16> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("event file {}: {e}", path.display()));
    harness_runner::event::from_jsonl(&text)
        .expect("the event file is JSON Lines")
        .iter()
        .map(|r| r.event.id())
        .collect()
}

/// An HTTPS GET by a client that trusts only the certificates in `ca_file` (rustls, ring):
/// the status and the body. `Err` names the TLS or transport failure.
pub async fn https_get(
    url: &str,
    ca_file: &Path,
    headers: &[(&str, &str)],
) -> Result<(u16, String), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let rest = url.strip_prefix("https://").ok_or("not an https URL")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let (host, _) = authority.rsplit_once(':').ok_or("no port")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| e.to_string())? {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| e.to_string())?;
    let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    tls.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), tls.read_to_end(&mut answer))
        .await
        .map_err(|_| "no answer in 30 s".to_string())?
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP head")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    Ok((status, body.to_string()))
}
