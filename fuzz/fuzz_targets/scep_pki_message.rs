//! A SCEP `pkiMessage` as both ends read it. As NDES: decode (BER accepted), check the
//! signature, work out the reply's parameters, open the envelope with the RA encryption key
//! and read the PKCS#10 inside — the envelope is opened whether or not the signature holds,
//! since anyone can sign a PKCSReq with a self-signed certificate of their own. As the
//! device: read a CertRep answering its fixed request.
#![no_main]

use der::Encode;
use harness_runner::csr::Csr;
use harness_runner::scep::{read_cert_rep, MessageType, PkiMessage, ReplyTo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: connector_harness_fuzz::init("scep_pki_message"),
    |data: &[u8]| {
        let f = connector_harness_fuzz::scep::fixed();
        let Ok(msg) = PkiMessage::read(data) else {
            return;
        };
        let _ = msg.verify();
        let _ = ReplyTo::request(&msg, None);
        match msg.message_type {
            MessageType::PkcsReq | MessageType::RenewalReq => {
                if let Ok(opened) = msg.decrypt(&f.ra_encryption, &f.ra_encryption_key) {
                    let _ = ReplyTo::request(&msg, Some(opened.cipher));
                    if let Ok(csr) = Csr::read(&opened.content) {
                        let _ = csr.verify();
                        // NDES compares the CSR's key with the signer's.
                        let _ = csr.public_key_der();
                        let _ = msg.signer.tbs_certificate.subject_public_key_info.to_der();
                    }
                }
            }
            MessageType::CertRep => {
                let _ = read_cert_rep(data, &f.device, &f.sent, Some(&f.ra_signing));
            }
            _ => {}
        }
    }
);
