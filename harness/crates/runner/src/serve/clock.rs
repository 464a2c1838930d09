//! `serve`'s scenario clock: where it starts, whether wall time moves it, and the admin API's
//! moves (advance, set), which never run it backwards or past the end of scenario time.
//!
//! A scenario run starts at a fixed epoch and moves only when its steps say. `serve` is for
//! real clients, which check certificates against the real clock, so it starts *now* and, in
//! the default [`ClockMode::Wall`], moves with wall time as well: a certificate issued after
//! an hour of serving is dated an hour later, and a challenge minted for 60 minutes expires
//! 60 real minutes later, as on a real NDES. [`ClockMode::Frozen`] moves it only through the
//! admin API, for hands-on runs that must repeat exactly.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::sim::{format_time, parse_time, Clock, END_OF_TIME, START_OF_TIME};

/// How serve's clock moves on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum ClockMode {
    /// With wall time (plus whatever the admin API added).
    #[default]
    Wall,
    /// Only when the admin API moves it.
    Frozen,
}

/// A clock move or start that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// Not a time.
    #[error("`{0}` is not a time: write RFC 3339 (e.g. 2026-01-01T00:00:00Z) or `now`")]
    NotATime(String),
    /// Outside scenario time.
    #[error("{0} is outside scenario time, which runs from {start} to {end}", start = format_time(START_OF_TIME), end = format_time(END_OF_TIME))]
    OutOfRange(String),
    /// Earlier than the clock.
    #[error("the scenario clock does not run backwards: it is {now}, and {asked} is earlier")]
    Backwards {
        /// The clock.
        now: String,
        /// The time asked for.
        asked: String,
    },
    /// A move past the end.
    #[error("advancing {by:?} from {now} would pass the end of scenario time, {end}", end = format_time(END_OF_TIME))]
    PastEnd {
        /// The clock.
        now: String,
        /// The move asked for.
        by: Duration,
    },
}

/// The start of serve's clock: `now` (the default: wall time, to the millisecond) or an RFC
/// 3339 time within scenario time.
pub fn start_time(arg: Option<&str>) -> Result<OffsetDateTime, ClockError> {
    let t = match arg.map(str::trim) {
        None | Some("now") => {
            let now = OffsetDateTime::now_utc();
            now.replace_millisecond(now.millisecond()).unwrap_or(now)
        }
        Some(text) => parse_time(text).map_err(|_| ClockError::NotATime(text.to_string()))?,
    };
    if !(START_OF_TIME..=END_OF_TIME).contains(&t) {
        return Err(ClockError::OutOfRange(arg.unwrap_or("now").to_string()));
    }
    Ok(t)
}

/// The clock and every move of it, one at a time. Cloning shares it.
#[derive(Clone, Debug)]
pub struct ClockControl {
    clock: Clock,
    mode: ClockMode,
    moves: Arc<Mutex<()>>,
}

