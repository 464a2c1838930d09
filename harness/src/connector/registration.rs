//! The connector's registration certificate: the simulated local store it is read from at
//! start (events 10301 / 10302) and its renewal with Intune inside the renewal window
//! (10100 / 10102).

use time::OffsetDateTime;

use crate::catalog::Detail;
use crate::contract::intune::{intune_paths, RenewRequest, RenewResponse};
use crate::event::Details;
use crate::sim::format_time;

use super::cause::Cause;
use super::http::Failure;
use super::Connector;

/// What the local store holds at the start of a run.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StoreCondition {
    /// A valid certificate whose thumbprint matches the configuration.
    Present,
    /// A valid certificate already inside its renewal window.
    NearExpiry,
    /// A certificate that has expired.
    Expired,
    /// No registration certificate at all.
    Missing,
    /// The configured thumbprint matches nothing; the certificate is found by subject.
    ThumbprintMismatch,
    /// The certificate is there without its private key.
    NoPrivateKey,
    /// Every read of the store fails.
    Unreadable,
    /// The first read of the store fails, the second works.
    Flaky,
}

/// A registration certificate as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// SHA-1 thumbprint, upper-case hex.
    pub thumbprint: String,
    /// Expiry.
    pub not_after: OffsetDateTime,
}

impl StoredCertificate {
    /// Reads thumbprint and expiry from DER.
    pub fn from_der(der: Vec<u8>) -> Result<StoredCertificate, String> {
        use der::Decode;
        let cert = x509_cert::Certificate::from_der(&der).map_err(|e| e.to_string())?;
        let not_after = OffsetDateTime::from_unix_timestamp(
            cert.tbs_certificate
                .validity
                .not_after
                .to_unix_duration()
                .as_secs() as i64,
        )
        .map_err(|e| e.to_string())?;
        Ok(StoredCertificate {
            thumbprint: crate::pki::thumbprint(&der),
            der,
            not_after,
        })
    }
}

/// The simulated certificate store.
#[derive(Clone, Debug)]
pub struct RegistrationStore {
    /// Its condition.
    pub condition: StoreCondition,
    /// The certificate it holds (absent for `Missing`).
    pub certificate: Option<StoredCertificate>,
}

/// A registration certificate for the connector's fixture key, issued by the test issuing CA,
/// valid from `not_before` to `not_after` (scenario time), as DER. Deterministic.
pub fn registration_certificate(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<StoredCertificate, String> {
    use crate::fixtures::{CONNECTOR, ISSUING_CA};
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let issuer_key = ISSUING_CA.rcgen_key().map_err(|e| err(&e))?;
    let issuer_der = ISSUING_CA.cert_der().map_err(|e| err(&e))?;
    let issuer =
        rcgen::Issuer::from_ca_cert_der(&issuer_der.into(), issuer_key).map_err(|e| err(&e))?;
    let key = CONNECTOR.rcgen_key().map_err(|e| err(&e))?;
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        rcgen::DnType::CommonName,
        "TEST ONLY Intune Connector Registration",
    );
    dn.push(
        rcgen::DnType::OrganizationName,
        "TEST ONLY Connector Harness",
    );
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_after;
    // The serial follows from the validity, so the same scenario yields the same bytes.
    let serial = (not_after.unix_timestamp() as u64).to_be_bytes();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(
        &[&[0x20], &serial[..]].concat(),
    ));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer).map_err(|e| err(&e))?;
    StoredCertificate::from_der(cert.der().to_vec())
}

/// What reading the store at start gave.
pub(crate) struct Retrieved {
    pub cause: Option<Cause>,
    pub usable: Option<StoredCertificate>,
    pub unexpected: bool,
}

