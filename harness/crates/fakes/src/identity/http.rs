//! The fake identity platform's HTTP front end: the two token endpoints, the client-credentials
//! grant checked in the order Entra ID reports its errors (tenant, grant, client, secret,
//! audience), and the answers of faults. Every call lands in the request history.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::{Endpoint, Inner, TokenRequestRecord};
use crate::contract::fault::{FaultKind, IdentityOp};
use crate::contract::identity::{
    issuer, AadError, AadErrorCode, Resource, TokenAnswerV1, TokenAnswerV2, TokenClaims,
    CLIENT_CREDENTIALS,
};
use crate::signer::MALFORMED_BODY;
use crate::sim::format_time;

/// Most form fields read from one request.
const MAX_FIELDS: usize = 32;

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token_v2))
        .route("/{tenant}/oauth2/token", post(token_v1))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "no such endpoint: the token endpoints are POST /{tenant}/oauth2/v2.0/token and POST /{tenant}/oauth2/token",
            )
        })
        .with_state(inner)
}

/// A refusal on its way to becoming an [`AadError`].
struct Refusal {
    status: u16,
    code: AadErrorCode,
    text: String,
}

impl Refusal {
    fn new(status: u16, code: AadErrorCode, text: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            text: text.into(),
        }
    }
}

/// A form field by field, percent-decoded; `None` when the body is not a form or repeats a
/// field.
fn form(body: &[u8]) -> Option<BTreeMap<String, String>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut fields = BTreeMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()).take(MAX_FIELDS) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if fields.insert(decode(k)?, decode(v)?).is_some() {
            return None;
        }
    }
    Some(fields)
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// What a granted request gets.
struct Grant {
    resource: Resource,
    token: String,
    lifetime: u64,
    issued: i64,
}

