//! Service lifecycle: start (read the registration certificate, check in; 10010) and stop
//! (check out; 10020).

use crate::catalog::Detail;
use crate::contract::intune::{intune_paths, Checkin};
use crate::event::Details;

use super::cause::Cause;
use super::registration::{cert_details, with_attempts};
use super::Connector;

impl Connector {
    /// Starts the service. Returns `false` if it was already running.
    pub async fn start(&self) -> bool {
        let now = self.clock.now();
        let window = self.config.renewal_window;
        let retrieved = {
            let mut state = self.state().await;
            if state.running {
                return false;
            }
            state.running = true;
            let r = state.store.retrieve(now, window);
            state.active = r.usable.clone();
            r
        };
        if let Some(cause) = retrieved.cause {
            let d = match (&retrieved.usable, &self.state().await.store.certificate) {
                (Some(c), _) | (None, Some(c)) => cert_details(c),
                (None, None) => Details::new(),
            };
            let d = if retrieved.unexpected {
                d.with(Detail::Reason, "certificate store read failed")
            } else {
                d
            };
            self.emit(cause, d);
        }
        let mut unexpected = retrieved.unexpected;
        let mut details = Details::new();
        if let Some(cert) = retrieved.usable {
            let called = self.checkin("started", &cert.thumbprint).await;
            details = with_attempts(details, called.0);
            if let Some(reason) = called.1 {
                unexpected = true;
                details.insert(Detail::Reason, reason);
            } else if called.0 > 1 {
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
        true
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
            .post::<_, serde_json::Value>(intune_paths::CHECKIN, &body, &[])
            .await;
        let reason = match called.result {
            Err(f) if f.is_unexpected() => Some(f.reason(self.config.retry.timeout)),
            _ => None,
        };
        (called.attempts, reason)
    }
}
