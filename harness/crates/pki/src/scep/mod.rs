//! SCEP (RFC 8894) messages for the fake NDES and the device simulator.
//!
//! A `PKIOperation` message is a CMS SignedData whose content is an EnvelopedData holding the
//! request (a PKCS#10 for PKCSReq/RenewalReq) or the reply (a certs-only SignedData). This
//! module reads such messages the way a server must ([`PkiMessage::read`], [`PkiMessage::verify`],
//! [`PkiMessage::decrypt`]), builds the server's answers ([`cert_rep_success`],
//! [`cert_rep_failure`], [`ca_certs_response`]) and plays the device ([`client`]).
//!
//! Real clients send BER (Go's pkcs7 writes a constructed `[0]` for `encryptedContent`); the
//! reader normalises it before the strict DER decoder sees it. Nothing here panics on input:
//! every failure is a [`ScepError`]. Algorithms: SHA-1/SHA-256/SHA-512 with RSA PKCS#1 v1.5
//! signatures; RSA PKCS#1 v1.5 key transport; DES, 3DES and AES-128/192/256 in CBC mode.

mod ber;
mod caps;
pub mod client;
mod crypto;
mod message;
mod ra;
mod reply;
#[cfg(test)]
mod tests;

use std::fmt;

use der::oid::ObjectIdentifier;

pub use caps::{CaCaps, Capabilities};
pub use client::{read_cert_rep, CertRepOutcome, Device, RequestOptions, SentRequest};
pub use message::{certs_only, parse_ca_certs, Decrypted, PkiMessage};
pub use ra::RaCerts;
pub use reply::{ca_certs_response, cert_rep_failure, cert_rep_success, RaSigner, ReplyTo};

/// Everything that can go wrong reading or building a SCEP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScepError {
    /// The bytes are not valid BER (truncated, bad lengths, too deep).
    #[error("not a valid BER/DER encoding: {0}")]
    Ber(String),
    /// A structure did not decode.
    #[error("cannot decode {what}: {why}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Decoder message.
        why: String,
    },
    /// The outer ContentInfo is not the content type expected.
    #[error("wrong content type: expected {expected}, found {found}")]
    WrongContentType {
        /// What was expected.
        expected: &'static str,
        /// The OID found.
        found: String,
    },
    /// A required signed attribute is absent.
    #[error("signed attribute {0} is missing")]
    MissingAttribute(&'static str),
    /// A signed attribute has an unusable value.
    #[error("signed attribute {name} is invalid: {why}")]
    BadAttribute {
        /// Attribute name.
        name: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The SignedData has no SignerInfo.
    #[error("the message has no signer")]
    NoSigner,
    /// The signer's certificate is not in the message.
    #[error("the signer's certificate is not in the message")]
    UnknownSigner,
    /// The signature does not verify.
    #[error("signature does not verify: {0}")]
    BadSignature(String),
    /// The messageDigest attribute does not match the content.
    #[error("messageDigest does not match the signed content")]
    DigestMismatch,
    /// An algorithm the harness does not implement.
    #[error("unsupported {what} algorithm {oid}")]
    Unsupported {
        /// Kind of algorithm (digest, signature, cipher, key transport).
        what: &'static str,
        /// Its OID.
        oid: String,
    },
    /// The message carries no pkcsPKIEnvelope.
    #[error("the message carries no encrypted envelope")]
    NoEnvelope,
    /// No KeyTransRecipientInfo names our certificate.
    #[error("the envelope is not for us: none of its {recipients} recipients is our certificate")]
    NotForUs {
        /// How many recipients the envelope has.
        recipients: usize,
    },
    /// Unwrapping the content-encryption key or decrypting the content failed.
    #[error("decryption failed: {0}")]
    Decrypt(String),
    /// Building a message failed.
    #[error("cannot build message: {0}")]
    Build(String),
    /// A reply that does not answer our request (transaction, nonce, signer, type).
    #[error("reply does not match the request: {0}")]
    Mismatch(String),
}

pub(crate) fn build_err(e: impl fmt::Display) -> ScepError {
    ScepError::Build(e.to_string())
}

pub(crate) fn decode_err(what: &'static str) -> impl Fn(der::Error) -> ScepError {
    move |e| ScepError::Decode {
        what,
        why: e.to_string(),
    }
}

/// SCEP messageType values (RFC 8894 §3.2.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 3: the server's reply.
    CertRep,
    /// 17: renewal of an existing certificate.
    RenewalReq,
    /// 19: initial enrolment.
    PkcsReq,
    /// 20: polling a pending request (GetCertInitial).
    CertPoll,
    /// 21: fetch a certificate.
    GetCert,
    /// 22: fetch a CRL.
    GetCrl,
    /// Any other value (an error for every party).
    Other(u32),
}

impl MessageType {
    /// From the decimal code.
    pub fn from_code(code: u32) -> MessageType {
        match code {
            3 => MessageType::CertRep,
            17 => MessageType::RenewalReq,
            19 => MessageType::PkcsReq,
            20 => MessageType::CertPoll,
            21 => MessageType::GetCert,
            22 => MessageType::GetCrl,
            n => MessageType::Other(n),
        }
    }

