//! Bounded memory of `connector-harness serve`: drives a running serve with a mix of real
//! requests and prints its resident memory (VmRSS) after the first 1,000 requests and after
//! all of them (100,000 by default); exits 1 when the second exceeds the first by more than
//! the limit (20 %). A figure, not a test: run it with `cargo xtask serve-memory`.
//!
//! The mix, per ten requests: GetCACaps twice, GetCACert, a challenge minted on the admin API
//! and a PKIOperation enrollment with it (which makes the connector verify and notify through
//! Intune, and the CA issue), a challenge minted on Intune and a validateRequest and
//! successNotification with it (as a third-party SCEP server sends them), an Intune
//! downloadCARequests, and a CA issue. Every answer is checked; a run with a failed request
//! reports no figure.
//!
//! Usage: serve_memory [--requests N] [--first N] [--workers N] [--history N]
//!                     [--limit-percent P] [--every N] [--bin PATH]
//! (`--every N` also prints the figure every N requests, to show the curve.)

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use harness_runner::contract::intune::scep::{
    SuccessNotification, SuccessNotificationBody, ValidateBody, ValidateRequest,
};
use harness_runner::contract::intune::{transport, Service};
use harness_runner::serve::device::{Enrolled, ScepDevices};
use harness_runner::serve::Urls;
use harness_runner::sim::Rng;
use serde_json::json;

struct Args {
    requests: u64,
    first: u64,
    workers: u64,
    history: Option<usize>,
    limit_percent: f64,
    every: Option<u64>,
    bin: PathBuf,
}

fn args() -> Result<Args> {
    let exe = std::env::current_exe()?;
    // target/<profile>/examples/serve_memory → target/<profile>/connector-harness
    let default_bin = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("connector-harness"))
        .ok_or_else(|| anyhow!("cannot find the connector-harness binary; pass --bin"))?;
    let mut a = Args {
        requests: 100_000,
        first: 1_000,
        workers: 4,
        history: None,
        limit_percent: 20.0,
        every: None,
        bin: default_bin,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--requests" => a.requests = value()?.parse()?,
            "--first" => a.first = value()?.parse()?,
            "--workers" => a.workers = value()?.parse()?,
            "--history" => a.history = Some(value()?.parse()?),
            "--limit-percent" => a.limit_percent = value()?.parse()?,
            "--every" => a.every = Some(value()?.parse()?),
            "--bin" => a.bin = PathBuf::from(value()?),
            other => bail!("unknown flag {other}; see the file's doc comment"),
        }
    }
    if a.first == 0 || a.first >= a.requests || a.workers == 0 {
        bail!("need 0 < --first < --requests and --workers > 0");
    }
    Ok(a)
}

/// The serve process, killed if the driver fails.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading /proc (this figure needs Linux)")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

struct Driver {
    http: reqwest::Client,
    urls: Urls,
    scep: ScepDevices,
    csrs: Vec<String>,
    done: AtomicU64,
}

fn intune_call(d: &Driver, service: Service, op: &str) -> reqwest::RequestBuilder {
    let mut guid = Rng::new(d.done.load(Ordering::Relaxed)).guid();
    guid.make_ascii_lowercase();
    let mut req = d
        .http
        .post(format!("{}/{}/{op}", d.urls.intune, service.name()))
        .bearer_auth("TEST-ONLY-serve-memory")
        .header(transport::CLIENT_REQUEST_ID, guid);
    if let Some(v) = service.api_version() {
        req = req.header(transport::API_VERSION, v);
    }
    req
}

async fn ok(req: reqwest::RequestBuilder, what: &str) -> Result<axum::body::Bytes> {
    let resp = req.send().await.with_context(|| what.to_string())?;
    let status = resp.status();
    let body = resp.bytes().await.with_context(|| what.to_string())?;
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body)
}

