//! Building SCEP messages: the signed outer layer shared by requests and replies, the
//! server's CertRep SUCCESS / FAILURE, and the certs-only SignedData of GetCACert.

use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Encode, Tag};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::Certificate;

use super::crypto::{envelope, issuer_and_serial, sign};
use super::{
    build_err, oids, ContentCipher, DigestAlg, FailInfo, MessageType, PkiMessage, PkiStatus,
    ScepError,
};
use crate::pki::RsaKey;
use crate::sim::Rng;

/// A signing identity: the certificate put in the message and its key.
#[derive(Clone, Copy, Debug)]
pub struct RaSigner<'a> {
    /// Certificate of the signer (the RA signing certificate on the server).
    pub cert: &'a Certificate,
    /// Its private key.
    pub key: &'a RsaKey,
}

/// What a CertRep answers: taken from the request.
#[derive(Clone, Debug)]
pub struct ReplyTo {
    /// transactionID to echo.
    pub transaction_id: String,
    /// The request's senderNonce, echoed as recipientNonce.
    pub recipient_nonce: Vec<u8>,
    /// Digest to sign with: SHA-1 if the request used SHA-1, else SHA-256.
    pub digest: DigestAlg,
    /// Cipher for the SUCCESS envelope: the one the request used.
    pub cipher: ContentCipher,
    /// The requester's signer certificate (the SUCCESS envelope's recipient).
    pub requester: Certificate,
}

impl ReplyTo {
    /// The strongest answer `request` allows. `request_cipher` is the cipher of its envelope
    /// when it could be decrypted (AES-128 is assumed otherwise).
    pub fn request(request: &PkiMessage, request_cipher: Option<ContentCipher>) -> ReplyTo {
        ReplyTo {
            transaction_id: request.transaction_id.clone(),
            recipient_nonce: request.sender_nonce.clone(),
            digest: match request.digest {
                DigestAlg::Sha1 => DigestAlg::Sha1,
                _ => DigestAlg::Sha256,
            },
            cipher: request_cipher.unwrap_or(ContentCipher::Aes128Cbc),
            requester: request.signer.clone(),
        }
    }
}

/// The SCEP attributes of one message.
pub(crate) struct ScepAttrs<'a> {
    pub message_type: MessageType,
    pub transaction_id: &'a str,
    pub sender_nonce: &'a [u8],
    pub recipient_nonce: Option<&'a [u8]>,
    pub pki_status: Option<PkiStatus>,
    pub fail_info: Option<FailInfo>,
}

fn attribute(oid: der::oid::ObjectIdentifier, value: Any) -> Result<Attribute, ScepError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(build_err)?,
    })
}

fn printable(s: &str) -> Result<Any, ScepError> {
    Any::new(Tag::PrintableString, s.as_bytes()).map_err(build_err)
}

fn octets(b: &[u8]) -> Result<Any, ScepError> {
    Any::new(Tag::OctetString, b).map_err(build_err)
}

fn cert_set(certs: &[&Certificate]) -> Result<CertificateSet, ScepError> {
    let mut list: Vec<cms::cert::CertificateChoices> = Vec::new();
    for c in certs {
        let choice = cms::cert::CertificateChoices::Certificate((*c).clone());
        if !list.contains(&choice) {
            list.push(choice);
        }
    }
    Ok(CertificateSet(SetOfVec::try_from(list).map_err(build_err)?))
}

