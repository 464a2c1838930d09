//! `serve`'s admin API, in the spirit of Pebble's management port: its own port, JSON in and
//! out, and nothing a real service has. One file per concern: `faults` (inject, heal, list),
//! `clock` (read, advance, set), `requests` (mint challenges, queue PKCS and revocation
//! requests, run a connector cycle), `history` (what each fake received), `events` (the live
//! event stream). `docs/serve.md` documents every endpoint with a curl example.
//!
//! Every error is `{"error": kind, "message": text}`, plus `"valid": [...]` when the request
//! named something unknown (a fault target or kind), listing what it could have named.

mod clock;
mod events;
mod faults;
mod history;
mod requests;
mod ui;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::World;

/// The admin API's paths.
pub mod paths {
    /// `GET`: this list of endpoints.
    pub const INDEX: &str = "/";
    /// `GET`: every URL serve printed.
    pub const URLS: &str = "/urls";
    /// `GET` faults in force, `POST` inject one, `DELETE` heal all.
    pub const FAULTS: &str = "/faults";
    /// `DELETE /faults/{target}`: heal one target (`all` heals all).
    pub const FAULT: &str = "/faults/{target}";
    /// `GET` the clock, `PUT` set it.
    pub const CLOCK: &str = "/clock";
    /// `POST`: advance the clock.
    pub const CLOCK_ADVANCE: &str = "/clock/advance";
    /// `POST`: mint a SCEP challenge.
    pub const CHALLENGES: &str = "/challenges";
    /// `POST`: queue a PKCS request.
    pub const PKCS_REQUESTS: &str = "/pkcs-requests";
    /// `POST`: queue a revocation request.
    pub const REVOCATION_REQUESTS: &str = "/revocation-requests";
    /// `POST`: run one service cycle of the connector.
    pub const SYNC: &str = "/sync";
    /// `GET`: the fake CA's journal and certificates.
    pub const HISTORY_CA: &str = "/history/ca";
    /// `GET`: what the fake Intune recorded.
    pub const HISTORY_INTUNE: &str = "/history/intune";
    /// `GET`: the requests the fake NDES received.
    pub const HISTORY_NDES: &str = "/history/ndes";
    /// `GET`: the event stream as JSON Lines, from the first record, then live.
    pub const EVENTS: &str = "/events";
    /// `GET`: internal failures of the fakes (harness errors).
    pub const INCIDENTS: &str = "/incidents";
    /// `POST`: stop serve (the event file is flushed first).
    pub const SHUTDOWN: &str = "/shutdown";
    /// `GET`: the live HTML page (timeline, faults, clock) for a browser.
    pub const UI: &str = "/ui";
}

/// Every endpoint: method, path, what it does (served at [`paths::INDEX`]).
pub const ENDPOINTS: &[(&str, &str, &str)] = &[
    ("GET", paths::INDEX, "this list"),
    ("GET", paths::URLS, "every URL serve printed"),
    ("GET", paths::FAULTS, "the faults in force"),
    ("POST", paths::FAULTS, "inject a fault: {target, kind, status?, code?, times?}"),
    ("DELETE", paths::FAULTS, "heal every fault"),
    ("DELETE", paths::FAULT, "heal one target (`all`: every one)"),
    ("GET", paths::CLOCK, "the scenario clock"),
    ("PUT", paths::CLOCK, "set the clock: {time} (never backwards)"),
    ("POST", paths::CLOCK_ADVANCE, "advance the clock: {by: \"1h30m\"}"),
    ("POST", paths::CHALLENGES, "mint a SCEP challenge: {deviceId, userId, profile?, validitySeconds?}"),
    ("POST", paths::PKCS_REQUESTS, "queue a PKCS request: {deviceId, userId, templateName, caName, certificateRequest, requestId?}"),
    ("POST", paths::REVOCATION_REQUESTS, "queue a revocation: {serialNumber, issuerName, caConfiguration?}"),
    ("POST", paths::SYNC, "run one cycle of the connector (renewal, PKCS, revocation)"),
    ("GET", paths::HISTORY_CA, "the fake CA's journal and issued certificates"),
    ("GET", paths::HISTORY_INTUNE, "what the fake Intune recorded"),
    ("GET", paths::HISTORY_NDES, "the requests the fake NDES received"),
    ("GET", paths::EVENTS, "the event stream as JSON Lines from the first record, then live (?follow=false: up to now)"),
    ("GET", paths::INCIDENTS, "internal failures of the fakes (harness errors)"),
    ("POST", paths::SHUTDOWN, "stop serve; the event file is flushed first"),
    ("GET", paths::UI, "the live page for a browser: the timeline as events arrive, the faults in force, the clock"),
];

