//! Invariants of the stream itself: catalog pairs, sequence numbers, runs of the service, and
//! where two streams part.

use super::{shown, v, Invariant, Violation};
use crate::props::lower::Plan;
use harness_runner::catalog::EventId;
use harness_runner::event::EventRecord;

pub(super) fn catalog_pairs(events: &[EventRecord]) -> Vec<Violation> {
    events
        .iter()
        .filter(|r| !r.pair().is_allowed())
        .map(|r| {
            v(
                Invariant::CatalogPairs,
                format!("event #{} is {}, not a catalog pair", r.sequence, r.pair()),
            )
        })
        .collect()
}

pub(super) fn sequence(events: &[EventRecord]) -> Vec<Violation> {
    events
        .iter()
        .zip(1u64..)
        .find(|(r, want)| r.sequence != *want)
        .map(|(r, want)| {
            v(
                Invariant::Sequence,
                format!(
                    "event {want} of the stream has sequence number {}",
                    r.sequence
                ),
            )
        })
        .into_iter()
        .collect()
}

/// 10010 opens a run and 10020 closes it; every other event lies inside a run, except the
/// start's own report of the registration certificate it found (10301 / 10302), which the
/// service writes just before its 10010.
pub(super) fn lifecycle(plan: &Plan, events: &[EventRecord]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut running = false;
    let (mut starts, mut stops) = (0, 0);
    for (i, r) in events.iter().enumerate() {
        match r.event {
            EventId::StartedConnectorService => {
                starts += 1;
                if running {
                    out.push(v(
                        Invariant::Lifecycle,
                        format!("{} while the service runs", shown(r)),
                    ));
                }
                running = true;
            }
            EventId::StoppedConnectorService => {
                stops += 1;
                if !running {
                    out.push(v(
                        Invariant::Lifecycle,
                        format!("{} while the service is stopped", shown(r)),
                    ));
                }
                running = false;
            }
            EventId::RetrieveCertificateWarning | EventId::RetrieveCertificateError => {
                let next = events.get(i + 1).map(|n| n.event);
                if running || next != Some(EventId::StartedConnectorService) {
                    out.push(v(
                        Invariant::Lifecycle,
                        format!(
                            "{} is not the report of a start (directly before its 10010)",
                            shown(r)
                        ),
                    ));
                }
            }
            _ if !running => {
                out.push(v(
                    Invariant::Lifecycle,
                    format!("{} outside a run of the service", shown(r)),
                ));
            }
            _ => {}
        }
    }
    if running {
        out.push(v(Invariant::Lifecycle, "the last run has no 10020"));
    }
    if starts != plan.starts || stops != plan.stops {
        out.push(v(
            Invariant::Lifecycle,
            format!(
                "{} start and {} stop steps wrote {starts} 10010 and {stops} 10020",
                plan.starts, plan.stops
            ),
        ));
    }
    out
}

pub(super) fn first_difference(a: &str, b: &str) -> String {
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()));
    format!(
        "a second run with the same seed differs at line {}: {:?} vs {:?}",
        line + 1,
        a.lines().nth(line).unwrap_or("<end>"),
        b.lines().nth(line).unwrap_or("<end>")
    )
}
