//! The revocation cycle: download Intune's revocation requests, revoke each at the CA
//! (20200 / 20202), upload each result (20300 / 20302), with the same outbox rule as PKCS.
//! A revocation request names a serial number and an issuer, never a device or a user, so
//! these events carry neither.

use crate::catalog::Detail;
use crate::contract::ca::{ca_paths, RevokeRequest, RevokeResponse};
use crate::contract::intune::revocation::{
    DownloadRevocationRequests, RevocationDownloadParameters, RevocationRequest, RevocationResult,
    UploadRevocationResults, DOWNLOAD, UPLOAD,
};
use crate::contract::intune::{CaRequestErrorCode, ODataValue, Service};
use crate::event::Details;

use super::cause::Cause;
use super::http::{Answer, Failure};
use super::registration::with_attempts;
use super::transfer::{AfterUpload, RequestKind, Subject};
use super::Connector;

/// The revocation upload's answer: `{"value": true}` when recorded.
fn recorded(a: &Answer) -> Result<bool, Failure> {
    a.json::<ODataValue<bool>>().map(|v| v.value)
}

impl Connector {
    /// Uploads waiting results, then downloads and processes new revocation requests.
    pub(crate) async fn revoke_cycle(&self) {
        let waiting = std::mem::take(&mut self.state().await.revoke_outbox);
        for pending in waiting {
            self.upload_revocation(pending).await;
        }
        let body = DownloadRevocationRequests {
            download_parameters: RevocationDownloadParameters {
                max_requests: self.config.batch_size,
                issuer_name: Some(self.config.ca_name.clone()),
                certificate_provider_name: None,
            },
        };
        let called = self
            .intune
            .post::<_, ODataValue<Vec<RevocationRequest>>>(Service::Revocation, DOWNLOAD, &body)
            .await;
        let got = called
            .result
            .as_ref()
            .map(|v| v.value.len())
            .map_err(Clone::clone);
        self.report_download(RequestKind::Revoke, got, called.attempts);
        let Ok(requests) = called.result else {
            return;
        };
        for req in requests.value {
            if self
                .state()
                .await
                .revoke_outbox
                .iter()
                .any(|r| r.request_context == req.request_context)
            {
                continue;
            }
            let result = self.revoke(&req).await;
            self.upload_revocation(result).await;
        }
    }

    async fn upload_revocation(&self, result: RevocationResult) {
        let body = UploadRevocationResults {
            results: vec![result.clone()],
        };
        let called = self
            .intune
            .call(Service::Revocation, UPLOAD, &body, &[], recorded)
            .await;
        let who = Subject {
            request_id: &result.request_context,
            device_id: None,
            user_id: None,
        };
        if self.report_upload(RequestKind::Revoke, called, who) == AfterUpload::Keep {
            self.state().await.revoke_outbox.push(result);
        }
    }

    async fn revoke(&self, req: &RevocationRequest) -> RevocationResult {
        let ca_name = req
            .issuer_name
            .clone()
            .unwrap_or_else(|| self.config.ca_name.clone());
        let base = Details::new()
            .with(Detail::CaName, ca_name)
            .with(Detail::SerialNumber, req.serial_number.clone())
            .with(Detail::RequestId, req.request_context.clone());
        let headers = self.ca_headers();
        let body = RevokeRequest {
            serial_number: req.serial_number.clone(),
            reason: 0,
        };
        let called = self
            .ca
            .post::<_, RevokeResponse>(ca_paths::REVOKE, &body, &headers)
            .await;
        let mut result = RevocationResult {
            request_context: req.request_context.clone(),
            succeeded: false,
            error_code: None,
            error_message: None,
        };
        match called.result {
            Ok(_) => {
                let cause = if called.attempts > 1 {
                    Cause::RevokedAfterRetry
                } else {
                    Cause::Revoked
                };
                self.emit(cause, with_attempts(base, called.attempts));
                result.succeeded = true;
            }
            Err(f) => {
                use CaRequestErrorCode as E;
                let (cause, code) = match &f {
                    Failure::Refused { code, .. } if code == "access_denied" => {
                        (Cause::RevokeAccessDenied, E::NonRetryableServiceException)
                    }
                    Failure::Refused { code, .. } if code == "already_revoked" => {
                        (Cause::RevokeRefused, E::ConflictError)
                    }
                    Failure::Refused { code, .. } if code == "not_found" => {
                        (Cause::RevokeRefused, E::CertificateNotFoundError)
                    }
                    Failure::Refused { .. } => {
                        (Cause::RevokeRefused, E::NonRetryableServiceException)
                    }
                    Failure::Transport(_) => (Cause::RevokeCaError, E::ServiceUnavailableException),
                    Failure::Status(_) | Failure::Malformed => {
                        (Cause::RevokeCaError, E::RetryableServiceException)
                    }
                };
                let reason = f.reason();
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
