//! Downloads from and uploads to Intune (20400 / 20402, 20300 / 20302), shared by the PKCS and
//! revocation cycles.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::catalog::Detail;
use crate::event::Details;

use super::cause::Cause;
use super::registration::with_attempts;
use super::Connector;

/// Which queue a transfer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// PKCS certificate requests.
    Pkcs,
    /// Revocation requests.
    Revoke,
}

impl RequestKind {
    fn name(self) -> &'static str {
        match self {
            RequestKind::Pkcs => "pkcs",
            RequestKind::Revoke => "revoke",
        }
    }
}

/// Who an upload is about, for the event details.
pub(crate) struct Subject<'a> {
    pub request_id: &'a str,
    pub device_id: &'a str,
    pub user_id: &'a str,
}

impl Connector {
    /// Downloads a queue; emits 20400 when anything came (or a retry was needed) and 20402 on
    /// failure. `None` means the download failed.
    pub(crate) async fn download<B: Serialize, T: DeserializeOwned>(
        &self,
        kind: RequestKind,
        path: &str,
        body: &B,
    ) -> Option<Vec<T>> {
        let called = self.intune.post::<_, Vec<T>>(path, body, &[]).await;
        let base = Details::new().with(Detail::RequestKind, kind.name());
        match called.result {
            Ok(items) => {
                if !items.is_empty() || called.attempts > 1 {
                    let cause = if called.attempts > 1 {
                        Cause::DownloadedAfterRetry
                    } else {
                        Cause::Downloaded
                    };
                    let d = base
                        .with(Detail::RequestCount, items.len().to_string())
                        .with(Detail::DownloadState, "downloaded");
                    self.emit(cause, with_attempts(d, called.attempts));
                }
                Some(items)
            }
            Err(f) => {
                let (cause, state) = match &f {
                    super::http::Failure::Malformed => (Cause::DownloadFailed, "parsing"),
                    f if f.is_unexpected() => (Cause::DownloadFailed, "requesting"),
                    _ => (Cause::DownloadRefused, "refused"),
                };
                let d = base
                    .with(Detail::DownloadState, state)
                    .with(Detail::Reason, f.reason(self.config.retry.timeout));
                self.emit(cause, with_attempts(d, called.attempts));
                None
            }
        }
    }

    /// Uploads one result; emits 20300 or 20302. Returns whether Intune recorded it.
    pub(crate) async fn upload<B: Serialize>(
        &self,
        kind: RequestKind,
        path: &str,
        body: &B,
        who: Subject<'_>,
    ) -> bool {
        let called = self
            .intune
            .post::<_, serde_json::Value>(path, body, &[])
            .await;
        let d = Details::new()
            .with(Detail::RequestKind, kind.name())
            .with(Detail::RequestId, who.request_id)
            .with(Detail::DeviceId, who.device_id)
            .with(Detail::UserId, who.user_id);
        let (cause, d, recorded) = match called.result {
            Ok(serde_json::Value::Bool(true)) => {
                let cause = if called.attempts > 1 {
                    Cause::UploadedAfterRetry
                } else {
                    Cause::Uploaded
                };
                (cause, d.with(Detail::UploadState, "recorded"), true)
            }
            Ok(other) => {
                let d = d
                    .with(Detail::UploadState, "not_recorded")
                    .with(Detail::Reason, format!("Intune answered {other}"));
                (Cause::UploadNotRecorded, d, false)
            }
            Err(f) => {
                let (cause, state) = match &f {
                    super::http::Failure::Malformed => (Cause::UploadFailed, "awaiting_answer"),
                    f if f.is_unexpected() => (Cause::UploadFailed, "sending"),
                    _ => (Cause::UploadNotRecorded, "refused"),
                };
                (
                    cause,
                    d.with(Detail::UploadState, state)
                        .with(Detail::Reason, f.reason(self.config.retry.timeout)),
                    false,
                )
            }
        };
        self.emit(cause, with_attempts(d, called.attempts));
        recorded
    }
}