/// One cycle of ten requests by worker `w`.
async fn cycle(d: &Driver, w: u64, n: u64) -> Result<()> {
    let mut rng = Rng::new(w.wrapping_mul(1_000_003).wrapping_add(n));
    let ndes = &d.urls.ndes;
    let device = format!("device-{w}-{n}");
    ok(
        d.http.get(format!("{ndes}?operation=GetCACaps")),
        "GetCACaps",
    )
    .await?;
    ok(
        d.http.get(format!("{ndes}?operation=GetCACert&message=ca")),
        "GetCACert",
    )
    .await?;
    let minted: serde_json::Value = serde_json::from_slice(
        &ok(
            d.http
                .post(format!("{}/challenges", d.urls.admin))
                .json(&json!({"deviceId": device, "userId": "user-1"})),
            "POST /challenges",
        )
        .await?,
    )?;
    let challenge = minted["challenge"].as_str().unwrap_or_default().to_string();
    match d
        .scep
        .enroll(n as usize, &device, Some(&challenge), &mut rng)
        .await
        .map_err(|e| anyhow!(e))?
    {
        Enrolled::Issued(_) => {}
        other => bail!("enrollment of {device}: {other:?}"),
    }
    // A third-party SCEP server's validation and notification.
    let minted: serde_json::Value = serde_json::from_slice(
        &ok(
            d.http
                .post(&d.urls.mint_challenge)
                .json(&json!({"deviceId": format!("{device}-gw"), "userId": "user-1"})),
            "Intune /admin/challenges",
        )
        .await?,
    )?;
    let key = harness_runner::fixtures::device_key((n % 4) as usize)?;
    let csr = harness_runner::pki::build_csr(
        &key,
        &format!("{device}-gw"),
        minted["challenge"].as_str(),
    )?;
    let transaction_id = rng.hex(16);
    let csr_b64 = harness_runner::pki::b64(&csr);
    let validated: serde_json::Value = serde_json::from_slice(
        &ok(
            intune_call(
                d,
                Service::ScepValidation,
                harness_runner::contract::intune::scep::VALIDATE,
            )
            .json(&ValidateBody {
                request: ValidateRequest {
                    transaction_id: transaction_id.clone(),
                    certificate_request: csr_b64.clone(),
                    caller_info: "serve-memory".into(),
                },
            }),
            "validateRequest",
        )
        .await?,
    )?;
    if validated["code"] != "Success" {
        bail!("validateRequest: {validated}");
    }
    ok(
        intune_call(
            d,
            Service::ScepValidation,
            harness_runner::contract::intune::scep::SUCCESS_NOTIFICATION,
        )
        .json(&SuccessNotificationBody {
            notification: SuccessNotification {
                transaction_id,
                certificate_request: csr_b64,
                certificate_thumbprint: "00".repeat(20),
                certificate_serial_number: "01".into(),
                certificate_expiration_date_utc: "2030-01-01T00:00:00Z".into(),
                issuing_certificate_authority: "TEST-ISSUING-CA".into(),
                caller_info: "serve-memory".into(),
                ca_configuration: None,
                certificate_authority: None,
            },
        }),
        "successNotification",
    )
    .await?;
    ok(
        intune_call(
            d,
            Service::Pkcs,
            harness_runner::contract::intune::pkcs::DOWNLOAD,
        )
        .json(&json!({"downloadParameters": {"maxMessages": 10}})),
        "downloadCARequests",
    )
    .await?;
    ok(
        d.http.post(format!("{}/ca/issue", d.urls.ca)).json(&json!({
            "template": "IntuneUser",
            "csr": d.csrs[(n % d.csrs.len() as u64) as usize],
        })),
        "CA issue",
    )
    .await?;
    ok(
        d.http.get(format!("{ndes}?operation=GetCACaps")),
        "GetCACaps",
    )
    .await?;
    d.done.fetch_add(10, Ordering::Relaxed);
    Ok(())
}

