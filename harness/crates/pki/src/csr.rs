//! PKCS#10 certificate requests as real clients send them: built with a subject, subject
//! alternative names (UPN, DNS, e-mail), key usage, extended key usage and a subject key
//! identifier in an extensionRequest, signed with SHA-1 or SHA-256; read back with every one
//! of those, the key length and the challengePassword, and their signature checked.
//!
//! The fake Intune validates requests against a SCEP profile with [`Csr::read`]; the fake CA
//! issues from it; the device simulator builds with [`CsrSpec`].

use std::str::FromStr;

use der::asn1::{Any, BitString, Ia5String, OctetString, SetOfVec, Utf8StringRef};
use der::{Decode, Encode};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use signature::Verifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    ExtendedKeyUsage, KeyUsage as KeyUsageExt, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, Version};

use crate::pki::{common_name, RsaKey, SignatureHash, CHALLENGE_PASSWORD};

/// PKCS#9 extensionRequest (1.2.840.113549.1.9.14).
pub const EXTENSION_REQUEST: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14");
/// Microsoft's UPN other-name (1.3.6.1.4.1.311.20.2.3).
pub const UPN: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.3");
/// sha1WithRSAEncryption.
pub const SHA1_WITH_RSA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
/// sha256WithRSAEncryption.
pub const SHA256_WITH_RSA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// id-kp-clientAuth.
pub const CLIENT_AUTH: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-kp-serverAuth.
pub const SERVER_AUTH: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

/// Errors building or reading a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrError {
    /// DER that does not decode as a PKCS#10 request (or a part of one).
    #[error("certificate request: {0}")]
    Decode(String),
    /// A request that cannot be built from the spec.
    #[error("building a certificate request: {0}")]
    Build(String),
}

fn build(e: impl std::fmt::Display) -> CsrError {
    CsrError::Build(e.to_string())
}

fn decode(e: impl std::fmt::Display) -> CsrError {
    CsrError::Decode(e.to_string())
}

/// A subject alternative name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum San {
    /// Microsoft UPN other-name.
    Upn(String),
    /// dNSName.
    Dns(String),
    /// rfc822Name (e-mail).
    Email(String),
}

impl std::fmt::Display for San {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            San::Upn(v) => write!(f, "UPN {v}"),
            San::Dns(v) => write!(f, "DNS {v}"),
            San::Email(v) => write!(f, "e-mail {v}"),
        }
    }
}

/// The digest a request is signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CsrDigest {
    /// sha1WithRSAEncryption, as older clients still send.
    Sha1,
    /// sha256WithRSAEncryption.
    #[default]
    Sha256,
}

// The one key-usage type: scenarios name it (its schema keeps the name `KeyUsageName`), the
// fake CA's templates put it in certificates, CSRs ask for it.
/// A key usage bit.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "KeyUsageName")]
pub enum KeyUse {
    /// digitalSignature.
    DigitalSignature,
    /// nonRepudiation.
    NonRepudiation,
    /// keyEncipherment.
    KeyEncipherment,
    /// dataEncipherment.
    DataEncipherment,
    /// keyAgreement.
    KeyAgreement,
}

