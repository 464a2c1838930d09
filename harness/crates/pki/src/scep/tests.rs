//! Unit tests: the real micromdm capture in `../shared/fixtures/scep-micromdm` (skipped with a
//! notice when absent), client → server → client round trips, malformed input, random bytes.

use std::path::PathBuf;

use der::{Decode, Encode};
use proptest::prelude::*;
use x509_cert::Certificate;

use super::client::{build_request, malformed};
use super::*;
use crate::fixtures::{self, ISSUING_CA, RA_ENCRYPTION, RA_SIGNING, ROOT_CA};
use crate::pki::{build_csr, read_csr};
use crate::sim::Rng;

fn capture() -> Option<PathBuf> {
    harness_test_support::shared_dir("fixtures/scep-micromdm")
        .map(|d| d.join("fixtures/scep-micromdm"))
}

fn file(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

fn pem_key(dir: &std::path::Path, name: &str) -> crate::pki::RsaKey {
    let text = String::from_utf8(file(dir, name)).unwrap();
    crate::pki::RsaKey::from_pem(&text).unwrap()
}

fn pem_cert(dir: &std::path::Path, name: &str) -> Certificate {
    let text = String::from_utf8(file(dir, name)).unwrap();
    Certificate::from_der(&fixtures::pem_to_der(&text).unwrap()).unwrap()
}

#[test]
fn micromdm_pkcsreq_verifies_and_decrypts_with_the_server_key() {
    let Some(dir) = capture() else { return };
    let server_cert = pem_cert(&dir, "server-ca.pem");
    let server_key = pem_key(&dir, "server-ca.key");
    // Note: the README says pkcsreq-wrong-challenge.der is CN=dev-0002 with challenge
    // `wrong`, but its bytes carry CN=dev-0001, challenge TEST-ONLY-secret and device 1's
    // key (same transactionID, other senderNonce); openssl agrees. Test what the bytes hold.
    for (name, cn, challenge) in [
        (
            "pkcsreq-valid-challenge.der",
            "dev-0001",
            "TEST-ONLY-secret",
        ),
        (
            "pkcsreq-wrong-challenge.der",
            "dev-0001",
            "TEST-ONLY-secret",
        ),
    ] {
        let msg = PkiMessage::parse(&file(&dir, name)).unwrap();
        assert_eq!(msg.message_type, MessageType::PkcsReq);
        assert_eq!(msg.digest, DigestAlg::Sha1);
        assert_eq!(msg.sender_nonce.len(), 16);
        assert!(!msg.transaction_id.is_empty());
        let dec = msg.decrypt(&server_cert, &server_key).unwrap();
        assert_eq!(dec.cipher, ContentCipher::DesCbc);
        let csr = read_csr(&dec.content).unwrap();
        assert_eq!(csr.common_name.as_deref(), Some(cn));
        assert_eq!(csr.challenge_password.as_deref(), Some(challenge));
        // Another key cannot open it: the envelope names only the server's certificate.
        let ra = RA_ENCRYPTION.certificate().unwrap();
        let err = msg
            .decrypt(&ra, &RA_ENCRYPTION.rsa_key().unwrap())
            .unwrap_err();
        assert!(matches!(err, ScepError::NotForUs { .. }), "{err}");
    }
}

#[test]
fn micromdm_certreps_decode_with_the_device_keys() {
    let Some(dir) = capture() else { return };
    let req = PkiMessage::parse(&file(&dir, "pkcsreq-valid-challenge.der")).unwrap();
    let rep = PkiMessage::parse(&file(&dir, "certrep-success.der")).unwrap();
    assert_eq!(rep.message_type, MessageType::CertRep);
    assert_eq!(rep.pki_status, Some(PkiStatus::Success));
    assert_eq!(rep.transaction_id, req.transaction_id);
    assert_eq!(rep.recipient_nonce.as_ref(), Some(&req.sender_nonce));
    let device = Device {
        key: pem_key(&dir, "device-0001.key"),
        cert: req.signer.clone(),
        cert_der: req.signer.to_der().unwrap(),
    };
    let sent = SentRequest {
        message: vec![],
        transaction_id: req.transaction_id.clone(),
        sender_nonce: req.sender_nonce.clone(),
    };
    let issued =
        fixtures::pem_to_der(&String::from_utf8(file(&dir, "device-0001-issued.pem")).unwrap())
            .unwrap();
    match read_cert_rep(&file(&dir, "certrep-success.der"), &device, &sent, None).unwrap() {
        CertRepOutcome::Success {
            certificate_der,
            cipher,
            ..
        } => {
            assert_eq!(certificate_der, issued);
            assert_eq!(cipher, ContentCipher::DesCbc);
        }
        other => panic!("{other:?}"),
    }

    let wrong = PkiMessage::parse(&file(&dir, "pkcsreq-wrong-challenge.der")).unwrap();
    let fail = PkiMessage::parse(&file(&dir, "certrep-failure.der")).unwrap();
    assert_eq!(fail.pki_status, Some(PkiStatus::Failure));
    assert_eq!(fail.fail_info, Some(FailInfo::BadRequest));
    assert_eq!(fail.transaction_id, wrong.transaction_id);
    assert_eq!(fail.recipient_nonce.as_ref(), Some(&wrong.sender_nonce));
    assert!(fail.envelope.is_none());
    // The failure answers the other request (other senderNonce): refused as a reply to this one.
    let err = read_cert_rep(&file(&dir, "certrep-failure.der"), &device, &sent, None);
    assert!(matches!(err, Err(ScepError::Mismatch(_))), "{err:?}");
    let _ = pem_key(&dir, "device-0002.key");
}

#[test]
fn micromdm_getcacert_is_one_raw_certificate() {
    let Some(dir) = capture() else { return };
    let certs = parse_ca_certs(&file(&dir, "getcacert-response.der")).unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0], pem_cert(&dir, "server-ca.pem"));
}

