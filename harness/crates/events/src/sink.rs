//! The sink: the one owner of a run's event stream. Lossless, ordered, and strict about the
//! catalog's contract.
//!
//! While a step's enrollments run concurrently, the order in which the connector writes their
//! events is thread timing. A [`Hold`] keeps the records written meanwhile aside and releases
//! them, when the step ends, in a canonical order: grouped by the enrollment they belong to
//! (their `device_id`, in the step's order), each enrollment's own records in written order,
//! then the records of no enrollment of the step in written order. Sequence numbers are given
//! at release, so the stream stays numbered 1, 2, 3… with no gap and no timing in it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::catalog::{Detail, DiagnosticCode, EventId};
use crate::sim::Clock;

use super::record::{Details, EventRecord};

/// An event that breaks the catalog's contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractViolation {
    /// The (event, code) pair is not in the catalog.
    #[error("contract violation: event {id} {name} may not carry {code} {code_name}; it may carry only {allowed}", id = .event.id(), name = .event.name(), code_name = .code.name(), allowed = allowed_codes(*.event))]
    PairNotAllowed {
        /// The event.
        event: EventId,
        /// The code it tried to carry.
        code: DiagnosticCode,
    },
    /// A detail field that the event does not carry.
    #[error("contract violation: event {id} {name} does not carry the detail `{detail}`; it carries {allowed}", id = .event.id(), name = .event.name(), allowed = .event.spec().details.iter().map(|d| d.key()).collect::<Vec<_>>().join(", "))]
    DetailNotCarried {
        /// The event.
        event: EventId,
        /// The detail it tried to carry.
        detail: Detail,
    },
}

