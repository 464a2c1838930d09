//! Seed corpora, one per target, from what the repository and the shared fixtures hold and
//! what the harness itself writes: the scenario library, micromdm's captured SCEP traffic
//! (`../shared/fixtures/scep-micromdm`, skipped with a notice when absent, as the harness's
//! tests do), requests and answers the harness builds, JSON bodies in the reference client's
//! shapes, and the event logs the harness writes from every snapshot.

use std::path::Path;

use connector_harness::contract::intune::scep as scep_service;
use connector_harness::contract::intune::{admin, crp, pkcs, registration, revocation};
use connector_harness::csr::{CsrDigest, CsrSpec, KeyUse, San, CLIENT_AUTH};
use connector_harness::event::{self, EventRecord, XmlForm, XmlLayout};
use connector_harness::fixtures;
use connector_harness::pki::{self, b64};
use connector_harness::scep::client::{build_request, malformed};
use connector_harness::scep::{
    ca_certs_response, cert_rep_failure, cert_rep_success, ContentCipher, DigestAlg, FailInfo,
    MessageType, PkiMessage, RaSigner, ReplyTo, RequestOptions,
};
use connector_harness::sim::Rng;
use der::Encode;

use crate::{intune, repo_root, scep};

/// A named seed.
pub type Seed = (String, Vec<u8>);

type Res<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Writes `target`'s seeds into `dir`; answers how many.
pub fn write(target: &str, dir: &Path) -> Res<usize> {
    let seeds = for_target(target)?;
    std::fs::create_dir_all(dir).map_err(err)?;
    for (name, bytes) in &seeds {
        std::fs::write(dir.join(name), bytes).map_err(err)?;
    }
    Ok(seeds.len())
}

/// The seeds of `target`.
pub fn for_target(target: &str) -> Res<Vec<Seed>> {
    match target {
        "scenario_load" => scenarios(),
        "scep_pki_message" => pki_messages(),
        "scep_ca_certs" => ca_certs(),
        "csr_read" => csrs(),
        "intune_request" => intune_requests(),
        "event_jsonl" => logs(&[LogKind::Jsonl]),
        "event_xml" => logs(&[LogKind::Xml]),
        "event_scan" => logs(&[LogKind::Jsonl, LogKind::Xml, LogKind::Yaml]),
        "event_evtx" => evtx(),
        other => Err(format!("no seeds for unknown target `{other}`")),
    }
}

fn files_with(dir: &Path, ext: &str) -> Res<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}

fn file_seed(path: &Path) -> Res<Seed> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((name, bytes))
}

/// The micromdm captures folder, or `None` (with the harness's printed notice).
fn micromdm() -> Option<std::path::PathBuf> {
    harness_test_support::shared_dir("fixtures/scep-micromdm")
        .map(|d| d.join("fixtures/scep-micromdm"))
}

fn scenarios() -> Res<Vec<Seed>> {
    files_with(&repo_root().join("scenarios"), "yaml")?
        .iter()
        .map(|p| file_seed(p))
        .collect()
}

