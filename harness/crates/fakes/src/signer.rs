//! Certificate signing shared by the fakes that issue: the fake CA (PKCS and SCEP leaves) and
//! the fake Intune (the connector's registration and signing certificates). Both sign with the
//! test issuing CA; neither reaches into the other. Requests are read with [`crate::csr`], so
//! whatever real clients send (SHA-1 signatures, requested extensions) can be issued.

use rcgen::{
    CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use time::OffsetDateTime;

use crate::csr::{Csr, San};
use crate::fixtures::{ISSUING_CA, ROOT_CA};
use crate::sim::Rng;
use crate::FakeError;

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

/// What a signed certificate carries besides the request's subject and key.
pub(crate) struct SignSpec<'a> {
    pub serial: &'a [u8],
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub key_usages: Vec<KeyUsagePurpose>,
    pub extended_key_usages: Vec<ExtendedKeyUsagePurpose>,
    pub sans: Vec<SanType>,
}

/// A request read, checked and ready to sign: the subject and key it names.
pub(crate) struct Signable {
    pub csr: Csr,
    key: rcgen::SubjectPublicKeyInfo,
}

impl Signable {
    /// Reads a PKCS#10 request and checks its signature (SHA-1 and SHA-256 both accepted, as
    /// real clients send both). Peer input: errors are texts for a 400.
    pub(crate) fn read(der: &[u8]) -> Result<Signable, String> {
        let csr = Csr::read(der).map_err(|e| e.to_string())?;
        csr.verify().map_err(|e| e.to_string())?;
        let spki = csr.public_key_der().map_err(|e| e.to_string())?;
        let key = rcgen::SubjectPublicKeyInfo::from_der(&spki)
            .map_err(|e| format!("certificate request: unsupported public key: {e}"))?;
        Ok(Signable { csr, key })
    }

    /// The subject alternative names the request asks for, as rcgen writes them.
    pub(crate) fn requested_sans(&self) -> Result<Vec<SanType>, String> {
        self.csr
            .sans
            .iter()
            .map(|s| {
                Ok(match s {
                    San::Dns(d) => SanType::DnsName(
                        d.clone()
                            .try_into()
                            .map_err(|_| format!("dNSName `{d}` is not IA5"))?,
                    ),
                    San::Email(e) => SanType::Rfc822Name(
                        e.clone()
                            .try_into()
                            .map_err(|_| format!("rfc822Name `{e}` is not IA5"))?,
                    ),
                    San::Upn(u) => {
                        SanType::OtherName((oid_arcs(&crate::csr::UPN), u.clone().into()))
                    }
                })
            })
            .collect()
    }
}

fn oid_arcs(oid: &der::oid::ObjectIdentifier) -> Vec<u64> {
    oid.arcs().map(u64::from).collect()
}

/// An extended key usage as rcgen writes it.
pub(crate) fn eku(oid: &der::oid::ObjectIdentifier) -> ExtendedKeyUsagePurpose {
    match *oid {
        crate::csr::CLIENT_AUTH => ExtendedKeyUsagePurpose::ClientAuth,
        crate::csr::SERVER_AUTH => ExtendedKeyUsagePurpose::ServerAuth,
        other => ExtendedKeyUsagePurpose::Other(oid_arcs(&other)),
    }
}

/// The request's subject, attribute by attribute, as rcgen writes it.
fn subject(name: &x509_cert::name::Name) -> DistinguishedName {
    use der::Tagged;
    let mut dn = DistinguishedName::new();
    for atv in name.0.iter().flat_map(|rdn| rdn.0.iter()) {
        let ty = match atv.oid {
            const_oid::db::rfc4519::CN => DnType::CommonName,
            const_oid::db::rfc4519::O => DnType::OrganizationName,
            const_oid::db::rfc4519::OU => DnType::OrganizationalUnitName,
            const_oid::db::rfc4519::C => DnType::CountryName,
            const_oid::db::rfc4519::ST => DnType::StateOrProvinceName,
            const_oid::db::rfc4519::L => DnType::LocalityName,
            other => DnType::CustomDnType(oid_arcs(&other)),
        };
        let text = String::from_utf8_lossy(atv.value.value()).into_owned();
        let value = match atv.value.tag() {
            der::Tag::PrintableString => rcgen::string::PrintableString::try_from(text.clone())
                .map(DnValue::PrintableString)
                .unwrap_or(DnValue::Utf8String(text)),
            der::Tag::Ia5String => rcgen::string::Ia5String::try_from(text.clone())
                .map(DnValue::Ia5String)
                .unwrap_or(DnValue::Utf8String(text)),
            _ => DnValue::Utf8String(text),
        };
        dn.push(ty, value);
    }
    dn
}

/// The issuing CA as a signer.
pub struct Signer {
    /// The issuing CA's certificate and key, as rcgen signs with them.
    pub issuer: Issuer<'static, KeyPair>,
    issuing_der: Vec<u8>,
    root_der: Vec<u8>,
}

impl Signer {
    /// The fixture issuing CA.
    pub fn issuing_ca() -> Result<Signer, FakeError> {
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

    /// Signs a leaf for the request's subject and key, with what `spec` says.
    pub(crate) fn sign(&self, req: &Signable, spec: SignSpec<'_>) -> Result<Vec<u8>, String> {
        let mut params = CertificateParams::default();
        params.distinguished_name = subject(&req.csr.request.info.subject);
        params.subject_alt_names = spec.sans;
        params.not_before = whole_seconds(spec.not_before);
        params.not_after = whole_seconds(spec.not_after);
        params.serial_number = Some(SerialNumber::from_slice(spec.serial));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = spec.key_usages;
        params.extended_key_usages = spec.extended_key_usages;
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::Sha256;
        let cert = params
            .signed_by(&req.key, &self.issuer)
            .map_err(|e| format!("signing: {e}"))?;
        Ok(cert.der().to_vec())
    }

    /// Issuing CA then root, DER.
    pub(crate) fn chain_der(&self) -> [&[u8]; 2] {
        [&self.issuing_der, &self.root_der]
    }
}
