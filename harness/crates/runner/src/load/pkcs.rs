//! The PKCS pipeline under load, in process: N requests queued in the fake Intune, the
//! reference connector's sync cycles download them, have the fake CA issue each, and upload
//! every result; then Intune's ledger proves each request was answered exactly once, and the
//! connector's events that each was issued and uploaded once.
//!
//! Built to stay flat in memory however many requests run: requests are queued as the
//! connector drains them (at most [`WINDOW`] waiting at once, as a real tenant's queue fills
//! over time), the connector's events are counted, not kept, the CA and Intune keep short
//! histories, and the proof reads Intune's ledger in place ([`FakeIntune::pkcs_summary`])
//! instead of copying it.
//!
//! Written against the in-process API (`FakeIntune::queue_pkcs`, `Connector::sync`,
//! `FakeIntune::pkcs_summary`, `FakeCa::issued_count`) and kept in this one file so that it
//! follows the fakes when they change shape.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::prepare::on_every_core;
use super::LoadError;
use crate::assemble::{self, Backends, Listen};
use crate::connector::env::{self, EventLog};
use crate::connector::process::config_of;
use crate::connector::{Bugs, Cause, Connector};
use crate::contract::intune::admin::QueuePkcs;
use crate::event::Details;
use crate::fixtures::{self, DEVICE_KEYS};
use crate::pki::{b64, build_csr};
use crate::scenario::model::{ConnectorSetup, Setup};
use crate::scenario::Span;
use crate::sim::Clock;

/// Most requests one run queues.
pub const MAX_REQUESTS: usize = 1_000_000;
/// Most requests the connector downloads per cycle (Intune's own limit).
const BATCH: u32 = 500;
/// Most requests waiting at Intune at once: two downloads' worth.
pub const WINDOW: usize = 2 * BATCH as usize;
/// What the CA and Intune remember of their recent calls during a load run.
const HISTORY: usize = 1_000;
/// Requests the connector issues at once by default (see [`Connector::with_pkcs_in_flight`]).
pub const IN_FLIGHT: usize = 4;

/// What the run measured and proved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PkcsReport {
    /// Requests queued.
    pub requests: usize,
    /// Distinct CSRs among them (signed before the timed part, reused round-robin).
    pub distinct_csrs: usize,
    /// Most requests waiting at Intune at once.
    pub window: usize,
    /// Requests the connector issued at once.
    pub in_flight: usize,
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
    /// Events the connector wrote, by cause (`PkcsIssued`, `Uploaded`, …).
    pub events: BTreeMap<String, u64>,
    /// Peak resident memory of this process (VmHWM), KiB, where the OS tells it.
    pub peak_rss_kib: Option<u64>,
    /// [`PkcsReport::proven`], written out for readers of the JSON.
    #[serde(default)]
    pub proven: bool,
}

