//! The fake Intune's HTTP front end: service discovery, the transport rules every service call
//! must follow (bearer token, `client-request-id`, `api-version`), faults, and the route of
//! each service operation to its logic. Every call lands in the bounded call history.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Inner, Refusal};
use crate::contract::fault::{FaultKind, IntuneOp};
use crate::contract::identity::Resource;
use crate::contract::intune::admin::{self, CallRecord, Queue, ValidationRecord};
use crate::contract::intune::crp::{self, NotifyOutcome, VerifyAnswer};
use crate::contract::intune::registration::{
    self, Checkin, RenewRequest, SigningCertificateRequest,
};
use crate::contract::intune::scep::{
    self, FailureNotificationBody, ScepResponse, SuccessNotificationBody, ValidateBody,
};
use crate::contract::intune::{
    pkcs, revocation, transport, Discovery, ODataValue, ScepErrorCode, Service, ServiceEndpoint,
    DISCOVERY_PATH,
};
use crate::server::Transport;
use crate::signer::MALFORMED_BODY;
use crate::sim::format_time;

/// The fake's routes.
pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route(DISCOVERY_PATH, get(discovery))
        .route(admin::CHALLENGES, post(mint))
        .route(admin::PKCS_REQUESTS, post(queue_pkcs))
        .route(admin::REVOCATION_REQUESTS, post(queue_revocation))
        .route(admin::STATE, get(state))
        .route("/{service}/{*operation}", post(service_call))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .with_state(inner)
}

