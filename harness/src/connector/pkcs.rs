//! The PKCS cycle: download Intune's certificate requests, submit each to the CA
//! (20100 / 20102), upload each result (20300 / 20302). Results that fail to upload wait in an
//! outbox and go first in the next cycle, so no request is lost or answered twice.

use crate::catalog::Detail;
use crate::contract::ca::{ca_paths, IssueRequest, IssueResponse};
use crate::contract::intune::{
    ca_request_error, intune_paths, CaRequest, CaRequestResult, DownloadCaRequests,
    DownloadParameters, PkcsParameters, UploadCaResults,
};
use crate::event::Details;

use super::cause::Cause;
use super::http::Failure;
use super::registration::with_attempts;
use super::transfer::{RequestKind, Subject};
use super::Connector;

impl Connector {
    /// Uploads waiting results, then downloads and processes new requests.
    pub(crate) async fn pkcs_cycle(&self) {
        let waiting = std::mem::take(&mut self.state().await.pkcs_outbox);
        for result in waiting {
            self.upload_pkcs(result).await;
        }
        let body = DownloadCaRequests {
            download_parameters: DownloadParameters {
                max_messages: self.config.batch_size,
            },
        };
        let Some(requests) = self
            .download::<_, CaRequest>(RequestKind::Pkcs, intune_paths::DOWNLOAD_REQUESTS, &body)
            .await
        else {
            return;
        };
        for req in requests {
            // A request whose result is still waiting in the outbox was handed out again
            // because Intune has no answer yet: do not issue twice.
            if self
                .state()
                .await
                .pkcs_outbox
                .iter()
                .any(|r| r.request_id == req.request_id)
            {
                continue;
            }
            let result = self.issue(&req).await;
            self.upload_pkcs(result).await;
        }
    }

    async fn upload_pkcs(&self, result: CaRequestResult) {
        let body = UploadCaResults {
            results: vec![result.clone()],
        };
        let who = Subject {
            request_id: &result.request_id,
            device_id: &result.device_id,
            user_id: &result.user_id,
        };
        if !self
            .upload(RequestKind::Pkcs, intune_paths::UPLOAD_RESULTS, &body, who)
            .await
        {
            self.state().await.pkcs_outbox.push(result);
        }
    }

    async fn issue(&self, req: &CaRequest) -> CaRequestResult {
        let mut result = CaRequestResult {
            tenant_id: req.tenant_id.clone(),
            user_id: req.user_id.clone(),
            device_id: req.device_id.clone(),
            request_id: req.request_id.clone(),
            request_type: req.request_type.clone(),
            succeeded: false,
            error_code: None,
            error_message: None,
            thumbprint: None,
            serial_number: None,
        };
        let base = Details::new()
            .with(Detail::DeviceId, req.device_id.clone())
            .with(Detail::UserId, req.user_id.clone())
            .with(Detail::RequestId, req.request_id.clone());
        let params: PkcsParameters = match serde_json::from_str(&req.parameters) {
            Ok(p) => p,
            Err(e) => {
                let reason = format!("request parameters do not parse: {e}");
                self.emit(
                    Cause::PkcsDenied,
                    base.with(Detail::CaName, self.config.ca_name.clone())
                        .with(Detail::Reason, reason.clone()),
                );
                result.error_code = Some(ca_request_error::PARAMETER_DATA_INVALID);
                result.error_message = Some(reason);
                return result;
            }
        };
        let base = base
            .with(Detail::CaName, params.ca_name.clone())
            .with(Detail::TemplateName, params.template_name.clone());
        let headers = self.ca_headers();
        let body = IssueRequest {
            template: params.template_name.clone(),
            csr: params.certificate_request.clone(),
        };
        let called = self
            .ca
            .post::<_, IssueResponse>(ca_paths::ISSUE, &body, &headers)
            .await;
        match called.result {
            Ok(issued) => {
                let cause = if called.attempts > 1 {
                    Cause::PkcsIssuedAfterRetry
                } else {
                    Cause::PkcsIssued
                };
                self.emit(
                    cause,
                    with_attempts(
                        base.with(Detail::Thumbprint, issued.thumbprint.clone()),
                        called.attempts,
                    ),
                );
                result.succeeded = true;
                result.thumbprint = Some(issued.thumbprint);
                result.serial_number = Some(issued.serial_number);
            }
            Err(f) => {
                let (cause, code) = match &f {
                    Failure::Unreachable | Failure::Timeout => (
                        Cause::PkcsCaUnavailable,
                        ca_request_error::SERVICE_UNAVAILABLE,
                    ),
                    Failure::Status(401) => {
                        (Cause::PkcsRaCertMissing, ca_request_error::NON_RETRYABLE)
                    }
                    Failure::Refused { status: 401, .. } => {
                        (Cause::PkcsRaCertMissing, ca_request_error::NON_RETRYABLE)
                    }
                    Failure::Refused { .. } => (Cause::PkcsDenied, ca_request_error::NON_RETRYABLE),
                    Failure::Status(_) | Failure::Malformed => {
                        (Cause::PkcsCaError, ca_request_error::RETRYABLE)
                    }
                };
                let reason = f.reason(self.config.retry.timeout);
                self.emit(
                    cause,
                    with_attempts(base.with(Detail::Reason, reason.clone()), called.attempts),
                );
                result.error_code = Some(code);
                result.error_message = Some(reason);
            }
        }
        result
    }
}