impl PkcsReport {
    /// Whether every request was uploaded exactly once, issued, and none is left; and the
    /// connector says so too: one issue and one upload event per request, nothing else but
    /// its downloads, start and stop.
    pub fn proven(&self) -> bool {
        let said = |cause: Cause| self.events.get(&format!("{cause:?}")).copied().unwrap_or(0);
        let expected = [
            Cause::PkcsIssued,
            Cause::Uploaded,
            Cause::Downloaded,
            Cause::ServiceStarted,
            Cause::ServiceStopped,
        ]
        .map(|c| format!("{c:?}"));
        let others = self
            .events
            .keys()
            .filter(|name| !expected.contains(name))
            .count();
        self.uploaded_once == self.requests
            && self.uploaded == self.requests
            && self.not_issued == 0
            && self.still_pending == 0
            && said(Cause::PkcsIssued) == self.requests as u64
            && said(Cause::Uploaded) == self.requests as u64
            && others == 0
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

/// An event log that counts the connector's events by cause and keeps none: a long run's
/// stream would otherwise be the largest thing in memory.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, u64>>);

impl EventLog for Tally {
    fn write(&self, cause: Cause, _details: Details) {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(format!("{cause:?}")).or_default();
        *n = n.saturating_add(1);
    }
}

/// Runs `requests` PKCS requests through the pipeline, with `distinct_csrs` different CSRs,
/// the connector issuing `in_flight` at once.
pub fn run(
    requests: usize,
    distinct_csrs: usize,
    in_flight: usize,
) -> Result<PkcsReport, LoadError> {
    if requests == 0 || requests > MAX_REQUESTS {
        return Err(LoadError::Options(format!(
            "--requests must be between 1 and {MAX_REQUESTS}, not {requests}"
        )));
    }
    if !(1..=crate::connector::MAX_PKCS_IN_FLIGHT).contains(&in_flight) {
        return Err(LoadError::Options(format!(
            "--in-flight must be between 1 and {}, not {in_flight}",
            crate::connector::MAX_PKCS_IN_FLIGHT
        )));
    }
    let distinct = distinct_csrs.clamp(1, requests);
    let started = Instant::now();
    let csrs = on_every_core(distinct, |n| {
        let what = || format!("the CSR of pkcs-device-{n:07}");
        let key =
            fixtures::device_key(n % DEVICE_KEYS.len()).map_err(LoadError::fixture(what()))?;
        let csr = build_csr(&key, &format!("pkcs-device-{n:07}"), None)
            .map_err(LoadError::pki(what()))?;
        Ok(b64(&csr))
    })?;
    let csr_time = started.elapsed();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(LoadError::Runtime)?;
    let mut report = runtime.block_on(pipeline(requests, &csrs, in_flight))?;
    report.csr_seconds = csr_time.as_secs_f64();
    report.peak_rss_kib = peak_rss_kib();
    report.proven = report.proven();
    Ok(report)
}

async fn pipeline(
    requests: usize,
    csrs: &[String],
    in_flight: usize,
) -> Result<PkcsReport, LoadError> {
    let setup = Setup {
        connector: ConnectorSetup {
            timeout: Span::secs(10),
            batch_size: BATCH,
            ..ConnectorSetup::default()
        },
        ..Setup::default()
    };
    let start = assemble::start_time(&setup);
    let clock = Clock::new(start);
    let rng = crate::sim::Rng::new(1);
    let listen = Listen {
        history: Some(HISTORY),
        ..Listen::default()
    };
    let backends = assemble::start_backends(&setup, &listen, &clock, &rng).await?;
    let store = assemble::registration_store(&setup, &backends.intune, start)?;
    let config = config_of(
        &assemble::connector_config(&setup, &backends, store.path()),
        Bugs::default(),
    );
    let Backends { ca, intune } = backends;
    let tally = Arc::new(Tally::default());
    let log: Arc<dyn EventLog> = tally.clone();
    let time: Arc<dyn env::Time> = Arc::new(clock.clone());
    let connector = Connector::new(config, log, time).with_pkcs_in_flight(in_flight);
    connector.start().await;

    let started = Instant::now();
    let mut queued = 0;
    let mut cycles = 0;
    // Every cycle answers up to BATCH requests; a run that stops making progress ends
    // here and the report says what is missing.
    let most_cycles = requests.div_ceil(BATCH as usize).saturating_mul(2) + 10;
    loop {
        let pending = intune.pkcs_summary().pending;
        let room = WINDOW.saturating_sub(pending).min(requests - queued);
        for n in queued..queued + room {
            let k = n % csrs.len();
            intune
                .queue_pkcs(QueuePkcs {
                    device_id: format!("pkcs-device-{k:07}"),
                    user_id: format!("pkcs-user-{k:07}"),
                    template_name: crate::fixtures::USER_TEMPLATE.into(),
                    ca_name: setup.ca.name.clone(),
                    certificate_request: csrs[k].clone(),
                    request_id: None,
                })
                .map_err(|why| LoadError::Bench {
                    what: "queueing a PKCS request",
                    why,
                })?;
        }
        queued += room;
        if (queued == requests && pending + room == 0) || cycles >= most_cycles {
            break;
        }
        connector.sync().await;
        cycles += 1;
    }
    let wall = started.elapsed();
    connector.stop().await;
    let issued = ca.issued_count();
    let summary = intune.pkcs_summary();
    intune.shutdown().await;
    ca.shutdown().await;
    let events = tally.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(PkcsReport {
        requests,
        distinct_csrs: csrs.len(),
        window: WINDOW,
        in_flight,
        csr_seconds: 0.0,
        wall_seconds: wall.as_secs_f64(),
        requests_per_second: requests as f64 / wall.as_secs_f64().max(f64::MIN_POSITIVE),
        cycles,
        uploaded: usize::try_from(summary.recorded).unwrap_or(usize::MAX),
        uploaded_once: summary.exactly_once,
        uploaded_twice_or_more: summary.more_than_once,
        missing: summary.never + (requests - queued),
        not_issued: requests.saturating_sub(usize::try_from(issued).unwrap_or(usize::MAX)),
        still_pending: summary.pending,
        events,
        peak_rss_kib: None,
        proven: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More requests than the window and the batch, so that queueing, downloading and
    /// uploading all wrap around; every request is proven answered once, in both modes.
    #[test]
    fn every_request_is_issued_and_uploaded_exactly_once() {
        for in_flight in [1, 4] {
            let r = run(1_234, 50, in_flight).unwrap();
            assert!(r.proven(), "{r:#?}");
            assert_eq!(r.uploaded_once, 1_234);
            assert_eq!(r.events.get("PkcsIssued"), Some(&1_234));
            assert_eq!(r.events.get("Uploaded"), Some(&1_234));
            assert_eq!(r.in_flight, in_flight);
        }
    }

    #[test]
    fn bad_sizes_are_refused() {
        assert!(run(0, 1, 1).is_err());
        assert!(run(1, 1, 0).is_err());
        assert!(run(1, 1, crate::connector::MAX_PKCS_IN_FLIGHT + 1).is_err());
    }
}