/// Runs cycles `from..to` (ten requests each) on every worker.
async fn drive(d: &Arc<Driver>, workers: u64, from: u64, to: u64) -> Result<()> {
    let next = Arc::new(AtomicU64::new(from));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let d = d.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= to {
                    return Ok::<(), anyhow::Error>(());
                }
                cycle(&d, w, n).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let a = args()?;
    let dir = tempfile::tempdir()?;
    let urls_file = dir.path().join("urls.json");
    let mut cmd = Command::new(&a.bin);
    cmd.args(["serve", "--quiet", "--urls-file"])
        .arg(&urls_file);
    if let Some(h) = a.history {
        cmd.args(["--history", &h.to_string()]);
    }
    let served = Served(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", a.bin.display()))?,
    );
    let pid = served.0.id();
    let started = Instant::now();
    let urls: Urls = loop {
        if let Ok(text) = std::fs::read_to_string(&urls_file) {
            break serde_json::from_str(&text)?;
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("serve wrote no URLs within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .build()?;
    let scep = ScepDevices::new(http.clone(), &urls.ndes, &mut Rng::new(1))
        .await
        .map_err(|e| anyhow!(e))?;
    let csrs = (0..4)
        .map(|n| {
            let key = harness_runner::fixtures::device_key(n)?;
            Ok(harness_runner::pki::b64(&harness_runner::pki::build_csr(
                &key,
                &format!("pkcs-device-{n}"),
                None,
            )?))
        })
        .collect::<Result<Vec<_>>>()?;
    let d = Arc::new(Driver {
        http,
        urls: urls.clone(),
        scep,
        csrs,
        done: AtomicU64::new(0),
    });
    let clock = Instant::now();
    let (first_cycles, cycles) = (a.first.div_ceil(10), a.requests.div_ceil(10));
    drive(&d, a.workers, 0, first_cycles).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let first = rss_kib(pid)?;
    let first_done = d.done.load(Ordering::Relaxed);
    println!("serve-memory: after {first_done} requests: VmRSS {first} KiB");
    let step = a.every.map_or(cycles, |e| e.div_ceil(10).max(1));
    let mut at = first_cycles;
    while at < cycles {
        let to = at.saturating_add(step).min(cycles);
        drive(&d, a.workers, at, to).await?;
        at = to;
        if at < cycles {
            println!(
                "serve-memory: after {} requests: VmRSS {} KiB",
                d.done.load(Ordering::Relaxed),
                rss_kib(pid)?
            );
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let last = rss_kib(pid)?;
    let done = d.done.load(Ordering::Relaxed);
    let growth = (last as f64 - first as f64) * 100.0 / first as f64;
    println!(
        "serve-memory: after {done} requests: VmRSS {last} KiB ({growth:+.1} % over the first figure; limit {:.0} %), {:.0} s",
        a.limit_percent,
        clock.elapsed().as_secs_f64()
    );
    // The histories must be full by now, or the figure says nothing about their bounds.
    let get = |path: &str| {
        let http = d.http.clone();
        let url = format!("{}{path}", urls.admin);
        async move {
            http.get(url)
                .send()
                .await?
                .json::<serde_json::Value>()
                .await
        }
    };
    let (ca, ndes, intune) = (
        get("/history/ca").await?,
        get("/history/ndes").await?,
        get("/history/intune").await?,
    );
    println!(
        "serve-memory: forgotten beyond the bounds: CA journal {}, CA certificates {}, NDES requests {}, Intune calls {}, Intune uploads {}",
        ca["journalDropped"], ca["issuedDropped"], ndes["dropped"], intune["callsDropped"], intune["uploadsDropped"]
    );
    let _ = d.http.post(format!("{}/shutdown", urls.admin)).send().await;
    drop(served);
    if growth > a.limit_percent {
        bail!(
            "resident memory grew {growth:.1} % (limit {:.0} %)",
            a.limit_percent
        );
    }
    Ok(())
}