    /// The decimal code.
    pub fn code(self) -> u32 {
        match self {
            MessageType::CertRep => 3,
            MessageType::RenewalReq => 17,
            MessageType::PkcsReq => 19,
            MessageType::CertPoll => 20,
            MessageType::GetCert => 21,
            MessageType::GetCrl => 22,
            MessageType::Other(n) => n,
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageType::CertRep => f.write_str("CertRep"),
            MessageType::RenewalReq => f.write_str("RenewalReq"),
            MessageType::PkcsReq => f.write_str("PKCSReq"),
            MessageType::CertPoll => f.write_str("CertPoll"),
            MessageType::GetCert => f.write_str("GetCert"),
            MessageType::GetCrl => f.write_str("GetCRL"),
            MessageType::Other(n) => write!(f, "messageType {n}"),
        }
    }
}

/// SCEP pkiStatus values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PkiStatus {
    /// 0: issued.
    Success,
    /// 2: refused (failInfo says why).
    Failure,
    /// 3: waiting for manual approval.
    Pending,
}

impl PkiStatus {
    /// The decimal code.
    pub fn code(self) -> u32 {
        match self {
            PkiStatus::Success => 0,
            PkiStatus::Failure => 2,
            PkiStatus::Pending => 3,
        }
    }

    /// From the decimal code.
    pub fn from_code(code: u32) -> Option<PkiStatus> {
        match code {
            0 => Some(PkiStatus::Success),
            2 => Some(PkiStatus::Failure),
            3 => Some(PkiStatus::Pending),
            _ => None,
        }
    }
}

/// SCEP failInfo values (RFC 8894 Table 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailInfo {
    /// 0: unrecognised or unsupported algorithm.
    BadAlg,
    /// 1: integrity check (signature) failed.
    BadMessageCheck,
    /// 2: transaction not permitted or supported.
    BadRequest,
    /// 3: signingTime too far from the server's time.
    BadTime,
    /// 4: no certificate matches the criteria.
    BadCertId,
}

impl FailInfo {
    /// The decimal code.
    pub fn code(self) -> u32 {
        match self {
            FailInfo::BadAlg => 0,
            FailInfo::BadMessageCheck => 1,
            FailInfo::BadRequest => 2,
            FailInfo::BadTime => 3,
            FailInfo::BadCertId => 4,
        }
    }

    /// From the decimal code.
    pub fn from_code(code: u32) -> Option<FailInfo> {
        match code {
            0 => Some(FailInfo::BadAlg),
            1 => Some(FailInfo::BadMessageCheck),
            2 => Some(FailInfo::BadRequest),
            3 => Some(FailInfo::BadTime),
            4 => Some(FailInfo::BadCertId),
            _ => None,
        }
    }
}

impl fmt::Display for FailInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailInfo::BadAlg => "badAlg",
            FailInfo::BadMessageCheck => "badMessageCheck",
            FailInfo::BadRequest => "badRequest",
            FailInfo::BadTime => "badTime",
            FailInfo::BadCertId => "badCertId",
        })
    }
}

/// Message digest algorithm of a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlg {
    /// SHA-1 (legacy; what micromdm's client signs with).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

/// Content-encryption algorithm of an envelope (all CBC with PKCS#7 padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentCipher {
    /// Single DES (forbidden by RFC 8894, still sent by micromdm's client).
    DesCbc,
    /// Triple DES (EDE3).
    Des3Cbc,
    /// AES-128.
    Aes128Cbc,
    /// AES-192.
    Aes192Cbc,
    /// AES-256.
    Aes256Cbc,
}

/// OIDs used by SCEP and CMS.
pub mod oids {
    use super::ObjectIdentifier;

    /// id-data.
    pub const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
    /// id-signedData.
    pub const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
    /// id-envelopedData.
    pub const ENVELOPED_DATA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
    /// PKCS#9 contentType attribute.
    pub const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
    /// PKCS#9 messageDigest attribute.
    pub const MESSAGE_DIGEST: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
    /// SCEP messageType.
    pub const MESSAGE_TYPE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.2");
    /// SCEP pkiStatus.
    pub const PKI_STATUS: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.3");
    /// SCEP failInfo.
    pub const FAIL_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.4");
    /// SCEP senderNonce.
    pub const SENDER_NONCE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.5");
    /// SCEP recipientNonce.
    pub const RECIPIENT_NONCE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.6");
    /// SCEP transactionID.
    pub const TRANSACTION_ID: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.113733.1.9.7");
    /// rsaEncryption.
    pub const RSA_ENCRYPTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    /// sha1WithRSAEncryption.
    pub const SHA1_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
    /// sha256WithRSAEncryption.
    pub const SHA256_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
    /// sha512WithRSAEncryption.
    pub const SHA512_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
    /// SHA-1.
    pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    /// SHA-256.
    pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// SHA-512.
    pub const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
    /// desCBC.
    pub const DES_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.7");
    /// des-ede3-cbc.
    pub const DES_EDE3_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.3.7");
    /// aes128-CBC.
    pub const AES128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
    /// aes192-CBC.
    pub const AES192_CBC: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
    /// aes256-CBC.
    pub const AES256_CBC: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
    /// subjectKeyIdentifier extension.
    pub const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
}
