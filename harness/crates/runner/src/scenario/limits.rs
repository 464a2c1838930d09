//! Caps on what a scenario file may ask for. Each keeps one run bounded in memory and in time,
//! and each is checked while the file is read, so an over-cap value is a load error at its own
//! line and column (scenarios/README.md lists them under "Limits").
//!
//! The functions here are `deserialize_with` hooks of [`super::model`]: they read the value as
//! usual, then refuse it when it is out of range.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;

use super::span::Span;
use crate::sim::{format_time, END_OF_TIME, START_OF_TIME};

/// Largest scenario file read, in bytes (1 MiB; the largest in the library is under 2 KB).
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// Most steps in one scenario.
pub const MAX_STEPS: usize = 1_000;
/// Largest `count` of one step.
pub const MAX_COUNT: u32 = 1_000;
/// Largest `concurrency` of an `enroll` step: PKIOperation requests in flight at once.
pub const MAX_CONCURRENCY: u32 = 32;
/// Most requests, revocations and enrollments one scenario may stand for once every `count` is
/// expanded.
pub const MAX_EXPANDED: u64 = 5_000;
/// Most retries of one connector call.
pub const MAX_RETRIES: u32 = 10;
/// Largest `batch_size`.
pub const MAX_BATCH: u32 = 1_000;
/// Longest `timeout`: real time, spent once per attempt on a hanging peer.
pub const MAX_TIMEOUT: Span = Span::secs(30);
/// Longest `backoff` (scenario time; doubled on each of at most [`MAX_RETRIES`] retries).
pub const MAX_BACKOFF: Span = Span::days(1);
/// Longest scenario-time duration anywhere else (`advance`, `validity`, `expires_in`,
/// `renewal_window`): 36,500 days, the headroom between [`END_OF_TIME`] and the calendar's end.
pub const MAX_SPAN: Span = Span::days(36_500);
/// Shortest `budget`.
pub const MIN_BUDGET: Span = Span::secs(1);
/// Longest `budget`.
pub const MAX_BUDGET: Span = Span::secs(3_600);
/// The real-time budget of a scenario that sets none.
pub const DEFAULT_BUDGET: Span = Span::secs(60);
/// Longest name of a device, user, template or CA, in characters.
pub const MAX_TEXT: usize = 128;

fn at_most<'de, D: Deserializer<'de>>(d: D, field: &str, max: Span) -> Result<Span, D::Error> {
    let span = Span::deserialize(d)?;
    if span > max {
        return Err(serde::de::Error::custom(format!(
            "`{field}: {span}` is over the cap: {field} is at most {max}"
        )));
    }
    Ok(span)
}

/// `connector.timeout`: at most [`MAX_TIMEOUT`].
pub fn timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
    at_most(d, "timeout", MAX_TIMEOUT)
}

/// `connector.backoff`: at most [`MAX_BACKOFF`].
pub fn backoff<'de, D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
    at_most(d, "backoff", MAX_BACKOFF)
}

/// `connector.renewal_window`: at most [`MAX_SPAN`].
pub fn renewal_window<'de, D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
    at_most(d, "renewal_window", MAX_SPAN)
}

/// A template's `validity`: at most [`MAX_SPAN`].
pub fn validity<'de, D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
    at_most(d, "validity", MAX_SPAN)
}

/// `advance`: at most [`MAX_SPAN`] (the sum of all steps is checked against the end of
/// scenario time by the loader).
pub fn advance<'de, D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
    at_most(d, "advance", MAX_SPAN)
}

/// `registration.expires_in`: at most [`MAX_SPAN`].
pub fn expires_in<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Span>, D::Error> {
    at_most(d, "expires_in", MAX_SPAN).map(Some)
}

/// `budget`: from [`MIN_BUDGET`] to [`MAX_BUDGET`].
pub fn budget<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Span>, D::Error> {
    let span = at_most(d, "budget", MAX_BUDGET)?;
    if span < MIN_BUDGET {
        return Err(serde::de::Error::custom(format!(
            "`budget: {span}` is too short: a budget is between {MIN_BUDGET} and {MAX_BUDGET}"
        )));
    }
    Ok(Some(span))
}

fn whole_number<'de, D: Deserializer<'de>>(
    d: D,
    field: &str,
    min: u32,
    max: u32,
) -> Result<u32, D::Error> {
    let n = u64::deserialize(d)?;
    match u32::try_from(n) {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(serde::de::Error::custom(format!(
            "`{field}: {n}` is out of range: {field} is between {min} and {max}"
        ))),
    }
}

/// `connector.retries`: at most [`MAX_RETRIES`].
pub fn retries<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole_number(d, "retries", 0, MAX_RETRIES)
}

/// `connector.batch_size`: 1 to [`MAX_BATCH`].
pub fn batch_size<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole_number(d, "batch_size", 1, MAX_BATCH)
}

/// A step's `count`: 1 to [`MAX_COUNT`].
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole_number(d, "count", 1, MAX_COUNT)
}

/// An `enroll` step's `concurrency`: 1 to [`MAX_CONCURRENCY`].
pub fn concurrency<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole_number(d, "concurrency", 1, MAX_CONCURRENCY)
}

/// A name (device, user, template, CA): at most [`MAX_TEXT`] characters.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    let n = s.chars().count();
    if n > MAX_TEXT {
        return Err(serde::de::Error::custom(format!(
            "this name is {n} characters long: names are at most {MAX_TEXT} characters"
        )));
    }
    Ok(s)
}

/// A scenario's start: an RFC 3339 time from [`START_OF_TIME`] to [`END_OF_TIME`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartTime(pub OffsetDateTime);

impl<'de> Deserialize<'de> for StartTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let shown = clip(&s, 40);
        let t = crate::sim::parse_time(&s).map_err(|_| {
            serde::de::Error::custom(format!(
                "`{shown}` is not an RFC 3339 time: write e.g. 2026-01-01T00:00:00Z"
            ))
        })?;
        if t < START_OF_TIME || t > END_OF_TIME {
            return Err(serde::de::Error::custom(format!(
                "`{shown}` is outside scenario time: a start_time lies between {} and the end of scenario time, {}",
                format_time(START_OF_TIME),
                format_time(END_OF_TIME)
            )));
        }
        Ok(StartTime(t))
    }
}

impl schemars::JsonSchema for StartTime {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StartTime".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An RFC 3339 time from 1970-01-01T00:00:00Z to 9899-12-31T23:59:59.999Z (the end of scenario time)."
        })
    }
}

/// At most `max` characters of `s`, with `…` when cut: what an error may echo of a value.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `by` as whole milliseconds of scenario time, saturating.
pub(crate) fn millis(by: Duration) -> i64 {
    i64::try_from(by.as_millis()).unwrap_or(i64::MAX)
}
