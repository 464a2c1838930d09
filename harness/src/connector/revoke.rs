//! The revocation cycle: download Intune's revocation requests, revoke each at the CA
//! (20200 / 20202), upload each result (20300 / 20302), with the same outbox rule as PKCS.

use crate::catalog::Detail;
use crate::contract::ca::{ca_paths, RevokeRequest, RevokeResponse};
use crate::contract::intune::{
    ca_request_error, intune_paths, DownloadRevocationRequests, RevocationDownloadParameters,
    RevocationRequest, RevocationResult, UploadRevocationResults,
};
use crate::event::Details;

use super::cause::Cause;
use super::http::Failure;
use super::registration::with_attempts;
use super::transfer::{RequestKind, Subject};
use super::Connector;

/// A revocation result waiting to be uploaded, with who it is about.
#[derive(Clone, Debug)]
pub(crate) struct PendingRevocation {
    pub result: RevocationResult,
    pub device_id: String,
    pub user_id: String,
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
            },
        };
        let Some(requests) = self
            .download::<_, RevocationRequest>(
                RequestKind::Revoke,
                intune_paths::DOWNLOAD_REVOCATIONS,
                &body,
            )
            .await
        else {
            return;
        };
        for req in requests {
            if self
                .state()
                .await
                .revoke_outbox
                .iter()
                .any(|p| p.result.request_context == req.request_context)
            {
                continue;
            }
            let pending = self.revoke(&req).await;
            self.upload_revocation(pending).await;
        }
    }

    async fn upload_revocation(&self, pending: PendingRevocation) {
        let body = UploadRevocationResults {
            results: vec![pending.result.clone()],
        };
        let who = Subject {
            request_id: &pending.result.request_context,
            device_id: &pending.device_id,
            user_id: &pending.user_id,
        };
        if !self
            .upload(
                RequestKind::Revoke,
                intune_paths::UPLOAD_REVOCATION_RESULTS,
                &body,
                who,
            )
            .await
        {
            self.state().await.revoke_outbox.push(pending);
        }
    }

    async fn revoke(&self, req: &RevocationRequest) -> PendingRevocation {
        let ca_name = req
            .issuer_name
            .clone()
            .unwrap_or_else(|| self.config.ca_name.clone());
        let base = Details::new()
            .with(Detail::DeviceId, req.device_id.clone())
            .with(Detail::UserId, req.user_id.clone())
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
                let (cause, code) = match &f {
                    Failure::Refused { code, .. } if code == "access_denied" => {
                        (Cause::RevokeAccessDenied, ca_request_error::NON_RETRYABLE)
                    }
                    Failure::Refused { code, .. } if code == "already_revoked" => {
                        (Cause::RevokeRefused, ca_request_error::CONFLICT)
                    }
                    Failure::Refused { code, .. } if code == "not_found" => (
                        Cause::RevokeRefused,
                        ca_request_error::CERTIFICATE_NOT_FOUND,
                    ),
                    Failure::Refused { .. } => {
                        (Cause::RevokeRefused, ca_request_error::NON_RETRYABLE)
                    }
                    Failure::Unreachable | Failure::Timeout => {
                        (Cause::RevokeCaError, ca_request_error::SERVICE_UNAVAILABLE)
                    }
                    Failure::Status(_) | Failure::Malformed => {
                        (Cause::RevokeCaError, ca_request_error::RETRYABLE)
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
        PendingRevocation {
            result,
            device_id: req.device_id.clone(),
            user_id: req.user_id.clone(),
        }
    }
}