impl ClockControl {
    /// Controls `clock`, moving on its own as `mode` says once [`ClockControl::follow_wall`] runs.
    pub fn new(clock: Clock, mode: ClockMode) -> ClockControl {
        ClockControl {
            clock,
            mode,
            moves: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.moves.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// How it moves on its own.
    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Scenario now.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Moves the clock forward by `by` (whole milliseconds); refuses a move past the end.
    pub fn advance(&self, by: Duration) -> Result<OffsetDateTime, ClockError> {
        let _one_at_a_time = self.lock();
        self.advance_locked(by)
    }

    fn advance_locked(&self, by: Duration) -> Result<OffsetDateTime, ClockError> {
        let now = self.clock.now();
        let fits = time::Duration::try_from(by)
            .ok()
            .and_then(|d| now.checked_add(d))
            .is_some_and(|t| t <= END_OF_TIME);
        if !fits {
            return Err(ClockError::PastEnd {
                now: format_time(now),
                by,
            });
        }
        self.clock.advance(by);
        Ok(self.clock.now())
    }

    /// Sets the clock to `to`, which must not be earlier than now nor past the end.
    pub fn set(&self, to: OffsetDateTime) -> Result<OffsetDateTime, ClockError> {
        let _one_at_a_time = self.lock();
        let now = self.clock.now();
        if to > END_OF_TIME {
            return Err(ClockError::OutOfRange(format_time(to)));
        }
        if to < now {
            return Err(ClockError::Backwards {
                now: format_time(now),
                asked: format_time(to),
            });
        }
        let by = Duration::try_from(to - now).unwrap_or_default();
        self.advance_locked(by)
    }

    /// In [`ClockMode::Wall`], moves the clock with wall time every `tick` until `stop`
    /// resolves (a monotonic clock measures; the scenario clock never passes its end).
    pub async fn follow_wall(self, tick: Duration, stop: tokio::sync::watch::Receiver<bool>) {
        if self.mode != ClockMode::Wall {
            return;
        }
        let mut stop = stop;
        let origin = Instant::now();
        let mut moved: u128 = 0;
        let mut interval = tokio::time::interval(tick);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = stop.changed() => return,
            }
            let elapsed = origin.elapsed().as_millis();
            let step = u64::try_from(elapsed.saturating_sub(moved)).unwrap_or(u64::MAX);
            if step == 0 {
                continue;
            }
            let _one_at_a_time = self.lock();
            if self.advance_locked(Duration::from_millis(step)).is_err() {
                // At the end of scenario time: wall time cannot move it further.
                return;
            }
            moved = elapsed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_defaults_to_now_and_refuses_outside_scenario_time() {
        let before = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        let now = start_time(None).unwrap();
        assert!(now >= before && now <= OffsetDateTime::now_utc());
        assert_eq!(
            start_time(Some("2030-05-01T10:00:00Z")).unwrap(),
            time::macros::datetime!(2030-05-01 10:00:00 UTC)
        );
        for bad in ["1969-12-31T23:59:59Z", "9900-01-01T00:00:00Z"] {
            let err = start_time(Some(bad)).unwrap_err().to_string();
            assert!(
                err.contains("outside scenario time") && err.contains("9899-12-31"),
                "{err}"
            );
        }
        assert!(start_time(Some("yesterday"))
            .unwrap_err()
            .to_string()
            .contains("RFC 3339"));
    }

    #[test]
    fn set_never_runs_backwards_and_advance_never_passes_the_end() {
        let c = ClockControl::new(Clock::default(), ClockMode::Frozen);
        let later = time::macros::datetime!(2026-02-01 00:00:00 UTC);
        assert_eq!(c.set(later).unwrap(), later);
        let err = c
            .set(time::macros::datetime!(2026-01-15 00:00:00 UTC))
            .unwrap_err();
        assert!(matches!(err, ClockError::Backwards { .. }), "{err}");
        assert_eq!(c.now(), later, "a refused move changes nothing");
        assert!(matches!(
            c.advance(Duration::from_secs(9_000 * 365 * 86_400)),
            Err(ClockError::PastEnd { .. })
        ));
        assert_eq!(c.now(), later);
        assert!(!c.clock().overflowed());
    }

    #[tokio::test]
    async fn wall_mode_follows_wall_time_and_frozen_does_not() {
        for mode in [ClockMode::Wall, ClockMode::Frozen] {
            let c = ClockControl::new(Clock::default(), mode);
            let start = c.now();
            let (stop, rx) = tokio::sync::watch::channel(false);
            let task = tokio::spawn(c.clone().follow_wall(Duration::from_millis(10), rx));
            let waited = Instant::now();
            while c.now() - start < time::Duration::milliseconds(100)
                && waited.elapsed() < Duration::from_secs(5)
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = stop.send(true);
            let _ = task.await;
            let moved = c.now() - start;
            match mode {
                ClockMode::Wall => assert!(
                    moved >= time::Duration::milliseconds(100)
                        && moved <= time::Duration::try_from(waited.elapsed()).unwrap(),
                    "wall clock moved {moved}"
                ),
                ClockMode::Frozen => assert_eq!(moved, time::Duration::ZERO),
            }
        }
    }
}
