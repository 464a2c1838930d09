//! The PKCS pipeline under load, in process: N requests queued in the fake Intune, the
//! reference connector's sync cycles download them, have the fake CA issue each, and upload
//! every result; then the Intune snapshot proves each request was answered exactly once.
//!
//! Written against the in-process API (`FakeIntune::queue_pkcs`, `Connector::sync`,
//! `FakeIntune::state`'s ledger, `FakeCa::issued`) and kept in this one file so that it follows
//! the fakes when they change shape.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::prepare::on_every_core;
use crate::connector::{env, Bugs, Connector, ConnectorConfig, RetryPolicy};
use crate::contract::intune::admin::{Queue, QueuePkcs};
use crate::event::Sink;
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
    let store = tempfile::tempdir().context("the registration store directory")?;
    let signing = crate::pki::unb64(&intune.signing_certificate().certificate)?;
    crate::provision::provision(
        store.path(),
        &crate::provision::StoreSetup {
            condition: crate::provision::StoreCondition::Present,
            not_before: DEFAULT_EPOCH - day,
            not_after: DEFAULT_EPOCH + day * 365,
            signing_certificate: true,
            crp_encryption_certificate: true,
        },
        &signing,
    )?;
    let (time, log) = env::in_process(&clock, &sink);
    let log: Arc<dyn env::EventLog> = log;
    let connector = Connector::new(
        ConnectorConfig {
            discovery_url: intune.discovery_url(),
            store_dir: store.path().to_path_buf(),
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
            bugs: Bugs::default(),
        },
        log,
        time,
    );
    connector.start().await;

    let started = Instant::now();
    for n in 0..requests {
        let k = n % csrs.len();
        intune.queue_pkcs(QueuePkcs {
            device_id: format!("pkcs-device-{k:07}"),
            user_id: format!("pkcs-user-{k:07}"),
            template_name: "IntuneUser".into(),
            ca_name: ca_config.name.clone(),
            certificate_request: csrs[k].clone(),
            request_id: None,
        });
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
        let state = intune.state();
        if state.pending_pkcs.is_empty() || cycles >= expected.saturating_mul(2) + 10 {
            break state;
        }
    };
    let wall = started.elapsed();
    connector.stop().await;
    let issued = ca.issued().len();
    intune.shutdown().await;
    ca.shutdown().await;

    let ledger: Vec<_> = snapshot
        .ledger
        .iter()
        .filter(|e| e.queue == Queue::Pkcs)
        .collect();
    let recorded = |e: &&crate::contract::intune::admin::LedgerEntry| e.recorded + e.duplicates;
    Ok(PkcsReport {
        requests,
        distinct_csrs: csrs.len(),
        csr_seconds: 0.0,
        wall_seconds: wall.as_secs_f64(),
        requests_per_second: requests as f64 / wall.as_secs_f64().max(f64::MIN_POSITIVE),
        cycles,
        uploaded: ledger.iter().map(|e| e.recorded as usize).sum(),
        uploaded_once: ledger.iter().filter(|e| recorded(e) == 1).count(),
        uploaded_twice_or_more: ledger.iter().filter(|e| recorded(e) > 1).count(),
        missing: ledger.iter().filter(|e| e.recorded == 0).count(),
        not_issued: requests.saturating_sub(issued),
        still_pending: snapshot.pending_pkcs.len(),
        peak_rss_kib: None,
    })
}
