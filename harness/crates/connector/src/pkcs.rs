//! The PKCS cycle: download Intune's certificate requests, submit each to the CA
//! (20100 / 20102), upload each result (20300 / 20302). Results that fail to upload wait in an
//! outbox and go first in the next cycle, so no request is lost or answered twice.
//!
//! By default one request is issued at a time. [`Connector::with_pkcs_in_flight`] lets a load
//! run issue several at once; each request's issue event and upload still come in download
//! order (a finished request waits for the ones before it), never in order of completion.

use futures_util::stream::{self, StreamExt};

use crate::catalog::Detail;
use crate::contract::ca::{ca_paths, IssueRequest, IssueResponse};
use crate::contract::intune::pkcs::{
    CaRequest, CaRequestDownloadParameters, CaRequestResult, DownloadCaRequests, PkcsParameters,
    UploadCaRequestResults, DOWNLOAD, UPLOAD,
};
use crate::contract::intune::{CaRequestErrorCode, Service};
use crate::event::Details;
use crate::transport::TransportError;

use super::cause::Cause;
use super::http::{Answer, Failure};
use super::registration::with_attempts;
use super::transfer::{AfterUpload, RequestKind, Subject};
use super::Connector;

/// The PKCS upload's answer: the literal `true` when recorded.
fn recorded(a: &Answer) -> Result<bool, Failure> {
    a.json::<bool>()
}

/// Most PKCS requests a connector issues at once.
pub const MAX_PKCS_IN_FLIGHT: usize = 64;

impl Connector {
    /// Issues up to `n` (1 to [`MAX_PKCS_IN_FLIGHT`]) downloaded requests at once. Events and
    /// uploads stay in download order, so the stream is the same as one at a time as long as
    /// nothing is retried; but the CA sees the requests in the order they reach it, and draws
    /// serial numbers (thumbprints) in that order. Scenarios therefore run with 1, the default;
    /// load runs raise it.
    pub fn with_pkcs_in_flight(mut self, n: usize) -> Connector {
        self.pkcs_in_flight = n.clamp(1, MAX_PKCS_IN_FLIGHT);
        self
    }

    /// Uploads waiting results, then downloads and processes new requests.
    pub(crate) async fn pkcs_cycle(&self) {
        let waiting = std::mem::take(&mut self.state().await.pkcs_outbox);
        for result in waiting {
            self.upload_pkcs(result).await;
        }
        let body = DownloadCaRequests {
            download_parameters: CaRequestDownloadParameters {
                max_messages: self.config.batch_size,
                issuer_name: Some(self.config.ca_name.clone()),
                ..CaRequestDownloadParameters::default()
            },
        };
        let called = self
            .intune
            .post::<_, Vec<CaRequest>>(Service::Pkcs, DOWNLOAD, &body)
            .await;
        let got = called.result.as_ref().map(Vec::len).map_err(Clone::clone);
        self.report_download(RequestKind::Pkcs, got, called.attempts);
        let Ok(requests) = called.result else {
            return;
        };
        // `buffered` keeps up to `pkcs_in_flight` issues running and yields them in download
        // order; with 1, a request is looked at only after the one before was uploaded.
        let mut issued = stream::iter(requests)
            .map(|req| self.issue_unless_answered(req))
            .buffered(self.pkcs_in_flight.max(1));
        while let Some(done) = issued.next().await {
            if let Some((result, cause, details)) = done {
                self.emit(cause, details);
                self.upload_pkcs(result).await;
            }
        }
    }

    /// Issues `req`, unless its result already waits in the outbox: Intune handed it out again
    /// because it has no answer yet, and it must not be issued twice.
    async fn issue_unless_answered(
        &self,
        req: CaRequest,
    ) -> Option<(CaRequestResult, Cause, Details)> {
        {
            let state = self.state().await;
            if state
                .pkcs_outbox
                .iter()
                .any(|r| r.request_id == req.request_id)
                || state.lost.contains(&req.request_id)
            {
                return None;
            }
        }
        Some(self.issue(&req).await)
    }