/// An admin API error: `{"error", "message", "valid"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminError {
    #[serde(skip)]
    status: StatusCode,
    /// Machine-readable kind: `bad_request`, `conflict`, `not_found`, `method_not_allowed`,
    /// `internal`.
    pub error: &'static str,
    /// For people.
    pub message: String,
    /// What the request could have named, when it named something unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub valid: Vec<String>,
}

impl AdminError {
    pub(crate) fn bad_request(message: impl Into<String>) -> AdminError {
        AdminError {
            status: StatusCode::BAD_REQUEST,
            error: "bad_request",
            message: message.into(),
            valid: Vec::new(),
        }
    }

    pub(crate) fn conflict(message: impl Into<String>) -> AdminError {
        AdminError {
            status: StatusCode::CONFLICT,
            error: "conflict",
            ..AdminError::bad_request(message)
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> AdminError {
        AdminError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "internal",
            ..AdminError::bad_request(message)
        }
    }

    pub(crate) fn with_valid<S: ToString>(mut self, valid: impl IntoIterator<Item = S>) -> Self {
        self.valid = valid.into_iter().map(|v| v.to_string()).collect();
        self
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
    }
}

/// What every handler answers.
pub(crate) type Answer<T> = Result<Json<T>, AdminError>;

/// Reads a JSON body of shape `T`; the error names the expected `shape`.
pub(crate) fn body<T: DeserializeOwned>(bytes: &Bytes, shape: &str) -> Result<T, AdminError> {
    serde_json::from_slice(bytes)
        .map_err(|e| AdminError::bad_request(format!("request body: {e}; expected {shape}")))
}

/// The admin API's routes over the running world.
pub(crate) fn router(world: Arc<World>) -> Router {
    Router::new()
        .route(paths::INDEX, get(index))
        .route(paths::URLS, get(urls))
        .route(
            paths::FAULTS,
            get(faults::list)
                .post(faults::inject)
                .delete(faults::heal_all),
        )
        .route(paths::FAULT, delete(faults::heal))
        .route(paths::CLOCK, get(clock::read).put(clock::set))
        .route(paths::CLOCK_ADVANCE, post(clock::advance))
        .route(paths::CHALLENGES, post(requests::mint))
        .route(paths::PKCS_REQUESTS, post(requests::queue_pkcs))
        .route(paths::REVOCATION_REQUESTS, post(requests::queue_revocation))
        .route(paths::SYNC, post(requests::sync))
        .route(paths::HISTORY_CA, get(history::ca))
        .route(paths::HISTORY_INTUNE, get(history::intune))
        .route(paths::HISTORY_NDES, get(history::ndes))
        .route(paths::EVENTS, get(events::stream))
        .route(paths::INCIDENTS, get(history::incidents))
        .route(paths::SHUTDOWN, post(shutdown))
        .route(paths::UI, get(ui::page))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .with_state(world)
}

#[derive(Serialize)]
struct Endpoint {
    method: &'static str,
    path: &'static str,
    what: &'static str,
}

async fn index() -> Json<serde_json::Value> {
    let endpoints: Vec<Endpoint> = ENDPOINTS
        .iter()
        .map(|(method, path, what)| Endpoint { method, path, what })
        .collect();
    Json(serde_json::json!({ "endpoints": endpoints, "docs": "docs/serve.md" }))
}

async fn urls(State(w): State<Arc<World>>) -> Json<super::Urls> {
    Json(w.urls())
}

async fn shutdown(State(w): State<Arc<World>>) -> (StatusCode, Json<serde_json::Value>) {
    w.request_stop();
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "stopping": true, "events": w.log.path() })),
    )
}

async fn not_found() -> AdminError {
    AdminError {
        status: StatusCode::NOT_FOUND,
        error: "not_found",
        message: "no such admin endpoint".into(),
        valid: ENDPOINTS
            .iter()
            .map(|(m, p, _)| format!("{m} {p}"))
            .collect(),
    }
}

async fn wrong_method() -> AdminError {
    let mut e = not_found().await;
    e.status = StatusCode::METHOD_NOT_ALLOWED;
    e.error = "method_not_allowed";
    e.message = "this endpoint does not take that method".into();
    e
}
