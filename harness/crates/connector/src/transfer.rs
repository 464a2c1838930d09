//! Downloads from and uploads to Intune (20400 / 20402, 20300 / 20302), shared by the PKCS and
//! revocation cycles and the signing-certificate download.

use crate::catalog::Detail;
use crate::event::Details;

use super::cause::Cause;
use super::http::{Called, Failure};
use super::registration::with_attempts;
use super::Connector;

/// What a transfer is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// PKCS certificate requests.
    Pkcs,
    /// Revocation requests.
    Revoke,
    /// The policy module's SCEP signing certificate.
    SigningCertificate,
}

impl RequestKind {
    fn name(self) -> &'static str {
        match self {
            RequestKind::Pkcs => "pkcs",
            RequestKind::Revoke => "revoke",
            RequestKind::SigningCertificate => "signing_certificate",
        }
    }
}

/// What to do with a result after trying to upload it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterUpload {
    /// Intune recorded it.
    Recorded,
    /// Not recorded this time: keep it and upload it again next cycle.
    Keep,
    /// Refused for good (unknown id, already answered, contradictory): uploading it again
    /// cannot help.
    Drop,
}

/// Who an upload is about, for the event details (revocations name no device or user).
pub(crate) struct Subject<'a> {
    pub request_id: &'a str,
    pub device_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
}

impl Connector {
    /// Reports a download: 20400 when anything came (or a retry was needed), 20402 on failure.
    /// `got` is how many items came.
    pub(crate) fn report_download(
        &self,
        kind: RequestKind,
        got: Result<usize, Failure>,
        attempts: u32,
    ) {
        let base = Details::new().with(Detail::RequestKind, kind.name());
        match got {
            Ok(n) => {
                if n > 0 || attempts > 1 {
                    let cause = if attempts > 1 {
                        Cause::DownloadedAfterRetry
                    } else {
                        Cause::Downloaded
                    };
                    let d = base
                        .with(Detail::RequestCount, n.to_string())
                        .with(Detail::DownloadState, "downloaded");
                    self.emit(cause, with_attempts(d, attempts));
                }
            }
            Err(f) => {
                let (cause, state) = match &f {
                    Failure::Malformed => (Cause::DownloadFailed, "parsing"),
                    f if f.is_unexpected() => (Cause::DownloadFailed, "requesting"),
                    _ => (Cause::DownloadRefused, "refused"),
                };
                let d = base
                    .with(Detail::DownloadState, state)
                    .with(Detail::Reason, f.reason());
                self.emit(cause, with_attempts(d, attempts));
            }
        }
    }

    /// Reports an upload (20300 / 20302) and says what to do with the result.
    pub(crate) fn report_upload(
        &self,
        kind: RequestKind,
        called: Called<bool>,
        who: Subject<'_>,
    ) -> AfterUpload {
        let d = Details::new()
            .with(Detail::RequestKind, kind.name())
            .with(Detail::RequestId, who.request_id)
            .with_opt(Detail::DeviceId, who.device_id)
            .with_opt(Detail::UserId, who.user_id);
        let (cause, d, after) = match called.result {
            Ok(true) => {
                let cause = if called.attempts > 1 {
                    Cause::UploadedAfterRetry
                } else {
                    Cause::Uploaded
                };
                (
                    cause,
                    d.with(Detail::UploadState, "recorded"),
                    AfterUpload::Recorded,
                )
            }
            Ok(false) => {
                let d = d
                    .with(Detail::UploadState, "not_recorded")
                    .with(Detail::Reason, "Intune answered false");
                (Cause::UploadNotRecorded, d, AfterUpload::Keep)
            }
            Err(f) => {
                let (cause, state, after) = match &f {
                    Failure::Malformed => {
                        (Cause::UploadFailed, "awaiting_answer", AfterUpload::Keep)
                    }
                    f if f.is_unexpected() => (Cause::UploadFailed, "sending", AfterUpload::Keep),
                    Failure::Refused {
                        status: 400 | 404 | 409,
                        ..
                    } => (Cause::UploadNotRecorded, "refused", AfterUpload::Drop),
                    _ => (Cause::UploadNotRecorded, "refused", AfterUpload::Keep),
                };
                (
                    cause,
                    d.with(Detail::UploadState, state)
                        .with(Detail::Reason, f.reason()),
                    after,
                )
            }
        };
        self.emit(cause, with_attempts(d, called.attempts));
        after
    }
}
