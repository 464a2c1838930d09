//! `GET /ui`: the live page for someone debugging a connector by hand — the timeline of the
//! event stream as it arrives, the faults in force and the clock ([`crate::html::live`]).

use axum::http::header;
use axum::response::IntoResponse;

use super::paths;
use crate::html::live::Endpoints;

/// The page, built once per request (it holds no state; the script asks the other endpoints).
pub(super) async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        crate::html::live::render(Endpoints {
            events: paths::EVENTS,
            faults: paths::FAULTS,
            clock: paths::CLOCK,
            advance: paths::CLOCK_ADVANCE,
        }),
    )
}