impl KeyUse {
    /// The bit's name as RFC 5280 spells it (`digitalSignature`).
    pub fn name(self) -> &'static str {
        match self {
            KeyUse::DigitalSignature => "digitalSignature",
            KeyUse::NonRepudiation => "nonRepudiation",
            KeyUse::KeyEncipherment => "keyEncipherment",
            KeyUse::DataEncipherment => "dataEncipherment",
            KeyUse::KeyAgreement => "keyAgreement",
        }
    }

    /// The bit as rcgen names it, for a certificate that carries it.
    pub fn rcgen(self) -> rcgen::KeyUsagePurpose {
        use rcgen::KeyUsagePurpose as P;
        match self {
            KeyUse::DigitalSignature => P::DigitalSignature,
            KeyUse::NonRepudiation => P::ContentCommitment,
            KeyUse::KeyEncipherment => P::KeyEncipherment,
            KeyUse::DataEncipherment => P::DataEncipherment,
            KeyUse::KeyAgreement => P::KeyAgreement,
        }
    }

    fn flag(self) -> KeyUsages {
        match self {
            KeyUse::DigitalSignature => KeyUsages::DigitalSignature,
            KeyUse::NonRepudiation => KeyUsages::NonRepudiation,
            KeyUse::KeyEncipherment => KeyUsages::KeyEncipherment,
            KeyUse::DataEncipherment => KeyUsages::DataEncipherment,
            KeyUse::KeyAgreement => KeyUsages::KeyAgreement,
        }
    }

    const ALL: [KeyUse; 5] = [
        KeyUse::DigitalSignature,
        KeyUse::NonRepudiation,
        KeyUse::KeyEncipherment,
        KeyUse::DataEncipherment,
        KeyUse::KeyAgreement,
    ];
}

/// What a request to build carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsrSpec {
    /// Subject common name; `None` builds an empty subject.
    pub common_name: Option<String>,
    /// The challengePassword attribute.
    pub challenge: Option<String>,
    /// Subject alternative names (an extensionRequest when not empty).
    pub sans: Vec<San>,
    /// Requested key usage (none when empty).
    pub key_usage: Vec<KeyUse>,
    /// Requested extended key usages (none when empty).
    pub extended_key_usage: Vec<der::oid::ObjectIdentifier>,
    /// Add a subject key identifier extension.
    pub subject_key_identifier: bool,
    /// Signature digest.
    pub digest: CsrDigest,
}

impl CsrSpec {
    /// `CN=<cn>` with `challenge`, SHA-256, no extensions.
    pub fn simple(cn: &str, challenge: Option<&str>) -> CsrSpec {
        CsrSpec {
            common_name: Some(cn.to_string()),
            challenge: challenge.map(str::to_string),
            ..CsrSpec::default()
        }
    }

    fn extensions(&self, spki: &SubjectPublicKeyInfoOwned) -> Result<Vec<Extension>, CsrError> {
        let mut out = Vec::new();
        let mut push = |oid, value: Vec<u8>| -> Result<(), CsrError> {
            out.push(Extension {
                extn_id: oid,
                critical: false,
                extn_value: OctetString::new(value).map_err(build)?,
            });
            Ok(())
        };
        if !self.sans.is_empty() {
            let names = self
                .sans
                .iter()
                .map(general_name)
                .collect::<Result<Vec<_>, _>>()?;
            push(
                const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME,
                SubjectAltName(names).to_der().map_err(build)?,
            )?;
        }
        if !self.key_usage.is_empty() {
            let mut flags = der::flagset::FlagSet::<KeyUsages>::default();
            for k in &self.key_usage {
                flags |= k.flag();
            }
            push(
                const_oid::db::rfc5280::ID_CE_KEY_USAGE,
                KeyUsageExt(flags).to_der().map_err(build)?,
            )?;
        }
        if !self.extended_key_usage.is_empty() {
            push(
                const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE,
                ExtendedKeyUsage(self.extended_key_usage.clone())
                    .to_der()
                    .map_err(build)?,
            )?;
        }
        if self.subject_key_identifier {
            let key_bits = spki.subject_public_key.raw_bytes();
            let id = OctetString::new(Sha1::digest(key_bits).to_vec()).map_err(build)?;
            push(
                const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
                SubjectKeyIdentifier(id).to_der().map_err(build)?,
            )?;
        }
        Ok(out)
    }

