//! The scenario clock: virtual UTC time that only the run advances.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The default start of scenario time: 2026-01-01T00:00:00Z.
pub const DEFAULT_EPOCH: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00:00 UTC);

/// Virtual wall time shared by every part of one run. Cloning shares the same clock.
///
/// Time is kept in whole milliseconds since the Unix epoch; it never moves on its own.
#[derive(Clone, Debug)]
pub struct Clock {
    millis: Arc<AtomicI64>,
}

impl Clock {
    /// A clock standing at `start`.
    pub fn new(start: OffsetDateTime) -> Clock {
        let millis = (start.unix_timestamp_nanos() / 1_000_000) as i64;
        Clock {
            millis: Arc::new(AtomicI64::new(millis)),
        }
    }

    /// The current scenario time.
    pub fn now(&self) -> OffsetDateTime {
        let ms = self.millis.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(DEFAULT_EPOCH)
    }

    /// Moves time forward by `by` (whole milliseconds).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(ms, Ordering::SeqCst);
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
}