impl Inner {
    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    fn aad_error(&self, r: &Refusal) -> Response {
        let (trace_id, correlation_id) = {
            let mut state = self.state();
            (state.rng.guid(), state.rng.guid())
        };
        let at = self.clock.now();
        let body = AadError {
            error: r.code,
            error_description: format!("AADSTS{}: {}", r.code.aadsts(), r.text),
            error_codes: vec![r.code.aadsts()],
            timestamp: format_time(at),
            trace_id,
            correlation_id,
        };
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(body)).into_response()
    }

    /// The client-credentials grant, checked in Entra ID's order.
    fn grant(
        &self,
        tenant: &str,
        fields: Option<&BTreeMap<String, String>>,
        endpoint: Endpoint,
        expired: bool,
    ) -> Result<Grant, Refusal> {
        use AadErrorCode as E;
        let bad = |code, text: &str| Refusal::new(400, code, text);
        if !tenant.eq_ignore_ascii_case(&self.config.tenant_id) {
            return Err(bad(
                E::InvalidRequest,
                "Tenant not found: the tenant in the path is not this identity platform's",
            ));
        }
        let Some(fields) = fields else {
            return Err(bad(
                E::InvalidRequest,
                "The request body must be application/x-www-form-urlencoded, each field once",
            ));
        };
        let field = |name: &str| fields.get(name).map(String::as_str);
        match field("grant_type") {
            None => return Err(bad(E::InvalidRequest, "The request body must contain the parameter 'grant_type'")),
            Some(CLIENT_CREDENTIALS) => {}
            Some(_) => return Err(bad(E::UnsupportedGrantType, "The provided value for the input parameter 'grant_type' is not valid; a gateway uses client_credentials")),
        }
        let Some(client_id) = field("client_id") else {
            return Err(bad(
                E::InvalidRequest,
                "The request body must contain the parameter 'client_id'",
            ));
        };
        let Some(app) = self
            .config
            .apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
        else {
            return Err(bad(
                E::UnauthorizedClient,
                "Application with the identifier in 'client_id' was not found in the directory",
            ));
        };
        if field("client_secret") != Some(app.client_secret.as_str()) {
            return Err(bad(
                E::InvalidClient,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID",
            ));
        }
        let resource = match endpoint {
            Endpoint::V2 => field("scope")
                .ok_or_else(|| {
                    bad(
                        E::InvalidRequest,
                        "The request body must contain the parameter 'scope'",
                    )
                })
                .and_then(|s| {
                    Resource::from_scope(s).ok_or_else(|| {
                        bad(E::InvalidScope, "The provided 'scope' is not valid: ask for <resource>/.default of the Intune API or Microsoft Graph")
                    })
                })?,
            Endpoint::V1 => field("resource")
                .ok_or_else(|| {
                    bad(
                        E::InvalidRequest,
                        "The request body must contain the parameter 'resource'",
                    )
                })
                .and_then(|r| {
                    Resource::from_resource(r).ok_or_else(|| {
                        bad(E::InvalidResource, "The resource principal named in 'resource' was not found in the tenant")
                    })
                })?,
        };
        let lifetime = self.config.token_lifetime.as_secs().max(1);
        let now = self.now();
        let life = i64::try_from(lifetime).unwrap_or(i64::MAX);
        // An `expired_token` fault: the token's lifetime is over before it is handed out.
        let (issued, exp) = if expired {
            (
                now.saturating_sub(life).saturating_sub(1),
                now.saturating_sub(1),
            )
        } else {
            (now, now.saturating_add(life))
        };
        let uti = self.state().rng.guid();
        let claims = TokenClaims {
            aud: resource.uri().into(),
            iss: issuer(&self.config.tenant_id),
            tid: self.config.tenant_id.clone(),
            appid: app.client_id.clone(),
            roles: app.roles.clone(),
            iat: issued,
            nbf: issued,
            exp,
            uti,
        };
        Ok(Grant {
            resource,
            token: self.keys.sign(&claims),
            lifetime,
            issued,
        })
    }

    async fn token(&self, tenant: &str, body: &[u8], endpoint: Endpoint) -> Response {
        let fields = form(body);
        let client_id = fields
            .as_ref()
            .and_then(|f| f.get("client_id"))
            .map(|c| c.chars().take(64).collect());
        let asked = fields.as_ref().and_then(|f| match endpoint {
            Endpoint::V2 => f.get("scope").and_then(|s| Resource::from_scope(s)),
            Endpoint::V1 => f.get("resource").and_then(|r| Resource::from_resource(r)),
        });
        let mut record = TokenRequestRecord {
            at: format_time(self.clock.now()),
            endpoint,
            client_id,
            resource: asked,
            status: 200,
            error: None,
            fault: None,
        };
        let strike = self.switchboard.strike(IdentityOp::Token);
        let mut expired = false;
        if let Some(strike) = strike {
            record.fault = Some(strike.kind.to_string());
            let answer = match strike.kind {
                FaultKind::Hang => {
                    self.switchboard.hold(strike).await;
                    Some(Refusal::new(
                        503,
                        AadErrorCode::TemporarilyUnavailable,
                        "released from a hang fault",
                    ))
                }
                FaultKind::Status(n) => Some(Refusal::new(
                    n,
                    if n == 503 {
                        AadErrorCode::TemporarilyUnavailable
                    } else {
                        AadErrorCode::ServerError
                    },
                    format!("injected fault: status {n}"),
                )),
                FaultKind::InvalidClient => Some(Refusal::new(
                    400,
                    AadErrorCode::InvalidClient,
                    "Invalid client secret provided (injected fault)",
                )),
                FaultKind::Malformed => {
                    self.record(record);
                    return (
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, "application/json")],
                        MALFORMED_BODY,
                    )
                        .into_response();
                }
                FaultKind::ExpiredToken => {
                    expired = true;
                    None
                }
                // `unavailable` closes the port: no call reaches here while it holds.
                _ => None,
            };
            if let Some(r) = answer {
                record.status = r.status;
                record.error = Some(r.code.name().into());
                self.record(record);
                return self.aad_error(&r);
            }
        }
        let resp = match self.grant(tenant, fields.as_ref(), endpoint, expired) {
            Err(r) => {
                record.status = r.status;
                record.error = Some(r.code.name().into());
                self.aad_error(&r)
            }
            Ok(g) => match endpoint {
                Endpoint::V2 => Json(TokenAnswerV2 {
                    token_type: "Bearer".into(),
                    expires_in: g.lifetime,
                    ext_expires_in: g.lifetime,
                    access_token: g.token,
                })
                .into_response(),
                Endpoint::V1 => Json(TokenAnswerV1 {
                    token_type: "Bearer".into(),
                    expires_in: g.lifetime.to_string(),
                    ext_expires_in: g.lifetime.to_string(),
                    expires_on: g
                        .issued
                        .saturating_add(i64::try_from(g.lifetime).unwrap_or(i64::MAX))
                        .to_string(),
                    not_before: g.issued.to_string(),
                    resource: g.resource.uri().into(),
                    access_token: g.token,
                })
                .into_response(),
            },
        };
        self.record(record);
        resp
    }
}

async fn token_v2(
    State(s): State<Arc<Inner>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    s.token(&tenant, &body, Endpoint::V2).await
}

async fn token_v1(
    State(s): State<Arc<Inner>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    s.token(&tenant, &body, Endpoint::V1).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_refuse_repeats() {
        let f = form(b"grant_type=client_credentials&scope=https%3A%2F%2Fx%2F.default&a=b+c")
            .expect("a form");
        assert_eq!(f["scope"], "https://x/.default");
        assert_eq!(f["a"], "b c");
        assert_eq!(form(b"a=1&a=2"), None);
        assert_eq!(form(b"a=%zz"), None);
        assert_eq!(form(b"a=%4"), None);
    }
}