    /// Builds and signs the request with `key`.
    pub fn build(&self, key: &RsaKey) -> Result<Vec<u8>, CsrError> {
        let public_key = SubjectPublicKeyInfoOwned::from_der(key.spki_der()).map_err(build)?;
        let mut attributes = SetOfVec::new();
        if let Some(pw) = &self.challenge {
            let value = match der::asn1::PrintableStringRef::new(pw) {
                Ok(p) => Any::encode_from(&p),
                Err(_) => Any::encode_from(&Utf8StringRef::new(pw).map_err(build)?),
            }
            .map_err(build)?;
            attributes
                .insert(Attribute {
                    oid: CHALLENGE_PASSWORD,
                    values: SetOfVec::try_from(vec![value]).map_err(build)?,
                })
                .map_err(build)?;
        }
        let extensions = self.extensions(&public_key)?;
        if !extensions.is_empty() {
            let value = Any::encode_from(&extensions).map_err(build)?;
            attributes
                .insert(Attribute {
                    oid: EXTENSION_REQUEST,
                    values: SetOfVec::try_from(vec![value]).map_err(build)?,
                })
                .map_err(build)?;
        }
        let subject = match &self.common_name {
            Some(cn) => crate::pki::cn_name(cn).map_err(build)?,
            None => Name::default(),
        };
        let info = CertReqInfo {
            version: Version::V1,
            subject,
            public_key,
            attributes,
        };
        let tbs = info.to_der().map_err(build)?;
        let (oid, hash) = match self.digest {
            CsrDigest::Sha1 => (SHA1_WITH_RSA, SignatureHash::Sha1),
            CsrDigest::Sha256 => (SHA256_WITH_RSA, SignatureHash::Sha256),
        };
        let sig = key.sign(hash, &tbs).map_err(build)?;
        CertReq {
            info,
            algorithm: AlgorithmIdentifierOwned {
                oid,
                parameters: Some(Any::null()),
            },
            signature: BitString::from_bytes(&sig).map_err(build)?,
        }
        .to_der()
        .map_err(build)
    }
}

fn general_name(san: &San) -> Result<GeneralName, CsrError> {
    Ok(match san {
        San::Dns(d) => GeneralName::DnsName(Ia5String::new(d).map_err(build)?),
        San::Email(e) => GeneralName::Rfc822Name(Ia5String::new(e).map_err(build)?),
        San::Upn(u) => GeneralName::OtherName(OtherName {
            type_id: UPN,
            value: Any::encode_from(&Utf8StringRef::new(u).map_err(build)?).map_err(build)?,
        }),
    })
}

/// A request read back.
#[derive(Clone, Debug)]
pub struct Csr {
    /// The whole request.
    pub request: CertReq,
    /// Subject common name.
    pub common_name: Option<String>,
    /// The challengePassword.
    pub challenge: Option<String>,
    /// Requested subject alternative names (other kinds are skipped).
    pub sans: Vec<San>,
    /// Requested key usage, if the request asks for one.
    pub key_usage: Option<Vec<KeyUse>>,
    /// Requested extended key usages, if the request asks for any.
    pub extended_key_usage: Option<Vec<der::oid::ObjectIdentifier>>,
    /// Every requested extension, as sent.
    pub extensions: Vec<Extension>,
    /// RSA modulus length in bits (0 for other key types).
    pub key_bits: usize,
    /// The signature's digest, if it is one we know.
    pub digest: Option<CsrDigest>,
}

