//! Reading SCEP `pkiMessage`s: the signed outer layer, the SCEP signed attributes, the
//! signature check and the envelope; plus certs-only SignedData (GetCACert, CertRep content).

use cms::content_info::ContentInfo;
use cms::signed_data::{CertificateSet, SignedData, SignerIdentifier};
use der::asn1::Any;
use der::{Decode, Tag, Tagged};
use x509_cert::attr::Attributes;
use x509_cert::Certificate;

use super::ber::{normalize, Tlv};
use super::crypto::{names, open_envelope, subject_key_id, verify};
use crate::pki::RsaKey;

use super::{
    decode_err, oids, ContentCipher, DigestAlg, FailInfo, MessageType, PkiStatus, ScepError,
};

/// A parsed SCEP `pkiMessage` (request or CertRep). [`PkiMessage::read`] only decodes;
/// [`PkiMessage::verify`] checks the signature; [`PkiMessage::decrypt`] opens the envelope.
#[derive(Clone, Debug)]
pub struct PkiMessage {
    /// messageType.
    pub message_type: MessageType,
    /// transactionID.
    pub transaction_id: String,
    /// senderNonce (16 bytes from well-behaved peers).
    pub sender_nonce: Vec<u8>,
    /// recipientNonce (CertRep only).
    pub recipient_nonce: Option<Vec<u8>>,
    /// pkiStatus (CertRep only).
    pub pki_status: Option<PkiStatus>,
    /// failInfo (CertRep FAILURE only).
    pub fail_info: Option<FailInfo>,
    /// The signer's digest algorithm.
    pub digest: DigestAlg,
    /// The signer's certificate, found in the message.
    pub signer: Certificate,
    /// Every certificate the SignedData carries.
    pub certificates: Vec<Certificate>,
    /// The pkcsPKIEnvelope (`ContentInfo(EnvelopedData)`), when there is one.
    pub envelope: Option<Vec<u8>>,
    signed_attrs_der: Vec<u8>,
    signature: Vec<u8>,
    signature_alg: der::oid::ObjectIdentifier,
    content: Vec<u8>,
    content_type_attr: Option<der::oid::ObjectIdentifier>,
    econtent_type: der::oid::ObjectIdentifier,
    message_digest: Option<Vec<u8>>,
}

/// The plaintext of an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decrypted {
    /// The content (a PKCS#10 in a request, a certs-only SignedData in a CertRep).
    pub content: Vec<u8>,
    /// The cipher the sender chose.
    pub cipher: ContentCipher,
}

fn first_value(attrs: &Attributes, oid: der::oid::ObjectIdentifier) -> Option<&Any> {
    attrs
        .iter()
        .find(|a| a.oid == oid)
        .and_then(|a| a.values.iter().next())
}

fn text_attr(
    attrs: &Attributes,
    oid: der::oid::ObjectIdentifier,
    name: &'static str,
) -> Result<Option<String>, ScepError> {
    let Some(any) = first_value(attrs, oid) else {
        return Ok(None);
    };
    match any.tag() {
        Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::TeletexString => {}
        other => {
            return Err(ScepError::BadAttribute {
                name,
                why: format!("expected a string, found {other}"),
            })
        }
    }
    std::str::from_utf8(any.value())
        .map(|s| Some(s.to_string()))
        .map_err(|e| ScepError::BadAttribute {
            name,
            why: e.to_string(),
        })
}

fn number_attr(
    attrs: &Attributes,
    oid: der::oid::ObjectIdentifier,
    name: &'static str,
) -> Result<Option<u32>, ScepError> {
    text_attr(attrs, oid, name)?
        .map(|s| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| ScepError::BadAttribute {
                    name,
                    why: format!("`{s}` is not a decimal number"),
                })
        })
        .transpose()
}

fn octets_attr(
    attrs: &Attributes,
    oid: der::oid::ObjectIdentifier,
    name: &'static str,
) -> Result<Option<Vec<u8>>, ScepError> {
    match first_value(attrs, oid) {
        None => Ok(None),
        Some(any) if any.tag() == Tag::OctetString => Ok(Some(any.value().to_vec())),
        Some(any) => Err(ScepError::BadAttribute {
            name,
            why: format!("expected an OCTET STRING, found {}", any.tag()),
        }),
    }
}

