//! The devices that enroll against the gateway under test, one after another: each gets a
//! challenge minted by the fake Intune (or a challenge Intune never minted, to be refused),
//! sends a PKCSReq with the strongest algorithms the gateway advertises, verifies the CertRep
//! and keeps what it received — and how many `ScepActions` calls Intune had seen when the
//! CertRep arrived, so the checker can tell whether a notification came before or after it.

use der::Decode;
use x509_cert::Certificate;

use crate::contract::intune::admin::MintChallenge;
use crate::fakes::intune::FakeIntune;
use crate::load::discover::Server;
use crate::scep::{client, CertRepOutcome, Device, FailInfo};
use crate::sim::Rng;

/// Which challenge a device presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengePlan {
    /// One the fake Intune minted for this device and user.
    Valid,
    /// One in Intune's format that it never minted: refused (`ChallengeDecryptionError`).
    Foreign,
}

/// One device's enrollment, as planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePlan {
    /// Device id (the CSR's subject CN).
    pub device: String,
    /// User id.
    pub user: String,
    /// The SCEP profile the challenge is minted for.
    pub profile: String,
    /// The challenge.
    pub challenge: ChallengePlan,
}

impl DevicePlan {
    /// A device with a valid challenge under `SCEP-Default`.
    pub fn valid(device: &str, user: &str) -> DevicePlan {
        DevicePlan {
            device: device.into(),
            user: user.into(),
            profile: "SCEP-Default".into(),
            challenge: ChallengePlan::Valid,
        }
    }

    /// A device whose challenge Intune never minted.
    pub fn foreign(device: &str, user: &str) -> DevicePlan {
        DevicePlan {
            challenge: ChallengePlan::Foreign,
            ..DevicePlan::valid(device, user)
        }
    }
}

/// What a device received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// A certificate over its key.
    Certificate {
        /// SHA-1 thumbprint, upper-case hex.
        thumbprint: String,
        /// Serial number, upper-case hex.
        serial_number: String,
        /// notAfter, Unix seconds.
        not_after: i64,
    },
    /// CertRep FAILURE.
    Failure(FailInfo),
    /// CertRep PENDING.
    Pending,
    /// No CertRep: an HTTP error, a transport error or an answer that does not verify.
    Error(String),
}

/// One device's enrollment, as it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceResult {
    /// The plan.
    pub plan: DevicePlan,
    /// The PKCSReq's transactionID.
    pub transaction_id: String,
    /// SHA-1 of the CSR's DER (how Intune's record names the request).
    pub csr_thumbprint: String,
    /// What it received.
    pub received: Received,
    /// `ScepActions` calls Intune had seen when the answer arrived.
    pub calls_before_answer: u64,
    /// `ScepActions` calls Intune had seen when the CA issued for this request, when the
    /// harness could watch the CA (the reference gateway).
    pub calls_before_issuance: Option<u64>,
}

/// Enrolls `plans` in order against the gateway at `url` (described by `server`).
pub async fn enroll_all(
    http: &reqwest::Client,
    url: &str,
    server: &Server,
    intune: &FakeIntune,
    plans: &[DevicePlan],
    rng: &mut Rng,
) -> Result<Vec<DeviceResult>, String> {
    let mut out = Vec::with_capacity(plans.len());
    for (n, plan) in plans.iter().enumerate() {
        out.push(enroll(http, url, server, intune, plan, n, rng).await?);
    }
    Ok(out)
}

