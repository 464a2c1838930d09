//! The device side of SCEP: a self-signed signer identity, PKCSReq messages enveloped to the
//! RA, reading the CertRep, and deliberately malformed messages for negative tests.

use der::{Decode, Encode};
use x509_cert::Certificate;

use super::crypto::envelope;
use super::message::certs_only;
use super::reply::{signed_message, RaSigner, ScepAttrs};
use super::{
    build_err, decode_err, ContentCipher, DigestAlg, FailInfo, MessageType, PkiMessage, PkiStatus,
    ScepError,
};
use crate::pki::RsaKey;
use crate::sim::Rng;

/// A device's signer identity: its key and the self-signed certificate it signs requests with.
#[derive(Clone, Debug)]
pub struct Device {
    /// The device key (also the key the CSR certifies).
    pub key: RsaKey,
    /// Self-signed certificate over the key.
    pub cert: Certificate,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
}

impl Device {
    /// A self-signed signer certificate `CN=<cn>` over `key` (serial from `rng`).
    pub fn self_signed(key: RsaKey, cn: &str, rng: &mut Rng) -> Result<Device, ScepError> {
        let mut params = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2050, 1, 1);
        let mut serial = rng.bytes(8);
        serial[0] &= 0x7f;
        serial[0] |= 0x01;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let cert = params.self_signed(&key).map_err(build_err)?;
        let cert_der = cert.der().to_vec();
        let cert = Certificate::from_der(&cert_der).map_err(decode_err("device certificate"))?;
        Ok(Device {
            key,
            cert,
            cert_der,
        })
    }
}

/// Algorithms of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestOptions {
    /// Envelope cipher.
    pub cipher: ContentCipher,
    /// Signature digest.
    pub digest: DigestAlg,
}

impl Default for RequestOptions {
    /// AES-128-CBC and SHA-256, RFC 8894's mandatory-to-implement pair.
    fn default() -> Self {
        RequestOptions {
            cipher: ContentCipher::Aes128Cbc,
            digest: DigestAlg::Sha256,
        }
    }
}

impl RequestOptions {
    /// What micromdm's scepclient sends: single DES and SHA-1.
    pub fn micromdm() -> RequestOptions {
        RequestOptions {
            cipher: ContentCipher::DesCbc,
            digest: DigestAlg::Sha1,
        }
    }
}

/// A request as sent, with what the reply must echo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentRequest {
    /// The `pkiMessage`, DER (POST body, or base64 for GET).
    pub message: Vec<u8>,
    /// transactionID.
    pub transaction_id: String,
    /// senderNonce; the CertRep's recipientNonce must equal it.
    pub sender_nonce: Vec<u8>,
}

fn request(
    device: &Device,
    message_type: MessageType,
    content: &[u8],
    recipients: &[&Certificate],
    opts: &RequestOptions,
    rng: &mut Rng,
    tamper: bool,
) -> Result<SentRequest, ScepError> {
    let transaction_id = rng.hex(16);
    let sender_nonce = rng.bytes(16);
    let env = envelope(content, recipients, opts.cipher, rng)?;
    let message = signed_message(
        &ScepAttrs {
            message_type,
            transaction_id: &transaction_id,
            sender_nonce: &sender_nonce,
            recipient_nonce: None,
            pki_status: None,
            fail_info: None,
        },
        Some(&env),
        opts.digest,
        RaSigner {
            cert: &device.cert,
            key: &device.key,
        },
        tamper,
    )?;
    Ok(SentRequest {
        message,
        transaction_id,
        sender_nonce,
    })
}

/// A request of `message_type` (PKCSReq 19, RenewalReq 17) carrying `csr_der`, signed by the
/// device and enveloped to every certificate in `recipients` (normally the RA encryption
/// certificate; micromdm encrypts to everything GetCACert returned).
pub fn build_request(
    device: &Device,
    message_type: MessageType,
    csr_der: &[u8],
    recipients: &[&Certificate],
    opts: &RequestOptions,
    rng: &mut Rng,
) -> Result<SentRequest, ScepError> {
    request(device, message_type, csr_der, recipients, opts, rng, false)
}

/// A PKCSReq for `csr_der`, enveloped to `ra_encryption`.
pub fn build_pkcs_req(
    device: &Device,
    csr_der: &[u8],
    ra_encryption: &Certificate,
    opts: &RequestOptions,
    rng: &mut Rng,
) -> Result<SentRequest, ScepError> {
    build_request(
        device,
        MessageType::PkcsReq,
        csr_der,
        &[ra_encryption],
        opts,
        rng,
    )
}

