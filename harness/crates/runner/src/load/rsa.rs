//! The RSA-2048 private-operation rate of the harness's backend on one core: what bounds an
//! enrollment on the server side (NDES opens the envelope, NDES signs the CertRep, the CA
//! signs the certificate: three private operations).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::LoadError;
use crate::fixtures::{ISSUING_CA, RA_ENCRYPTION, RA_SIGNING};
use crate::pki::SignatureHash;

/// The driver's name in its errors.
const WHAT: &str = "measuring RSA";

/// Private operations per enrollment on the server side.
pub const PRIVATE_OPS_PER_ENROLLMENT: u32 = 3;

/// Rates measured on one thread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RsaRates {
    /// NDES: PKCS#1 v1.5 decryption of a content key (the RA encryption key), per second.
    pub decrypt_per_second: f64,
    /// NDES: PKCS#1 v1.5 SHA-256 signature (the RA signing key), per second.
    pub sign_per_second: f64,
    /// The fake CA: a certificate signature (rcgen, the issuing CA key), per second.
    pub ca_sign_per_second: f64,
    /// The three together: enrollments per second per core if nothing else cost anything.
    pub bound_per_core: f64,
}

fn rate(budget: Duration, mut op: impl FnMut() -> Result<(), LoadError>) -> Result<f64, LoadError> {
    // Warm up (tables, caches), then count whole operations until the budget is spent.
    op()?;
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < budget || n < 10 {
        op()?;
        n += 1;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Measures each operation for `budget` on the calling thread, through the same key types
/// the fake NDES ([`crate::pki::RsaKey`]) and the fake CA (rcgen) use.
pub fn measure(budget: Duration) -> Result<RsaRates, LoadError> {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::Pkcs1v15Encrypt;
    let enc = RA_ENCRYPTION.rsa_key().map_err(LoadError::fixture(WHAT))?;
    let sig = RA_SIGNING.rsa_key().map_err(LoadError::fixture(WHAT))?;
    let ca = ISSUING_CA.rcgen_key().map_err(LoadError::fixture(WHAT))?;
    let bench = |why: String| LoadError::Bench { what: WHAT, why };
    let mut rng = crate::sim::Rng::new(1);
    let public = rsa::RsaPrivateKey::from_pkcs8_pem(RA_ENCRYPTION.key_pem)
        .map(rsa::RsaPublicKey::from)
        .map_err(|e| bench(format!("reading the RA encryption key: {e}")))?;
    let ct = public
        .encrypt(&mut rng, Pkcs1v15Encrypt, &[7u8; 16])
        .map_err(|e| bench(format!("encrypting a content key: {e}")))?;
    let msg = [0x5au8; 200];
    let decrypt_per_second = rate(budget, || {
        enc.decrypt(&ct).map(drop).map_err(LoadError::pki(WHAT))
    })?;
    let sign_per_second = rate(budget, || {
        sig.sign(SignatureHash::Sha256, &msg)
            .map(drop)
            .map_err(LoadError::pki(WHAT))
    })?;
    let ca_sign_per_second = rate(budget, || {
        use rcgen::SigningKey;
        ca.sign(&msg)
            .map(drop)
            .map_err(|e| bench(format!("a CA signature: {e}")))
    })?;
    let per_enrollment =
        1.0 / decrypt_per_second + 1.0 / sign_per_second + 1.0 / ca_sign_per_second;
    Ok(RsaRates {
        decrypt_per_second,
        sign_per_second,
        ca_sign_per_second,
        bound_per_core: 1.0 / per_enrollment,
    })
}
