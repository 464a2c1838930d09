//! SCEP validation and notifications, shared by `ScepActions/*` (third-party SCEP servers) and
//! the legacy policy module's Certificate Registration Point: the same challenges, the same
//! checks, the same transactions.

use crate::contract::intune::admin::{
    MintChallenge, MintedChallenge, ValidationRecord, MAX_CHALLENGE_VALIDITY_SECONDS,
};
use crate::contract::intune::scep::MAX_ERROR_DESCRIPTION;
use crate::contract::intune::ScepErrorCode;
use crate::csr::Csr;
use crate::pki;
use crate::sim::format_time;

use super::challenge::Claims;
use super::store::ChallengeRecord;
use super::{Inner, Refusal};

/// A validation's verdict.
pub(super) struct Verdict {
    pub code: ScepErrorCode,
    pub description: String,
    /// The device and user of the challenge, when it could be opened.
    pub subject: Option<(String, String)>,
}

impl Verdict {
    fn refuse(code: ScepErrorCode, description: impl Into<String>) -> Verdict {
        Verdict {
            code,
            description: description.into(),
            subject: None,
        }
    }
}

fn now_ms(inner: &Inner) -> i64 {
    i64::try_from(inner.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl Inner {
    /// Mints a one-time challenge.
    pub(super) fn mint(&self, m: MintChallenge) -> Result<MintedChallenge, Refusal> {
        if m.validity_seconds == 0 || m.validity_seconds > MAX_CHALLENGE_VALIDITY_SECONDS {
            return Err(Refusal::bad_request(format!(
                "validitySeconds {} is not in 1–{MAX_CHALLENGE_VALIDITY_SECONDS}",
                m.validity_seconds
            )));
        }
        let now = self.clock.now();
        // Bounded above by a year, so neither the milliseconds nor the date can overflow.
        let validity_ms =
            i64::try_from(m.validity_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        let issued_ms = now_ms(self);
        let expires_ms = issued_ms.saturating_add(validity_ms);
        let expires = now.saturating_add(time::Duration::milliseconds(validity_ms));
        let mut store = self.store();
        if !store.profiles.iter().any(|p| p.name == m.profile) {
            let known: Vec<&str> = store.profiles.iter().map(|p| p.name.as_str()).collect();
            return Err(Refusal::bad_request(format!(
                "no SCEP profile `{}`; this service has: {}",
                m.profile,
                known.join(", ")
            )));
        }
        let id = store.next_challenge;
        store.next_challenge = id.saturating_add(1);
        let claims = Claims {
            id,
            issued_ms,
            expires_ms,
        };
        let challenge = self.minter.mint(claims, &mut store.challenge_rng);
        store.keep_challenge(
            id,
            ChallengeRecord {
                device: m.device_id,
                user: m.user_id,
                profile: m.profile,
                used: false,
            },
        );
        Ok(MintedChallenge {
            challenge,
            expires_at: format_time(expires),
        })
    }

    /// Validates a SCEP request (base64 PKCS#10) for transaction `txid`; a request allowed
    /// consumes its challenge and opens the transaction for notifications.
    pub(super) fn validate(&self, txid: &str, certificate_request: &str) -> Verdict {
        let verdict = self.judge(txid, certificate_request);
        let (device_id, user_id) = match &verdict.subject {
            Some((d, u)) => (Some(d.clone()), Some(u.clone())),
            None => (None, None),
        };
        self.store().validations.push(ValidationRecord {
            transaction_id: txid.to_string(),
            code: verdict.code.name().to_string(),
            device_id,
            user_id,
        });
        verdict
    }

    fn judge(&self, txid: &str, certificate_request: &str) -> Verdict {
        use ScepErrorCode as E;
        if txid.trim().is_empty() {
            return Verdict::refuse(E::Unknown, "transactionId is empty");
        }
        let csr = match pki::unb64(certificate_request)
            .map_err(|e| e.to_string())
            .and_then(|der| Csr::read(&der).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(e) => return Verdict::refuse(E::CertificateRequestDecodingFailed, e),
        };
        if let Err(e) = csr.verify() {
            return Verdict::refuse(E::SignatureValidationFailed, e.to_string());
        }
        let Some(presented) = csr.challenge.clone() else {
            return Verdict::refuse(
                E::ChallengePasswordMissing,
                "the request has no challengePassword",
            );
        };
        let claims = match self.minter.open(&presented, now_ms(self)) {
            Ok(c) => c,
            Err((code, why)) => return Verdict::refuse(code, why),
        };
        let mut store = self.store();
        let Some(record) = store.challenges.get(&claims.id) else {
            return Verdict::refuse(
                E::BadCertificateRequestIdInChallenge,
                "the certificate request this challenge was issued for is no longer known",
            );
        };
        let subject = Some((record.device.clone(), record.user.clone()));
        let refuse = |code, why: String| Verdict {
            code,
            description: why,
            subject: subject.clone(),
        };
        if record.used {
            return refuse(
                E::BadCertificateRequestIdInChallenge,
                "the certificate request this challenge was issued for has been fulfilled already"
                    .into(),
            );
        }
        if store.retired_devices.contains(&record.device) {
            return refuse(
                E::BadDeviceIdInChallenge,
                format!("device `{}` is not known", record.device),
            );
        }
        if store.retired_users.contains(&record.user) {
            return refuse(
                E::BadUserIdInChallenge,
                format!("user `{}` is not known", record.user),
            );
        }
        let Some(profile) = store.profiles.iter().find(|p| p.name == record.profile) else {
            return refuse(
                E::ScepProfileNoLongerTargetedToTheClient,
                format!(
                    "profile `{}` is no longer assigned to the device",
                    record.profile
                ),
            );
        };
        if let Err((code, why)) = profile.check(&csr, &record.device, &record.user) {
            return refuse(code, why);
        }
        store.use_challenge(claims.id);
        store.keep_transaction(txid.to_string());
        Verdict {
            code: E::Success,
            description: String::new(),
            subject,
        }
    }

    /// Records a notification for a validated transaction (once).
    pub(super) fn notify(
        &self,
        txid: &str,
        success: bool,
        error_description: Option<&str>,
    ) -> Result<(), Refusal> {
        if let Some(d) = error_description {
            if d.chars().count() > MAX_ERROR_DESCRIPTION {
                return Err(Refusal::bad_request(format!(
                    "errorDescription has {} characters; at most {MAX_ERROR_DESCRIPTION} are allowed",
                    d.chars().count()
                )));
            }
        }
        let mut store = self.store();
        let Some(t) = store.transactions.get_mut(txid) else {
            return Err(Refusal::new(
                404,
                "NotFound",
                format!("no validated SCEP request has transaction id `{txid}`"),
            ));
        };
        if t.notified {
            return Err(Refusal::new(
                409,
                "Conflict",
                format!("transaction `{txid}` was notified already"),
            ));
        }
        t.notified = true;
        let kind = if success { "success" } else { "failure" };
        store
            .notifications
            .push((txid.to_string(), kind.to_string()));
        Ok(())
    }
}
