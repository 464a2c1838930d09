//! [`RsaKey`]: an RSA private key whose private operations run on one backend built for speed,
//! aws-lc-rs (AWS-LC's constant-time, assembly-accelerated RSA).
//!
//! - PKCS#1 v1.5 signatures with SHA-256 and SHA-512 (`rsa::KeyPair`);
//! - PKCS#1 v1.5 decryption of a key-transport envelope (`rsa::Pkcs1PrivateDecryptingKey`);
//! - rcgen signs certificates with it ([`rcgen::SigningKey`]).
//!
//! One exception: aws-lc-rs refuses to *sign* with SHA-1, which RFC 8894 still allows and
//! micromdm's client demands of a CertRep answering its SHA-1 request. Those signatures fall
//! back to RustCrypto `rsa` (RUSTSEC-2023-0071 applies: acceptable for the TEST ONLY keys of
//! `fixtures/`, see `deny.toml`). PKCS#1 v1.5 is deterministic, so both backends give the
//! same bytes for the same key and message.

use std::fmt;
use std::sync::{Arc, OnceLock};

use aws_lc_rs::rsa::{KeyPair, Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RSA_PKCS1_SHA512};
use der::asn1::{Any, BitString};
use der::Encode;
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::PkiError;

/// rsaEncryption.
const RSA_ENCRYPTION: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The hash of a PKCS#1 v1.5 signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureHash {
    /// SHA-1 (legacy clients; signed by the RustCrypto fallback).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

/// An RSA private key (cheap to clone: the key is shared).
#[derive(Clone)]
pub struct RsaKey(Arc<Inner>);

struct Inner {
    signing: KeyPair,
    decrypting: Pkcs1PrivateDecryptingKey,
    /// PKCS#8 DER, for the SHA-1 fallback.
    pkcs8: Vec<u8>,
    /// RSAPublicKey (PKCS#1) DER.
    public_pkcs1: Vec<u8>,
    /// SubjectPublicKeyInfo DER.
    spki: Vec<u8>,
    legacy: OnceLock<Result<rsa::RsaPrivateKey, String>>,
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private key: its size and a public fingerprint.
        let id = hex::encode_upper(&sha2::Sha256::digest(&self.0.spki)[..8]);
        write!(f, "RsaKey({} bits, spki sha256 {id}…)", self.bits())
    }
}

fn build(e: impl fmt::Display) -> PkiError {
    PkiError::Build(e.to_string())
}

fn rejected(what: &'static str) -> impl Fn(aws_lc_rs::error::KeyRejected) -> PkiError {
    move |e| PkiError::Decode {
        what,
        why: e.to_string(),
    }
}

impl RsaKey {
    /// From a PKCS#8 `PrivateKeyInfo` (DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<RsaKey, PkiError> {
        let signing = KeyPair::from_pkcs8(der).map_err(rejected("RSA private key (PKCS#8)"))?;
        let decrypting = Pkcs1PrivateDecryptingKey::new(
            PrivateDecryptingKey::from_pkcs8(der).map_err(rejected("RSA private key (PKCS#8)"))?,
        )
        .map_err(build)?;
        let public_pkcs1 = signing.public_key().as_ref().to_vec();
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: RSA_ENCRYPTION,
                parameters: Some(Any::null()),
            },
            subject_public_key: BitString::from_bytes(&public_pkcs1).map_err(build)?,
        }
        .to_der()
        .map_err(build)?;
        Ok(RsaKey(Arc::new(Inner {
            signing,
            decrypting,
            pkcs8: der.to_vec(),
            public_pkcs1,
            spki,
            legacy: OnceLock::new(),
        })))
    }

    /// From PEM: `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1, what OpenSSL and Go
    /// write).
    pub fn from_pem(pem: &str) -> Result<RsaKey, PkiError> {
        let (label, der) =
            der::pem::decode_vec(pem.trim().as_bytes()).map_err(|e| PkiError::Decode {
                what: "private key PEM",
                why: e.to_string(),
            })?;
        match label {
            "PRIVATE KEY" => RsaKey::from_pkcs8_der(&der),
            "RSA PRIVATE KEY" => {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                use rsa::pkcs8::EncodePrivateKey;
                let key =
                    rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| PkiError::Decode {
                        what: "RSA private key (PKCS#1)",
                        why: e.to_string(),
                    })?;
                RsaKey::from_pkcs8_der(key.to_pkcs8_der().map_err(build)?.as_bytes())
            }
            other => Err(PkiError::Decode {
                what: "private key PEM",
                why: format!("`{other}` is not PRIVATE KEY or RSA PRIVATE KEY"),
            }),
        }
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.signing.public_modulus_len() * 8
    }

    /// The public key's SubjectPublicKeyInfo (DER).
    pub fn spki_der(&self) -> &[u8] {
        &self.0.spki
    }

    /// The public key as an RSAPublicKey (PKCS#1, DER).
    pub fn public_pkcs1_der(&self) -> &[u8] {
        &self.0.public_pkcs1
    }

    /// PKCS#1 v1.5 signature of `message` (hashed here with `hash`).
    pub fn sign(&self, hash: SignatureHash, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        let encoding = match hash {
            SignatureHash::Sha256 => &RSA_PKCS1_SHA256,
            SignatureHash::Sha512 => &RSA_PKCS1_SHA512,
            SignatureHash::Sha1 => return self.sign_sha1(message),
        };
        let mut signature = vec![0u8; self.0.signing.public_modulus_len()];
        self.0
            .signing
            .sign(
                encoding,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| PkiError::Build("RSA signature failed".into()))?;
        Ok(signature)
    }

    fn sign_sha1(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        use rsa::pkcs8::DecodePrivateKey;
        let key = self
            .0
            .legacy
            .get_or_init(|| {
                rsa::RsaPrivateKey::from_pkcs8_der(&self.0.pkcs8).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| PkiError::Build(format!("RSA key for SHA-1 signing: {e}")))?;
        key.sign(
            rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
            &sha1::Sha1::digest(message),
        )
        .map_err(build)
    }

    /// PKCS#1 v1.5 decryption (RSAES-PKCS1-v1_5) of `ciphertext`.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, PkiError> {
        let key = &self.0.decrypting;
        if ciphertext.len() != key.key_size_bytes() {
            return Err(PkiError::Decode {
                what: "RSA ciphertext",
                why: format!(
                    "{} bytes, the key needs exactly {}",
                    ciphertext.len(),
                    key.key_size_bytes()
                ),
            });
        }
        let mut out = vec![0u8; key.min_output_size()];
        let plain = key
            .decrypt(ciphertext, &mut out)
            .map_err(|_| PkiError::Decode {
                what: "RSA ciphertext",
                why: "PKCS#1 v1.5 decryption failed (another key, or corrupted)".into(),
            })?;
        Ok(plain.to_vec())
    }
}