/// What a CertRep says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertRepOutcome {
    /// Issued.
    Success {
        /// The issued certificate (the one over the device key), DER.
        certificate_der: Vec<u8>,
        /// Every certificate in the reply's certs-only content, DER.
        certificates: Vec<Vec<u8>>,
        /// Cipher the server answered with.
        cipher: ContentCipher,
        /// Digest the server signed with.
        digest: DigestAlg,
    },
    /// Refused.
    Failure(FailInfo),
    /// Waiting for approval.
    Pending,
}

/// Reads the CertRep answering `sent`: verifies the signature (and, when `ra_signer` is
/// given, that it signed), checks transactionID and recipientNonce, decrypts a SUCCESS with
/// the device key and picks the certificate over the device key.
pub fn read_cert_rep(
    bytes: &[u8],
    device: &Device,
    sent: &SentRequest,
    ra_signer: Option<&Certificate>,
) -> Result<CertRepOutcome, ScepError> {
    let msg = PkiMessage::parse(bytes)?;
    if msg.message_type != MessageType::CertRep {
        return Err(ScepError::Mismatch(format!(
            "expected a CertRep, got {}",
            msg.message_type
        )));
    }
    if msg.transaction_id != sent.transaction_id {
        return Err(ScepError::Mismatch(format!(
            "transactionID {} is not ours ({})",
            msg.transaction_id, sent.transaction_id
        )));
    }
    if msg.recipient_nonce.as_deref() != Some(sent.sender_nonce.as_slice()) {
        return Err(ScepError::Mismatch(
            "recipientNonce is not our senderNonce".into(),
        ));
    }
    if let Some(ra) = ra_signer {
        if msg.signer != *ra {
            return Err(ScepError::Mismatch(
                "signed by another certificate than the RA signing certificate".into(),
            ));
        }
    }
    match msg
        .pki_status
        .ok_or(ScepError::MissingAttribute("pkiStatus"))?
    {
        PkiStatus::Failure => Ok(CertRepOutcome::Failure(
            msg.fail_info
                .ok_or(ScepError::MissingAttribute("failInfo"))?,
        )),
        PkiStatus::Pending => Ok(CertRepOutcome::Pending),
        PkiStatus::Success => {
            let dec = msg.decrypt(&device.cert, &device.key)?;
            let certs = certs_only(&dec.content)?;
            let ours = &device.cert.tbs_certificate.subject_public_key_info;
            let leaf = certs
                .iter()
                .find(|c| c.tbs_certificate.subject_public_key_info == *ours)
                .or_else(|| certs.first())
                .ok_or_else(|| ScepError::Decode {
                    what: "CertRep content",
                    why: "no certificate in the reply".into(),
                })?;
            let der = |c: &Certificate| c.to_der().map_err(build_err);
            Ok(CertRepOutcome::Success {
                certificate_der: der(leaf)?,
                certificates: certs.iter().map(der).collect::<Result<_, _>>()?,
                cipher: dec.cipher,
                digest: msg.digest,
            })
        }
    }
}

/// Deliberately malformed requests, for negative tests of a server.
pub mod malformed {
    use super::*;

    /// The first half of a message: truncated DER.
    pub fn truncated(message: &[u8]) -> Vec<u8> {
        message[..message.len() / 2].to_vec()
    }

    /// The envelope alone, unsigned: a ContentInfo of type envelopedData where signedData is
    /// expected.
    pub fn wrong_content_type(
        csr_der: &[u8],
        ra_encryption: &Certificate,
        opts: &RequestOptions,
        rng: &mut Rng,
    ) -> Result<Vec<u8>, ScepError> {
        envelope(csr_der, &[ra_encryption], opts.cipher, rng)
    }

    /// A well-formed PKCSReq whose signature has one bit flipped.
    pub fn bad_signature(
        device: &Device,
        csr_der: &[u8],
        ra_encryption: &Certificate,
        opts: &RequestOptions,
        rng: &mut Rng,
    ) -> Result<SentRequest, ScepError> {
        request(
            device,
            MessageType::PkcsReq,
            csr_der,
            &[ra_encryption],
            opts,
            rng,
            true,
        )
    }

    /// A well-formed, correctly signed PKCSReq enveloped to `other` instead of the RA.
    pub fn for_other_recipient(
        device: &Device,
        csr_der: &[u8],
        other: &Certificate,
        opts: &RequestOptions,
        rng: &mut Rng,
    ) -> Result<SentRequest, ScepError> {
        build_pkcs_req(device, csr_der, other, opts, rng)
    }
}
