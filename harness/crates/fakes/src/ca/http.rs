//! The CA's HTTP front end: routes, body parsing and answers. Every handler strikes the
//! switchboard first (through [`Core::gate`]) and journals what it did.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::core::{lock, Core, Refusal};
use crate::contract::ca::{ca_paths, IssueRequest, RevokeRequest};
use crate::contract::fault::CaOp;
use crate::fixtures::{ISSUING_CA, ROOT_CA};
use crate::pki;

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("request body: {e}"))
}

fn outcome_of<T>(r: &Result<T, Refusal>, ok: &str) -> String {
    match r {
        Ok(_) => ok.into(),
        Err(refusal) => refusal.kind.into(),
    }
}

fn answer<T: Serialize>(r: Result<T, Refusal>) -> Response {
    match r {
        Ok(v) => (StatusCode::OK, Json(v)).into_response(),
        Err(refusal) => refusal.response(),
    }
}

const JSON: &str = "application/json";

async fn issue(State(s): State<Arc<Core>>, headers: HeaderMap, body: Bytes) -> Response {
    let req = parse_body::<IssueRequest>(&body);
    let template = req.as_ref().ok().map(|r| r.template.clone());
    if let Some(faulted) = s.gate(CaOp::Issue, template.clone(), None, JSON).await {
        return faulted;
    }
    let result = s.clone().issue(&headers, req).await;
    let serial = result.as_ref().ok().map(|r| r.serial_number.clone());
    s.journal(
        CaOp::Issue,
        template,
        serial,
        &outcome_of(&result, "issued"),
    );
    answer(result)
}

async fn revoke(State(s): State<Arc<Core>>, headers: HeaderMap, body: Bytes) -> Response {
    let req = parse_body::<RevokeRequest>(&body);
    let serial = req.as_ref().ok().map(|r| {
        pki::normalize_serial(&r.serial_number).unwrap_or_else(|| r.serial_number.clone())
    });
    if let Some(faulted) = s.gate(CaOp::Revoke, None, serial.clone(), JSON).await {
        return faulted;
    }
    let result = s.revoke(&headers, req);
    s.journal(CaOp::Revoke, None, serial, &outcome_of(&result, "revoked"));
    answer(result)
}

async fn status(State(s): State<Arc<Core>>, Path(serial): Path<String>) -> Response {
    let shown = pki::normalize_serial(&serial).unwrap_or_else(|| serial.clone());
    if let Some(faulted) = s.gate(CaOp::Status, None, Some(shown.clone()), JSON).await {
        return faulted;
    }
    let result = s.status(&serial);
    let outcome = match &result {
        Ok(st) => st.status.clone(),
        Err(r) => r.kind.into(),
    };
    s.journal(CaOp::Status, None, Some(shown), &outcome);
    answer(result)
}

async fn crl(State(s): State<Arc<Core>>) -> Response {
    const CRL: &str = "application/pkix-crl";
    if let Some(faulted) = s.gate(CaOp::Crl, None, None, CRL).await {
        return faulted;
    }
    let result = s.clone().crl().await;
    s.journal(CaOp::Crl, None, None, &outcome_of(&result, "ok"));
    match result {
        Ok(der) => (StatusCode::OK, [(header::CONTENT_TYPE, CRL)], der).into_response(),
        Err(refusal) => refusal.response(),
    }
}

async fn chain(State(s): State<Arc<Core>>) -> Response {
    const PEM: &str = "application/x-pem-file";
    if let Some(faulted) = s.gate(CaOp::Chain, None, None, PEM).await {
        return faulted;
    }
    s.journal(CaOp::Chain, None, None, "ok");
    let pem = format!(
        "{}\n{}\n",
        ISSUING_CA.cert_pem.trim(),
        ROOT_CA.cert_pem.trim()
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, PEM)], pem).into_response()
}

async fn journal(State(s): State<Arc<Core>>) -> Response {
    let journal: Vec<_> = lock(&s.store).journal.iter().cloned().collect();
    (StatusCode::OK, Json(journal)).into_response()
}

async fn not_found() -> Response {
    Refusal::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint").response()
}

async fn wrong_method() -> Response {
    Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "bad_request",
        "method not allowed on this endpoint",
    )
    .response()
}

/// The CA's routes.
pub(super) fn router(core: Arc<Core>) -> Router {
    Router::new()
        .route(ca_paths::ISSUE, post(issue))
        .route(ca_paths::REVOKE, post(revoke))
        .route(&format!("{}/{{serial}}", ca_paths::STATUS), get(status))
        .route(ca_paths::CRL, get(crl))
        .route(ca_paths::CHAIN, get(chain))
        .route(ca_paths::JOURNAL, get(journal))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .with_state(core)
}
