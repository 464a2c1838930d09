//! The scenario clock: virtual UTC time that only the run advances, between the start of
//! scenario time and its end.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The default start of scenario time: 2026-01-01T00:00:00Z.
pub const DEFAULT_EPOCH: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00:00 UTC);

/// The earliest start a scenario may ask for: 1970-01-01T00:00:00Z (certificates dated a year
/// before it still fit X.509's UTCTime).
pub const START_OF_TIME: OffsetDateTime = time::macros::datetime!(1970-01-01 00:00:00 UTC);

/// The end of scenario time: 9899-12-31T23:59:59.999Z. The clock never passes it. It stops a
/// century short of the calendar's last year (9999) so that any duration a scenario may write
/// (at most 36,500 days) still lands on a date certificates and timestamps can carry.
pub const END_OF_TIME: OffsetDateTime = time::macros::datetime!(9899-12-31 23:59:59.999 UTC);

/// Virtual wall time shared by every part of one run. Cloning shares the same clock.
///
/// Time is kept in whole milliseconds since the Unix epoch; it never moves on its own. A move
/// past [`END_OF_TIME`] stops at it and is remembered ([`Clock::overflowed`]), so a run can
/// fail with that reason instead of going on in a calendar it cannot write down.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    millis: AtomicI64,
    overflowed: AtomicBool,
}

fn millis_of(t: OffsetDateTime) -> i64 {
    // Every representable OffsetDateTime is within ±10^4 years: far inside i64 milliseconds.
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

impl Clock {
    /// A clock standing at `start`, or at the nearer bound of scenario time when `start` lies
    /// outside it (which counts as an overflow).
    pub fn new(start: OffsetDateTime) -> Clock {
        let clamped = start.clamp(START_OF_TIME, END_OF_TIME);
        Clock {
            inner: Arc::new(Inner {
                millis: AtomicI64::new(millis_of(clamped)),
                overflowed: AtomicBool::new(clamped != start),
            }),
        }
    }

    /// The current scenario time.
    pub fn now(&self) -> OffsetDateTime {
        let ms = self.inner.millis.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(END_OF_TIME)
    }

    /// Moves time forward by `by` (whole milliseconds), stopping at [`END_OF_TIME`].
    pub fn advance(&self, by: Duration) {
        let end = millis_of(END_OF_TIME);
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let mut overflowed = false;
        // `fetch_update` with a closure that always answers `Some` cannot fail.
        let _ = self
            .inner
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ms| {
                let next = ms.saturating_add(by);
                overflowed = next > end;
                Some(next.min(end))
            });
        if overflowed {
            self.inner.overflowed.store(true, Ordering::SeqCst);
        }
    }

    /// Moves time forward to `to` when it is later (never backwards): how a process that is told
    /// the time keeps its own clock in step.
    pub fn catch_up(&self, to: OffsetDateTime) {
        let target = millis_of(to.clamp(START_OF_TIME, END_OF_TIME));
        self.inner.millis.fetch_max(target, Ordering::SeqCst);
    }

    /// Whether something tried to move the clock past [`END_OF_TIME`] (or to start it outside
    /// scenario time).
    pub fn overflowed(&self) -> bool {
        self.inner.overflowed.load(Ordering::SeqCst)
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new(DEFAULT_EPOCH)
    }
}

/// Formats a scenario time as RFC 3339 UTC with millisecond precision (`2026-01-01T00:00:00.000Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an RFC 3339 timestamp.
pub fn parse_time(s: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(s, &Rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_only_when_told() {
        let c = Clock::default();
        assert_eq!(format_time(c.now()), "2026-01-01T00:00:00.000Z");
        let shared = c.clone();
        shared.advance(Duration::from_millis(90_061_001));
        assert_eq!(format_time(c.now()), "2026-01-02T01:01:01.001Z");
        assert_eq!(parse_time(&format_time(c.now())).unwrap(), c.now());
    }

    #[test]
    fn time_never_runs_backwards_or_past_its_end() {
        let end = time::macros::datetime!(9899-12-31 23:59:59.999 UTC);
        let c = Clock::default();
        c.advance(Duration::from_secs(u64::MAX));
        assert_eq!(c.now(), end, "saturates at the end of scenario time");
        assert!(c.overflowed());
        let c = Clock::default();
        for _ in 0..3 {
            let before = c.now();
            c.advance(Duration::from_secs(3_000 * 365 * 86_400));
            assert!(c.now() >= before, "{} then {}", before, c.now());
        }
        assert_eq!(c.now(), end);
        assert!(c.overflowed());
        let c = Clock::default();
        c.advance(Duration::from_secs(86_400));
        assert!(!c.overflowed(), "an ordinary move is no overflow");
    }
}
