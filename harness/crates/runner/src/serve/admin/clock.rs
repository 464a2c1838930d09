//! The scenario clock: read it (`GET /clock`), advance it (`POST /clock/advance`) or set it
//! (`PUT /clock`). It never runs backwards (409) nor past the end of scenario time (400).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{body, AdminError, Answer};
use crate::scenario::Span;
use crate::serve::clock::{ClockError, ClockMode};
use crate::serve::World;
use crate::sim::{format_time, parse_time};

/// The clock as `GET /clock` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ClockView {
    /// Scenario now, RFC 3339.
    pub now: String,
    /// Where serve started it.
    pub start: String,
    /// `wall` (moves with wall time) or `frozen` (moves only through this API).
    pub mode: ClockMode,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Advance {
    by: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Set {
    time: String,
}

fn view(w: &World) -> ClockView {
    ClockView {
        now: format_time(w.clock.now()),
        start: format_time(w.start),
        mode: w.clock.mode(),
    }
}

fn refused(e: ClockError) -> AdminError {
    match e {
        ClockError::Backwards { .. } => AdminError::conflict(e.to_string()),
        _ => AdminError::bad_request(e.to_string()),
    }
}

pub(super) async fn read(State(w): State<Arc<World>>) -> Json<ClockView> {
    Json(view(&w))
}

pub(super) async fn advance(State(w): State<Arc<World>>, bytes: Bytes) -> Answer<ClockView> {
    let a: Advance = body(&bytes, r#"{"by": "<duration such as 90s, 1h30m or 30d>"}"#)?;
    let by: Span =
        a.by.parse()
            .map_err(|e: crate::scenario::span::BadSpan| AdminError::bad_request(e.to_string()))?;
    w.clock.advance(by.get()).map_err(refused)?;
    told(&w).await?;
    Ok(Json(view(&w)))
}

pub(super) async fn set(State(w): State<Arc<World>>, bytes: Bytes) -> Answer<ClockView> {
    let s: Set = body(
        &bytes,
        r#"{"time": "<RFC 3339, e.g. 2027-01-01T00:00:00Z>"}"#,
    )?;
    let to =
        parse_time(s.time.trim()).map_err(|_| refused(ClockError::NotATime(s.time.clone())))?;
    w.clock.set(to).map_err(refused)?;
    told(&w).await?;
    Ok(Json(view(&w)))
}

/// Tells the connector the clock moved (an outside process hears `clock`).
async fn told(w: &World) -> Result<(), AdminError> {
    w.connector
        .clock_moved()
        .await
        .map_err(|f| AdminError::internal(f.to_string()))
}