impl Refusal {
    pub(super) fn response(&self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (
            status,
            Json(crate::contract::intune::ODataError::new(
                self.code.clone(),
                self.message.clone(),
            )),
        )
            .into_response();
        if self.status == 401 {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

fn ok<T: Serialize>(body: T) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

/// Parses a JSON body, naming the expected shape in the refusal.
fn parse<T: DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, Refusal> {
    serde_json::from_slice(body)
        .map_err(|e| Refusal::bad_request(format!("request body: {e}; expected {shape}")))
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn operation(service: Service, op: &str) -> Option<IntuneOp> {
    Some(match (service, op) {
        (Service::Pkcs, pkcs::DOWNLOAD) => IntuneOp::DownloadRequests,
        (Service::Pkcs, pkcs::UPLOAD) => IntuneOp::UploadResults,
        (Service::Revocation, revocation::DOWNLOAD) => IntuneOp::DownloadRevocations,
        (Service::Revocation, revocation::UPLOAD) => IntuneOp::UploadRevocationResults,
        (Service::ScepValidation, scep::VALIDATE) => IntuneOp::Validate,
        (Service::ScepValidation, scep::SUCCESS_NOTIFICATION | scep::FAILURE_NOTIFICATION) => {
            IntuneOp::Notify
        }
        (Service::CertificateRegistration, crp::VERIFY_REQUEST) => IntuneOp::Validate,
        (Service::CertificateRegistration, crp::NOTIFY) => IntuneOp::Notify,
        (Service::ConnectorRegistration, registration::RENEW) => IntuneOp::Renew,
        (Service::ConnectorRegistration, registration::CHECKIN) => IntuneOp::Checkin,
        (Service::ConnectorRegistration, registration::SIGNING_CERTIFICATE) => {
            IntuneOp::DownloadCertificate
        }
        _ => return None,
    })
}

async fn discovery(
    State(s): State<Arc<Inner>>,
    transport: Option<Extension<Transport>>,
    headers: HeaderMap,
) -> Response {
    let resp = match s.check_bearer(&headers, Resource::Graph, "Microsoft Graph") {
        Err(r) => r.response(),
        Ok(()) => match s.switchboard.strike(IntuneOp::Discovery) {
            Some(strike) => s.fault_answer(IntuneOp::Discovery, None, strike, &[]).await,
            None => {
                let mut base = s.base_url();
                // Name each service in the scheme the caller reached discovery with.
                if let Some(Extension(Transport::Https)) = transport {
                    base = base.replacen("http://", "https://", 1);
                }
                ok(Discovery {
                    value: Service::ALL
                        .iter()
                        .map(|svc| ServiceEndpoint {
                            provider_name: Some(svc.name().into()),
                            service_name: Some(svc.name().into()),
                            uri: format!("{base}/{}", svc.name()),
                        })
                        .collect(),
                })
            }
        },
    };
    s.log_call(DISCOVERY_PATH, &headers, &resp, None);
    resp
}

async fn service_call(
    State(s): State<Arc<Inner>>,
    Path((service, op)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/{service}/{op}");
    let known = Service::from_name(&service).and_then(|svc| operation(svc, &op).map(|o| (svc, o)));
    let Some((svc, intune_op)) = known else {
        let resp = Refusal::new(404, "NotFound", format!("no such operation: {path}")).response();
        s.log_call(&path, &headers, &resp, None);
        return resp;
    };
    if let Err(r) = s.check_transport(&headers, svc, &path) {
        let resp = r.response();
        s.log_call(&path, &headers, &resp, None);
        return resp;
    }
    let resp = service_answer(&s, svc, intune_op, &op, &path, &headers, &body).await;
    if svc == Service::ScepValidation {
        return s.record_scep_call(&op, &headers, &body, resp).await;
    }
    resp
}

/// The answer of a service call that passed the transport rules.
async fn service_answer(
    s: &Arc<Inner>,
    svc: Service,
    intune_op: IntuneOp,
    op: &str,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    if let Some(strike) = s.switchboard.strike(intune_op) {
        match intune_op {
            IntuneOp::UploadResults => s.store().upload_faulted(Queue::Pkcs),
            IntuneOp::UploadRevocationResults => s.store().upload_faulted(Queue::Revocation),
            _ => {}
        }
        let kind = strike.kind;
        let resp = s.fault_answer(intune_op, Some(svc), strike, body).await;
        s.log_call(path, headers, &resp, Some(kind));
        return resp;
    }
    let result = match (svc, op) {
        (Service::Pkcs, pkcs::DOWNLOAD) => {
            parse::<pkcs::DownloadCaRequests>(body, SHAPE_PKCS_DOWNLOAD)
                .and_then(|b| s.store().download_pkcs(&b.download_parameters))
                .map(ok)
        }
        (Service::Pkcs, pkcs::UPLOAD) => {
            parse::<pkcs::UploadCaRequestResults>(body, SHAPE_PKCS_UPLOAD)
                .and_then(|b| s.store().upload_pkcs(b.results))
                .map(|()| ok(true))
        }
        (Service::Revocation, revocation::DOWNLOAD) => {
            parse::<revocation::DownloadRevocationRequests>(body, SHAPE_REVOCATION_DOWNLOAD)
                .and_then(|b| s.store().download_revocations(&b.download_parameters))
                .map(|value| {
                    ok(ODataValue {
                        context: Some(revocation::DOWNLOAD_CONTEXT.into()),
                        value,
                    })
                })
        }
        (Service::Revocation, revocation::UPLOAD) => {
            parse::<revocation::UploadRevocationResults>(body, SHAPE_REVOCATION_UPLOAD)
                .and_then(|b| s.store().upload_revocations(b.results))
                .map(|()| {
                    ok(ODataValue {
                        context: Some(revocation::UPLOAD_CONTEXT.into()),
                        value: true,
                    })
                })
        }
        (Service::ScepValidation, scep::VALIDATE) => parse::<ValidateBody>(body, SHAPE_VALIDATE)
            .map(|b| {
                let v = s.validate(&b.request.transaction_id, &b.request.certificate_request);
                ok(ScepResponse::new(v.code, v.description))
            }),
        (Service::ScepValidation, scep::SUCCESS_NOTIFICATION) => {
            parse::<SuccessNotificationBody>(body, SHAPE_SUCCESS)
                .and_then(|b| s.notify(&b.notification.transaction_id, true, None))
                .map(|()| ok(ScepResponse::new(ScepErrorCode::Success, "")))
        }
        (Service::ScepValidation, scep::FAILURE_NOTIFICATION) => {
            parse::<FailureNotificationBody>(body, SHAPE_FAILURE)
                .and_then(|b| {
                    s.notify(
                        &b.notification.transaction_id,
                        false,
                        Some(&b.notification.error_description),
                    )
                })
                .map(|()| ok(ScepResponse::new(ScepErrorCode::Success, "")))
        }
        (Service::CertificateRegistration, crp::VERIFY_REQUEST) => s
            .check_signing_cert(headers)
            .and_then(|()| parse::<crp::VerifyRequest>(body, SHAPE_CRP_VERIFY))
            .map(|b| {
                let v = s.validate(&b.transaction_id, &b.certificate_request);
                let status = if v.code == ScepErrorCode::Success {
                    StatusCode::CREATED
                } else {
                    StatusCode::FORBIDDEN
                };
                let (device_id, user_id) =
                    v.subject.map_or((None, None), |(d, u)| (Some(d), Some(u)));
                let answer = VerifyAnswer {
                    code: v.code.name().into(),
                    error_description: v.description,
                    device_id,
                    user_id,
                };
                (status, Json(answer)).into_response()
            }),
        (Service::CertificateRegistration, crp::NOTIFY) => s
            .check_signing_cert(headers)
            .and_then(|()| parse::<crp::Notify>(body, SHAPE_CRP_NOTIFY))
            .and_then(|b| match &b.outcome {
                NotifyOutcome::Success { .. } => s.notify(&b.transaction_id, true, None),
                NotifyOutcome::Failure {
                    error_description, ..
                } => s.notify(&b.transaction_id, false, Some(error_description)),
            })
            .map(|()| StatusCode::NO_CONTENT.into_response()),
        (Service::ConnectorRegistration, registration::CHECKIN) => {
            parse::<Checkin>(body, SHAPE_CHECKIN).map(|_| {
                ok(ODataValue {
                    context: None,
                    value: true,
                })
            })
        }
        (Service::ConnectorRegistration, registration::RENEW) => {
            match parse::<RenewRequest>(body, SHAPE_RENEW) {
                Ok(b) => s.clone().renew(b).await.map(ok),
                Err(e) => Err(e),
            }
        }
        (Service::ConnectorRegistration, registration::SIGNING_CERTIFICATE) => {
            parse::<SigningCertificateRequest>(body, SHAPE_SIGNING)
                .map(|_| ok(s.signing_certificate()))
        }
        _ => Err(Refusal::new(
            404,
            "NotFound",
            format!("no such operation: {path}"),
        )),
    };
    let resp = result.unwrap_or_else(|r| r.response());
    s.log_call(path, headers, &resp, None);
    resp
}

const SHAPE_PKCS_DOWNLOAD: &str = r#"{"downloadParameters": {"maxMessages": 1-500, "issuerName"?, "requestType"?, "certificateProviderName"?}}"#;
const SHAPE_PKCS_UPLOAD: &str = r#"{"results": [{"tenantId", "userId", "deviceId", "requestId", "requestType", "succeeded", "errorCode"?, "errorMessage"?}]}"#;
const SHAPE_REVOCATION_DOWNLOAD: &str =
    r#"{"downloadParameters": {"maxRequests": 1-500, "issuerName"?, "certificateProviderName"?}}"#;
const SHAPE_REVOCATION_UPLOAD: &str =
    r#"{"results": [{"requestContext", "succeeded", "errorCode"?, "errorMessage"?}]}"#;
const SHAPE_VALIDATE: &str =
    r#"{"request": {"transactionId", "certificateRequest", "callerInfo"}}"#;
const SHAPE_SUCCESS: &str = r#"{"notification": {"transactionId", "certificateRequest", "certificateThumbprint", "certificateSerialNumber", "certificateExpirationDateUtc", "issuingCertificateAuthority", "callerInfo"}}"#;
const SHAPE_FAILURE: &str = r#"{"notification": {"transactionId", "certificateRequest", "hResult", "errorDescription", "callerInfo"}}"#;
const SHAPE_CRP_VERIFY: &str = r#"{"transactionId", "certificateRequest", "callerInfo"}"#;
const SHAPE_CRP_NOTIFY: &str = r#"{"transactionId", "certificateRequest", "callerInfo", "outcome": {"status": "success", ...} | {"status": "failure", "hResult", "errorDescription"}}"#;
const SHAPE_CHECKIN: &str = r#"{"state": "started" | "stopped", "thumbprint"}"#;
const SHAPE_RENEW: &str = r#"{"thumbprint", "certificateRequest"}"#;
const SHAPE_SIGNING: &str = r#"{"thumbprint"}"#;

impl Inner {
    fn log_call(&self, path: &str, headers: &HeaderMap, resp: &Response, fault: Option<FaultKind>) {
        let record = CallRecord {
            at: format_time(self.clock.now()),
            path: path.chars().take(200).collect(),
            status: resp.status().as_u16(),
            client_request_id: header(headers, transport::CLIENT_REQUEST_ID)
                .map(|v| v.chars().take(64).collect()),
            fault: fault.map(|k| k.to_string()),
        };
        self.store().calls.push(record);
    }

    /// The answer a fault gives (a `hang` is held until healed, then answered 503). Faults that
    /// name a SCEP error code answer in the dialect of the path called.
    async fn fault_answer(
        &self,
        op: IntuneOp,
        service: Option<Service>,
        strike: crate::switchboard::Strike<IntuneOp>,
        body: &[u8],
    ) -> Response {
        let code = match strike.kind {
            FaultKind::ExpiredChallenge => Some(ScepErrorCode::ChallengeExpired),
            FaultKind::UnknownChallenge => Some(ScepErrorCode::ChallengeDecryptionError),
            FaultKind::UnknownCode => Some(ScepErrorCode::Unknown),
            FaultKind::Answer(code) => Some(code),
            _ => None,
        };
        if let (Some(code), IntuneOp::Validate) = (code, op) {
            // A fault's answer is Intune's answer as far as the caller can tell: recorded as a
            // validation like any other.
            if let Some(txid) = transaction_id_of(body) {
                self.store().validations.push(ValidationRecord {
                    transaction_id: txid,
                    code: code.name().to_string(),
                    device_id: None,
                    user_id: None,
                });
            }
        }
        if let Some(code) = code {
            return match (service, op) {
                (Some(Service::CertificateRegistration), IntuneOp::Validate) => {
                    let status = if code == ScepErrorCode::Success {
                        StatusCode::CREATED
                    } else {
                        StatusCode::FORBIDDEN
                    };
                    let answer = VerifyAnswer {
                        code: code.name().into(),
                        error_description: "injected fault".into(),
                        device_id: None,
                        user_id: None,
                    };
                    (status, Json(answer)).into_response()
                }
                (Some(Service::CertificateRegistration), _) => {
                    Refusal::new(403, code.name(), "injected fault").response()
                }
                _ => ok(ScepResponse::new(code, "injected fault")),
            };
        }
        match strike.kind {
            FaultKind::Hang => {
                self.switchboard.hold(strike).await;
                Refusal::new(503, "ServiceUnavailable", "released from a hang fault").response()
            }
            FaultKind::Status(n) => {
                Refusal::status(n, format!("injected fault: status {n}")).response()
            }
            FaultKind::Malformed => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                MALFORMED_BODY,
            )
                .into_response(),
            FaultKind::Deny => {
                Refusal::new(403, "Forbidden", "the service refused the call (injected)").response()
            }
            FaultKind::NotRecorded => match op {
                IntuneOp::UploadRevocationResults => ok(ODataValue {
                    context: Some(revocation::UPLOAD_CONTEXT.into()),
                    value: false,
                }),
                _ => ok(false),
            },
            other => Refusal::new(
                500,
                "InternalServerError",
                format!("fault `{other}` does not apply to {op:?}"),
            )
            .response(),
        }
    }
}

async fn mint(State(s): State<Arc<Inner>>, body: Bytes) -> Response {
    parse::<admin::MintChallenge>(
        &body,
        r#"{"deviceId", "userId", "profile"?, "validitySeconds"?}"#,
    )
    .and_then(|m| s.mint(m))
    .map_or_else(|r| r.response(), ok)
}

async fn queue_pkcs(State(s): State<Arc<Inner>>, body: Bytes) -> Response {
    parse::<admin::QueuePkcs>(
        &body,
        r#"{"deviceId", "userId", "templateName", "caName", "certificateRequest", "requestId"?}"#,
    )
    .and_then(|q| s.queue_pkcs(q))
    .map_or_else(|r| r.response(), ok)
}

async fn queue_revocation(State(s): State<Arc<Inner>>, body: Bytes) -> Response {
    parse::<admin::QueueRevocation>(
        &body,
        r#"{"serialNumber", "issuerName", "caConfiguration"?}"#,
    )
    .and_then(|q| s.queue_revocation(q))
    .map_or_else(|r| r.response(), ok)
}

async fn state(State(s): State<Arc<Inner>>) -> Response {
    ok(s.state())
}

async fn not_found() -> Response {
    Refusal::new(404, "NotFound", "no such endpoint").response()
}

async fn wrong_method() -> Response {
    Refusal::new(
        405,
        "MethodNotAllowed",
        "method not allowed on this endpoint",
    )
    .response()
}

/// The `transactionId` of a validation request, in either dialect (bare or inside the
/// `ScepActions` wrapper), if the body carries one.
fn transaction_id_of(body: &[u8]) -> Option<String> {
    fn find(v: &serde_json::Value, depth: u8) -> Option<String> {
        let map = v.as_object()?;
        if let Some(t) = map.get("transactionId").and_then(|t| t.as_str()) {
            return Some(t.to_string());
        }
        if depth == 0 {
            return None;
        }
        map.values().find_map(|inner| find(inner, depth - 1))
    }
    find(&serde_json::from_slice(body).ok()?, 2)
}
