//! The verification phase catches every way an answer can be wrong: each answer below is
//! built by hand for a prepared device, and only the right ones may count.

use std::time::Duration;

use der::{Decode, Encode};
use x509_cert::Certificate;

use super::discover::Server;
use super::prepare::{device_id, prepare, Prepared};
use super::send::{Answer, Reply, Transport};
use super::verify::verify;
use crate::fixtures::{ISSUING_CA, RA_ENCRYPTION, RA_SIGNING};
use crate::scep::Capabilities;
use crate::scep::{
    cert_rep_failure, cert_rep_success, CaCaps, FailInfo, PkiMessage, RaCerts, RaSigner, ReplyTo,
};
use crate::sim::Rng;

fn server() -> Server {
    let caps = CaCaps::parse(Capabilities::Rfc8894.answer());
    Server {
        options: caps.request_options(),
        caps,
        ra: RaCerts::select(vec![
            RA_SIGNING.certificate().unwrap(),
            RA_ENCRYPTION.certificate().unwrap(),
            ISSUING_CA.certificate().unwrap(),
        ])
        .unwrap(),
    }
}

/// The issuing CA's certificate for `csr`, with serial `serial`.
fn issue(csr: &[u8], serial: u8) -> Certificate {
    let key = ISSUING_CA.rcgen_key().unwrap();
    let issuer =
        rcgen::Issuer::from_ca_cert_der(&ISSUING_CA.cert_der().unwrap().into(), key).unwrap();
    let mut params =
        rcgen::CertificateSigningRequestParams::from_der(&csr.to_vec().into()).unwrap();
    params.params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x42, serial]));
    Certificate::from_der(params.signed_by(&issuer).unwrap().der()).unwrap()
}

/// What NDES would do with device `n`'s request: its request, decrypted.
fn request(p: &Prepared, n: usize) -> (PkiMessage, ReplyTo, Vec<u8>) {
    let msg = PkiMessage::parse(&p.items[n].sent.message).unwrap();
    let dec = msg
        .decrypt(
            &RA_ENCRYPTION.certificate().unwrap(),
            &RA_ENCRYPTION.rsa_key().unwrap(),
        )
        .unwrap();
    let to = ReplyTo::request(&msg, Some(dec.cipher));
    (msg, to, dec.content)
}

fn ok(body: Vec<u8>) -> Answer {
    Answer {
        latency: Duration::from_millis(3),
        result: Ok(Reply { status: 200, body }),
    }
}

