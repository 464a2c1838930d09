//! Seed corpora, one per target, from what the repository and the shared fixtures hold and
//! what the harness itself writes: the scenario library, micromdm's captured SCEP traffic
//! (`../shared/fixtures/scep-micromdm`, skipped with a notice when absent, as the harness's
//! tests do), requests and answers the harness builds, JSON bodies in the reference client's
//! shapes, and the event logs the harness writes from every snapshot.

use std::path::Path;

use der::Encode;
use harness_runner::csr::{CsrDigest, CsrSpec, KeyUse, San, CLIENT_AUTH};
use harness_runner::event::{self, EventRecord, XmlForm, XmlLayout};
use harness_runner::fixtures;
use harness_runner::pki;
use harness_runner::scep::client::{build_request, malformed};
use harness_runner::scep::{
    ca_certs_response, cert_rep_failure, cert_rep_success, ContentCipher, DigestAlg, FailInfo,
    MessageType, PkiMessage, RaSigner, ReplyTo, RequestOptions,
};
use harness_runner::sim::Rng;

use crate::{repo_root, scep};

/// A named seed.
pub type Seed = (String, Vec<u8>);

pub(crate) type Res<T> = Result<T, String>;

pub(crate) fn err(e: impl std::fmt::Display) -> String {
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
        #[cfg(feature = "intune")]
        "intune_request" => crate::intune::seeds::all(),
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

fn private_key(pem: &str) -> Res<harness_runner::pki::RsaKey> {
    harness_runner::pki::RsaKey::from_pem(pem).map_err(err)
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
        let Some(body) = harness_runner::run::snapshot::read(&path).map_err(err)? else {
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
