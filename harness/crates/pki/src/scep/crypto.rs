//! The cryptography under SCEP messages: digests, RSA PKCS#1 v1.5 signatures, RSA key
//! transport and the CBC content ciphers, plus small certificate helpers.
//!
//! Private-key operations (signing, opening an envelope) go through [`RsaKey`] and signature
//! checks through aws-lc-rs too; enveloping to a certificate stays on RustCrypto `rsa`, whose
//! encryption draws its padding from the seeded [`Rng`] and so keeps messages reproducible
//! (aws-lc-rs draws its own).

use cipher::block_padding::Pkcs7;
use cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode, Tag, Tagged};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Encrypt, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use super::ber::normalize_envelope;
use super::{build_err, decode_err, oids, ContentCipher, DigestAlg, ScepError};
use crate::pki::{RsaKey, SignatureHash};
use crate::sim::Rng;

impl DigestAlg {
    /// From a digest or signature algorithm OID.
    pub fn from_oid(oid: &der::oid::ObjectIdentifier) -> Result<DigestAlg, ScepError> {
        match *oid {
            o if o == oids::SHA1 || o == oids::SHA1_WITH_RSA => Ok(DigestAlg::Sha1),
            o if o == oids::SHA256 || o == oids::SHA256_WITH_RSA => Ok(DigestAlg::Sha256),
            o if o == oids::SHA512 || o == oids::SHA512_WITH_RSA => Ok(DigestAlg::Sha512),
            other => Err(ScepError::Unsupported {
                what: "digest",
                oid: other.to_string(),
            }),
        }
    }

    /// The digest algorithm OID.
    pub fn oid(self) -> der::oid::ObjectIdentifier {
        match self {
            DigestAlg::Sha1 => oids::SHA1,
            DigestAlg::Sha256 => oids::SHA256,
            DigestAlg::Sha512 => oids::SHA512,
        }
    }

    /// The matching shaXWithRSAEncryption OID.
    pub fn rsa_signature_oid(self) -> der::oid::ObjectIdentifier {
        match self {
            DigestAlg::Sha1 => oids::SHA1_WITH_RSA,
            DigestAlg::Sha256 => oids::SHA256_WITH_RSA,
            DigestAlg::Sha512 => oids::SHA512_WITH_RSA,
        }
    }

    /// Digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlg::Sha1 => Sha1::digest(data).to_vec(),
            DigestAlg::Sha256 => Sha256::digest(data).to_vec(),
            DigestAlg::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// The same hash for a signature by an [`RsaKey`].
    pub fn signature_hash(self) -> SignatureHash {
        match self {
            DigestAlg::Sha1 => SignatureHash::Sha1,
            DigestAlg::Sha256 => SignatureHash::Sha256,
            DigestAlg::Sha512 => SignatureHash::Sha512,
        }
    }
}

impl ContentCipher {
    /// From the content-encryption algorithm OID.
    pub fn from_oid(oid: &der::oid::ObjectIdentifier) -> Result<ContentCipher, ScepError> {
        match *oid {
            o if o == oids::DES_CBC => Ok(ContentCipher::DesCbc),
            o if o == oids::DES_EDE3_CBC => Ok(ContentCipher::Des3Cbc),
            o if o == oids::AES128_CBC => Ok(ContentCipher::Aes128Cbc),
            o if o == oids::AES192_CBC => Ok(ContentCipher::Aes192Cbc),
            o if o == oids::AES256_CBC => Ok(ContentCipher::Aes256Cbc),
            other => Err(ScepError::Unsupported {
                what: "content cipher",
                oid: other.to_string(),
            }),
        }
    }