fn signed_data(bytes: &[u8]) -> Result<(Tlv, SignedData), ScepError> {
    let tree = Tlv::parse(bytes)?;
    let der = tree.to_der();
    let ci = ContentInfo::from_der(&der).map_err(decode_err("ContentInfo"))?;
    if ci.content_type != oids::SIGNED_DATA {
        return Err(ScepError::WrongContentType {
            expected: "signedData",
            found: ci.content_type.to_string(),
        });
    }
    let sd: SignedData = ci.content.decode_as().map_err(decode_err("SignedData"))?;
    Ok((tree, sd))
}

fn certificates(set: Option<&CertificateSet>) -> Vec<Certificate> {
    set.map(|s| {
        s.0.iter()
            .filter_map(|c| match c {
                cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The raw signedAttrs of the first SignerInfo, re-tagged as a SET (what was signed).
fn raw_signed_attrs(tree: &Tlv) -> Option<Vec<u8>> {
    let sd = tree.children().get(1)?.children().first()?;
    let signer_infos = sd.children().last()?;
    let si = signer_infos.children().first()?;
    si.children()
        .iter()
        .find(|c| c.tag == [0xA0])
        .map(|a| a.to_der_with_tag(0x31))
}

impl PkiMessage {
    /// Decodes a `pkiMessage` (BER accepted) and its SCEP attributes without checking the
    /// signature. Fails when the structure, the signer or a required attribute is unusable.
    pub fn read(bytes: &[u8]) -> Result<PkiMessage, ScepError> {
        let (tree, sd) = signed_data(bytes)?;
        let si = sd.signer_infos.0.iter().next().ok_or(ScepError::NoSigner)?;
        let certificates = certificates(sd.certificates.as_ref());
        let signer = certificates
            .iter()
            .find(|c| match &si.sid {
                SignerIdentifier::IssuerAndSerialNumber(ias) => names(ias, c),
                SignerIdentifier::SubjectKeyIdentifier(id) => {
                    subject_key_id(c).as_deref() == Some(id.0.as_bytes())
                }
            })
            .cloned()
            .ok_or(ScepError::UnknownSigner)?;
        let digest = DigestAlg::from_oid(&si.digest_alg.oid)?;
        let attrs = si.signed_attrs.as_ref().ok_or(ScepError::MissingAttribute(
            "signedAttrs (RFC 8894 requires them)",
        ))?;
        let signed_attrs_der = raw_signed_attrs(&tree).ok_or(ScepError::MissingAttribute(
            "signedAttrs (RFC 8894 requires them)",
        ))?;
        let message_type = number_attr(attrs, oids::MESSAGE_TYPE, "messageType")?
            .map(MessageType::from_code)
            .ok_or(ScepError::MissingAttribute("messageType"))?;
        let transaction_id = text_attr(attrs, oids::TRANSACTION_ID, "transactionID")?
            .ok_or(ScepError::MissingAttribute("transactionID"))?;
        let sender_nonce = octets_attr(attrs, oids::SENDER_NONCE, "senderNonce")?
            .ok_or(ScepError::MissingAttribute("senderNonce"))?;
        let recipient_nonce = octets_attr(attrs, oids::RECIPIENT_NONCE, "recipientNonce")?;
        let pki_status = number_attr(attrs, oids::PKI_STATUS, "pkiStatus")?
            .map(|n| {
                PkiStatus::from_code(n).ok_or(ScepError::BadAttribute {
                    name: "pkiStatus",
                    why: format!("undefined value {n}"),
                })
            })
            .transpose()?;
        let fail_info = number_attr(attrs, oids::FAIL_INFO, "failInfo")?
            .map(|n| {
                FailInfo::from_code(n).ok_or(ScepError::BadAttribute {
                    name: "failInfo",
                    why: format!("undefined value {n}"),
                })
            })
            .transpose()?;
        let message_digest = octets_attr(attrs, oids::MESSAGE_DIGEST, "messageDigest")?;
        let content_type_attr = first_value(attrs, oids::CONTENT_TYPE)
            .map(|a| a.decode_as::<der::oid::ObjectIdentifier>())
            .transpose()
            .map_err(|e| ScepError::BadAttribute {
                name: "contentType",
                why: e.to_string(),
            })?;
        let content = sd
            .encap_content_info
            .econtent
            .as_ref()
            .map(|a| a.value().to_vec())
            .unwrap_or_default();
        Ok(PkiMessage {
            message_type,
            transaction_id,
            sender_nonce,
            recipient_nonce,
            pki_status,
            fail_info,
            digest,
            signer,
            certificates,
            envelope: (!content.is_empty()).then(|| content.clone()),
            signed_attrs_der,
            signature: si.signature.as_bytes().to_vec(),
            signature_alg: si.signature_algorithm.oid,
            content,
            content_type_attr,
            econtent_type: sd.encap_content_info.econtent_type,
            message_digest,
        })
    }

    /// Checks the signature against the signer certificate carried in the message: the
    /// messageDigest attribute must match the content and the RSA signature must cover the
    /// signed attributes.
    pub fn verify(&self) -> Result<(), ScepError> {
        let sig_alg = self.signature_alg;
        if sig_alg != oids::RSA_ENCRYPTION {
            let named = DigestAlg::from_oid(&sig_alg).map_err(|_| ScepError::Unsupported {
                what: "signature",
                oid: sig_alg.to_string(),
            })?;
            if named != self.digest {
                return Err(ScepError::BadSignature(format!(
                    "signature algorithm {sig_alg} disagrees with digest {:?}",
                    self.digest
                )));
            }
        }
        if let Some(ct) = self.content_type_attr {
            if ct != self.econtent_type {
                return Err(ScepError::BadAttribute {
                    name: "contentType",
                    why: format!("{ct} is not the content's type {}", self.econtent_type),
                });
            }
        }
        let md = self
            .message_digest
            .as_ref()
            .ok_or(ScepError::MissingAttribute("messageDigest"))?;
        if *md != self.digest.digest(&self.content) {
            return Err(ScepError::DigestMismatch);
        }
        verify(
            &self.signer,
            self.digest,
            &self.signed_attrs_der,
            &self.signature,
        )
    }

    /// [`PkiMessage::read`] then [`PkiMessage::verify`].
    pub fn parse(bytes: &[u8]) -> Result<PkiMessage, ScepError> {
        let msg = PkiMessage::read(bytes)?;
        msg.verify()?;
        Ok(msg)
    }

    /// Opens the envelope as the holder of `cert` / `key`: finds the KeyTransRecipientInfo
    /// naming `cert` (by issuer and serial, or subject key id) among all recipients.
    pub fn decrypt(&self, cert: &Certificate, key: &RsaKey) -> Result<Decrypted, ScepError> {
        let env = self.envelope.as_ref().ok_or(ScepError::NoEnvelope)?;
        let (content, cipher) = open_envelope(env, cert, key)?;
        Ok(Decrypted { content, cipher })
    }
}

/// The certificates of a degenerate certs-only SignedData (BER accepted).
pub fn certs_only(bytes: &[u8]) -> Result<Vec<Certificate>, ScepError> {
    let (_, sd) = signed_data(bytes)?;
    Ok(certificates(sd.certificates.as_ref()))
}

/// The body of a GetCACert answer: one DER certificate (`application/x-x509-ca-cert`) or a
/// certs-only SignedData (`application/x-x509-ca-ra-cert`).
pub fn parse_ca_certs(bytes: &[u8]) -> Result<Vec<Certificate>, ScepError> {
    if let Ok(cert) = Certificate::from_der(bytes) {
        return Ok(vec![cert]);
    }
    let der = normalize(bytes)?;
    if let Ok(cert) = Certificate::from_der(&der) {
        return Ok(vec![cert]);
    }
    certs_only(&der)
}