impl Csr {
    /// Parses a request (the signature is not checked; see [`Csr::verify`]).
    pub fn read(der: &[u8]) -> Result<Csr, CsrError> {
        let request = CertReq::from_der(der).map_err(decode)?;
        let info = &request.info;
        let challenge = info
            .attributes
            .iter()
            .find(|a| a.oid == CHALLENGE_PASSWORD)
            .and_then(|a| a.values.iter().next())
            .and_then(directory_string);
        let extensions: Vec<Extension> = match info
            .attributes
            .iter()
            .find(|a| a.oid == EXTENSION_REQUEST)
            .and_then(|a| a.values.iter().next())
        {
            Some(v) => v.decode_as::<Vec<Extension>>().map_err(decode)?,
            None => Vec::new(),
        };
        let mut sans = Vec::new();
        let mut key_usage = None;
        let mut extended_key_usage = None;
        for e in &extensions {
            let bytes = e.extn_value.as_bytes();
            match e.extn_id {
                const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME => {
                    let names = SubjectAltName::from_der(bytes).map_err(decode)?;
                    sans.extend(names.0.iter().filter_map(read_san));
                }
                const_oid::db::rfc5280::ID_CE_KEY_USAGE => {
                    let ku = KeyUsageExt::from_der(bytes).map_err(decode)?;
                    key_usage = Some(
                        KeyUse::ALL
                            .into_iter()
                            .filter(|k| ku.0.contains(k.flag()))
                            .collect(),
                    );
                }
                const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE => {
                    extended_key_usage = Some(ExtendedKeyUsage::from_der(bytes).map_err(decode)?.0);
                }
                _ => {}
            }
        }
        let key_bits = info
            .public_key
            .to_der()
            .ok()
            .and_then(|d| RsaPublicKey::from_public_key_der(&d).ok())
            .map(|k| k.n().bits())
            .unwrap_or(0);
        let digest = match request.algorithm.oid {
            SHA1_WITH_RSA => Some(CsrDigest::Sha1),
            SHA256_WITH_RSA => Some(CsrDigest::Sha256),
            _ => None,
        };
        Ok(Csr {
            common_name: common_name(&info.subject),
            challenge,
            sans,
            key_usage,
            extended_key_usage,
            extensions,
            key_bits,
            digest,
            request,
        })
    }

    /// Checks the request's signature over its info with its own key (the public-key operation
    /// runs on aws-lc-rs; RustCrypto only reads the key, so errors keep their wording).
    pub fn verify(&self) -> Result<(), CsrError> {
        use aws_lc_rs::signature::{
            ParsedPublicKey, RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY as SHA1,
            RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY as SHA256,
        };
        let info = self.request.info.to_der().map_err(decode)?;
        let spki = self.request.info.public_key.to_der().map_err(decode)?;
        let key = RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| CsrError::Decode(format!("the request's key is not RSA: {e}")))?;
        let sig = Signature::try_from(self.request.signature.raw_bytes()).map_err(decode)?;
        let algorithm = match self.digest {
            Some(CsrDigest::Sha1) => &SHA1,
            Some(CsrDigest::Sha256) => &SHA256,
            None => {
                return Err(CsrError::Decode(format!(
                    "signature algorithm {} is not supported",
                    self.request.algorithm.oid
                )))
            }
        };
        let bad = || CsrError::Decode("the signature does not verify".into());
        if !(1024..=8192).contains(&key.size().saturating_mul(8)) {
            // Outside what aws-lc-rs verifies: RustCrypto, as before.
            let checked = match self.digest {
                Some(CsrDigest::Sha1) => VerifyingKey::<Sha1>::new(key).verify(&info, &sig),
                _ => VerifyingKey::<Sha256>::new(key).verify(&info, &sig),
            };
            return checked.map_err(|_| bad());
        }
        let public = self.request.info.public_key.subject_public_key.raw_bytes();
        ParsedPublicKey::new(algorithm, public)
            .map_err(|_| bad())?
            .verify_sig(&info, self.request.signature.raw_bytes())
            .map_err(|_| bad())
    }

    /// The subject public key info, DER.
    pub fn public_key_der(&self) -> Result<Vec<u8>, CsrError> {
        self.request.info.public_key.to_der().map_err(decode)
    }

    /// SHA-256 of the subject public key info, upper-case hex: a stable id for the key.
    pub fn key_id(&self) -> String {
        let spki = self.public_key_der().unwrap_or_default();
        hex::encode_upper(Sha256::digest(spki))
    }
}