    /// The algorithm OID.
    pub fn oid(self) -> der::oid::ObjectIdentifier {
        match self {
            ContentCipher::DesCbc => oids::DES_CBC,
            ContentCipher::Des3Cbc => oids::DES_EDE3_CBC,
            ContentCipher::Aes128Cbc => oids::AES128_CBC,
            ContentCipher::Aes192Cbc => oids::AES192_CBC,
            ContentCipher::Aes256Cbc => oids::AES256_CBC,
        }
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            ContentCipher::DesCbc => 8,
            ContentCipher::Des3Cbc | ContentCipher::Aes192Cbc => 24,
            ContentCipher::Aes128Cbc => 16,
            ContentCipher::Aes256Cbc => 32,
        }
    }

    /// IV (block) length in bytes.
    pub fn iv_len(self) -> usize {
        match self {
            ContentCipher::DesCbc | ContentCipher::Des3Cbc => 8,
            _ => 16,
        }
    }

    /// Whether this is an AES variant.
    pub fn is_aes(self) -> bool {
        matches!(
            self,
            ContentCipher::Aes128Cbc | ContentCipher::Aes192Cbc | ContentCipher::Aes256Cbc
        )
    }

    fn encrypt(self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, ScepError> {
        let bad = |e: cipher::InvalidLength| ScepError::Build(format!("cipher key/IV: {e}"));
        Ok(match self {
            ContentCipher::DesCbc => cbc::Encryptor::<des::Des>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(data),
            ContentCipher::Des3Cbc => cbc::Encryptor::<des::TdesEde3>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(data),
            ContentCipher::Aes128Cbc => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(data),
            ContentCipher::Aes192Cbc => cbc::Encryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(data),
            ContentCipher::Aes256Cbc => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(data),
        })
    }

    fn decrypt(self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, ScepError> {
        let bad = |e: cipher::InvalidLength| {
            ScepError::Decrypt(format!("content key or IV has the wrong length: {e}"))
        };
        let pad = |_| ScepError::Decrypt("bad padding (wrong key or corrupted content)".into());
        match self {
            ContentCipher::DesCbc => cbc::Decryptor::<des::Des>::new_from_slices(key, iv)
                .map_err(bad)?
                .decrypt_padded_vec_mut::<Pkcs7>(data)
                .map_err(pad),
            ContentCipher::Des3Cbc => cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv)
                .map_err(bad)?
                .decrypt_padded_vec_mut::<Pkcs7>(data)
                .map_err(pad),
            ContentCipher::Aes128Cbc => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(bad)?
                .decrypt_padded_vec_mut::<Pkcs7>(data)
                .map_err(pad),
            ContentCipher::Aes192Cbc => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(bad)?
                .decrypt_padded_vec_mut::<Pkcs7>(data)
                .map_err(pad),
            ContentCipher::Aes256Cbc => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(bad)?
                .decrypt_padded_vec_mut::<Pkcs7>(data)
                .map_err(pad),
        }
    }
}

/// The RSA public key of a certificate.
pub(crate) fn public_key(cert: &Certificate) -> Result<RsaPublicKey, ScepError> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(decode_err("certificate public key"))?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|e| ScepError::Decode {
        what: "certificate RSA public key",
        why: e.to_string(),
    })
}

/// The subjectKeyIdentifier extension value, if the certificate has one.
pub(crate) fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oids::SUBJECT_KEY_IDENTIFIER)
        .and_then(|e| OctetString::from_der(e.extn_value.as_bytes()).ok())
        .map(|o| o.as_bytes().to_vec())
}

/// Whether `ias` names `cert`.
pub(crate) fn names(ias: &IssuerAndSerialNumber, cert: &Certificate) -> bool {
    ias.issuer == cert.tbs_certificate.issuer
        && ias.serial_number == cert.tbs_certificate.serial_number
}

/// Issuer and serial of `cert`.
pub(crate) fn issuer_and_serial(cert: &Certificate) -> IssuerAndSerialNumber {
    IssuerAndSerialNumber {
        issuer: cert.tbs_certificate.issuer.clone(),
        serial_number: cert.tbs_certificate.serial_number.clone(),
    }
}

/// PKCS#1 v1.5 signature of `data` (hashed with `digest`).
pub(crate) fn sign(key: &RsaKey, digest: DigestAlg, data: &[u8]) -> Result<Vec<u8>, ScepError> {
    key.sign(digest.signature_hash(), data).map_err(build_err)
}

/// Verifies a PKCS#1 v1.5 signature of `data` by `cert`'s RSA key (1024 to 8192 bits; aws-lc-rs,
/// a public-key operation).
pub(crate) fn verify(
    cert: &Certificate,
    digest: DigestAlg,
    data: &[u8],
    signature: &[u8],
) -> Result<(), ScepError> {
    use aws_lc_rs::signature::{
        ParsedPublicKey, RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY as SHA1,
        RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY as SHA256,
        RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY as SHA512,
    };
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != oids::RSA_ENCRYPTION {
        return Err(ScepError::Unsupported {
            what: "signer public key",
            oid: spki.algorithm.oid.to_string(),
        });
    }
    let algorithm = match digest {
        DigestAlg::Sha1 => &SHA1,
        DigestAlg::Sha256 => &SHA256,
        DigestAlg::Sha512 => &SHA512,
    };
    let key =
        ParsedPublicKey::new(algorithm, spki.subject_public_key.raw_bytes()).map_err(|e| {
            ScepError::Decode {
                what: "certificate RSA public key",
                why: e.to_string(),
            }
        })?;
    // RustCrypto's wording, which event streams already carry.
    key.verify_sig(data, signature)
        .map_err(|_| ScepError::BadSignature("verification error".into()))
}