    async fn upload_pkcs(&self, result: CaRequestResult) {
        if self.config.bugs.lose_one {
            let mut state = self.state().await;
            if state.lost.is_empty() {
                state.lost.push(result.request_id.clone());
                return;
            }
        }
        let body = UploadCaRequestResults {
            results: vec![result.clone()],
        };
        let called = self
            .intune
            .call(Service::Pkcs, UPLOAD, &body, &[], recorded)
            .await;
        let who = Subject {
            request_id: &result.request_id,
            device_id: Some(&result.device_id),
            user_id: Some(&result.user_id),
        };
        match self.report_upload(RequestKind::Pkcs, called, who) {
            AfterUpload::Keep => self.state().await.pkcs_outbox.push(result),
            AfterUpload::Recorded if self.config.bugs.upload_twice => {
                let again = self
                    .intune
                    .call(Service::Pkcs, UPLOAD, &body, &[], recorded)
                    .await;
                let who = Subject {
                    request_id: &result.request_id,
                    device_id: Some(&result.device_id),
                    user_id: Some(&result.user_id),
                };
                self.report_upload(RequestKind::Pkcs, again, who);
            }
            _ => {}
        }
    }

    /// Has the CA issue `req`: the result to upload, and the event to write for it.
    async fn issue(&self, req: &CaRequest) -> (CaRequestResult, Cause, Details) {
        let mut result = CaRequestResult {
            tenant_id: req.tenant_id.clone(),
            user_id: req.user_id.clone(),
            device_id: req.device_id.clone(),
            request_id: req.request_id.clone(),
            request_type: req.request_type.clone(),
            succeeded: false,
            error_code: None,
            error_message: None,
        };
        let base = Details::new()
            .with(Detail::DeviceId, req.device_id.clone())
            .with(Detail::UserId, req.user_id.clone())
            .with(Detail::RequestId, req.request_id.clone());
        let params: PkcsParameters = match serde_json::from_str(&req.parameters) {
            Ok(p) => p,
            Err(e) => {
                let reason = format!("request parameters do not parse: {e}");
                let details = base
                    .with(Detail::CaName, self.config.ca_name.clone())
                    .with(Detail::Reason, reason.clone());
                result.error_code = Some(CaRequestErrorCode::ParameterDataInvalidError);
                result.error_message = Some(reason);
                return (result, Cause::PkcsDenied, details);
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
                let details = with_attempts(
                    base.with(Detail::Thumbprint, issued.thumbprint),
                    called.attempts,
                );
                result.succeeded = true;
                (result, cause, details)
            }
            Err(f) => {
                let (cause, code) = match &f {
                    Failure::Transport(TransportError::Malformed) => (
                        Cause::PkcsCaError,
                        CaRequestErrorCode::RetryableServiceException,
                    ),
                    Failure::Transport(_) => (
                        Cause::PkcsCaUnavailable,
                        CaRequestErrorCode::ServiceUnavailableException,
                    ),
                    Failure::Status(401) | Failure::Refused { status: 401, .. } => (
                        Cause::PkcsRaCertMissing,
                        CaRequestErrorCode::NonRetryableServiceException,
                    ),
                    Failure::Refused { .. } => (
                        Cause::PkcsDenied,
                        CaRequestErrorCode::NonRetryableServiceException,
                    ),
                    Failure::Status(_) | Failure::Malformed => (
                        Cause::PkcsCaError,
                        CaRequestErrorCode::RetryableServiceException,
                    ),
                };
                let reason = f.reason();
                let details =
                    with_attempts(base.with(Detail::Reason, reason.clone()), called.attempts);
                result.error_code = Some(code);
                result.error_message = Some(reason);
                (result, cause, details)
            }
        }
    }
}
