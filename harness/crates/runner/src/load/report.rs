//! The result of a SCEP load run: printed for people, JSON for `cargo xtask bench`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::discover::Server;
use super::send::Answer;
use super::verify::Tally;
use super::ScepLoad;

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

/// What a SCEP load run measured and verified.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScepLoadReport {
    /// The server's SCEP URL.
    pub url: String,
    /// Enrollments attempted.
    pub devices: usize,
    /// Requests in flight.
    pub concurrency: usize,
    /// `none`, `static` or `minted`.
    pub challenge: String,
    /// Request signature digest, chosen from GetCACaps.
    pub digest: String,
    /// Request envelope cipher, chosen from GetCACaps.
    pub cipher: String,
    /// `POST` or `GET` (PKIOperation).
    pub method: String,
    /// Seconds spent before the timed part (discovery, minting, building messages).
    pub prepare_seconds: f64,
    /// Seconds of the timed part, first send to last answer.
    pub wall_seconds: f64,
    /// Verified enrollments.
    pub enrolled: usize,
    /// Verified enrollments per second of the timed part.
    pub enrollments_per_second: f64,
    /// Latency of the verified enrollments.
    pub latency_ms: Latency,
    /// CertRep FAILUREs by failInfo.
    pub refused: BTreeMap<String, usize>,
    /// CertRep PENDINGs.
    pub pending: usize,
    /// HTTP errors by status.
    pub http_errors: BTreeMap<String, usize>,
    /// No answer, by kind (timeout, connect…).
    pub transport_errors: BTreeMap<String, usize>,
    /// 200 answers that are not a valid CertRep for the request, by category.
    pub invalid_replies: BTreeMap<String, usize>,
    /// The first invalid reply's error.
    pub first_invalid: Option<String>,
    /// Distinct serial numbers among the verified enrollments.
    pub distinct_serials: usize,
    /// Verified enrollments whose serial another one already had.
    pub duplicate_serials: usize,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

impl ScepLoadReport {
    /// Builds the report from the phases' results.
    pub fn new(
        load: &ScepLoad,
        server: &Server,
        prepare: Duration,
        wall: Duration,
        answers: &[Answer],
        tally: Tally,
    ) -> ScepLoadReport {
        let mut latencies = tally.enrolled_latencies;
        latencies.sort();
        let enrolled = latencies.len();
        let distinct = tally.serials.len();
        let wall_s = wall.as_secs_f64();
        debug_assert_eq!(answers.len(), load.devices);
        ScepLoadReport {
            url: load.url.clone(),
            devices: load.devices,
            concurrency: load.concurrency,
            challenge: load.challenge.label().into(),
            digest: format!("{:?}", server.options.digest),
            cipher: format!("{:?}", server.options.cipher),
            method: if server.caps.post() { "POST" } else { "GET" }.into(),
            prepare_seconds: prepare.as_secs_f64(),
            wall_seconds: wall_s,
            enrolled,
            enrollments_per_second: if wall_s > 0.0 {
                enrolled as f64 / wall_s
            } else {
                0.0
            },
            latency_ms: Latency {
                p50: percentile(&latencies, 50.0),
                p99: percentile(&latencies, 99.0),
                max: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            },
            refused: tally.refused,
            pending: tally.pending,
            http_errors: tally
                .http
                .into_iter()
                .map(|(s, n)| (s.to_string(), n))
                .collect(),
            transport_errors: tally.transport,
            invalid_replies: tally.invalid,
            first_invalid: tally.first_invalid,
            distinct_serials: distinct,
            duplicate_serials: enrolled.saturating_sub(distinct),
        }
    }

    /// Whether every device enrolled, verified, with a serial of its own.
    pub fn all_verified(&self) -> bool {
        self.enrolled == self.devices && self.duplicate_serials == 0
    }

    /// Enrollments that did not verify (refused, pending, HTTP, transport, invalid).
    pub fn failed(&self) -> usize {
        self.devices.saturating_sub(self.enrolled)
    }
}

fn counts<K: fmt::Display>(map: &BTreeMap<K, usize>) -> String {
    if map.is_empty() {
        return "0".into();
    }
    map.iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for ScepLoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "SCEP load: {}", self.url)?;
        writeln!(
            f,
            "  {} devices, {} in flight, challenge {}, {} with {} / {}",
            self.devices, self.concurrency, self.challenge, self.method, self.digest, self.cipher
        )?;
        writeln!(
            f,
            "  prepared in {:.2} s (not timed); timed part {:.3} s",
            self.prepare_seconds, self.wall_seconds
        )?;
        writeln!(
            f,
            "  verified enrollments  {} / {}   {:.1} enrollments/s",
            self.enrolled, self.devices, self.enrollments_per_second
        )?;
        writeln!(
            f,
            "  latency (verified)    p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms",
            self.latency_ms.p50, self.latency_ms.p99, self.latency_ms.max
        )?;
        writeln!(
            f,
            "  serials               {} distinct, {} duplicate",
            self.distinct_serials, self.duplicate_serials
        )?;
        writeln!(f, "  CertRep FAILURE       {}", counts(&self.refused))?;
        writeln!(f, "  CertRep PENDING       {}", self.pending)?;
        writeln!(f, "  HTTP errors           {}", counts(&self.http_errors))?;
        writeln!(
            f,
            "  transport errors      {}",
            counts(&self.transport_errors)
        )?;
        write!(
            f,
            "  invalid CertReps      {}",
            counts(&self.invalid_replies)
        )?;
        if let Some(why) = &self.first_invalid {
            write!(f, "\n    first: {why}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50.0), 50.0);
        assert_eq!(percentile(&ms, 99.0), 99.0);
        assert_eq!(percentile(&ms[..1], 99.0), 1.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