fn allowed_codes(event: EventId) -> String {
    event
        .spec()
        .codes
        .iter()
        .map(|c| format!("{c} {}", c.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks an (event, code, details) triple against the catalog.
pub fn check_contract(
    event: EventId,
    code: DiagnosticCode,
    details: &Details,
) -> Result<(), ContractViolation> {
    if !event.allows(code) {
        return Err(ContractViolation::PairNotAllowed { event, code });
    }
    if let Some((detail, _)) = details.iter().find(|(d, _)| !event.carries(*d)) {
        return Err(ContractViolation::DetailNotCarried { event, detail });
    }
    Ok(())
}

#[derive(Default)]
struct State {
    records: Vec<EventRecord>,
    /// Records written so far, drained ones included: the last sequence number.
    written: u64,
    violations: Vec<ContractViolation>,
    /// Why each event was written, when the writer said (kept beside the stream, not in it).
    causes: Vec<String>,
    /// Records being held for canonical ordering, while a [`Hold`] lasts.
    held: Option<Held>,
}

/// Records written under a [`Hold`], not yet numbered.
struct Held {
    /// Device id → the index of its enrollment in the step.
    order: HashMap<String, usize>,
    /// Each record with its enrollment's index (`None`: no enrollment of the step), in written
    /// order.
    records: Vec<(Option<usize>, EventRecord)>,
}

/// What a [`Hold`] released.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Released {
    /// Records released, in all.
    pub records: usize,
    /// Of those, records whose `device_id` is missing or names no enrollment of the step:
    /// released after the others, in written order.
    pub unattributed: usize,
}

/// Holds the records written from its start until it is released (or dropped, so that a run
/// cut short by its budget loses nothing), then releases them in canonical order.
#[must_use = "records are held until the hold is released or dropped"]
pub struct Hold {
    sink: Sink,
    released: bool,
}

impl Hold {
    /// Releases the held records into the stream in canonical order, numbering them.
    pub fn release(self) -> Released {
        self.release_resolving(|_| None)
    }

    /// [`Hold::release`], attributing a record that names no device of the step by its
    /// `transaction_id`: `device_of` names the device a transaction is (the enrollment's
    /// subject). `device_id` is optional on verify and notify events, so a connector that
    /// leaves it out is still placed by what it did name.
    pub fn release_resolving(mut self, device_of: impl Fn(&str) -> Option<String>) -> Released {
        self.released = true;
        let held = self.sink.lock().held.take();
        match held {
            Some(mut h) => {
                for (index, record) in &mut h.records {
                    if index.is_none() {
                        *index = record
                            .details
                            .get(Detail::TransactionId)
                            .and_then(&device_of)
                            .and_then(|d| h.order.get(&d).copied());
                    }
                }
                self.sink.release(h)
            }
            None => Released::default(),
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if !self.released {
            self.sink.release_held();
        }
    }
}

/// Collects the events of one run. Cloning shares the same stream.
///
/// Sequence numbers and timestamps are assigned under one lock, so concurrent writers can never
/// lose, duplicate or reorder a record relative to its sequence number. Under a [`Hold`], the
/// timestamp is taken when the record is written and the sequence number when it is released.
#[derive(Clone)]
pub struct Sink {
    clock: Clock,
    state: Arc<Mutex<State>>,
}

impl Sink {
    /// An empty stream stamped by `clock`.
    pub fn new(clock: Clock) -> Sink {
        Sink {
            clock,
            state: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` half-written (pushes only).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes one event. A pair or detail outside the catalog is refused, and also remembered
    /// so that the run fails even if the caller ignores the error.
    pub fn emit(
        &self,
        event: EventId,
        code: DiagnosticCode,
        details: Details,
    ) -> Result<EventRecord, ContractViolation> {
        self.emit_caused(event, code, details, None)
    }

    /// [`Sink::emit`], noting why the event was written (the reference connector's cause).
    /// The cause is kept beside the stream for the coverage report; it is not part of it.
    /// Under a [`Hold`], the record returned has sequence 0: it is numbered at release.
    pub fn emit_caused(
        &self,
        event: EventId,
        code: DiagnosticCode,
        details: Details,
        cause: Option<&str>,
    ) -> Result<EventRecord, ContractViolation> {
        let mut state = self.lock();
        if let Some(c) = cause {
            if state.causes.len() < 100_000 && !state.causes.iter().any(|k| k == c) {
                state.causes.push(c.to_string());
            }
        }
        if let Err(v) = check_contract(event, code, &details) {
            state.violations.push(v.clone());
            return Err(v);
        }
        let time = self.clock.now();
        if let Some(held) = state.held.as_mut() {
            let index = details
                .get(Detail::DeviceId)
                .and_then(|d| held.order.get(d).copied());
            // Numbered at release; until then the record carries sequence 0.
            let record = EventRecord {
                sequence: 0,
                time,
                event,
                code,
                details,
            };
            held.records.push((index, record.clone()));
            return Ok(record);
        }
        state.written = state.written.saturating_add(1);
        let record = EventRecord {
            sequence: state.written,
            time,
            event,
            code,
            details,
        };
        state.records.push(record.clone());
        Ok(record)
    }

    /// Holds every record written from now on until the returned [`Hold`] is released;
    /// `devices` are the step's enrollments, in order (the canonical order of release). A hold
    /// started while another lasts releases the earlier one's records first.
    pub fn hold<S: AsRef<str>>(&self, devices: &[S]) -> Hold {
        let order = devices
            .iter()
            .enumerate()
            .map(|(i, d)| (d.as_ref().to_string(), i))
            .collect();
        let earlier = {
            let mut state = self.lock();
            state.held.replace(Held {
                order,
                records: Vec::new(),
            })
        };
        if let Some(earlier) = earlier {
            self.release(earlier);
        }
        Hold {
            sink: self.clone(),
            released: false,
        }
    }

    fn release_held(&self) -> Released {
        let held = self.lock().held.take();
        held.map(|h| self.release(h)).unwrap_or_default()
    }

    /// Appends `held`'s records in canonical order: by enrollment (a stable sort keeps each
    /// enrollment's records in written order), the unattributed ones last.
    fn release(&self, held: Held) -> Released {
        let mut records = held.records;
        records.sort_by_key(|(index, _)| index.unwrap_or(usize::MAX));
        let released = Released {
            records: records.len(),
            unattributed: records.iter().filter(|(i, _)| i.is_none()).count(),
        };
        let mut state = self.lock();
        for (_, mut record) in records {
            state.written = state.written.saturating_add(1);
            record.sequence = state.written;
            state.records.push(record);
        }
        released
    }

    /// How many events have been numbered so far: the sequence number of the last one.
    pub fn written(&self) -> u64 {
        self.lock().written
    }

    /// A copy of the stream so far (since the last [`Sink::drain`]).
    pub fn records(&self) -> Vec<EventRecord> {
        self.lock().records.clone()
    }

    /// Takes the records written since the last drain, in order, so that a long-running owner
    /// (`serve`) can keep them elsewhere; sequence numbers go on counting.
    pub fn drain(&self) -> Vec<EventRecord> {
        std::mem::take(&mut self.lock().records)
    }

    /// Contract violations seen so far.
    pub fn violations(&self) -> Vec<ContractViolation> {
        self.lock().violations.clone()
    }

    /// The distinct causes writers named, in the order first seen.
    pub fn causes(&self) -> Vec<String> {
        self.lock().causes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_pairs_outside_the_catalog() {
        let sink = Sink::new(Clock::default());
        let err = sink
            .emit(
                EventId::PkcsCertIssueSuccess,
                DiagnosticCode::PkcsIssueCaUnavailable,
                Details::new(),
            )
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("20100 PkcsCertIssue_Success"), "{text}");
        assert!(
            text.contains("0x00000400 PKCS_Issue_CA_Unavailable"),
            "{text}"
        );
        assert!(
            text.contains("0x00000000 Success, 0x0FFFFFFF Unknown_Error"),
            "{text}"
        );
        assert!(sink.records().is_empty());
        assert_eq!(sink.violations().len(), 1);
    }

    #[test]
    fn refuses_details_the_event_does_not_carry() {
        let sink = Sink::new(Clock::default());
        let err = sink
            .emit(
                EventId::StartedConnectorService,
                DiagnosticCode::Success,
                Details::new().with(Detail::DeviceId, "d"),
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("does not carry the detail `device_id`"),
            "{err}"
        );
    }

    #[test]
    fn drained_records_leave_and_sequence_numbers_go_on() {
        let sink = Sink::new(Clock::default());
        let emit = || {
            sink.emit(
                EventId::StartedConnectorService,
                DiagnosticCode::Success,
                Details::new(),
            )
            .unwrap()
        };
        emit();
        emit();
        let first: Vec<u64> = sink.drain().iter().map(|r| r.sequence).collect();
        assert_eq!(first, [1, 2]);
        assert!(sink.records().is_empty());
        emit();
        let second: Vec<u64> = sink.drain().iter().map(|r| r.sequence).collect();
        assert_eq!(second, [3]);
    }

    fn device_event(sink: &Sink, device: &str, tag: &str) {
        let d = Details::new()
            .with(Detail::DeviceId, device)
            .with(Detail::TransactionId, tag);
        sink.emit(EventId::CrpVerifyMetricSuccess, DiagnosticCode::Success, d)
            .unwrap();
    }

    fn shown(records: &[EventRecord]) -> Vec<(u64, String, String)> {
        records
            .iter()
            .map(|r| {
                let get = |d| r.details.get(d).unwrap_or("-").to_string();
                (
                    r.sequence,
                    get(Detail::DeviceId),
                    get(Detail::TransactionId),
                )
            })
            .collect()
    }

    #[test]
    fn a_hold_releases_grouped_by_enrollment_and_renumbered() {
        let sink = Sink::new(Clock::default());
        device_event(&sink, "before", "0");
        let hold = sink.hold(&["a", "b", "c"]);
        // Written as thread timing had it: interleaved, and one of no enrollment of the step.
        device_event(&sink, "c", "c1");
        device_event(&sink, "a", "a1");
        device_event(&sink, "stranger", "s1");
        device_event(&sink, "c", "c2");
        device_event(&sink, "b", "b1");
        device_event(&sink, "a", "a2");
        assert_eq!(
            sink.records().len(),
            1,
            "held records are not in the stream yet"
        );
        let released = hold.release();
        assert_eq!(
            released,
            Released {
                records: 6,
                unattributed: 1
            }
        );
        device_event(&sink, "after", "9");
        let want = [
            (1, "before", "0"),
            (2, "a", "a1"),
            (3, "a", "a2"),
            (4, "b", "b1"),
            (5, "c", "c1"),
            (6, "c", "c2"),
            (7, "stranger", "s1"),
            (8, "after", "9"),
        ]
        .map(|(n, d, t)| (n, d.to_string(), t.to_string()));
        assert_eq!(shown(&sink.records()), want);
    }

    #[test]
    fn a_dropped_hold_loses_nothing() {
        let sink = Sink::new(Clock::default());
        {
            let _hold = sink.hold(&["a", "b"]);
            device_event(&sink, "b", "b1");
            device_event(&sink, "a", "a1");
        }
        let got: Vec<_> = shown(&sink.records())
            .into_iter()
            .map(|(n, d, _)| (n, d))
            .collect();
        assert_eq!(got, [(1, "a".to_string()), (2, "b".to_string())]);
    }

    #[test]
    fn lossless_and_ordered_under_concurrent_writers() {
        let sink = Sink::new(Clock::default());
        std::thread::scope(|s| {
            for t in 0..8 {
                let sink = sink.clone();
                s.spawn(move || {
                    for i in 0..250 {
                        let d = Details::new().with(Detail::Reason, format!("{t}-{i}"));
                        sink.emit(EventId::StartedConnectorService, DiagnosticCode::Success, d)
                            .unwrap();
                    }
                });
            }
        });
        let records = sink.records();
        assert_eq!(records.len(), 2000);
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.sequence, i as u64 + 1);
        }
        // Every writer's events arrive in the order that writer sent them.
        for t in 0..8 {
            let mine: Vec<usize> = records
                .iter()
                .filter_map(|r| r.details.get(Detail::Reason))
                .filter_map(|s| s.strip_prefix(&format!("{t}-")))
                .map(|s| s.parse().unwrap())
                .collect();
            assert_eq!(mine, (0..250).collect::<Vec<_>>());
        }
    }
}
