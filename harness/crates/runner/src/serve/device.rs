//! A SCEP device for whoever drives `serve` from Rust (its tests, the memory driver in
//! `examples/serve_memory.rs`): it fetches the RA certificates once (GetCACert), then enrolls
//! with a PKCSReq carrying a challenge and reads the CertRep. Keys come from the fixtures'
//! device pool, so enrolling costs no key generation; each request still has its own
//! transactionID and nonce.

use der::Decode;
use x509_cert::Certificate;

use crate::fixtures;
use crate::scep::{client, CertRepOutcome, Device, FailInfo, RaCerts, RequestOptions};
use crate::sim::Rng;

/// What an enrollment came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enrolled {
    /// CertRep SUCCESS: the issued certificate's serial (upper-case hex).
    Issued(String),
    /// CertRep FAILURE.
    Rejected(FailInfo),
    /// CertRep PENDING.
    Pending,
}

/// A device pool enrolling against one NDES URL.
pub struct ScepDevices {
    http: reqwest::Client,
    ndes: String,
    ra_encryption: Certificate,
    ra_signing: Certificate,
    signers: Vec<Device>,
}

impl ScepDevices {
    /// Asks `ndes` (an mscep.dll URL) for its certificates through `http`.
    pub async fn new(
        http: reqwest::Client,
        ndes: &str,
        rng: &mut Rng,
    ) -> Result<ScepDevices, String> {
        let resp = http
            .get(format!("{ndes}?operation=GetCACert&message=ca"))
            .send()
            .await
            .map_err(|e| format!("GetCACert: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("GetCACert: HTTP {}", resp.status()));
        }
        let bytes = resp.bytes().await.map_err(|e| format!("GetCACert: {e}"))?;
        let certs = crate::scep::parse_ca_certs(&bytes).map_err(|e| format!("GetCACert: {e}"))?;
        let ra = RaCerts::select(certs).map_err(|e| format!("GetCACert: {e}"))?;
        let mut signers = Vec::new();
        for n in 0..fixtures::DEVICE_KEYS.len() {
            let key = fixtures::device_key(n).map_err(|e| e.to_string())?;
            signers.push(
                Device::self_signed(key, &format!("device-{n}"), rng).map_err(|e| e.to_string())?,
            );
        }
        Ok(ScepDevices {
            http,
            ndes: ndes.to_string(),
            ra_encryption: ra.encryption,
            ra_signing: ra.signer,
            signers,
        })
    }

    /// Enrolls `cn` with `challenge` (key `n` of the pool, wrapping).
    pub async fn enroll(
        &self,
        n: usize,
        cn: &str,
        challenge: Option<&str>,
        rng: &mut Rng,
    ) -> Result<Enrolled, String> {
        let me = &self.signers[n % self.signers.len()];
        let csr = crate::pki::build_csr(&me.key, cn, challenge).map_err(|e| e.to_string())?;
        let sent = client::build_pkcs_req(
            me,
            &csr,
            &self.ra_encryption,
            &RequestOptions::default(),
            rng,
        )
        .map_err(|e| e.to_string())?;
        let resp = self
            .http
            .post(format!("{}?operation=PKIOperation", self.ndes))
            .header("content-type", "application/x-pki-message")
            .body(sent.message.clone())
            .send()
            .await
            .map_err(|e| format!("PKIOperation: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("PKIOperation: HTTP {}", resp.status()));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("PKIOperation: {e}"))?;
        match client::read_cert_rep(&bytes, me, &sent, Some(&self.ra_signing))
            .map_err(|e| format!("CertRep: {e}"))?
        {
            CertRepOutcome::Success {
                certificate_der, ..
            } => {
                let cert = Certificate::from_der(&certificate_der)
                    .map_err(|e| format!("issued certificate: {e}"))?;
                Ok(Enrolled::Issued(crate::pki::serial_hex(&cert)))
            }
            CertRepOutcome::Failure(f) => Ok(Enrolled::Rejected(f)),
            CertRepOutcome::Pending => Ok(Enrolled::Pending),
        }
    }
}
