//! NDES's HTTP front end: one handler for every SCEP path, dispatching on `operation`, with
//! GetCACaps and GetCACert answered here and PKIOperation handed to [`super::pki_operation`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{pki_operation, Core, NdesOperation, NdesOutcome, MSCEP_PATH};
use crate::contract::fault::{FaultKind, NdesOp};
use crate::pki::unb64;
use crate::scep::ca_certs_response;

/// NDES's routes: the mscep.dll path, its `/pkiclient.exe` suffix, `/scep` and `/`.
pub(super) fn router(core: Arc<Core>) -> Router {
    Router::new()
        .route(MSCEP_PATH, get(handle).post(handle))
        .route(
            &format!("{MSCEP_PATH}/pkiclient.exe"),
            get(handle).post(handle),
        )
        .route("/scep", get(handle).post(handle))
        .route("/", get(handle).post(handle))
        .with_state(core)
}

pub(super) fn status(code: u16, text: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, [(header::CONTENT_TYPE, "text/plain")], text.into()).into_response()
}

impl Core {
    /// Applies an operation fault; `None` when the call proceeds normally.
    async fn fault(&self, op: NdesOp, operation: &NdesOperation) -> Option<Response> {
        let strike = self.switchboard.strike(op)?;
        match strike.kind {
            FaultKind::Hang => {
                self.record(operation.clone(), None, None, NdesOutcome::Hung);
                self.switchboard.hold(strike).await;
                Some(status(503, "released from a hang fault"))
            }
            FaultKind::Status(code) => {
                let reason = format!("fault: status {code}");
                self.record(
                    operation.clone(),
                    None,
                    None,
                    NdesOutcome::Http {
                        status: code,
                        reason: reason.clone(),
                    },
                );
                Some(status(code, reason))
            }
            _ => None,
        }
    }

    pub(super) fn bad_request(&self, operation: NdesOperation, reason: &str) -> Response {
        self.record(
            operation,
            None,
            None,
            NdesOutcome::Http {
                status: 400,
                reason: reason.to_string(),
            },
        );
        status(400, reason)
    }
}

async fn handle(
    State(s): State<Arc<Core>>,
    method: Method,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let op = query.get("operation").map(String::as_str).unwrap_or("");
    match op.to_ascii_lowercase().as_str() {
        "getcacaps" => {
            let o = NdesOperation::GetCaCaps;
            if let Some(r) = s.fault(NdesOp::GetCaCaps, &o).await {
                return r;
            }
            s.record(o, None, None, NdesOutcome::Answered);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain")],
                s.config.capabilities.answer(),
            )
                .into_response()
        }
        "getcacert" => get_ca_cert(&s).await,
        "pkioperation" => {
            let o = NdesOperation::PkiOperation;
            if let Some(r) = s.fault(NdesOp::PkiOperation, &o).await {
                return r;
            }
            let message = if method == Method::POST && !body.is_empty() {
                body.to_vec()
            } else {
                // GET: base64 (standard alphabet) then URL-escaped; a '+' left unescaped
                // arrives as a space.
                let text = query.get("message").map(String::as_str).unwrap_or("");
                match unb64(&text.replace(' ', "+")) {
                    Ok(m) if !m.is_empty() => m,
                    Ok(_) => return s.bad_request(o, "PKIOperation without a message"),
                    Err(e) => return s.bad_request(o, &format!("message is not base64: {e}")),
                }
            };
            pki_operation::answer(s, message).await
        }
        "" => s.bad_request(
            NdesOperation::Other(String::new()),
            "no operation parameter",
        ),
        other => s.bad_request(
            NdesOperation::Other(other.to_string()),
            &format!("unknown operation `{other}`"),
        ),
    }
}

async fn get_ca_cert(s: &Core) -> Response {
    let o = NdesOperation::GetCaCert;
    if let Some(r) = s.fault(NdesOp::GetCaCert, &o).await {
        return r;
    }
    let mut certs = Vec::new();
    if !s.missing(NdesOp::RaSigning) {
        certs.push(&s.ra.signing);
    }
    if !s.missing(NdesOp::RaEncryption) {
        certs.push(&s.ra.encryption);
    }
    certs.push(&s.ra.issuing_ca);
    match ca_certs_response(&certs) {
        Ok(der) => {
            s.record(o, None, None, NdesOutcome::Answered);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/x-x509-ca-ra-cert")],
                der,
            )
                .into_response()
        }
        Err(e) => {
            let reason = e.to_string();
            s.record(
                o,
                None,
                None,
                NdesOutcome::Http {
                    status: 500,
                    reason: reason.clone(),
                },
            );
            status(500, reason)
        }
    }
}