impl rcgen::PublicKeyData for RsaKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0.public_pkcs1
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl rcgen::SigningKey for RsaKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        RsaKey::sign(self, SignatureHash::Sha256, msg).map_err(|_| rcgen::Error::RingUnspecified)
    }
}

#[cfg(test)]
mod tests {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::traits::PublicKeyParts;

    use super::*;
    use crate::fixtures::{DEVICE_KEYS, RA_SIGNING};

    fn both(pem: &str) -> (RsaKey, rsa::RsaPrivateKey) {
        (
            RsaKey::from_pem(pem).unwrap(),
            rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap(),
        )
    }

    #[test]
    fn signatures_are_byte_identical_to_rustcrypto() {
        let (fast, slow) = both(RA_SIGNING.key_pem);
        let msg = b"TEST ONLY signed attributes";
        for (hash, scheme, digest) in [
            (
                SignatureHash::Sha256,
                rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                sha2::Sha256::digest(msg).to_vec(),
            ),
            (
                SignatureHash::Sha512,
                rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                sha2::Sha512::digest(msg).to_vec(),
            ),
            (
                SignatureHash::Sha1,
                rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                sha1::Sha1::digest(msg).to_vec(),
            ),
        ] {
            assert_eq!(
                fast.sign(hash, msg).unwrap(),
                slow.sign(scheme, &digest).unwrap(),
                "{hash:?}"
            );
        }
        assert_eq!(fast.bits(), 2048);
        assert_eq!(fast.public_pkcs1_der().len(), 270);
    }

    #[test]
    fn decrypts_what_rustcrypto_encrypts_and_refuses_the_rest() {
        let (fast, slow) = both(DEVICE_KEYS[1]);
        let mut rng = crate::sim::Rng::new(4);
        let ct = slow
            .to_public_key()
            .encrypt(&mut rng, rsa::Pkcs1v15Encrypt, b"0123456789abcdef")
            .unwrap();
        assert_eq!(fast.decrypt(&ct).unwrap(), b"0123456789abcdef");
        let other = RsaKey::from_pem(DEVICE_KEYS[2]).unwrap();
        assert!(other.decrypt(&ct).is_err());
        assert!(fast.decrypt(&ct[1..]).is_err());
        assert_eq!(slow.size() * 8, fast.bits());
    }

    #[test]
    fn spki_matches_rustcrypto_and_pkcs1_pem_reads() {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::EncodePublicKey;
        let (fast, slow) = both(DEVICE_KEYS[0]);
        let spki = slow.to_public_key().to_public_key_der().unwrap();
        assert_eq!(fast.spki_der(), spki.as_bytes());
        let pkcs1 = slow.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        assert_eq!(
            RsaKey::from_pem(&pkcs1).unwrap().spki_der(),
            spki.as_bytes()
        );
        let err =
            RsaKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("CERTIFICATE"), "{err}");
        assert!(format!("{fast:?}").starts_with("RsaKey(2048 bits"));
    }
}