fn issue(csr: &[u8]) -> Certificate {
    let key = ISSUING_CA.rcgen_key().unwrap();
    let issuer =
        rcgen::Issuer::from_ca_cert_der(&ISSUING_CA.cert_der().unwrap().into(), key).unwrap();
    let params = rcgen::CertificateSigningRequestParams::from_der(&csr.to_vec().into()).unwrap();
    let cert = params.signed_by(&issuer).unwrap();
    Certificate::from_der(cert.der()).unwrap()
}

#[test]
fn round_trip_with_every_cipher_and_digest() {
    let mut rng = Rng::new(11).fork("scep-test");
    let ra_enc = RA_ENCRYPTION.certificate().unwrap();
    let ra_enc_key = RA_ENCRYPTION.rsa_key().unwrap();
    let ra_sign = RA_SIGNING.certificate().unwrap();
    let ra_sign_key = RA_SIGNING.rsa_key().unwrap();
    let device =
        Device::self_signed(fixtures::device_key(0).unwrap(), "device-0", &mut rng).unwrap();
    let csr = build_csr(&device.key, "device-0", Some("pw-1")).unwrap();
    for (cipher, digest, reply_digest) in [
        (
            ContentCipher::Aes128Cbc,
            DigestAlg::Sha256,
            DigestAlg::Sha256,
        ),
        (ContentCipher::DesCbc, DigestAlg::Sha1, DigestAlg::Sha1),
        (ContentCipher::Des3Cbc, DigestAlg::Sha1, DigestAlg::Sha1),
        (
            ContentCipher::Aes256Cbc,
            DigestAlg::Sha512,
            DigestAlg::Sha256,
        ),
        (
            ContentCipher::Aes192Cbc,
            DigestAlg::Sha256,
            DigestAlg::Sha256,
        ),
    ] {
        let opts = RequestOptions { cipher, digest };
        // Encrypted to every GetCACert certificate, as micromdm does.
        let sent = build_request(
            &device,
            MessageType::PkcsReq,
            &csr,
            &[&ra_sign, &ISSUING_CA.certificate().unwrap(), &ra_enc],
            &opts,
            &mut rng,
        )
        .unwrap();
        let msg = PkiMessage::parse(&sent.message).unwrap();
        assert_eq!(msg.digest, digest);
        let dec = msg.decrypt(&ra_enc, &ra_enc_key).unwrap();
        assert_eq!(dec.content, csr);
        assert_eq!(dec.cipher, cipher);
        let to = ReplyTo::request(&msg, Some(dec.cipher));
        let ra = RaSigner {
            cert: &ra_sign,
            key: &ra_sign_key,
        };
        let issued = issue(&dec.content);
        let ok = cert_rep_success(&to, &issued, ra, &mut rng).unwrap();
        match read_cert_rep(&ok, &device, &sent, Some(&ra_sign)).unwrap() {
            CertRepOutcome::Success {
                certificate_der,
                cipher: c,
                digest: d,
                ..
            } => {
                assert_eq!(certificate_der, issued.to_der().unwrap());
                assert_eq!(c, cipher);
                assert_eq!(d, reply_digest);
            }
            other => panic!("{other:?}"),
        }
        let fail = cert_rep_failure(&to, FailInfo::BadRequest, ra, &mut rng).unwrap();
        assert_eq!(
            read_cert_rep(&fail, &device, &sent, Some(&ra_sign)).unwrap(),
            CertRepOutcome::Failure(FailInfo::BadRequest)
        );
        // A reply signed by someone else is refused when the RA is pinned.
        let root_key = ROOT_CA.rsa_key().unwrap();
        let root = ROOT_CA.certificate().unwrap();
        let forged = cert_rep_failure(
            &to,
            FailInfo::BadRequest,
            RaSigner {
                cert: &root,
                key: &root_key,
            },
            &mut rng,
        )
        .unwrap();
        assert!(read_cert_rep(&forged, &device, &sent, Some(&ra_sign)).is_err());
    }
}