fn read_san(name: &GeneralName) -> Option<San> {
    match name {
        GeneralName::DnsName(d) => Some(San::Dns(d.to_string())),
        GeneralName::Rfc822Name(e) => Some(San::Email(e.to_string())),
        GeneralName::OtherName(o) if o.type_id == UPN => directory_string(&o.value).map(San::Upn),
        _ => None,
    }
}

fn directory_string(any: &Any) -> Option<String> {
    use der::Tagged;
    match any.tag() {
        der::Tag::PrintableString => any
            .decode_as::<der::asn1::PrintableStringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_string()),
        der::Tag::Utf8String => any
            .decode_as::<Utf8StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_string()),
        der::Tag::Ia5String => any
            .decode_as::<der::asn1::Ia5StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_string()),
        _ => None,
    }
}

impl FromStr for KeyUse {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "digital_signature" => KeyUse::DigitalSignature,
            "non_repudiation" => KeyUse::NonRepudiation,
            "key_encipherment" => KeyUse::KeyEncipherment,
            "data_encipherment" => KeyUse::DataEncipherment,
            "key_agreement" => KeyUse::KeyAgreement,
            other => return Err(format!("unknown key usage `{other}`")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SHA-256 request verifies, and one with its signature changed does not.
    #[test]
    fn sha256_verifies_and_a_changed_signature_does_not() {
        let key = crate::fixtures::device_key(1).expect("key");
        let spec = CsrSpec {
            common_name: Some("dev-8".into()),
            digest: CsrDigest::Sha256,
            ..CsrSpec::default()
        };
        let der = spec.build(&key).expect("build");
        Csr::read(&der).expect("read").verify().expect("signature");
        let mut bad = der.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let err = Csr::read(&bad).expect("still parses").verify();
        assert!(
            matches!(&err, Err(CsrError::Decode(m)) if m == "the signature does not verify"),
            "{err:?}"
        );
    }

    #[test]
    fn every_field_round_trips_and_sha1_verifies() {
        let key = crate::fixtures::device_key(0).expect("key");
        let spec = CsrSpec {
            common_name: Some("dev-7".into()),
            challenge: Some("pw".into()),
            sans: vec![
                San::Upn("alice@contoso.test".into()),
                San::Dns("dev-7.contoso.test".into()),
                San::Email("alice@contoso.test".into()),
            ],
            key_usage: vec![KeyUse::DigitalSignature, KeyUse::KeyEncipherment],
            extended_key_usage: vec![CLIENT_AUTH],
            subject_key_identifier: true,
            digest: CsrDigest::Sha1,
        };
        let der = spec.build(&key).expect("build");
        let csr = Csr::read(&der).expect("read");
        csr.verify().expect("signature");
        assert_eq!(csr.common_name.as_deref(), Some("dev-7"));
        assert_eq!(csr.challenge.as_deref(), Some("pw"));
        assert_eq!(csr.sans, spec.sans);
        assert_eq!(csr.key_usage, Some(spec.key_usage.clone()));
        assert_eq!(csr.extended_key_usage, Some(vec![CLIENT_AUTH]));
        assert_eq!(csr.extensions.len(), 4);
        assert_eq!(csr.key_bits, 2048);
        assert_eq!(csr.digest, Some(CsrDigest::Sha1));
        // The same request with one byte of the subject changed no longer verifies.
        let mut bad = der.clone();
        let at = bad
            .windows(5)
            .position(|w| w == b"dev-7")
            .expect("subject bytes");
        bad[at] = b'x';
        assert!(Csr::read(&bad).expect("still parses").verify().is_err());
        assert!(Csr::read(&der[..der.len() / 2]).is_err());
    }

    #[test]
    fn an_empty_subject_and_no_extensions() {
        let key = crate::fixtures::device_key(1).expect("key");
        let der = CsrSpec::default().build(&key).expect("build");
        let csr = Csr::read(&der).expect("read");
        csr.verify().expect("signature");
        assert_eq!(csr.common_name, None);
        assert!(csr.sans.is_empty() && csr.key_usage.is_none() && csr.extensions.is_empty());
    }
}
