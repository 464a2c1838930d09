//! The sink: the one owner of a run's event stream. Lossless, ordered, and strict about the
//! catalog's contract.

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
}

/// Collects the events of one run. Cloning shares the same stream.
///
/// Sequence numbers and timestamps are assigned under one lock, so concurrent writers can never
/// lose, duplicate or reorder a record relative to its sequence number.
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
        state.written = state.written.saturating_add(1);
        let record = EventRecord {
            sequence: state.written,
            time: self.clock.now(),
            event,
            code,
            details,
        };
        state.records.push(record.clone());
        Ok(record)
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