async fn enroll(
    http: &reqwest::Client,
    url: &str,
    server: &Server,
    intune: &FakeIntune,
    plan: &DevicePlan,
    n: usize,
    rng: &mut Rng,
) -> Result<DeviceResult, String> {
    let challenge = match plan.challenge {
        ChallengePlan::Valid => {
            intune
                .mint_challenge(MintChallenge {
                    device_id: plan.device.clone(),
                    user_id: plan.user.clone(),
                    profile: plan.profile.clone(),
                    validity_seconds: 3600,
                })?
                .challenge
        }
        ChallengePlan::Foreign => intune.foreign_challenge(rng),
    };
    let key = crate::fixtures::device_key(n % crate::fixtures::DEVICE_KEYS.len())
        .map_err(|e| e.to_string())?;
    let csr =
        crate::pki::build_csr(&key, &plan.device, Some(&challenge)).map_err(|e| e.to_string())?;
    let me = Device::self_signed(key, &plan.device, rng).map_err(|e| e.to_string())?;
    let sent = client::build_pkcs_req(&me, &csr, &server.ra.encryption, &server.options, rng)
        .map_err(|e| e.to_string())?;
    let answer = http
        .post(format!(
            "{url}{}operation=PKIOperation",
            if url.contains('?') { '&' } else { '?' }
        ))
        .header("content-type", "application/x-pki-message")
        .body(sent.message.clone())
        .send()
        .await;
    let received = match answer {
        Err(e) => Received::Error(format!("PKIOperation: {e}")),
        Ok(resp) if !resp.status().is_success() => {
            Received::Error(format!("PKIOperation: HTTP {}", resp.status().as_u16()))
        }
        Ok(resp) => match resp.bytes().await {
            Err(e) => Received::Error(format!("PKIOperation: {e}")),
            Ok(bytes) => read(&bytes, &me, &sent, server),
        },
    };
    Ok(DeviceResult {
        plan: plan.clone(),
        transaction_id: sent.transaction_id,
        csr_thumbprint: crate::pki::thumbprint(&csr),
        received,
        calls_before_answer: intune.scep_calls_seen(),
        calls_before_issuance: None,
    })
}

fn read(bytes: &[u8], me: &Device, sent: &client::SentRequest, server: &Server) -> Received {
    match client::read_cert_rep(bytes, me, sent, Some(&server.ra.signer)) {
        Err(e) => Received::Error(format!("CertRep: {e}")),
        Ok(CertRepOutcome::Failure(f)) => Received::Failure(f),
        Ok(CertRepOutcome::Pending) => Received::Pending,
        Ok(CertRepOutcome::Success {
            certificate_der, ..
        }) => match Certificate::from_der(&certificate_der) {
            Err(e) => Received::Error(format!("issued certificate: {e}")),
            Ok(cert) => Received::Certificate {
                thumbprint: crate::pki::thumbprint(&certificate_der),
                serial_number: crate::pki::serial_hex(&cert),
                not_after: i64::try_from(
                    cert.tbs_certificate
                        .validity
                        .not_after
                        .to_unix_duration()
                        .as_secs(),
                )
                .unwrap_or(i64::MAX),
            },
        },
    }
}

/// A policy module wrapped so the harness sees when the CA issued: for each SCEP transaction
/// the CA issued for, how many `ScepActions` calls Intune had seen at that moment.
pub struct IssuanceWitness {
    inner: std::sync::Arc<dyn crate::contract::policy::PolicyModule>,
    counter: crate::fakes::intune::ScepCallCounter,
    seen: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

impl IssuanceWitness {
    /// Wraps `inner`, reading Intune's count through `counter`.
    pub fn new(
        inner: std::sync::Arc<dyn crate::contract::policy::PolicyModule>,
        counter: crate::fakes::intune::ScepCallCounter,
    ) -> IssuanceWitness {
        IssuanceWitness {
            inner,
            counter,
            seen: Default::default(),
        }
    }

    /// The count when the CA issued for `transaction_id`, if it did.
    pub fn issued_at(&self, transaction_id: &str) -> Option<u64> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(transaction_id)
            .copied()
    }
}

/// Most transactions a witness remembers.
const MAX_WITNESSED: usize = 100_000;

impl crate::contract::policy::PolicyModule for IssuanceWitness {
    fn verify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
    ) -> crate::contract::policy::PolicyFuture<'a, crate::contract::policy::Decision> {
        self.inner.verify(transaction_id, csr_der)
    }

    fn notify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: crate::contract::policy::Issued,
    ) -> crate::contract::policy::PolicyFuture<'a, ()> {
        self.inner.notify(transaction_id, csr_der, outcome)
    }

    fn conclude<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: crate::contract::policy::Issued,
    ) -> crate::contract::policy::PolicyFuture<'a, crate::contract::policy::Delivery> {
        if matches!(outcome, crate::contract::policy::Issued::Issued { .. }) {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.len() < MAX_WITNESSED {
                seen.insert(transaction_id.to_string(), self.counter.seen());
            }
        }
        self.inner.conclude(transaction_id, csr_der, outcome)
    }
}
