//! Service lifecycle: start (read the registration certificate, check in, fetch the policy
//! module's signing certificate if the store lacks it; 10010) and stop (check out; 10020).

use crate::catalog::Detail;
use crate::contract::intune::registration::{
    Checkin, SigningCertificate, SigningCertificateRequest, CHECKIN, SIGNING_CERTIFICATE,
};
use crate::contract::intune::{ODataValue, Service};
use crate::event::Details;

use super::cause::Cause;
use super::http::Failure;
use super::registration::{cert_details, with_attempts};
use super::transfer::RequestKind;
use super::Connector;

impl Connector {
    /// Starts the service. Returns `false` if it was already running.
    pub async fn start(&self) -> bool {
        {
            let mut state = self.state().await;
            if state.running {
                return false;
            }
            state.running = true;
        }
        let retrieved = self.retrieve();
        {
            let mut state = self.state().await;
            state.active = retrieved.usable.as_ref().map(|(c, _)| c.clone());
            state.key = retrieved.usable.as_ref().map(|(_, k)| k.clone());
        }
        if let Some(cause) = retrieved.cause {
            let d = retrieved
                .shown
                .as_ref()
                .map(cert_details)
                .unwrap_or_default();
            let d = d.with_opt(Detail::Reason, retrieved.reason.clone());
            self.emit(cause, d);
        }
        let mut unexpected = retrieved.unexpected;
        let mut details = Details::new();
        if let Some((cert, _)) = &retrieved.usable {
            let (attempts, failure) = self.checkin("started", &cert.thumbprint).await;
            details = with_attempts(details, attempts);
            if let Some(reason) = failure {
                unexpected = true;
                details.insert(Detail::Reason, reason);
            } else if attempts > 1 {
                unexpected = true;
            }
        }
        self.emit(
            if unexpected {
                Cause::ServiceStartedWithError
            } else {
                Cause::ServiceStarted
            },
            details,
        );
        if let Some((cert, _)) = retrieved.usable {
            if self.store.signing_certificate().is_none() {
                self.download_signing_certificate(&cert.thumbprint).await;
            }
        }
        true
    }

    /// Downloads the policy module's SCEP signing certificate into the store (20400 / 20402).
    async fn download_signing_certificate(&self, thumbprint: &str) {
        let body = SigningCertificateRequest {
            thumbprint: thumbprint.into(),
        };
        let called = self
            .intune
            .post::<_, SigningCertificate>(
                Service::ConnectorRegistration,
                SIGNING_CERTIFICATE,
                &body,
            )
            .await;
        let kept = called.result.and_then(|c| {
            let der = crate::pki::unb64(&c.certificate).map_err(|_| Failure::Malformed)?;
            self.store
                .put_signing_certificate(&der)
                .map_err(|_| Failure::Malformed)
        });
        self.report_download(
            RequestKind::SigningCertificate,
            kept.map(|()| 1),
            called.attempts,
        );
    }

    /// Stops the service. Returns `false` if it was not running.
    pub async fn stop(&self) -> bool {
        let active = {
            let mut state = self.state().await;
            if !state.running {
                return false;
            }
            state.running = false;
            state.active.clone()
        };
        let mut details = Details::new();
        let mut unexpected = false;
        if let Some(cert) = active {
            let (attempts, failure) = self.checkin("stopped", &cert.thumbprint).await;
            details = with_attempts(details, attempts);
            unexpected = attempts > 1 || failure.is_some();
            if let Some(reason) = failure {
                details.insert(Detail::Reason, reason);
            }
        }
        self.emit(
            if unexpected {
                Cause::ServiceStoppedWithError
            } else {
                Cause::ServiceStopped
            },
            details,
        );
        true
    }

    /// Checks in; returns attempts and the reason of an unexpected failure. A clean refusal
    /// does not stop the service and is not an error of the service itself.
    async fn checkin(&self, state: &str, thumbprint: &str) -> (u32, Option<String>) {
        let body = Checkin {
            state: state.into(),
            thumbprint: thumbprint.into(),
        };
        let called = self
            .intune
            .post::<_, ODataValue<bool>>(Service::ConnectorRegistration, CHECKIN, &body)
            .await;
        let reason = match called.result {
            Err(f) if f.is_unexpected() => Some(f.reason()),
            _ => None,
        };
        (called.attempts, reason)
    }
}
