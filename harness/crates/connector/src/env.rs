//! What the connector needs from the world around it besides the network: scenario time (and
//! a way to let it pass, for backoff) and an event log. In-process, these are the harness's
//! [`Clock`] and [`Sink`]; run as its own process (`connector-harness connector`), they are
//! messages of the connector-under-test protocol ([`crate::contract::process`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::cause::Cause;
use crate::event::{Details, Sink};
use crate::sim::Clock;

/// A boxed, sendable future.
pub type Wait<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Scenario time, as the connector sees it.
pub trait Time: Send + Sync {
    /// The current scenario time.
    fn now(&self) -> OffsetDateTime;
    /// Lets `by` of scenario time pass (a backoff); never sleeps in real time.
    fn sleep(&self, by: Duration) -> Wait<'_>;
}

impl Time for Clock {
    fn now(&self) -> OffsetDateTime {
        Clock::now(self)
    }

    fn sleep(&self, by: Duration) -> Wait<'_> {
        self.advance(by);
        Box::pin(async {})
    }
}

/// Where the connector writes its events.
pub trait EventLog: Send + Sync {
    /// Writes one event; `cause` says why (its catalog pair is the event and code).
    fn write(&self, cause: Cause, details: Details);
}

impl EventLog for Sink {
    fn write(&self, cause: Cause, details: Details) {
        let pair = cause.pair();
        // Every cause maps to an allowed pair (tested in `cause`), so the sink cannot refuse;
        // were it to, the sink keeps the violation and the run's check reports it.
        let _ = self.emit_caused(pair.event, pair.code, details, Some(cause.name()));
    }
}

/// The harness's own clock and sink, for a connector running in the harness's process.
pub fn in_process(clock: &Clock, sink: &Sink) -> (Arc<dyn Time>, Arc<dyn EventLog>) {
    (Arc::new(clock.clone()), Arc::new(sink.clone()))
}
