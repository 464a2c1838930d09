//! Small PKI helpers shared by the fakes, the device simulator and the connector: building and
//! reading PKCS#10 requests (with the SCEP challengePassword), thumbprints, serials, base64,
//! and [`RsaKey`], the private key every private-key operation goes through.

mod key;

pub use key::{RsaKey, SignatureHash};

use std::str::FromStr;

use base64::Engine;
use der::asn1::{Any, BitString, Ia5StringRef, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::{Decode, Encode, Tag, Tagged};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::Attribute;
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, Version};

/// PKCS#9 challengePassword (1.2.840.113549.1.9.7).
pub const CHALLENGE_PASSWORD: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.7");
/// sha256WithRSAEncryption.
pub const SHA256_WITH_RSA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// Errors building or reading PKI objects.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// DER that does not decode.
    #[error("{what}: {why}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        why: String,
    },
    /// Something that could not be encoded or signed.
    #[error("{0}")]
    Build(String),
}

fn decode_err(what: &'static str) -> impl Fn(der::Error) -> PkiError {
    move |e| PkiError::Decode {
        what,
        why: e.to_string(),
    }
}

/// Standard base64 (with padding).
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64, tolerating surrounding white space.
pub fn unb64(text: &str) -> Result<Vec<u8>, PkiError> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean)
        .map_err(|e| PkiError::Decode {
            what: "base64",
            why: e.to_string(),
        })
}

/// Windows-style thumbprint: SHA-1 of the DER, upper-case hex.
pub fn thumbprint(cert_der: &[u8]) -> String {
    hex::encode_upper(Sha1::digest(cert_der))
}

/// SHA-256 of `der`, upper-case hex: how the CA and the conformance rules name a request.
pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(der))
}

/// A certificate's serial number as upper-case hex without leading zero bytes.
pub fn serial_hex(cert: &x509_cert::Certificate) -> String {
    let bytes = cert.tbs_certificate.serial_number.as_bytes();
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if trimmed.is_empty() {
        "00".into()
    } else {
        hex::encode_upper(trimmed)
    }
}

/// Normalises a hex serial typed by a person or a peer (case, colons, spaces, leading zeros).
pub fn normalize_serial(s: &str) -> Option<String> {
    let h: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect::<String>()
        .to_ascii_uppercase();
    if h.is_empty() || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let t = h.trim_start_matches('0');
    let t = if t.is_empty() { "0" } else { t };
    // Whole bytes, as serial_hex prints them.
    Some(if t.len() % 2 == 1 {
        format!("0{t}")
    } else {
        t.to_string()
    })
}

/// Builds a `CN=<cn>` name.
pub fn cn_name(cn: &str) -> Result<Name, PkiError> {
    let escaped = cn
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace('+', "\\+")
        .replace('=', "\\=");
    Name::from_str(&format!("CN={escaped}"))
        .map_err(|e| PkiError::Build(format!("subject CN={cn}: {e}")))
}

/// Builds a PKCS#10 request for `CN=<cn>`, signed with SHA-256, carrying `challenge` as the
/// PKCS#9 challengePassword (PrintableString when it fits, else UTF8String).
pub fn build_csr(key: &RsaKey, cn: &str, challenge: Option<&str>) -> Result<Vec<u8>, PkiError> {
    let public_key =
        SubjectPublicKeyInfoOwned::from_der(key.spki_der()).map_err(decode_err("public key"))?;
    let mut attributes = SetOfVec::new();
    if let Some(pw) = challenge {
        let value = match PrintableStringRef::new(pw) {
            Ok(p) => Any::encode_from(&p),
            Err(_) => Any::encode_from(
                &Utf8StringRef::new(pw).map_err(|e| PkiError::Build(e.to_string()))?,
            ),
        }
        .map_err(|e| PkiError::Build(e.to_string()))?;
        let values = SetOfVec::try_from(vec![value]).map_err(|e| PkiError::Build(e.to_string()))?;
        attributes
            .insert(Attribute {
                oid: CHALLENGE_PASSWORD,
                values,
            })
            .map_err(|e| PkiError::Build(e.to_string()))?;
    }
    let info = CertReqInfo {
        version: Version::V1,
        subject: cn_name(cn)?,
        public_key,
        attributes,
    };
    let tbs = info.to_der().map_err(|e| PkiError::Build(e.to_string()))?;
    let sig = key.sign(SignatureHash::Sha256, &tbs)?;
    let req = CertReq {
        info,
        algorithm: AlgorithmIdentifierOwned {
            oid: SHA256_WITH_RSA,
            parameters: Some(Any::null()),
        },
        signature: BitString::from_bytes(&sig).map_err(|e| PkiError::Build(e.to_string()))?,
    };
    req.to_der().map_err(|e| PkiError::Build(e.to_string()))
}

/// What the harness reads from a PKCS#10 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrInfo {
    /// Subject common name, if any.
    pub common_name: Option<String>,
    /// The challengePassword attribute, if present.
    pub challenge_password: Option<String>,
    /// SHA-256 of the subject public key info (stable id for the key).
    pub key_id: String,
}

fn directory_string(any: &Any) -> Option<String> {
    match any.tag() {
        Tag::PrintableString => any
            .decode_as::<PrintableStringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_string()),
        Tag::Utf8String => any
            .decode_as::<Utf8StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_string()),
        Tag::Ia5String => any
            .decode_as::<Ia5StringRef<'_>>()
            .ok()
            .map(|s| s.as_str().to_string()),
        _ => std::str::from_utf8(any.value()).ok().map(str::to_string),
    }
}

/// The common name in a distinguished name, if any.
pub fn common_name(name: &Name) -> Option<String> {
    let cn_oid = const_oid::db::rfc4519::CN;
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == cn_oid)
        .and_then(|atv| directory_string(&atv.value))
}

/// Parses a PKCS#10 request (signature not checked; the CA checks it).
pub fn read_csr(der: &[u8]) -> Result<CsrInfo, PkiError> {
    let req = CertReq::from_der(der).map_err(decode_err("certificate request"))?;
    let challenge_password = req
        .info
        .attributes
        .iter()
        .find(|a| a.oid == CHALLENGE_PASSWORD)
        .and_then(|a| a.values.iter().next())
        .and_then(directory_string);
    let spki = req
        .info
        .public_key
        .to_der()
        .map_err(|e| PkiError::Build(e.to_string()))?;
    Ok(CsrInfo {
        common_name: common_name(&req.info.subject),
        challenge_password,
        key_id: hex::encode_upper(Sha256::digest(spki)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_round_trip_with_challenge() {
        let key = crate::fixtures::device_key(0).unwrap();
        let der = build_csr(&key, "dev-1", Some("s3cret-Challenge")).unwrap();
        let info = read_csr(&der).unwrap();
        assert_eq!(info.common_name.as_deref(), Some("dev-1"));
        assert_eq!(info.challenge_password.as_deref(), Some("s3cret-Challenge"));
        // rcgen (the CA's parser) accepts it and verifies its signature.
        rcgen::CertificateSigningRequestParams::from_der(&der.clone().into()).unwrap();
        let none = read_csr(&build_csr(&key, "dev-1", None).unwrap()).unwrap();
        assert_eq!(none.challenge_password, None);
        assert!(read_csr(&der[..der.len() / 2]).is_err());
    }

    #[test]
    fn serial_normalisation() {
        assert_eq!(normalize_serial("00:1a:2B").as_deref(), Some("1A2B"));
        assert_eq!(normalize_serial("abc").as_deref(), Some("0ABC"));
        assert_eq!(normalize_serial("xyz"), None);
    }
}