/// A signed `pkiMessage` (DER): SignedData over `content` with the SCEP attributes, signed by
/// `signer` with `digest`. `tamper` flips a bit of the signature (malformed-message tests).
pub(crate) fn signed_message(
    attrs: &ScepAttrs<'_>,
    content: Option<&[u8]>,
    digest: DigestAlg,
    signer: RaSigner<'_>,
    tamper: bool,
) -> Result<Vec<u8>, ScepError> {
    let mut list = vec![
        attribute(
            oids::CONTENT_TYPE,
            Any::encode_from(&oids::DATA).map_err(build_err)?,
        )?,
        attribute(
            oids::MESSAGE_DIGEST,
            octets(&digest.digest(content.unwrap_or_default()))?,
        )?,
        attribute(
            oids::MESSAGE_TYPE,
            printable(&attrs.message_type.code().to_string())?,
        )?,
        attribute(oids::TRANSACTION_ID, printable(attrs.transaction_id)?)?,
        attribute(oids::SENDER_NONCE, octets(attrs.sender_nonce)?)?,
    ];
    if let Some(n) = attrs.recipient_nonce {
        list.push(attribute(oids::RECIPIENT_NONCE, octets(n)?)?);
    }
    if let Some(s) = attrs.pki_status {
        list.push(attribute(
            oids::PKI_STATUS,
            printable(&s.code().to_string())?,
        )?);
    }
    if let Some(f) = attrs.fail_info {
        list.push(attribute(
            oids::FAIL_INFO,
            printable(&f.code().to_string())?,
        )?);
    }
    let signed_attrs = SetOfVec::try_from(list).map_err(build_err)?;
    let mut signature = sign(
        signer.key,
        digest,
        &signed_attrs.to_der().map_err(build_err)?,
    )?;
    if tamper {
        if let Some(b) = signature.last_mut() {
            *b ^= 0x01;
        }
    }
    let digest_alg = AlgorithmIdentifierOwned {
        oid: digest.oid(),
        parameters: None,
    };
    let si = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(issuer_and_serial(signer.cert)),
        digest_alg: digest_alg.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: digest.rsa_signature_oid(),
            parameters: Some(Any::null()),
        },
        signature: OctetString::new(signature).map_err(build_err)?,
        unsigned_attrs: None,
    };
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_alg]).map_err(build_err)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oids::DATA,
            econtent: content.map(octets).transpose()?,
        },
        certificates: Some(cert_set(&[signer.cert])?),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![si]).map_err(build_err)?),
    };
    ContentInfo {
        content_type: oids::SIGNED_DATA,
        content: Any::encode_from(&sd).map_err(build_err)?,
    }
    .to_der()
    .map_err(build_err)
}

/// A degenerate certs-only SignedData (DER): no signers, no content, `certs` only.
pub(crate) fn degenerate(certs: &[&Certificate]) -> Result<Vec<u8>, ScepError> {
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oids::DATA,
            econtent: None,
        },
        certificates: Some(cert_set(certs)?),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    ContentInfo {
        content_type: oids::SIGNED_DATA,
        content: Any::encode_from(&sd).map_err(build_err)?,
    }
    .to_der()
    .map_err(build_err)
}

/// CertRep SUCCESS (pkiStatus 0): `issued` in a certs-only SignedData, enveloped to the
/// requester's signer certificate, signed by `ra`, with a fresh senderNonce from `rng`.
pub fn cert_rep_success(
    to: &ReplyTo,
    issued: &Certificate,
    ra: RaSigner<'_>,
    rng: &mut Rng,
) -> Result<Vec<u8>, ScepError> {
    let inner = degenerate(&[issued])?;
    let env = envelope(&inner, &[&to.requester], to.cipher, rng)?;
    let nonce = rng.bytes(16);
    signed_message(
        &ScepAttrs {
            message_type: MessageType::CertRep,
            transaction_id: &to.transaction_id,
            sender_nonce: &nonce,
            recipient_nonce: Some(&to.recipient_nonce),
            pki_status: Some(PkiStatus::Success),
            fail_info: None,
        },
        Some(&env),
        to.digest,
        ra,
        false,
    )
}

/// CertRep FAILURE (pkiStatus 2) with `fail_info`; no envelope, but an empty eContent, as
/// micromdm's server sends it: clients such as PyScep digest the eContent of every CertRep.
pub fn cert_rep_failure(
    to: &ReplyTo,
    fail_info: FailInfo,
    ra: RaSigner<'_>,
    rng: &mut Rng,
) -> Result<Vec<u8>, ScepError> {
    let nonce = rng.bytes(16);
    signed_message(
        &ScepAttrs {
            message_type: MessageType::CertRep,
            transaction_id: &to.transaction_id,
            sender_nonce: &nonce,
            recipient_nonce: Some(&to.recipient_nonce),
            pki_status: Some(PkiStatus::Failure),
            fail_info: Some(fail_info),
        },
        Some(&[]),
        to.digest,
        ra,
        false,
    )
}

/// The GetCACert answer (`application/x-x509-ca-ra-cert`): a certs-only SignedData with
/// `certs` (RA signing, RA encryption, issuing CA; leave out a "missing" one).
pub fn ca_certs_response(certs: &[&Certificate]) -> Result<Vec<u8>, ScepError> {
    degenerate(certs)
}
