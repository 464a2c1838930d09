//! The record of every `ScepActions` call ([`ScepCall`]): which operation, its
//! `client-request-id` and `transactionId`, the notification's fields and the answer, in
//! arrival order. A gateway's conformance is judged from it (`crate::gateway::checker`).

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::http::header;
use super::Inner;
use crate::contract::intune::judged::{ScepCall, ScepOp};
use crate::contract::intune::{scep, transport};

/// The longest answer body read back for its `code` (the fake's answers are far shorter).
const MAX_ANSWER: usize = 64 * 1024;

fn text(v: &Value, key: &str, max: usize) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(|s| s.chars().take(max).collect())
}

impl Inner {
    /// Records a `ScepActions` call (`op` is the URL suffix) and hands its answer back.
    pub(super) async fn record_scep_call(
        &self,
        op: &str,
        headers: &HeaderMap,
        body: &[u8],
        resp: Response,
    ) -> Response {
        let op = match op {
            scep::VALIDATE => ScepOp::ValidateRequest,
            scep::SUCCESS_NOTIFICATION => ScepOp::SuccessNotification,
            scep::FAILURE_NOTIFICATION => ScepOp::FailureNotification,
            _ => return resp,
        };
        let (parts, answer) = resp.into_parts();
        let bytes = axum::body::to_bytes(answer, MAX_ANSWER)
            .await
            .unwrap_or_default();
        let code = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| text(&v, "code", 64));
        let request = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
        let inner = match op {
            ScepOp::ValidateRequest => request.get("request"),
            _ => request.get("notification"),
        }
        .cloned()
        .unwrap_or(Value::Null);
        let mut store = self.store();
        let seq = store.next_scep_call;
        store.next_scep_call = seq.saturating_add(1);
        store.scep_calls.push(ScepCall {
            seq,
            op,
            client_request_id: header(headers, transport::CLIENT_REQUEST_ID)
                .map(|v| v.chars().take(64).collect()),
            transaction_id: text(&inner, "transactionId", 200),
            request_thumbprint: inner
                .get("certificateRequest")
                .and_then(Value::as_str)
                .and_then(|b| crate::pki::unb64(b).ok())
                .map(|der| crate::pki::thumbprint(&der)),
            status: parts.status.as_u16(),
            code,
            thumbprint: text(&inner, "certificateThumbprint", 200),
            serial_number: text(&inner, "certificateSerialNumber", 200),
            expires: text(&inner, "certificateExpirationDateUtc", 64),
            h_result: inner.get("hResult").and_then(Value::as_i64),
            error_description: text(&inner, "errorDescription", 300),
        });
        drop(store);
        Response::from_parts(parts, Body::from(bytes))
    }
}
