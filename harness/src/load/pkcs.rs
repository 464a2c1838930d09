//! The PKCS pipeline under load, in process: N requests queued in the fake Intune, the
//! reference connector's sync cycles download them, have the fake CA issue each, and upload
//! every result; then the Intune snapshot proves each request was answered exactly once.
//!
//! Written against today's in-process API (`FakeIntune::queue_pkcs`, `Connector::sync`,
//! `FakeIntune::snapshot`) and kept in this one file so that it follows the fakes when they
//! change shape.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::prepare::on_every_core;
use crate::connector::{
    registration_certificate, Connector, ConnectorConfig, RegistrationStore, RetryPolicy,
    StoreCondition,
};
use crate::event::Sink;
use crate::fakes::api::QueuePkcs;
use crate::fakes::ca::{CaConfig, FakeCa};
use crate::fakes::intune::{FakeIntune, IntuneConfig};
use crate::fixtures::{self, DEVICE_KEYS};
use crate::pki::{b64, build_csr};
use crate::sim::{Clock, Rng, DEFAULT_EPOCH};

/// Most requests one run queues.
pub const MAX_REQUESTS: usize = 1_000_000;
/// Most requests the connector downloads per cycle (Intune's own limit).
const BATCH: u32 = 500;

/// What the run measured and proved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PkcsReport {
    /// Requests queued.
    pub requests: usize,
    /// Distinct CSRs among them (signed before the timed part, reused round-robin).
    pub distinct_csrs: usize,
    /// Seconds building the CSRs (not timed).
    pub csr_seconds: f64,
    /// Seconds from the first queued request to the last uploaded result.
    pub wall_seconds: f64,
    /// Requests answered per second of `wall_seconds`.
    pub requests_per_second: f64,
    /// Sync cycles run.
    pub cycles: usize,
    /// Results recorded by Intune.
    pub uploaded: usize,
    /// Requests whose result was recorded exactly once.
    pub uploaded_once: usize,
    /// Requests with more than one recorded result.
    pub uploaded_twice_or_more: usize,
    /// Requests with no recorded result.
    pub missing: usize,
    /// Recorded results that say the certificate was not issued.
    pub not_issued: usize,
    /// Requests still queued at Intune at the end.
    pub still_pending: usize,
    /// Peak resident memory of this process (VmHWM), KiB, where the OS tells it.
    pub peak_rss_kib: Option<u64>,
}

impl PkcsReport {
    /// Whether every request was uploaded exactly once, issued, and none is left.
    pub fn proven(&self) -> bool {
        self.uploaded_once == self.requests
            && self.uploaded == self.requests
            && self.not_issued == 0
            && self.still_pending == 0
    }
}

/// The process's peak resident set (Linux `/proc/self/status` VmHWM), KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `requests` PKCS requests through the pipeline, with `distinct_csrs` different CSRs.
pub fn run(requests: usize, distinct_csrs: usize) -> anyhow::Result<PkcsReport> {
    if requests == 0 || requests > MAX_REQUESTS {
        bail!("--requests must be between 1 and {MAX_REQUESTS}, not {requests}");
    }
    let distinct = distinct_csrs.clamp(1, requests);
    let started = Instant::now();
    let csrs = on_every_core(distinct, |n| {
        let key = fixtures::device_key(n % DEVICE_KEYS.len())?;
        Ok(b64(&build_csr(&key, &format!("pkcs-device-{n:07}"), None)?))
    })?;
    let csr_time = started.elapsed();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut report = runtime.block_on(pipeline(requests, &csrs))?;
    report.csr_seconds = csr_time.as_secs_f64();
    report.peak_rss_kib = peak_rss_kib();
    Ok(report)
}

async fn pipeline(requests: usize, csrs: &[String]) -> anyhow::Result<PkcsReport> {
    let clock = Clock::new(DEFAULT_EPOCH);
    let rng = Rng::new(1);
    let sink = Sink::new(clock.clone());
    let ca_config = CaConfig::default();
    let ca = FakeCa::start(ca_config.clone(), clock.clone(), rng.fork("ca"))
        .await
        .context("starting the fake CA")?;
    let intune = FakeIntune::start(IntuneConfig::default(), clock.clone(), rng.fork("intune"))
        .await
        .context("starting the fake Intune service")?;
    let day = time::Duration::days(1);
    let cert = registration_certificate(DEFAULT_EPOCH - day, DEFAULT_EPOCH + day * 365)
        .map_err(anyhow::Error::msg)?;
    let connector = Connector::new(
        ConnectorConfig {
            intune_url: intune.url(),
            ca_url: ca.url().to_string(),
            ca_name: ca_config.name.clone(),
            retry: RetryPolicy {
                timeout: Duration::from_secs(10),
                ..RetryPolicy::default()
            },
            renewal_window: day * 30,
            batch_size: BATCH,
            ra_certificate: false,
            scep_template: "IntuneDevice".into(),
        },
        RegistrationStore {
            condition: StoreCondition::Present,
            certificate: Some(cert),
        },
        sink,
        clock,
    );
    connector.start().await;

    let started = Instant::now();
    let mut queued = Vec::with_capacity(requests);
    for n in 0..requests {
        let k = n % csrs.len();
        let req = intune.queue_pkcs(QueuePkcs {
            device_id: format!("pkcs-device-{k:07}"),
            user_id: format!("pkcs-user-{k:07}"),
            template_name: "IntuneUser".into(),
            ca_name: ca_config.name.clone(),
            certificate_request: csrs[k].clone(),
            request_id: None,
        });
        queued.push(req.request_id);
    }
    // Each cycle answers up to BATCH requests; look at Intune's state (a full copy) only
    // once the expected number of cycles has run.
    let expected = requests.div_ceil(BATCH as usize);
    let mut cycles = 0;
    let snapshot = loop {
        let due = if cycles < expected {
            expected - cycles
        } else {
            1
        };
        for _ in 0..due {
            connector.sync().await;
            cycles += 1;
        }
        let snap = intune.snapshot();
        if snap.pending_pkcs.is_empty() || cycles >= expected.saturating_mul(2) + 10 {
            break snap;
        }
    };
    let wall = started.elapsed();
    connector.stop().await;
    intune.shutdown().await;
    ca.shutdown().await;

    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(requests);
    for r in &snapshot.pkcs_results {
        *seen.entry(r.request_id.as_str()).or_default() += 1;
    }
    let count = |id: &String| seen.get(id.as_str()).copied().unwrap_or(0);
    Ok(PkcsReport {
        requests,
        distinct_csrs: csrs.len(),
        csr_seconds: 0.0,
        wall_seconds: wall.as_secs_f64(),
        requests_per_second: requests as f64 / wall.as_secs_f64().max(f64::MIN_POSITIVE),
        cycles,
        uploaded: snapshot.pkcs_results.len(),
        uploaded_once: queued.iter().filter(|id| count(id) == 1).count(),
        uploaded_twice_or_more: queued.iter().filter(|id| count(id) > 1).count(),
        missing: queued.iter().filter(|id| count(id) == 0).count(),
        not_issued: snapshot
            .pkcs_results
            .iter()
            .filter(|r| !r.succeeded)
            .count(),
        still_pending: snapshot.pending_pkcs.len(),
        peak_rss_kib: None,
    })
}
