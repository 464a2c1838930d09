//! `GET /events`: the event stream as JSON Lines (one wire record per line, as `--events`
//! and `check` read them) over a chunked response. Every record since serve started comes
//! first, once and in order, then each new one as the connector writes it, until serve
//! stops; `?follow=false` ends at the records written so far.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AdminError;
use crate::serve::World;

/// The content type of the stream.
pub(super) const JSON_LINES: &str = "application/x-ndjson";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Params {
    #[serde(default = "live")]
    follow: bool,
}

fn live() -> bool {
    true
}

pub(super) async fn stream(
    State(w): State<Arc<World>>,
    params: Result<Query<Params>, QueryRejection>,
) -> Response {
    let p = match params {
        Ok(Query(p)) => p,
        Err(e) => {
            return AdminError::bad_request(format!(
                "{}; expected ?follow=true or ?follow=false",
                e.body_text()
            ))
            .into_response()
        }
    };
    // What the sink holds now belongs in the answer of a snapshot.
    if let Err(e) = w.log.pump() {
        return AdminError::internal(format!("writing the event log: {e}")).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, JSON_LINES),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(w.log.follow(p.follow)),
    )
        .into_response()
}
