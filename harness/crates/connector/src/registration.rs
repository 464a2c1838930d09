//! The connector's registration certificate: read from the store at start (events 10301 /
//! 10302) and renewed with Intune inside the renewal window (10100 / 10102).

use crate::catalog::Detail;
use crate::contract::intune::registration::{RenewRequest, RenewResponse, RENEW};
use crate::contract::intune::Service;
use crate::event::Details;
use crate::sim::format_time;

use super::cause::Cause;
use super::http::Failure;
use super::store::{Found, StoredCertificate};
use super::Connector;

/// What reading the store at start gave.
pub(crate) struct Retrieved {
    pub cause: Option<Cause>,
    pub usable: Option<(StoredCertificate, crate::pki::RsaKey)>,
    pub shown: Option<StoredCertificate>,
    pub reason: Option<String>,
    pub unexpected: bool,
}

impl Connector {
    /// Reads the registration certificate as the service does at start.
    pub(crate) fn retrieve(&self) -> Retrieved {
        let now = self.clock.now();
        let window = self.config.renewal_window;
        match self.store.registration() {
            Found::Missing => Retrieved {
                cause: Some(Cause::CertificateNotFound),
                usable: None,
                shown: None,
                reason: None,
                unexpected: false,
            },
            Found::NoKey(cert, why) => Retrieved {
                cause: Some(Cause::CertificateMissingKey),
                usable: None,
                shown: Some(cert),
                reason: Some(why),
                unexpected: false,
            },
            // The operating system's wording stays out of the stream.
            Found::Unreadable => Retrieved {
                cause: Some(Cause::StoreUnreadable),
                usable: None,
                shown: None,
                reason: Some("certificate store read failed".into()),
                unexpected: true,
            },
            Found::Usable {
                cert,
                key,
                thumbprint_mismatch,
                recovered,
            } => {
                let near = now < cert.not_after
                    && cert
                        .not_after
                        .checked_sub(window)
                        .is_none_or(|start| now >= start);
                let (cause, reason) = if recovered {
                    (
                        Some(Cause::StoreReadRetried),
                        Some("certificate store read failed".to_string()),
                    )
                } else if thumbprint_mismatch {
                    (Some(Cause::ThumbprintNotFound), None)
                } else {
                    (near.then_some(Cause::CertificateNearExpiry), None)
                };
                Retrieved {
                    cause,
                    shown: Some(cert.clone()),
                    usable: Some((cert, key)),
                    reason,
                    unexpected: recovered,
                }
            }
        }
    }

    /// Renews the registration certificate when the scenario clock is inside the renewal window.
    pub(crate) async fn check_renewal(&self) {
        let Some(cert) = self.state().await.active.clone() else {
            return;
        };
        let now = self.clock.now();
        if now >= cert.not_after {
            self.state().await.active = None;
            self.emit(
                Cause::RenewalCertificateExpired,
                cert_details(&cert).with(
                    Detail::Reason,
                    "registration certificate expired; enroll the connector again",
                ),
            );
            return;
        }
        let window_starts = cert.not_after.checked_sub(self.config.renewal_window);
        if window_starts.is_some_and(|start| now < start) {
            return;
        }
        let Some(key) = self.state().await.key.clone() else {
            return;
        };
        let csr = match crate::pki::build_csr(&key, "TEST ONLY Intune Connector Registration", None)
        {
            Ok(c) => c,
            Err(e) => {
                self.emit(
                    Cause::RenewalFailed,
                    cert_details(&cert).with(Detail::Reason, e.to_string()),
                );
                return;
            }
        };
        let body = RenewRequest {
            thumbprint: cert.thumbprint.clone(),
            certificate_request: crate::pki::b64(&csr),
        };
        let called = self
            .intune
            .post::<_, RenewResponse>(Service::ConnectorRegistration, RENEW, &body)
            .await;
        let attempts = called.attempts;
        let renewed = called.result.and_then(|r| {
            let der = crate::pki::unb64(&r.certificate).map_err(|_| Failure::Malformed)?;
            StoredCertificate::from_der(der).map_err(|_| Failure::Malformed)
        });
        match renewed {
            Ok(new) => {
                if let Err(e) = self.store.replace_registration(&new) {
                    self.emit(
                        Cause::RenewalFailed,
                        cert_details(&cert).with(
                            Detail::Reason,
                            format!("writing the renewed certificate: {}", e.kind()),
                        ),
                    );
                    return;
                }
                let cause = if attempts > 1 {
                    Cause::RenewalSucceededAfterRetry
                } else {
                    Cause::RenewalSucceeded
                };
                self.state().await.active = Some(new.clone());
                self.emit(cause, with_attempts(cert_details(&new), attempts));
            }
            Err(f) => {
                let cause = if f.is_unexpected() {
                    Cause::RenewalFailed
                } else {
                    Cause::RenewalDenied
                };
                let d = cert_details(&cert).with(Detail::Reason, f.reason());
                self.emit(cause, with_attempts(d, attempts));
            }
        }
    }
}

/// Details for registration events.
pub(crate) fn cert_details(cert: &StoredCertificate) -> Details {
    Details::new()
        .with(Detail::Thumbprint, cert.thumbprint.clone())
        .with(Detail::NotAfter, format_time(cert.not_after))
}

/// Adds the `attempts` detail when the operation took more than one.
pub(crate) fn with_attempts(d: Details, attempts: u32) -> Details {
    if attempts > 1 {
        d.with(Detail::Attempts, attempts.to_string())
    } else {
        d
    }
}
