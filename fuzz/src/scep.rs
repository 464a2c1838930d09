//! The fixed SCEP world of the `scep_pki_message` target: NDES's RA pair (the fixture
//! certificates and keys the fake NDES uses) and one device with one PKCSReq already sent, so
//! that a CertRep can be read as the device reads the answer to its request.

use std::sync::OnceLock;

use harness_runner::csr::CsrSpec;
use harness_runner::fixtures;
use harness_runner::pki::RsaKey;
use harness_runner::scep::client::build_pkcs_req;
use harness_runner::scep::{Device, RequestOptions, SentRequest};
use harness_runner::sim::Rng;
use x509_cert::Certificate;

/// The device's common name (also the CSR's subject).
pub const DEVICE_CN: &str = "fuzz-device";

/// Everything a SCEP input is read against.
pub struct Fixed {
    /// NDES's RA signing certificate (it signs CertReps).
    pub ra_signing: Certificate,
    /// Its key.
    pub ra_signing_key: RsaKey,
    /// NDES's RA encryption certificate (requests are enveloped to it).
    pub ra_encryption: Certificate,
    /// Its key, with which NDES opens envelopes.
    pub ra_encryption_key: RsaKey,
    /// The device.
    pub device: Device,
    /// The device's PKCS#10.
    pub csr: Vec<u8>,
    /// The PKCSReq the device sent (the CertRep must answer it).
    pub sent: SentRequest,
}

fn build() -> Result<Fixed, String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let key = fixtures::device_key(0).map_err(|x| e(&x))?;
    let device = Device::self_signed(key, DEVICE_CN, &mut Rng::new(1)).map_err(|x| e(&x))?;
    let csr = CsrSpec::simple(DEVICE_CN, Some("fuzz-challenge"))
        .build(&device.key)
        .map_err(|x| e(&x))?;
    let ra_encryption = fixtures::RA_ENCRYPTION.certificate().map_err(|x| e(&x))?;
    let sent = build_pkcs_req(
        &device,
        &csr,
        &ra_encryption,
        &RequestOptions::default(),
        &mut Rng::new(2),
    )
    .map_err(|x| e(&x))?;
    Ok(Fixed {
        ra_signing: fixtures::RA_SIGNING.certificate().map_err(|x| e(&x))?,
        ra_signing_key: fixtures::RA_SIGNING.rsa_key().map_err(|x| e(&x))?,
        ra_encryption,
        ra_encryption_key: fixtures::RA_ENCRYPTION.rsa_key().map_err(|x| e(&x))?,
        device,
        csr,
        sent,
    })
}

/// The fixed world, built once per process.
///
/// # Panics
/// When the compiled-in fixtures do not load (a broken build, not an input).
pub fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| build().expect("the fixture identities load"))
}
