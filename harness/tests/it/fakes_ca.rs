//! The fake CA over real sockets: issuance that verifies against the chain, determinism,
//! revocation, status, CRL, the DigiCert client-certificate path, and every fault kind on every
//! operation that accepts it (with both scopes, and `unavailable` closing the port).

use std::time::{Duration, Instant};

use der::{Decode, Encode};
use harness_runner::contract::ca::CaJournalEntry;
use harness_runner::contract::ca::{
    ca_paths, ErrorBody, IssueRequest, IssueResponse, RevokeRequest, RevokeResponse,
    StatusResponse, CLIENT_CERT_HEADER,
};
use harness_runner::contract::fault::{CaOp, Fault, FaultKind, FaultTarget, KindName, Scope};
use harness_runner::fakes::ca::{CaConfig, CaKind, FakeCa};
use harness_runner::fakes::FakeError;
use harness_runner::fixtures::{self, DIGICERT_RA, ISSUING_CA, ROOT_CA};
use harness_runner::pki;
use harness_runner::sim::{Clock, Rng};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use sha2::Sha256;
use signature::Verifier;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::Certificate;

type Res<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const TEMPLATE: &str = "IntuneUser";

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("reqwest client")
}

fn normal() -> reqwest::Client {
    client(Duration::from_secs(10))
}

fn csr(device: usize, cn: &str) -> Res<String> {
    Ok(pki::b64(&pki::build_csr(
        &fixtures::device_key(device)?,
        cn,
        None,
    )?))
}

async fn start(kind: CaKind, seed: u64) -> Res<(FakeCa, Clock)> {
    let clock = Clock::default();
    let ca = FakeCa::start(
        CaConfig {
            kind,
            ..CaConfig::default()
        },
        clock.clone(),
        Rng::new(seed).fork("ca"),
    )
    .await?;
    Ok((ca, clock))
}

async fn post_issue(c: &reqwest::Client, ca: &FakeCa, template: &str) -> Res<reqwest::Response> {
    Ok(c.post(format!("{}{}", ca.url(), ca_paths::ISSUE))
        .json(&IssueRequest {
            template: template.into(),
            csr: csr(0, "device-0")?,
        })
        .send()
        .await?)
}

async fn issue_ok(ca: &FakeCa) -> Res<IssueResponse> {
    let r = post_issue(&normal(), ca, TEMPLATE).await?;
    assert_eq!(r.status(), 200);
    Ok(r.json().await?)
}

async fn post_revoke(c: &reqwest::Client, ca: &FakeCa, serial: &str) -> Res<reqwest::Response> {
    Ok(c.post(format!("{}{}", ca.url(), ca_paths::REVOKE))
        .json(&RevokeRequest {
            serial_number: serial.into(),
            reason: 4,
        })
        .send()
        .await?)
}

async fn error_body(r: reqwest::Response, status: u16, kind: &str) -> Res {
    assert_eq!(r.status(), status);
    let body: ErrorBody = r.json().await?;
    assert_eq!(body.error, kind, "{body:?}");
    assert!(!body.message.is_empty());
    Ok(())
}

fn verify_signed_by(tbs: &[u8], sig: &[u8], issuer: &Certificate) -> Res {
    let spki = issuer.tbs_certificate.subject_public_key_info.to_der()?;
    let key = VerifyingKey::<Sha256>::new(RsaPublicKey::from_public_key_der(&spki)?);
    key.verify(tbs, &Signature::try_from(sig)?)?;
    Ok(())
}

