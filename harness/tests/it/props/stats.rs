//! What the worlds of a search reached: faults injected by target, kind and `times`, catalog
//! pairs, enrollments; printed at the end of a run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use harness_runner::catalog::Pair;

/// What the worlds of the search reached (shrink steps are not counted).
#[derive(Default)]
pub struct Stats {
    /// Worlds run, each twice.
    pub worlds: u64,
    /// A world failed: what follows is shrinking.
    pub shrinking: bool,
    /// Faults injected, by target, kind and whether `times` was given.
    pub faults: BTreeMap<(String, String, bool), u64>,
    /// Catalog pairs the streams reached.
    pub pairs: BTreeSet<Pair>,
    /// Enrollments, and those that reached the policy module.
    pub enrollments: (u64, u64),
}

/// The statistics as lines for the log.
pub fn summary(stats: &Stats, elapsed: Duration) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "property tests: {} worlds judged (each run twice{}) in {:.1}s; {} of 48 catalog pairs reached; {} enrollments, {} reached the policy module\n",
        stats.worlds,
        if stats.shrinking { ", up to the first failure; shrinking not counted" } else { "" },
        elapsed.as_secs_f64(),
        stats.pairs.len(),
        stats.enrollments.0,
        stats.enrollments.1
    ));
    let mut by_target: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for ((t, k, times), n) in &stats.faults {
        by_target
            .entry(t)
            .or_default()
            .push(format!("{k}{} ×{n}", if *times { "+times" } else { "" }));
    }
    for (t, kinds) in &by_target {
        s.push_str(&format!("  {t}: {}\n", kinds.join(", ")));
    }
    let unreached: Vec<String> = harness_runner::catalog::pairs()
        .into_iter()
        .filter(|p| !stats.pairs.contains(p))
        .map(|p| p.to_string())
        .collect();
    if !unreached.is_empty() {
        s.push_str(&format!(
            "  catalog pairs no world reached: {}\n",
            unreached.join("; ")
        ));
    }
    // Every (target, kind) the loader accepts, with and without `times` where the loader takes
    // it (a closed port or a missing certificate is only ever until healed).
    let missing: Vec<String> = harness_runner::contract::fault::FaultTarget::all()
        .flat_map(|(t, target)| target.kinds().iter().map(move |k| (t, *k)))
        .flat_map(|(t, k)| {
            let timed = k.check_times(Some(1)).is_ok();
            [(t, k.name(), false), (t, k.name(), true)]
                .into_iter()
                .filter(move |(_, _, times)| timed || !times)
        })
        .filter(|(t, k, times)| {
            !stats
                .faults
                .contains_key(&(t.to_string(), k.to_string(), *times))
        })
        .map(|(t, k, times)| format!("{t} {k}{}", if times { "+times" } else { "" }))
        .collect();
    if !missing.is_empty() {
        s.push_str(&format!(
            "  faults never injected: {}\n",
            missing.join(", ")
        ));
    }
    s
}