#[test]
fn only_verified_certificates_over_the_device_key_count() {
    let server = server();
    let ids: Vec<String> = (0..9).map(|n| device_id(5, n)).collect();
    let challenges = vec![Some("pw".to_string()); ids.len()];
    let p = prepare(&server, "http://127.0.0.1:9/scep", &ids, &challenges, 5).unwrap();
    let ra_cert = RA_SIGNING.certificate().unwrap();
    let ra_key = RA_SIGNING.rsa_key().unwrap();
    let ra = RaSigner {
        cert: &ra_cert,
        key: &ra_key,
    };
    let mut rng = Rng::new(3);
    let success = |n: usize, serial: u8, rng: &mut Rng| {
        let (_, to, csr) = request(&p, n);
        cert_rep_success(&to, &issue(&csr, serial), ra, rng).unwrap()
    };
    let mut answers = Vec::new();
    // 0: right.
    answers.push(ok(success(0, 1, &mut rng)));
    // 1: device 0's CertRep again (another transaction, another nonce).
    answers.push(ok(success(0, 2, &mut rng)));
    // 2: signed by the issuing CA instead of the RA signing certificate.
    let (_, to2, csr2) = request(&p, 2);
    let ca_cert = ISSUING_CA.certificate().unwrap();
    let ca_key = ISSUING_CA.rsa_key().unwrap();
    let wrong_signer = RaSigner {
        cert: &ca_cert,
        key: &ca_key,
    };
    answers.push(ok(cert_rep_success(
        &to2,
        &issue(&csr2, 3),
        wrong_signer,
        &mut rng,
    )
    .unwrap()));
    // 3: a certificate over another key (device 4's, key 0) in device 3's CertRep.
    let (_, to3, _) = request(&p, 3);
    let (_, _, csr4) = request(&p, 4);
    answers.push(ok(
        cert_rep_success(&to3, &issue(&csr4, 4), ra, &mut rng).unwrap()
    ));
    // 4: HTTP 500.
    answers.push(Answer {
        latency: Duration::from_millis(1),
        result: Ok(Reply {
            status: 500,
            body: b"boom".to_vec(),
        }),
    });
    // 5: no answer.
    answers.push(Answer {
        latency: Duration::from_secs(30),
        result: Err(Transport {
            kind: "timeout",
            detail: "timed out".into(),
        }),
    });
    // 6: refused.
    let (_, to6, _) = request(&p, 6);
    answers.push(ok(cert_rep_failure(
        &to6,
        FailInfo::BadRequest,
        ra,
        &mut rng,
    )
    .unwrap()));
    // 7: not a CertRep at all.
    answers.push(ok(b"<html>proxy error</html>".to_vec()));
    // 8: right, but with device 0's serial.
    answers.push(ok(success(8, 1, &mut rng)));

    let t = verify(&server, &p, &answers).unwrap();
    assert_eq!(t.enrolled_latencies.len(), 2, "{t:?}");
    assert_eq!(t.serials.len(), 1, "one serial, issued twice: {t:?}");
    assert_eq!(t.refused.get("badRequest"), Some(&1));
    assert_eq!(t.http.get(&500), Some(&1));
    assert_eq!(t.transport.get("timeout"), Some(&1));
    assert_eq!(
        t.invalid.get("does not answer the request"),
        Some(&2),
        "{t:?}"
    );
    assert_eq!(
        t.invalid.get("no certificate over the device key"),
        Some(&1)
    );
    assert_eq!(t.invalid.get("does not decode"), Some(&1));
    assert!(t.first_invalid.unwrap().contains(&ids[1]));
}

#[test]
fn preparation_does_not_depend_on_threads_and_uses_the_caps() {
    let server = server();
    let ids: Vec<String> = (0..6).map(|n| device_id(9, n)).collect();
    let challenges = vec![None; ids.len()];
    let a = prepare(&server, "http://127.0.0.1:9/scep", &ids, &challenges, 9).unwrap();
    let b = prepare(&server, "http://127.0.0.1:9/scep", &ids, &challenges, 9).unwrap();
    for (x, y) in a.items.iter().zip(&b.items) {
        assert_eq!(x.sent, y.sent);
    }
    let txids: std::collections::HashSet<_> =
        a.items.iter().map(|i| &i.sent.transaction_id).collect();
    assert_eq!(txids.len(), ids.len());
    let msg = PkiMessage::parse(&a.items[5].sent.message).unwrap();
    assert_eq!(msg.digest, server.options.digest);
    assert_eq!(msg.signer, a.signers[5 % a.signers.len()].cert);
    let (_, _, csr) = request(&a, 5);
    let info = crate::pki::read_csr(&csr).unwrap();
    assert_eq!(info.common_name.as_deref(), Some(ids[5].as_str()));
    assert!(
        matches!(&a.requests[0], super::prepare::Request::Post { url, .. } if url.ends_with("/scep?operation=PKIOperation"))
    );
    // A server without POSTPKIOperation gets GETs with the message in the query.
    let mut get_only = server.clone();
    get_only.caps = CaCaps::parse("SHA-256\nAES\n");
    let g = prepare(
        &get_only,
        "http://127.0.0.1:9/scep",
        &ids[..1],
        &challenges[..1],
        9,
    )
    .unwrap();
    assert!(
        matches!(&g.requests[0], super::prepare::Request::Get { url } if url.contains("operation=PKIOperation&message="))
    );
    let _ = msg.signer.to_der().unwrap();
}