#[tokio::test]
async fn issued_certificate_verifies_against_the_chain() -> Res {
    let (ca, clock) = start(CaKind::Microsoft, 1).await?;
    clock.advance(Duration::from_millis(1_500));
    let now = clock.now().unix_timestamp() as u64;
    let issued = issue_ok(&ca).await?;

    let der = pki::unb64(&issued.certificate)?;
    let leaf = Certificate::from_der(&der)?;
    let issuing = ISSUING_CA.certificate()?;
    let root = ROOT_CA.certificate()?;
    assert_eq!(
        issued.chain,
        vec![
            pki::b64(&ISSUING_CA.cert_der()?),
            pki::b64(&ROOT_CA.cert_der()?)
        ]
    );

    // Serial: 16 bytes, positive, as the response says.
    assert_eq!(issued.serial_number, pki::serial_hex(&leaf));
    assert_eq!(issued.serial_number.len(), 32);
    assert!(u8::from_str_radix(&issued.serial_number[..2], 16)? < 0x80);
    assert_eq!(issued.thumbprint, pki::thumbprint(&der));

    // Subject and key from the CSR, issuer = issuing CA.
    let tbs = &leaf.tbs_certificate;
    assert_eq!(pki::common_name(&tbs.subject).as_deref(), Some("device-0"));
    assert_eq!(tbs.issuer, issuing.tbs_certificate.subject);
    let csr_der = pki::unb64(&csr(0, "device-0")?)?;
    let csr = x509_cert::request::CertReq::from_der(&csr_der)?;
    assert_eq!(tbs.subject_public_key_info, csr.info.public_key);

    // Validity from the scenario clock (whole seconds) and the template (365 days).
    assert_eq!(tbs.validity.not_before.to_unix_duration().as_secs(), now);
    assert_eq!(
        tbs.validity.not_after.to_unix_duration().as_secs(),
        now + 365 * 86_400
    );
    let not_after = harness_runner::sim::parse_time(&issued.not_after)?;
    assert_eq!(not_after.unix_timestamp() as u64, now + 365 * 86_400);

    // Key usages from the template, EKU clientAuth.
    let (_, ku) = tbs.get::<KeyUsage>()?.ok_or("no key usage")?;
    assert!(ku.0.contains(KeyUsages::DigitalSignature));
    assert!(ku.0.contains(KeyUsages::KeyEncipherment));
    assert!(!ku.0.contains(KeyUsages::KeyCertSign));
    let (_, eku) = tbs.get::<ExtendedKeyUsage>()?.ok_or("no EKU")?;
    assert_eq!(eku.0, vec![const_oid::db::rfc5280::ID_KP_CLIENT_AUTH]);

    // Signatures: leaf by issuing CA, issuing CA by root.
    verify_signed_by(&tbs.to_der()?, leaf.signature.raw_bytes(), &issuing)?;
    verify_signed_by(
        &issuing.tbs_certificate.to_der()?,
        issuing.signature.raw_bytes(),
        &root,
    )?;

    // The chain endpoint: PEM, issuing then root.
    let chain = normal()
        .get(format!("{}{}", ca.url(), ca_paths::CHAIN))
        .send()
        .await?
        .text()
        .await?;
    let issuing_at = chain.find(ISSUING_CA.cert_pem.trim()).ok_or("no issuing")?;
    let root_at = chain.find(ROOT_CA.cert_pem.trim()).ok_or("no root")?;
    assert!(issuing_at < root_at);

    // And openssl agrees, at scenario time.
    if let Some(openssl) = harness_test_support::peer("openssl") {
        let dir = tempfile::tempdir()?;
        let leaf_pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der)
            .map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("leaf.pem"), leaf_pem)?;
        std::fs::write(dir.path().join("root.pem"), ROOT_CA.cert_pem)?;
        std::fs::write(dir.path().join("issuing.pem"), ISSUING_CA.cert_pem)?;
        let out = std::process::Command::new(openssl)
            .current_dir(dir.path())
            .args([
                "verify",
                "-attime",
                &(now + 3600).to_string(),
                "-purpose",
                "sslclient",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "issuing.pem",
                "leaf.pem",
            ])
            .output()?;
        assert!(
            out.status.success(),
            "openssl verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let issued_list = ca.issued();
    assert_eq!(issued_list.len(), 1);
    assert_eq!(issued_list[0].serial, issued.serial_number);
    assert_eq!(issued_list[0].subject_cn.as_deref(), Some("device-0"));
    assert_eq!(issued_list[0].template, TEMPLATE);
    assert!(!issued_list[0].revoked);
    ca.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn same_seed_and_clock_give_identical_certificates() -> Res {
    let (a, _) = start(CaKind::Microsoft, 42).await?;
    let (b, _) = start(CaKind::Microsoft, 42).await?;
    let (c, _) = start(CaKind::Microsoft, 43).await?;
    for _ in 0..2 {
        let x = issue_ok(&a).await?;
        let y = issue_ok(&b).await?;
        let z = issue_ok(&c).await?;
        assert_eq!(x.certificate, y.certificate);
        assert_ne!(x.serial_number, z.serial_number);
    }
    // Two issuances from one CA never repeat a serial.
    let serials: Vec<String> = a.issued().into_iter().map(|i| i.serial).collect();
    assert_ne!(serials[0], serials[1]);
    for ca in [a, b, c] {
        ca.shutdown().await;
    }
    Ok(())
}

#[tokio::test]
async fn refusals_are_clean_error_bodies() -> Res {
    let (ca, _) = start(CaKind::Microsoft, 2).await?;
    let c = normal();
    error_body(post_issue(&c, &ca, "WebServer").await?, 403, "denied").await?;
    let r = c
        .post(format!("{}{}", ca.url(), ca_paths::ISSUE))
        .body("{not json")
        .send()
        .await?;
    error_body(r, 400, "bad_request").await?;
    let r = c
        .post(format!("{}{}", ca.url(), ca_paths::ISSUE))
        .json(&IssueRequest {
            template: TEMPLATE.into(),
            csr: pki::b64(b"not a CSR"),
        })
        .send()
        .await?;
    error_body(r, 400, "bad_request").await?;
    let r = c
        .get(format!("{}{}/ZZ", ca.url(), ca_paths::STATUS))
        .send()
        .await?;
    error_body(r, 400, "bad_request").await?;
    let r = c.get(format!("{}/nowhere", ca.url())).send().await?;
    error_body(r, 404, "not_found").await?;
    let r = c
        .get(format!("{}{}", ca.url(), ca_paths::ISSUE))
        .send()
        .await?;
    error_body(r, 405, "bad_request").await?;
    assert!(ca.issued().is_empty());
    ca.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn revoke_status_and_crl() -> Res {
    let (ca, clock) = start(CaKind::Microsoft, 3).await?;
    let c = normal();
    error_body(post_revoke(&c, &ca, "0A0B0C").await?, 404, "not_found").await?;
    let issued = issue_ok(&ca).await?;
    let kept = issue_ok(&ca).await?;

    let status: StatusResponse = c
        .get(format!(
            "{}{}/{}",
            ca.url(),
            ca_paths::STATUS,
            issued.serial_number.to_lowercase()
        ))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(status.status, "valid");

    clock.advance(Duration::from_secs(60));
    let r = post_revoke(&c, &ca, &issued.serial_number.to_lowercase()).await?;
    assert_eq!(r.status(), 200);
    let revoked: RevokeResponse = r.json().await?;
    assert_eq!(revoked.serial_number, issued.serial_number);
    assert_eq!(revoked.revoked_at, "2026-01-01T00:01:00.000Z");
    error_body(
        post_revoke(&c, &ca, &issued.serial_number).await?,
        409,
        "already_revoked",
    )
    .await?;

    let status: StatusResponse = c
        .get(format!(
            "{}{}/{}",
            ca.url(),
            ca_paths::STATUS,
            issued.serial_number
        ))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(status.status, "revoked");
    assert_eq!(status.reason, Some(4));
    let r = c
        .get(format!("{}{}/0123", ca.url(), ca_paths::STATUS))
        .send()
        .await?;
    error_body(r, 404, "not_found").await?;

    clock.advance(Duration::from_secs(60));
    let r = c
        .get(format!("{}{}", ca.url(), ca_paths::CRL))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let crl = x509_cert::crl::CertificateList::from_der(&r.bytes().await?)?;
    assert_eq!(
        crl.tbs_cert_list.this_update.to_unix_duration().as_secs(),
        clock.now().unix_timestamp() as u64
    );
    let listed: Vec<String> = crl
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .map(|rc| hex::encode_upper(rc.serial_number.as_bytes()))
        .collect();
    assert_eq!(listed, vec![issued.serial_number.clone()]);
    assert!(!listed.contains(&kept.serial_number));
    verify_signed_by(
        &crl.tbs_cert_list.to_der()?,
        crl.signature.raw_bytes(),
        &ISSUING_CA.certificate()?,
    )?;

    let issued_list = ca.issued();
    assert!(issued_list[0].revoked);
    assert_eq!(issued_list[0].reason, Some(4));
    assert!(!issued_list[1].revoked);

    // The journal, over HTTP and directly.
    let journal: Vec<CaJournalEntry> = c
        .get(format!("{}{}", ca.url(), ca_paths::JOURNAL))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(journal, ca.journal());
    let outcomes: Vec<(&str, &str)> = journal
        .iter()
        .map(|e| (e.op.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("revoke", "not_found"),
            ("issue", "issued"),
            ("issue", "issued"),
            ("status", "valid"),
            ("revoke", "revoked"),
            ("revoke", "already_revoked"),
            ("status", "revoked"),
            ("status", "not_found"),
            ("crl", "ok"),
        ]
    );
    assert_eq!(journal[1].template.as_deref(), Some(TEMPLATE));
    assert_eq!(
        journal[4].serial.as_deref(),
        Some(issued.serial_number.as_str())
    );
    ca.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn digicert_needs_the_ra_client_certificate() -> Res {
    let (ca, _) = start(CaKind::DigiCert, 4).await?;
    let c = normal();
    error_body(
        post_issue(&c, &ca, TEMPLATE).await?,
        401,
        "client_certificate_required",
    )
    .await?;
    let issue = |cert: String| {
        let c = c.clone();
        let url = format!("{}{}", ca.url(), ca_paths::ISSUE);
        async move {
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                c.post(url)
                    .header(CLIENT_CERT_HEADER, cert)
                    .json(&IssueRequest {
                        template: TEMPLATE.into(),
                        csr: csr(1, "device-1")?,
                    })
                    .send()
                    .await?,
            )
        }
    };
    error_body(
        issue(pki::b64(&ISSUING_CA.cert_der()?)).await?,
        401,
        "client_certificate_required",
    )
    .await?;
    error_body(
        issue("%%%".into()).await?,
        401,
        "client_certificate_required",
    )
    .await?;
    let ra = pki::b64(&DIGICERT_RA.cert_der()?);
    let r = issue(ra.clone()).await?;
    assert_eq!(r.status(), 200);
    let issued: IssueResponse = r.json().await?;

    error_body(
        post_revoke(&c, &ca, &issued.serial_number).await?,
        401,
        "client_certificate_required",
    )
    .await?;
    let r = c
        .post(format!("{}{}", ca.url(), ca_paths::REVOKE))
        .header(CLIENT_CERT_HEADER, ra)
        .json(&RevokeRequest {
            serial_number: issued.serial_number.clone(),
            reason: 0,
        })
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    // Status needs no client certificate.
    let r = c
        .get(format!(
            "{}{}/{}",
            ca.url(),
            ca_paths::STATUS,
            issued.serial_number
        ))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    ca.shutdown().await;
    Ok(())
}

/// Calls `op` once with a request that succeeds when nothing is broken.
async fn call(c: &reqwest::Client, ca: &FakeCa, op: CaOp) -> Res<reqwest::Response> {
    Ok(match op {
        CaOp::Issue => post_issue(c, ca, TEMPLATE).await?,
        CaOp::Revoke => {
            let serial = issue_ok(ca).await?.serial_number;
            post_revoke(c, ca, &serial).await?
        }
        CaOp::Status => {
            let serial = issue_ok(ca).await?.serial_number;
            c.get(format!("{}{}/{serial}", ca.url(), ca_paths::STATUS))
                .send()
                .await?
        }
        CaOp::Crl => {
            c.get(format!("{}{}", ca.url(), ca_paths::CRL))
                .send()
                .await?
        }
        CaOp::Chain => {
            c.get(format!("{}{}", ca.url(), ca_paths::CHAIN))
                .send()
                .await?
        }
    })
}

/// Whether a 200 body is what `op` should answer.
fn well_formed(op: CaOp, body: &[u8]) -> bool {
    match op {
        CaOp::Issue => serde_json::from_slice::<IssueResponse>(body).is_ok(),
        CaOp::Revoke => serde_json::from_slice::<RevokeResponse>(body).is_ok(),
        CaOp::Status => serde_json::from_slice::<StatusResponse>(body).is_ok(),
        CaOp::Crl => x509_cert::crl::CertificateList::from_der(body).is_ok(),
        CaOp::Chain => {
            std::str::from_utf8(body).is_ok_and(|s| s.contains("-----BEGIN CERTIFICATE-----"))
        }
    }
}

async fn assert_normal(ca: &FakeCa, op: CaOp) -> Res {
    let r = call(&normal(), ca, op).await?;
    assert_eq!(r.status(), 200, "{op:?} after the fault");
    assert!(well_formed(op, &r.bytes().await?), "{op:?} body");
    Ok(())
}

const OPS: [CaOp; 5] = [
    CaOp::Issue,
    CaOp::Revoke,
    CaOp::Status,
    CaOp::Crl,
    CaOp::Chain,
];

#[tokio::test]
async fn every_fault_kind_on_every_operation_strikes_once() -> Res {
    let (ca, _) = start(CaKind::Microsoft, 5).await?;
    for op in OPS {
        for kind in FaultTarget::Ca(op).kinds() {
            let fault = |kind| Fault {
                kind,
                scope: Scope::Times(1),
            };
            match kind {
                KindName::Hang => {
                    ca.inject(op, fault(FaultKind::Hang)).await?;
                    let started = Instant::now();
                    let err = call(&client(Duration::from_millis(200)), &ca, op)
                        .await
                        .err()
                        .ok_or("hang answered")?;
                    let err = err
                        .downcast_ref::<reqwest::Error>()
                        .ok_or("not a reqwest error")?;
                    assert!(err.is_timeout(), "{op:?}: {err}");
                    assert!(started.elapsed() < Duration::from_secs(2));
                }
                KindName::Status => {
                    ca.inject(op, fault(FaultKind::Status(503))).await?;
                    error_body(call(&normal(), &ca, op).await?, 503, "internal").await?;
                }
                KindName::Malformed => {
                    ca.inject(op, fault(FaultKind::Malformed)).await?;
                    let r = call(&normal(), &ca, op).await?;
                    assert_eq!(r.status(), 200);
                    assert!(!well_formed(op, &r.bytes().await?), "{op:?} malformed");
                }
                KindName::Deny => {
                    ca.inject(op, fault(FaultKind::Deny)).await?;
                    let want = if op == CaOp::Revoke {
                        "access_denied"
                    } else {
                        "denied"
                    };
                    error_body(call(&normal(), &ca, op).await?, 403, want).await?;
                }
                // Covered by its own test (needs scope until-healed).
                KindName::Unavailable => continue,
                other => panic!("unexpected kind {other:?} for {op:?}"),
            }
            assert_normal(&ca, op).await?;
        }
    }
    // Faults never touched state: only the unfaulted calls issued or revoked.
    let outcomes: Vec<String> = ca.journal().into_iter().map(|e| e.outcome).collect();
    assert!(outcomes.contains(&"fault:hang".to_string()));
    assert!(outcomes.contains(&"fault:deny".to_string()));
    ca.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn times_and_until_healed_scopes() -> Res {
    let (ca, _) = start(CaKind::Microsoft, 6).await?;
    let c = normal();
    ca.inject(
        CaOp::Issue,
        Fault {
            kind: FaultKind::Status(500),
            scope: Scope::Times(2),
        },
    )
    .await?;
    for _ in 0..2 {
        error_body(post_issue(&c, &ca, TEMPLATE).await?, 500, "internal").await?;
    }
    assert_eq!(post_issue(&c, &ca, TEMPLATE).await?.status(), 200);

    ca.inject(
        CaOp::Issue,
        Fault {
            kind: FaultKind::Deny,
            scope: Scope::UntilHealed,
        },
    )
    .await?;
    for _ in 0..3 {
        error_body(post_issue(&c, &ca, TEMPLATE).await?, 403, "denied").await?;
    }
    ca.heal(CaOp::Issue).await?;
    assert_eq!(post_issue(&c, &ca, TEMPLATE).await?.status(), 200);
    assert_eq!(ca.issued().len(), 2);

    // Kinds a target does not understand are refused.
    let err = ca
        .inject(
            CaOp::Crl,
            Fault {
                kind: FaultKind::Deny,
                scope: Scope::UntilHealed,
            },
        )
        .await
        .err()
        .ok_or("deny accepted on crl")?;
    assert!(matches!(err, FakeError::UnsupportedFault { .. }), "{err}");
    ca.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_hang_is_released_by_heal_and_by_shutdown() -> Res {
    let (ca, _) = start(CaKind::Microsoft, 7).await?;
    let hang = Fault {
        kind: FaultKind::Hang,
        scope: Scope::UntilHealed,
    };
    ca.inject(CaOp::Chain, hang).await?;
    let url = format!("{}{}", ca.url(), ca_paths::CHAIN);
    let pending = tokio::spawn({
        let url = url.clone();
        async move { normal().get(url).send().await.map(|r| r.status().as_u16()) }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished());
    let started = Instant::now();
    ca.heal(CaOp::Chain).await?;
    let status = tokio::time::timeout(Duration::from_secs(2), pending).await???;
    assert_eq!(status, 503, "a released hang answers 503");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(normal().get(&url).send().await?.status(), 200);

    ca.inject(CaOp::Chain, hang).await?;
    let pending = tokio::spawn(async move { normal().get(url).send().await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    ca.shutdown().await;
    let _ = tokio::time::timeout(Duration::from_secs(2), pending).await?;
    assert!(started.elapsed() < Duration::from_secs(2));
    Ok(())
}

#[tokio::test]
async fn unavailable_refuses_connections_until_healed_on_the_same_port() -> Res {
    let (ca, _) = start(CaKind::Microsoft, 8).await?;
    let c = normal();
    // Keep a pooled connection open: it must not keep working.
    assert_eq!(call(&c, &ca, CaOp::Chain).await?.status(), 200);
    let url = ca.url().to_string();

    let err = ca
        .inject(
            CaOp::Issue,
            Fault {
                kind: FaultKind::Unavailable,
                scope: Scope::Times(1),
            },
        )
        .await
        .err()
        .ok_or("unavailable with times accepted")?;
    assert!(matches!(err, FakeError::UnsupportedScope { .. }), "{err}");

    ca.inject(
        CaOp::Issue,
        Fault {
            kind: FaultKind::Unavailable,
            scope: Scope::UntilHealed,
        },
    )
    .await?;
    for client in [c.clone(), normal()] {
        for op in [CaOp::Chain, CaOp::Crl] {
            let err = call(&client, &ca, op)
                .await
                .err()
                .ok_or("answered while unavailable")?;
            let err = err
                .downcast_ref::<reqwest::Error>()
                .ok_or("not a reqwest error")?;
            assert!(err.is_connect(), "{op:?}: {err:?}");
        }
    }
    let port = url.rsplit(':').next().ok_or("no port")?.parse::<u16>()?;
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    ca.heal(CaOp::Issue).await?;
    assert_eq!(ca.url(), url);
    assert_normal(&ca, CaOp::Issue).await?;
    assert_eq!(call(&c, &ca, CaOp::Chain).await?.status(), 200);

    // heal_all reopens too.
    ca.inject(
        CaOp::Crl,
        Fault {
            kind: FaultKind::Unavailable,
            scope: Scope::UntilHealed,
        },
    )
    .await?;
    assert!(call(&normal(), &ca, CaOp::Crl).await.is_err());
    ca.heal_all().await?;
    assert_normal(&ca, CaOp::Crl).await?;
    ca.shutdown().await;
    Ok(())
}

/// While `unavailable`, the port stays the CA's, so `heal` can reopen it: a socket that does
/// not ask to share ports (as an outgoing connection's does not) cannot take it. Before the
/// port was held, another world's connection once took it and `heal` failed to bind. No call
/// is made first: connections the CA closed would hold the port in TIME_WAIT for a while.
#[tokio::test]
async fn an_unavailable_port_stays_the_cas_until_healed() -> Res {
    let (ca, _) = start(CaKind::Microsoft, 9).await?;
    let addr = ca.addr();
    ca.inject(
        CaOp::Issue,
        Fault {
            kind: FaultKind::Unavailable,
            scope: Scope::UntilHealed,
        },
    )
    .await?;
    assert!(std::net::TcpStream::connect(addr).is_err(), "not refused");
    let other = tokio::net::TcpSocket::new_v4()?;
    assert!(
        other.bind(addr).is_err(),
        "the closed port was free for anyone"
    );
    drop(other);
    ca.heal(CaOp::Issue).await?;
    assert_normal(&ca, CaOp::Issue).await?;
    ca.shutdown().await;
    Ok(())
}

/// What real clients send: a SHA-1-signed request asking for SANs (UPN, DNS, e-mail), key
/// usage, extended key usage and a subject key identifier. An `Override` template keeps its own
/// key usages and EKU but copies the SANs; an `Honour` template copies all of them.
#[tokio::test]
async fn sha1_requests_with_extensions_are_issued_as_the_template_says() -> Res {
    use harness_runner::csr::{CsrDigest, CsrSpec, KeyUse, San, SERVER_AUTH};
    use harness_runner::fakes::ca::{ExtensionPolicy, Template};
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::SubjectAltName;

    let honour = Template {
        extensions: ExtensionPolicy::Honour,
        ..Template::new("Honour", 30)
    };
    let ca = FakeCa::start(
        CaConfig {
            templates: vec![Template::new(TEMPLATE, 30), honour],
            ..CaConfig::default()
        },
        Clock::default(),
        Rng::new(5),
    )
    .await?;
    let spec = CsrSpec {
        common_name: Some("dev-sha1".into()),
        challenge: None,
        sans: vec![
            San::Upn("alice@contoso.test".into()),
            San::Dns("dev-sha1.contoso.test".into()),
            San::Email("alice@contoso.test".into()),
        ],
        key_usage: vec![KeyUse::DigitalSignature],
        extended_key_usage: vec![SERVER_AUTH],
        subject_key_identifier: true,
        digest: CsrDigest::Sha1,
    };
    let der = spec.build(&fixtures::device_key(2)?)?;
    let issue = |template: &str| {
        normal()
            .post(format!("{}{}", ca.url(), ca_paths::ISSUE))
            .json(&IssueRequest {
                template: template.into(),
                csr: pki::b64(&der),
            })
            .send()
    };
    let ext = |cert: &Certificate, oid| -> Res<Vec<u8>> {
        Ok(cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == oid)
            .ok_or("extension missing")?
            .extn_value
            .as_bytes()
            .to_vec())
    };
    for (template, want_ku, want_eku) in [
        (
            TEMPLATE,
            KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment,
            const_oid::db::rfc5280::ID_KP_CLIENT_AUTH,
        ),
        ("Honour", KeyUsages::DigitalSignature.into(), SERVER_AUTH),
    ] {
        let r = issue(template).await?;
        assert_eq!(r.status(), 200, "{template}: {}", r.text().await?);
        let issued: IssueResponse = r.json().await?;
        let cert = Certificate::from_der(&pki::unb64(&issued.certificate)?)?;
        assert_eq!(
            pki::common_name(&cert.tbs_certificate.subject).as_deref(),
            Some("dev-sha1")
        );
        let sans =
            SubjectAltName::from_der(&ext(&cert, const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME)?)?;
        assert_eq!(sans.0.len(), 3, "{template}: every requested SAN copied");
        assert!(sans.0.iter().any(
            |n| matches!(n, GeneralName::DnsName(d) if d.as_str() == "dev-sha1.contoso.test")
        ));
        let ku = KeyUsage::from_der(&ext(&cert, const_oid::db::rfc5280::ID_CE_KEY_USAGE)?)?;
        assert_eq!(ku.0, want_ku, "{template}");
        let eku =
            ExtendedKeyUsage::from_der(&ext(&cert, const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)?)?;
        assert_eq!(eku.0, vec![want_eku], "{template}");
        verify_signed_by(
            &cert.tbs_certificate.to_der()?,
            cert.signature.raw_bytes(),
            &ISSUING_CA.certificate()?,
        )?;
    }
    // A request whose signature does not verify is refused, not issued.
    let mut bad = der.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let r = normal()
        .post(format!("{}{}", ca.url(), ca_paths::ISSUE))
        .json(&IssueRequest {
            template: TEMPLATE.into(),
            csr: pki::b64(&bad),
        })
        .send()
        .await?;
    error_body(r, 400, "bad_request").await?;
    assert_eq!(ca.issued().len(), 2);
    ca.shutdown().await;
    Ok(())
}

/// A CA never issues a serial twice, even once it has forgotten the certificate that carried
/// it: the same request issued again, after its first certificate left a short history, gets
/// a serial of its own.
#[tokio::test]
async fn a_serial_is_never_issued_twice_even_after_its_certificate_is_forgotten() -> Res {
    let ca = FakeCa::start(
        CaConfig {
            history: 2,
            ..CaConfig::default()
        },
        Clock::default(),
        Rng::new(9).fork("ca"),
    )
    .await?;
    let c = normal();
    let mut serials = std::collections::HashSet::new();
    // The same request (device 0) issued 70 times, with two other requests between each (past
    // 64 issuances of one request, its serials come from a fork per issuance).
    for round in 0..70 {
        for (device, cn) in [(0, "device-0"), (1, "other-1"), (2, "other-2")] {
            let r = c
                .post(format!("{}{}", ca.url(), ca_paths::ISSUE))
                .json(&IssueRequest {
                    template: TEMPLATE.into(),
                    csr: csr(device, cn)?,
                })
                .send()
                .await?;
            assert_eq!(r.status(), 200);
            let issued: IssueResponse = r.json().await?;
            assert!(
                serials.insert(issued.serial_number.clone()),
                "round {round}, {cn}: serial {} issued before",
                issued.serial_number
            );
        }
    }
    ca.shutdown().await;
    Ok(())
}