/// Encrypts `content` into a `ContentInfo(EnvelopedData)` (DER) with one RSA key-transport
/// recipient per certificate.
pub(crate) fn envelope(
    content: &[u8],
    recipients: &[&Certificate],
    cipher: ContentCipher,
    rng: &mut Rng,
) -> Result<Vec<u8>, ScepError> {
    let key = rng.bytes(cipher.key_len());
    let iv = rng.bytes(cipher.iv_len());
    let encrypted = cipher.encrypt(&key, &iv, content)?;
    let mut infos = Vec::new();
    for cert in recipients {
        let enc_key = public_key(cert)?
            .encrypt(rng, Pkcs1v15Encrypt, &key)
            .map_err(build_err)?;
        infos.push(RecipientInfo::Ktri(KeyTransRecipientInfo {
            version: CmsVersion::V0,
            rid: RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial(cert)),
            key_enc_alg: AlgorithmIdentifierOwned {
                oid: oids::RSA_ENCRYPTION,
                parameters: Some(Any::null()),
            },
            enc_key: OctetString::new(enc_key).map_err(build_err)?,
        }));
    }
    let ed = EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: RecipientInfos(SetOfVec::try_from(infos).map_err(build_err)?),
        encrypted_content: EncryptedContentInfo {
            content_type: oids::DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: cipher.oid(),
                parameters: Some(Any::new(Tag::OctetString, iv).map_err(build_err)?),
            },
            encrypted_content: Some(OctetString::new(encrypted).map_err(build_err)?),
        },
        unprotected_attrs: None,
    };
    ContentInfo {
        content_type: oids::ENVELOPED_DATA,
        content: Any::encode_from(&ed).map_err(build_err)?,
    }
    .to_der()
    .map_err(build_err)
}

/// Decrypts a `ContentInfo(EnvelopedData)` (BER accepted) as the holder of `cert` / `key`.
pub(crate) fn open_envelope(
    bytes: &[u8],
    cert: &Certificate,
    key: &RsaKey,
) -> Result<(Vec<u8>, ContentCipher), ScepError> {
    let der = normalize_envelope(bytes)?;
    let ci = ContentInfo::from_der(&der).map_err(decode_err("envelope ContentInfo"))?;
    if ci.content_type != oids::ENVELOPED_DATA {
        return Err(ScepError::WrongContentType {
            expected: "envelopedData",
            found: ci.content_type.to_string(),
        });
    }
    let ed: EnvelopedData = ci
        .content
        .decode_as()
        .map_err(decode_err("EnvelopedData"))?;
    let ski = subject_key_id(cert);
    let ours = ed.recip_infos.0.iter().find_map(|ri| match ri {
        RecipientInfo::Ktri(k) => {
            let hit = match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(ias) => names(ias, cert),
                RecipientIdentifier::SubjectKeyIdentifier(id) => {
                    ski.as_deref() == Some(id.0.as_bytes())
                }
            };
            hit.then_some(k)
        }
        _ => None,
    });
    let ktri = ours.ok_or(ScepError::NotForUs {
        recipients: ed.recip_infos.0.len(),
    })?;
    if ktri.key_enc_alg.oid != oids::RSA_ENCRYPTION {
        return Err(ScepError::Unsupported {
            what: "key transport",
            oid: ktri.key_enc_alg.oid.to_string(),
        });
    }
    let cek = key
        .decrypt(ktri.enc_key.as_bytes())
        .map_err(|e| ScepError::Decrypt(format!("content key: {e}")))?;
    let eci = &ed.encrypted_content;
    let cipher = ContentCipher::from_oid(&eci.content_enc_alg.oid)?;
    let iv = eci
        .content_enc_alg
        .parameters
        .as_ref()
        .filter(|p| p.tag() == Tag::OctetString)
        .map(|p| p.value().to_vec())
        .ok_or_else(|| ScepError::Decrypt("the cipher has no IV parameter".into()))?;
    if cek.len() != cipher.key_len() || iv.len() != cipher.iv_len() {
        return Err(ScepError::Decrypt(format!(
            "key ({} bytes) or IV ({} bytes) does not fit {:?}",
            cek.len(),
            iv.len(),
            cipher
        )));
    }
    let ct = eci
        .encrypted_content
        .as_ref()
        .ok_or_else(|| ScepError::Decrypt("the envelope has no encrypted content".into()))?;
    Ok((cipher.decrypt(&cek, &iv, ct.as_bytes())?, cipher))
}