fn pki_messages() -> Res<Vec<Seed>> {
    let f = scep::fixed();
    let mut seeds = Vec::new();
    if let Some(dir) = micromdm() {
        for name in [
            "pkcsreq-valid-challenge.der",
            "pkcsreq-wrong-challenge.der",
            "certrep-success.der",
            "certrep-failure.der",
        ] {
            seeds.push(file_seed(&dir.join(name))?);
        }
    }
    seeds.push(("harness-pkcsreq-sent.der".into(), f.sent.message.clone()));
    let mut rng = Rng::new(3);
    let ciphers = [
        ContentCipher::DesCbc,
        ContentCipher::Des3Cbc,
        ContentCipher::Aes128Cbc,
        ContentCipher::Aes192Cbc,
        ContentCipher::Aes256Cbc,
    ];
    let digests = [DigestAlg::Sha1, DigestAlg::Sha256, DigestAlg::Sha512];
    for (i, cipher) in ciphers.iter().enumerate() {
        let opts = RequestOptions {
            cipher: *cipher,
            digest: digests[i % digests.len()],
        };
        let req = build_request(
            &f.device,
            MessageType::PkcsReq,
            &f.csr,
            &[&f.ra_encryption],
            &opts,
            &mut rng,
        )
        .map_err(err)?;
        seeds.push((format!("harness-pkcsreq-{cipher:?}.der"), req.message));
    }
    let renewal = build_request(
        &f.device,
        MessageType::RenewalReq,
        &f.csr,
        &[&f.ra_encryption, &f.ra_signing],
        &RequestOptions::micromdm(),
        &mut rng,
    )
    .map_err(err)?;
    seeds.push(("harness-renewalreq.der".into(), renewal.message));
    let opts = RequestOptions::default();
    let bad = malformed::bad_signature(&f.device, &f.csr, &f.ra_encryption, &opts, &mut rng)
        .map_err(err)?;
    seeds.push(("harness-bad-signature.der".into(), bad.message));
    let other = malformed::for_other_recipient(&f.device, &f.csr, &f.ra_signing, &opts, &mut rng)
        .map_err(err)?;
    seeds.push(("harness-other-recipient.der".into(), other.message));
    let envelope =
        malformed::wrong_content_type(&f.csr, &f.ra_encryption, &opts, &mut rng).map_err(err)?;
    seeds.push(("harness-envelope-alone.der".into(), envelope));
    seeds.push((
        "harness-truncated.der".into(),
        malformed::truncated(&f.sent.message),
    ));
    // The answers to the fixed request, as the device reads them.
    let request = PkiMessage::read(&f.sent.message).map_err(err)?;
    let to = ReplyTo::request(&request, Some(ContentCipher::Aes128Cbc));
    let ra = RaSigner {
        cert: &f.ra_signing,
        key: &f.ra_signing_key,
    };
    let success = cert_rep_success(&to, &f.device.cert, ra, &mut rng).map_err(err)?;
    seeds.push(("harness-certrep-success.der".into(), success));
    for fail in [FailInfo::BadRequest, FailInfo::BadMessageCheck] {
        let failure = cert_rep_failure(&to, fail, ra, &mut rng).map_err(err)?;
        seeds.push((format!("harness-certrep-{fail}.der"), failure));
    }
    Ok(seeds)
}

fn ca_certs() -> Res<Vec<Seed>> {
    let f = scep::fixed();
    let mut seeds = Vec::new();
    if let Some(dir) = micromdm() {
        seeds.push(file_seed(&dir.join("getcacert-response.der"))?);
        let pem = std::fs::read_to_string(dir.join("server-ca.pem")).map_err(err)?;
        seeds.push(("micromdm-server-ca.der".into(), pki_der(&pem)?));
    }
    let issuing = fixtures::ISSUING_CA.certificate().map_err(err)?;
    let all = ca_certs_response(&[&f.ra_signing, &f.ra_encryption, &issuing]).map_err(err)?;
    seeds.push(("harness-getcacert-ra.der".into(), all));
    let one = ca_certs_response(&[&issuing]).map_err(err)?;
    seeds.push(("harness-getcacert-ca-only.der".into(), one));
    seeds.push((
        "harness-issuing-ca.der".into(),
        issuing.to_der().map_err(err)?,
    ));
    Ok(seeds)
}

fn pki_der(pem: &str) -> Res<Vec<u8>> {
    fixtures::pem_to_der(pem)
}

fn csrs() -> Res<Vec<Seed>> {
    let f = scep::fixed();
    let key = fixtures::device_key(2).map_err(err)?;
    let mut seeds = vec![
        ("harness-simple.der".into(), f.csr.clone()),
        (
            "harness-no-subject.der".into(),
            CsrSpec::default().build(&key).map_err(err)?,
        ),
        (
            "harness-pki-build-csr.der".into(),
            pki::build_csr(&key, "TEST ONLY device", Some("pässword")).map_err(err)?,
        ),
    ];
    let full = CsrSpec {
        common_name: Some("dev-7".into()),
        challenge: Some("pw".into()),
        sans: vec![
            San::Upn("alice@contoso.test".into()),
            San::Dns("dev-7.contoso.test".into()),
            San::Email("alice@contoso.test".into()),
        ],
        key_usage: vec![KeyUse::DigitalSignature, KeyUse::KeyEncipherment],
        extended_key_usage: vec![CLIENT_AUTH],
        subject_key_identifier: true,
        digest: CsrDigest::Sha1,
    };
    seeds.push((
        "harness-every-extension.der".into(),
        full.build(&key).map_err(err)?,
    ));
    // What a real client sends: micromdm's PKCS#10, out of its captured PKCSReq (enveloped to
    // the capture's own CA, whose key the capture folder holds).
    if let Some(dir) = micromdm() {
        let msg = std::fs::read(dir.join("pkcsreq-valid-challenge.der")).map_err(err)?;
        let cert_pem = std::fs::read_to_string(dir.join("server-ca.pem")).map_err(err)?;
        let cert =
            <x509_cert::Certificate as der::Decode>::from_der(&pki_der(&cert_pem)?).map_err(err)?;
        let key_pem = std::fs::read_to_string(dir.join("server-ca.key")).map_err(err)?;
        let key = private_key(&key_pem)?;
        let opened = PkiMessage::read(&msg)
            .and_then(|m| m.decrypt(&cert, &key))
            .map_err(err)?;
        seeds.push(("micromdm-pkcsreq-csr.der".into(), opened.content));
    }
    Ok(seeds)
}

