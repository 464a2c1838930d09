//! The servers a benchmark runs: `connector-harness serve` and micromdm's `scepserver`, each a
//! child process killed when its guard drops.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A child process, killed and reaped on drop.
pub struct Server {
    child: Child,
    /// The SCEP URL.
    pub url: String,
    /// `--mint` URL (ours) or `None` (a static challenge).
    pub mint: Option<String>,
    /// `--challenge` value for a static-challenge server.
    pub challenge: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) -> Result<()> {
    let started = Instant::now();
    while !ready() {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("{what}: not ready within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Starts `connector-harness serve` (its NDES, and its Intune's challenge-minting URL).
pub fn serve(bin: &Path, dir: &Path) -> Result<Server> {
    let urls = dir.join("serve-urls.json");
    let _ = std::fs::remove_file(&urls);
    let child = Command::new(bin)
        .arg("serve")
        .arg("--urls-file")
        .arg(&urls)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {} serve", bin.display()))?;
    let mut server = Server {
        child,
        url: String::new(),
        mint: None,
        challenge: None,
    };
    let mut parsed = serde_json::Value::Null;
    wait_until("connector-harness serve", || {
        parsed = std::fs::read_to_string(&urls)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        !parsed.is_null()
    })?;
    let field = |k: &str| {
        parsed[k]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("serve's URL file has no `{k}`"))
    };
    server.url = field("ndes")?;
    server.mint = Some(field("mint_challenge")?);
    Ok(server)
}

/// `scepserver` on `PATH`, if installed.
pub fn scepserver_path() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("scepserver"))
            .find(|p| p.is_file())
    })
}

/// A fresh 2048-bit micromdm CA in `dir/depot`, served by `scepserver` with a static challenge.
pub fn micromdm(exe: &Path, dir: &Path) -> Result<Server> {
    let depot = dir.join("scep-depot");
    let _ = std::fs::remove_dir_all(&depot);
    let init = Command::new(exe)
        .args(["ca", "-init", "-keySize", "2048", "-organization"])
        .arg("TEST ONLY bench")
        .arg("-depot")
        .arg(&depot)
        .output()
        .context("running scepserver ca -init")?;
    if !init.status.success() {
        bail!(
            "scepserver ca -init failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
    }
    // scepserver has no bind flag (it listens on every interface): take a free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let challenge = "TEST-ONLY-bench-secret".to_string();
    let child = Command::new(exe)
        .arg("-depot")
        .arg(&depot)
        .args(["-port", &port.to_string(), "-challenge", &challenge])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting scepserver")?;
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}/scep"),
        mint: None,
        challenge: Some(challenge),
    };
    wait_until("scepserver", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    })?;
    Ok(server)
}
