//! Certificate signing shared by the fakes that issue: the fake CA (PKCS and SCEP leaves) and
//! the fake Intune (the connector's registration certificate). Both sign with the test issuing
//! CA; neither reaches into the other.

use rcgen::{
    CertificateParams, CertificateSigningRequestParams, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::OffsetDateTime;

use crate::fakes::FakeError;
use crate::fixtures::{ISSUING_CA, ROOT_CA};
use crate::sim::Rng;

/// What `malformed` answers: not JSON, not DER, not PEM.
pub(crate) const MALFORMED_BODY: &str = "{\"serialNumber\": \"3F2A<html>";

/// Scenario time truncated to whole seconds (what X.509 can carry).
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

/// A 16-byte positive serial (top bit cleared, first byte non-zero so the DER keeps 16 bytes).
pub(crate) fn draw_serial(rng: &mut Rng) -> Vec<u8> {
    let mut b = rng.bytes(16);
    b[0] = (b[0] & 0x7f).max(1);
    b
}

/// The issuing CA as a signer.
pub(crate) struct Signer {
    pub(crate) issuer: Issuer<'static, KeyPair>,
    issuing_der: Vec<u8>,
    root_der: Vec<u8>,
}

/// What a signed certificate should carry besides the CSR's subject and key.
pub(crate) struct SignSpec<'a> {
    pub serial: &'a [u8],
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub key_usages: Vec<KeyUsagePurpose>,
}

impl Signer {
    /// The fixture issuing CA.
    pub(crate) fn issuing_ca() -> Result<Signer, FakeError> {
        let key = ISSUING_CA.rcgen_key()?;
        let issuing_der = ISSUING_CA.cert_der()?;
        let root_der = ROOT_CA.cert_der()?;
        let issuer = Issuer::from_ca_cert_der(&issuing_der.as_slice().into(), key)
            .map_err(|e| FakeError::Config(format!("issuing CA certificate: {e}")))?;
        Ok(Signer {
            issuer,
            issuing_der,
            root_der,
        })
    }

    /// Parses and verifies a PKCS#10 request (peer input: errors are texts for a 400).
    pub(crate) fn parse_csr(der: &[u8]) -> Result<CertificateSigningRequestParams, String> {
        CertificateSigningRequestParams::from_der(&der.into())
            .map_err(|e| format!("certificate request: {e}"))
    }

    /// Signs a leaf for the CSR's subject (and SANs) and public key, EKU clientAuth.
    pub(crate) fn sign(
        &self,
        csr: &CertificateSigningRequestParams,
        spec: SignSpec<'_>,
    ) -> Result<Vec<u8>, String> {
        let mut params = CertificateParams::default();
        params.distinguished_name = csr.params.distinguished_name.clone();
        params.subject_alt_names = csr.params.subject_alt_names.clone();
        params.not_before = whole_seconds(spec.not_before);
        params.not_after = whole_seconds(spec.not_after);
        params.serial_number = Some(SerialNumber::from_slice(spec.serial));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = spec.key_usages;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::Sha256;
        let cert = params
            .signed_by(&csr.public_key, &self.issuer)
            .map_err(|e| format!("signing: {e}"))?;
        Ok(cert.der().to_vec())
    }

    /// Issuing CA then root, DER.
    pub(crate) fn chain_der(&self) -> [&[u8]; 2] {
        [&self.issuing_der, &self.root_der]
    }
}