#[test]
fn replies_are_deterministic_for_a_seed() {
    let run = || {
        let mut rng = Rng::new(5);
        let device = Device::self_signed(fixtures::device_key(1).unwrap(), "d", &mut rng).unwrap();
        let csr = build_csr(&device.key, "d", Some("x")).unwrap();
        let ra_enc = RA_ENCRYPTION.certificate().unwrap();
        client::build_pkcs_req(&device, &csr, &ra_enc, &RequestOptions::default(), &mut rng)
            .unwrap()
            .message
    };
    assert_eq!(run(), run());
}

#[test]
fn ca_certs_response_round_trips() {
    let certs = [
        RA_SIGNING.certificate().unwrap(),
        RA_ENCRYPTION.certificate().unwrap(),
        ISSUING_CA.certificate().unwrap(),
    ];
    let der = ca_certs_response(&[&certs[0], &certs[1], &certs[2]]).unwrap();
    let back = parse_ca_certs(&der).unwrap();
    assert_eq!(back.len(), 3);
    for c in &certs {
        assert!(back.contains(c));
    }
}

#[test]
fn malformed_requests_fail_cleanly() {
    let mut rng = Rng::new(3);
    let opts = RequestOptions::default();
    let ra_enc = RA_ENCRYPTION.certificate().unwrap();
    let ra_enc_key = RA_ENCRYPTION.rsa_key().unwrap();
    let device = Device::self_signed(fixtures::device_key(2).unwrap(), "m", &mut rng).unwrap();
    let csr = build_csr(&device.key, "m", Some("pw")).unwrap();
    let good = client::build_pkcs_req(&device, &csr, &ra_enc, &opts, &mut rng).unwrap();

    assert!(matches!(
        PkiMessage::read(&malformed::truncated(&good.message)),
        Err(ScepError::Ber(_))
    ));
    let wct = malformed::wrong_content_type(&csr, &ra_enc, &opts, &mut rng).unwrap();
    assert!(matches!(
        PkiMessage::read(&wct),
        Err(ScepError::WrongContentType { .. })
    ));
    let bad = malformed::bad_signature(&device, &csr, &ra_enc, &opts, &mut rng).unwrap();
    let msg = PkiMessage::read(&bad.message).unwrap();
    assert_eq!(msg.transaction_id, bad.transaction_id);
    assert!(matches!(msg.verify(), Err(ScepError::BadSignature(_))));
    let other = malformed::for_other_recipient(
        &device,
        &csr,
        &ISSUING_CA.certificate().unwrap(),
        &opts,
        &mut rng,
    )
    .unwrap();
    let msg = PkiMessage::parse(&other.message).unwrap();
    assert_eq!(
        msg.decrypt(&ra_enc, &ra_enc_key).unwrap_err(),
        ScepError::NotForUs { recipients: 1 }
    );
    // The right key with a tampered ciphertext: a decryption error, not a panic.
    let mut flipped = good.message.clone();
    let n = flipped.len();
    flipped[n - 300] ^= 0xff;
    let _ = PkiMessage::parse(&flipped).and_then(|m| m.decrypt(&ra_enc, &ra_enc_key));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = PkiMessage::parse(&bytes);
        let _ = parse_ca_certs(&bytes);
        let _ = certs_only(&bytes);
        let _ = super::ber::normalize(&bytes);
        let _ = super::ber::normalize_envelope(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(pos in 0usize..4096, val in any::<u8>(), cut in 0usize..4096) {
        thread_local! {
            static GOOD: Vec<u8> = {
                let mut rng = Rng::new(9);
                let device = Device::self_signed(fixtures::device_key(3).unwrap(), "p", &mut rng).unwrap();
                let csr = build_csr(&device.key, "p", Some("pw")).unwrap();
                client::build_pkcs_req(&device, &csr, &RA_ENCRYPTION.certificate().unwrap(),
                    &RequestOptions::default(), &mut rng).unwrap().message
            };
        }
        let mut bytes = GOOD.with(|g| g.clone());
        let p = pos % bytes.len();
        bytes[p] = val;
        bytes.truncate(bytes.len() - cut % 64);
        if let Ok(m) = PkiMessage::read(&bytes) {
            let _ = m.verify();
            let _ = m.decrypt(&RA_ENCRYPTION.certificate().unwrap(), &RA_ENCRYPTION.rsa_key().unwrap());
        }
    }
}