fn private_key(pem: &str) -> Res<connector_harness::pki::RsaKey> {
    connector_harness::pki::RsaKey::from_pem(pem).map_err(err)
}

fn intune_requests() -> Res<Vec<Seed>> {
    use intune::selector as sel;
    let world = intune::world();
    let setup = world.reset();
    let key = fixtures::device_key(0).map_err(err)?;
    let csr_with = |challenge: &str| -> Res<String> {
        Ok(b64(&CsrSpec::simple(intune::DEVICE, Some(challenge))
            .build(&key)
            .map_err(err)?))
    };
    let strict = CsrSpec {
        common_name: Some(intune::DEVICE.into()),
        challenge: Some(setup.challenges[2].clone()),
        sans: vec![
            San::Upn(intune::USER.into()),
            San::Dns(intune::DEVICE.into()),
            San::Email(intune::USER.into()),
        ],
        key_usage: vec![KeyUse::DigitalSignature, KeyUse::KeyEncipherment],
        extended_key_usage: vec![CLIENT_AUTH],
        subject_key_identifier: true,
        digest: CsrDigest::Sha256,
    };
    let csr2 = b64(&strict.build(&key).map_err(err)?);
    let csr0 = csr_with(&setup.challenges[0])?;
    let csr1 = csr_with(&setup.challenges[1])?;
    let (p1, p2) = (&setup.pkcs[0], &setup.pkcs[1]);
    let (r1, r2) = (&setup.revocations[0], &setup.revocations[1]);
    let validate = format!(
        r#"{{"request":{{"transactionId":"TX-1","certificateRequest":"{csr0}","callerInfo":"Contoso SCEP/1.2"}}}}"#
    );
    let success = format!(
        r#"{{"notification":{{"transactionId":"TX-1","certificateRequest":"{csr0}","certificateThumbprint":"A1B2C3","certificateSerialNumber":"0a1b2c","certificateExpirationDateUtc":"2027-01-01T00:00:00Z","issuingCertificateAuthority":"TEST-ISSUING-CA","callerInfo":"Contoso SCEP/1.2"}}}}"#
    );
    let failure = format!(
        r#"{{"notification":{{"transactionId":"TX-1","certificateRequest":"{csr0}","hResult":-2146875374,"errorDescription":"CA denied the request","callerInfo":"Contoso SCEP/1.2"}}}}"#
    );
    let crp_verify = format!(
        r#"{{"transactionId":"TX-2","certificateRequest":"{csr1}","callerInfo":"NDES_Plugin"}}"#
    );
    let crp_notify = format!(
        r#"{{"transactionId":"TX-2","certificateRequest":"{csr1}","callerInfo":"NDES_Plugin","outcome":{{"status":"success","certificateThumbprint":"A1B2C3","certificateSerialNumber":"0a1b2c","certificateExpirationDateUtc":"2027-01-01T00:00:00Z","issuingCertificateAuthority":"TEST-ISSUING-CA"}}}}"#
    );
    let crp_notify_failure = format!(
        r#"{{"transactionId":"TX-2","certificateRequest":"{csr1}","callerInfo":"NDES_Plugin","outcome":{{"status":"failure","hResult":-2146875374,"errorDescription":"denied"}}}}"#
    );
    let pkcs_upload_csharp = format!(
        r#"{{"results":[{{"tenantId":"{}","userId":"{}","deviceId":"{}-1","requestId":"{p1}","requestType":"PkcsCertificate","succeeded":true,"errorCode":"None","errorMessage":null}}]}}"#,
        setup.tenant,
        intune::USER,
        intune::DEVICE
    );
    let pkcs_upload_java = format!(
        r#"{{"results":[{{"tenantId":"{}","userId":"{}","deviceId":"{}-2","requestId":"{p2}","requestType":"PkcsCertificate","succeeded":false,"errorCode":"4004","errorMessage":"CA unavailable"}}]}}"#,
        setup.tenant,
        intune::USER,
        intune::DEVICE
    );
    let rev_upload_csharp = format!(
        r#"{{"results":[{{"requestContext":"{r1}","succeeded":true,"errorCode":"None","errorMessage":null}}]}}"#
    );
    let rev_upload_java = format!(
        r#"{{"results":[{{"requestContext":"{r2}","succeeded":false,"errorCode":"4004","errorMessage":"Certificate not found"}}]}}"#
    );
    let renew = format!(r#"{{"thumbprint":"AB","certificateRequest":"{csr0}"}}"#);
    let calls: Vec<(&str, Vec<(u8, String)>)> = vec![
        ("pkcs-download", vec![(sel(pkcs::DOWNLOAD), r#"{"downloadParameters":{"maxMessages":5,"issuerName":"TEST-ISSUING-CA","requestType":"PkcsCertificate"}}"#.into())]),
        ("pkcs-upload-csharp", vec![(sel(pkcs::UPLOAD), pkcs_upload_csharp.clone())]),
        ("pkcs-upload-java", vec![(sel(pkcs::UPLOAD), pkcs_upload_java.clone())]),
        ("pkcs-download-upload-twice", vec![
            (sel(pkcs::DOWNLOAD), r#"{"downloadParameters":{"maxMessages":500}}"#.into()),
            (sel(pkcs::UPLOAD), pkcs_upload_csharp.clone()),
            (sel(pkcs::UPLOAD), pkcs_upload_csharp),
            (sel(pkcs::UPLOAD), pkcs_upload_java),
        ]),
        ("revocation-download", vec![(sel(revocation::DOWNLOAD), r#"{"downloadParameters":{"maxRequests":10,"issuerName":"contoso-ca"}}"#.into())]),
        ("revocation-upload-csharp", vec![(sel(revocation::UPLOAD), rev_upload_csharp.clone())]),
        ("revocation-upload-java", vec![(sel(revocation::UPLOAD), rev_upload_java.clone())]),
        ("revocation-unknown-and-twice", vec![
            (sel(revocation::UPLOAD), r#"{"results":[{"requestContext":"nope","succeeded":true}]}"#.into()),
            (sel(revocation::UPLOAD), rev_upload_java.clone()),
            (sel(revocation::UPLOAD), rev_upload_java),
        ]),
        ("scep-validate-then-success", vec![(sel(scep_service::VALIDATE), validate.clone()), (sel(scep_service::SUCCESS_NOTIFICATION), success.clone())]),
        ("scep-validate-then-failure", vec![(sel(scep_service::VALIDATE), validate.clone()), (sel(scep_service::FAILURE_NOTIFICATION), failure.clone())]),
        ("scep-validate-twice", vec![(sel(scep_service::VALIDATE), validate.clone()), (sel(scep_service::VALIDATE), validate)]),
        ("scep-validate-strict-profile", vec![(sel(scep_service::VALIDATE), format!(
            r#"{{"request":{{"transactionId":"TX-3","certificateRequest":"{csr2}","callerInfo":"Contoso SCEP/1.2"}}}}"#
        ))]),
        ("scep-success-never-validated", vec![(sel(scep_service::SUCCESS_NOTIFICATION), success)]),
        ("crp-verify-then-notify", vec![(sel(crp::VERIFY_REQUEST), crp_verify.clone()), (sel(crp::NOTIFY), crp_notify)]),
        ("crp-verify-then-notify-failure", vec![(sel(crp::VERIFY_REQUEST), crp_verify.clone()), (sel(crp::NOTIFY), crp_notify_failure)]),
        ("crp-verify-without-headers", vec![(sel(crp::VERIFY_REQUEST) | 0x80, crp_verify)]),
        ("registration-checkin", vec![(sel(registration::CHECKIN), r#"{"state":"started","thumbprint":"AB"}"#.into())]),
        ("registration-renew", vec![(sel(registration::RENEW), renew)]),
        ("registration-signing-certificate", vec![(sel(registration::SIGNING_CERTIFICATE), r#"{"thumbprint":"AB"}"#.into())]),
        ("admin-mint", vec![(sel(admin::CHALLENGES), format!(r#"{{"deviceId":"{}","userId":"{}","profile":"SCEP-Default","validitySeconds":60}}"#, intune::DEVICE, intune::USER))]),
        ("admin-mint-huge-validity", vec![(sel(admin::CHALLENGES), r#"{"deviceId":"d","userId":"u","validitySeconds":18446744073709551615}"#.into())]),
        ("admin-queue-pkcs", vec![(sel(admin::PKCS_REQUESTS), format!(r#"{{"deviceId":"d","userId":"u","templateName":"IntuneUser","caName":"TEST-ISSUING-CA","certificateRequest":"{csr0}","requestId":"r-1"}}"#))]),
        ("admin-queue-revocation", vec![(sel(admin::REVOCATION_REQUESTS), r#"{"serialNumber":"0x0A:1B","issuerName":"contoso-ca","caConfiguration":"ca01\\contoso-ca"}"#.into())]),
        ("admin-state", vec![(sel(admin::STATE), String::new())]),
        ("discovery", vec![(sel("/endpoints"), String::new())]),
        ("no-transport-headers", vec![(sel(pkcs::DOWNLOAD) | 0x80, r#"{"downloadParameters":{"maxMessages":5}}"#.into())]),
    ];
    Ok(calls
        .into_iter()
        .map(|(name, calls)| {
            let calls: Vec<(u8, &[u8])> = calls.iter().map(|(s, b)| (*s, b.as_bytes())).collect();
            (format!("{name}.bin"), intune::frame(&calls))
        })
        .collect())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LogKind {
    Jsonl,
    Xml,
    Yaml,
}

/// Every snapshot's records.
fn snapshot_streams() -> Res<Vec<(String, Vec<EventRecord>)>> {
    let mut out = Vec::new();
    for path in files_with(&repo_root().join("snapshots"), "snap")? {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(body) = connector_harness::run::snapshot::read(&path).map_err(err)? else {
            continue;
        };
        let records = event::from_yaml(&body).map_err(|e| format!("{name}: {e}"))?;
        out.push((name, records));
    }
    Ok(out)
}

fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// Records per log seed: small inputs keep the fuzzer fast; together the pieces of every
/// snapshot hold every event the harness writes.
const RECORDS_PER_SEED: usize = 4;

fn logs(kinds: &[LogKind]) -> Res<Vec<Seed>> {
    let mut seeds = Vec::new();
    let mut pieces = Vec::new();
    for (name, records) in snapshot_streams()? {
        for (i, chunk) in records.chunks(RECORDS_PER_SEED).enumerate() {
            pieces.push((format!("{name}-{i}"), chunk.to_vec()));
        }
    }
    for (name, records) in pieces {
        if kinds.contains(&LogKind::Jsonl) {
            seeds.push((
                format!("{name}.jsonl"),
                event::to_jsonl(&records).into_bytes(),
            ));
        }
        if kinds.contains(&LogKind::Yaml) {
            seeds.push((
                format!("{name}.yaml"),
                event::to_yaml(&records).into_bytes(),
            ));
        }
        if kinds.contains(&LogKind::Xml) {
            seeds.push((format!("{name}.xml"), event::to_xml(&records).into_bytes()));
            // The other layouts only for the first records of each story: they share the shapes.
            if name.starts_with("story-") && name.ends_with("-0") {
                for (form, f) in [
                    (XmlForm::Manifest, "manifest"),
                    (XmlForm::Classic, "classic"),
                ] {
                    for (layout, l) in [(XmlLayout::Bare, "bare"), (XmlLayout::Wrapped, "wrapped")]
                    {
                        let xml = event::write_xml(&records, form, layout);
                        seeds.push((format!("{name}.{f}-{l}.xml"), xml.clone().into_bytes()));
                        if layout == XmlLayout::Wrapped {
                            seeds.push((format!("{name}.{f}-{l}.utf16.xml"), utf16le_bom(&xml)));
                        }
                    }
                }
                let to_xml_lines: String = records
                    .iter()
                    .map(|r| event::event_to_xml(r) + "\r\n")
                    .collect();
                seeds.push((format!("{name}.toxml.xml"), to_xml_lines.into_bytes()));
            }
        }
    }
    Ok(seeds)
}

/// The largest shared .evtx sample used as a seed; larger ones (a 1 MB file) would set the
/// fuzzer's input length for the whole run.
const MAX_EVTX_SEED: u64 = 128 * 1024;

fn evtx() -> Res<Vec<Seed>> {
    let Some(shared) = harness_test_support::shared_dir("fixtures/evtx") else {
        return Ok(Vec::new());
    };
    let mut seeds = Vec::new();
    for path in files_with(&shared.join("fixtures/evtx"), "evtx")? {
        let size = std::fs::metadata(&path).map_err(err)?.len();
        if size <= MAX_EVTX_SEED {
            seeds.push(file_seed(&path)?);
        } else {
            eprintln!(
                "notice: {} ({size} bytes) is not a seed: larger than {MAX_EVTX_SEED} bytes",
                path.display()
            );
        }
    }
    Ok(seeds)
}