impl RegistrationStore {
    /// Reads the registration certificate as the service does at start.
    pub(crate) fn retrieve(&mut self, now: OffsetDateTime, window: time::Duration) -> Retrieved {
        let cert = self.certificate.clone();
        let (cause, usable, unexpected) = match (self.condition, cert) {
            (StoreCondition::Missing, _) | (_, None) => {
                (Some(Cause::CertificateNotFound), None, false)
            }
            (StoreCondition::NoPrivateKey, Some(_)) => {
                (Some(Cause::CertificateMissingKey), None, false)
            }
            (StoreCondition::Unreadable, Some(_)) => (Some(Cause::StoreUnreadable), None, true),
            (StoreCondition::Flaky, Some(c)) => {
                // The failure is transient: later reads work.
                self.condition = StoreCondition::Present;
                (Some(Cause::StoreReadRetried), Some(c), true)
            }
            (StoreCondition::ThumbprintMismatch, Some(c)) => {
                (Some(Cause::ThumbprintNotFound), Some(c), false)
            }
            (_, Some(c)) => {
                let warn = now < c.not_after && now >= c.not_after - window;
                (warn.then_some(Cause::CertificateNearExpiry), Some(c), false)
            }
        };
        Retrieved {
            cause,
            usable,
            unexpected,
        }
    }
}

/// Details for registration events.
pub(crate) fn cert_details(cert: &StoredCertificate) -> Details {
    Details::new()
        .with(Detail::Thumbprint, cert.thumbprint.clone())
        .with(Detail::NotAfter, format_time(cert.not_after))
}

impl Connector {
    /// Renews the registration certificate when the scenario clock is inside the renewal window.
    pub(crate) async fn check_renewal(&self) {
        let Some(cert) = self.state().await.active.clone() else {
            return;
        };
        let now = self.clock.now();
        let window = self.config.renewal_window;
        if now >= cert.not_after {
            let mut state = self.state().await;
            state.active = None;
            drop(state);
            self.emit(
                Cause::RenewalCertificateExpired,
                cert_details(&cert).with(
                    Detail::Reason,
                    "registration certificate expired; enroll the connector again",
                ),
            );
            return;
        }
        if now < cert.not_after - window {
            return;
        }
        let csr = match crate::fixtures::CONNECTOR
            .rsa_key()
            .map_err(|e| e.to_string())
            .and_then(|k| {
                crate::pki::build_csr(&k, "TEST ONLY Intune Connector Registration", None)
                    .map_err(|e| e.to_string())
            }) {
            Ok(c) => c,
            Err(e) => {
                self.emit(
                    Cause::RenewalFailed,
                    cert_details(&cert).with(Detail::Reason, e),
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
            .post::<_, RenewResponse>(intune_paths::RENEW, &body, &[])
            .await;
        let attempts = called.attempts;
        let renewed = called.result.and_then(|r| {
            let der = crate::pki::unb64(&r.certificate).map_err(|_| Failure::Malformed)?;
            StoredCertificate::from_der(der).map_err(|_| Failure::Malformed)
        });
        match renewed {
            Ok(new) => {
                let cause = if attempts > 1 {
                    Cause::RenewalSucceededAfterRetry
                } else {
                    Cause::RenewalSucceeded
                };
                let mut state = self.state().await;
                state.active = Some(new.clone());
                state.store.certificate = Some(new.clone());
                drop(state);
                self.emit(cause, with_attempts(cert_details(&new), attempts));
            }
            Err(f) => {
                let cause = if f.is_unexpected() {
                    Cause::RenewalFailed
                } else {
                    Cause::RenewalDenied
                };
                let d =
                    cert_details(&cert).with(Detail::Reason, f.reason(self.config.retry.timeout));
                self.emit(cause, with_attempts(d, attempts));
            }
        }
    }
}

/// Adds the `attempts` detail when the operation took more than one.
pub(crate) fn with_attempts(d: Details, attempts: u32) -> Details {
    if attempts > 1 {
        d.with(Detail::Attempts, attempts.to_string())
    } else {
        d
    }
}
