//! The fake Intune service over real sockets: PKCS and revocation queue semantics (nothing lost,
//! exactly-once recording, retryable results requeued), SCEP challenges, notifications,
//! renewal, the admin API, and every fault kind on every operation that accepts it.

use std::time::{Duration, Instant};

use connector_harness::contract::fault::{
    Fault, FaultKind, FaultTarget, IntuneOp, KindName, Scope,
};
use connector_harness::contract::intune::{
    ca_request_error, intune_paths as P, CaRequest, CaRequestResult, Checkin, DownloadCaRequests,
    DownloadParameters, DownloadRevocationRequests, FailureNotification, FailureNotificationBody,
    IntuneError, IntuneSnapshot, MintChallenge, MintedChallenge, PkcsParameters, QueuePkcs,
    QueueRevocation, RenewRequest, RenewResponse, RevocationDownloadParameters, RevocationRequest,
    RevocationResult, ScepResponse, SuccessNotification, SuccessNotificationBody, UploadCaResults,
    UploadRevocationResults, ValidateBody, ValidateRequest,
};
use connector_harness::fakes::intune::{FakeIntune, IntuneConfig};
use connector_harness::fakes::FakeError;
use connector_harness::fixtures::{self, CONNECTOR, ISSUING_CA};
use connector_harness::pki;
use connector_harness::sim::{Clock, Rng};
use der::{Decode, Encode};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use serde::Serialize;
use sha2::Sha256;
use signature::Verifier;

type Res<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("reqwest client")
}

fn normal() -> reqwest::Client {
    client(Duration::from_secs(10))
}

async fn start(seed: u64) -> Res<(FakeIntune, Clock)> {
    let clock = Clock::default();
    let intune = FakeIntune::start(IntuneConfig::default(), clock.clone(), Rng::new(seed)).await?;
    Ok((intune, clock))
}

async fn post<B: Serialize>(
    c: &reqwest::Client,
    fake: &FakeIntune,
    path: &str,
    body: &B,
) -> Res<reqwest::Response> {
    Ok(c.post(format!("{}{path}", fake.url()))
        .json(body)
        .send()
        .await?)
}

async fn ok_json<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> Res<T> {
    assert_eq!(r.status(), 200);
    Ok(r.json().await?)
}

async fn intune_error(r: reqwest::Response, status: u16, code: &str) -> Res {
    assert_eq!(r.status(), status);
    let body: IntuneError = r.json().await?;
    assert_eq!(body.code, code, "{body:?}");
    Ok(())
}

fn csr(cn: &str, challenge: Option<&str>) -> Res<String> {
    Ok(pki::b64(&pki::build_csr(
        &fixtures::device_key(0)?,
        cn,
        challenge,
    )?))
}

fn pkcs(device: &str, request_id: Option<&str>) -> Res<QueuePkcs> {
    Ok(QueuePkcs {
        device_id: device.into(),
        user_id: "user-0".into(),
        template_name: "IntuneUser".into(),
        ca_name: "TEST-ISSUING-CA".into(),
        certificate_request: csr(device, None)?,
        request_id: request_id.map(str::to_string),
    })
}

fn revocation(serial: &str) -> QueueRevocation {
    QueueRevocation {
        device_id: "device-0".into(),
        user_id: "user-0".into(),
        serial_number: serial.into(),
        issuer_name: "TEST-ISSUING-CA".into(),
    }
}

fn download(max: u32) -> DownloadCaRequests {
    DownloadCaRequests {
        download_parameters: DownloadParameters { max_messages: max },
    }
}

fn download_revocations(max: u32) -> DownloadRevocationRequests {
    DownloadRevocationRequests {
        download_parameters: RevocationDownloadParameters { max_requests: max },
    }
}

fn result(req: &CaRequest, succeeded: bool, error_code: Option<u32>) -> CaRequestResult {
    CaRequestResult {
        tenant_id: req.tenant_id.clone(),
        user_id: req.user_id.clone(),
        device_id: req.device_id.clone(),
        request_id: req.request_id.clone(),
        request_type: req.request_type.clone(),
        succeeded,
        error_code,
        error_message: error_code.map(|c| format!("failed with {c}")),
        thumbprint: None,
        serial_number: None,
    }
}

fn revocation_result(ctx: &str, succeeded: bool, error_code: Option<u32>) -> RevocationResult {
    RevocationResult {
        request_context: ctx.into(),
        succeeded,
        error_code,
        error_message: None,
    }
}

fn ids(reqs: &[CaRequest]) -> Vec<&str> {
    reqs.iter().map(|r| r.request_id.as_str()).collect()
}

fn validate_body(csr: String) -> ValidateBody {
    ValidateBody {
        request: ValidateRequest {
            transaction_id: "tx-1".into(),
            certificate_request: csr,
            caller_info: "test/1.0".into(),
        },
    }
}

fn mint(fake: &FakeIntune, device: &str) -> MintedChallenge {
    fake.mint_challenge(MintChallenge {
        device_id: device.into(),
        user_id: "user-0".into(),
        profile: "SCEP-Default".into(),
        validity_seconds: 3600,
    })
}

fn success_notification(tx: &str) -> SuccessNotificationBody {
    SuccessNotificationBody {
        notification: SuccessNotification {
            transaction_id: tx.into(),
            certificate_request: "AA==".into(),
            certificate_thumbprint: "00".into(),
            certificate_serial_number: "01".into(),
            certificate_expiration_date_utc: "2027-01-01T00:00:00Z".into(),
            issuing_certificate_authority: "TEST-ISSUING-CA".into(),
            caller_info: "test/1.0".into(),
        },
    }
}

fn failure_notification(tx: &str) -> FailureNotificationBody {
    FailureNotificationBody {
        notification: FailureNotification {
            transaction_id: tx.into(),
            certificate_request: "AA==".into(),
            h_result: 0x8007_0005,
            error_description: "denied".into(),
            caller_info: "test/1.0".into(),
        },
    }
}

#[tokio::test]
async fn pkcs_queue_hands_out_again_records_once_and_requeues_retryable() -> Res {
    let (fake, _) = start(1).await?;
    let c = normal();
    let a = fake.queue_pkcs(pkcs("device-0", None)?);
    let b = fake.queue_pkcs(pkcs("device-1", Some("req-b"))?);
    // Over HTTP too.
    let d: CaRequest =
        ok_json(post(&c, &fake, P::ADMIN_PKCS, &pkcs("device-2", None)?).await?).await?;
    assert_eq!(b.request_id, "req-b");
    assert_eq!(a.request_id.len(), 36);
    assert_eq!(a.tenant_id, fake.tenant_id());
    assert_eq!(a.request_type, "PkcsCertificate");
    let params: PkcsParameters = serde_json::from_str(&a.parameters)?;
    assert_eq!(params.template_name, "IntuneUser");
    assert_eq!(params.ca_name, "TEST-ISSUING-CA");

    let first: Vec<CaRequest> =
        ok_json(post(&c, &fake, P::DOWNLOAD_REQUESTS, &download(2)).await?).await?;
    assert_eq!(ids(&first), vec![a.request_id.as_str(), "req-b"]);
    assert_eq!(first[0], a);
    // Handed out but not answered: they come back.
    let again: Vec<CaRequest> =
        ok_json(post(&c, &fake, P::DOWNLOAD_REQUESTS, &download(10)).await?).await?;
    assert_eq!(
        ids(&again),
        vec![a.request_id.as_str(), "req-b", d.request_id.as_str()]
    );

    let recorded: bool = ok_json(
        post(
            &c,
            &fake,
            P::UPLOAD_RESULTS,
            &UploadCaResults {
                results: vec![
                    result(&a, true, None),
                    result(&b, false, Some(ca_request_error::SERVICE_UNAVAILABLE)),
                    result(&d, false, Some(ca_request_error::CERTIFICATE_NOT_FOUND)),
                ],
            },
        )
        .await?,
    )
    .await?;
    assert!(recorded);
    let snap = fake.snapshot();
    assert_eq!(snap.pending_pkcs, vec!["req-b".to_string()]);
    assert_eq!(
        snap.pkcs_results,
        vec![
            result(&a, true, None),
            result(&d, false, Some(ca_request_error::CERTIFICATE_NOT_FOUND))
        ]
    );

    // A second result for a recorded id, and one for an unknown id, are ignored.
    let mut unknown = result(&a, true, None);
    unknown.request_id = "nobody".into();
    let recorded: bool = ok_json(
        post(
            &c,
            &fake,
            P::UPLOAD_RESULTS,
            &UploadCaResults {
                results: vec![result(&a, false, Some(4000)), unknown],
            },
        )
        .await?,
    )
    .await?;
    assert!(recorded);
    assert_eq!(fake.snapshot().pkcs_results.len(), 2);

    // The retryable one is handed out again, then recorded.
    let retry: Vec<CaRequest> =
        ok_json(post(&c, &fake, P::DOWNLOAD_REQUESTS, &download(10)).await?).await?;
    assert_eq!(ids(&retry), vec!["req-b"]);
    post(
        &c,
        &fake,
        P::UPLOAD_RESULTS,
        &UploadCaResults {
            results: vec![result(&b, true, None)],
        },
    )
    .await?;
    let snap = fake.snapshot();
    assert!(snap.pending_pkcs.is_empty());
    assert_eq!(snap.pkcs_results.len(), 3);
    let empty: Vec<CaRequest> =
        ok_json(post(&c, &fake, P::DOWNLOAD_REQUESTS, &download(10)).await?).await?;
    assert!(empty.is_empty());

    // Bad parameters are clean refusals.
    intune_error(
        post(&c, &fake, P::DOWNLOAD_REQUESTS, &download(0)).await?,
        400,
        "BadRequest",
    )
    .await?;
    intune_error(
        post(&c, &fake, P::DOWNLOAD_REQUESTS, &"nonsense").await?,
        400,
        "BadRequest",
    )
    .await?;
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn revocation_queue_has_the_same_semantics() -> Res {
    let (fake, _) = start(2).await?;
    let c = normal();
    let r1 = fake.queue_revocation(revocation("00:ab:cd"));
    let r2: RevocationRequest =
        ok_json(post(&c, &fake, P::ADMIN_REVOCATIONS, &revocation("0BEEF")).await?).await?;
    assert_eq!(r1.serial_number, "ABCD");
    assert_eq!(r1.issuer_name.as_deref(), Some("TEST-ISSUING-CA"));
    assert_ne!(r1.request_context, r2.request_context);

    let got: Vec<RevocationRequest> =
        ok_json(post(&c, &fake, P::DOWNLOAD_REVOCATIONS, &download_revocations(1)).await?).await?;
    assert_eq!(got, vec![r1.clone()]);
    let got: Vec<RevocationRequest> =
        ok_json(post(&c, &fake, P::DOWNLOAD_REVOCATIONS, &download_revocations(5)).await?).await?;
    assert_eq!(got, vec![r1.clone(), r2.clone()]);

    let upload = |results| UploadRevocationResults { results };
    let ok: bool = ok_json(
        post(
            &c,
            &fake,
            P::UPLOAD_REVOCATION_RESULTS,
            &upload(vec![
                revocation_result(&r1.request_context, false, Some(ca_request_error::CONFLICT)),
                revocation_result(
                    &r2.request_context,
                    false,
                    Some(ca_request_error::RETRYABLE),
                ),
                revocation_result(&r1.request_context, true, None),
            ]),
        )
        .await?,
    )
    .await?;
    assert!(ok);
    let snap = fake.snapshot();
    assert_eq!(snap.pending_revocations, vec![r2.request_context.clone()]);
    assert_eq!(
        snap.revocation_results,
        vec![revocation_result(
            &r1.request_context,
            false,
            Some(ca_request_error::CONFLICT)
        )]
    );
    intune_error(
        post(
            &c,
            &fake,
            P::DOWNLOAD_REVOCATIONS,
            &download_revocations(501),
        )
        .await?,
        400,
        "BadRequest",
    )
    .await?;
    fake.shutdown().await;
    Ok(())
}

async fn validate(c: &reqwest::Client, fake: &FakeIntune, csr: String) -> Res<ScepResponse> {
    ok_json(post(c, fake, P::VALIDATE, &validate_body(csr)).await?).await
}

#[tokio::test]
async fn challenges_are_one_time_expire_and_bind_to_the_device() -> Res {
    let (fake, clock) = start(3).await?;
    let c = normal();
    let minted: MintedChallenge = ok_json(
        post(
            &c,
            &fake,
            P::ADMIN_CHALLENGES,
            &serde_json::json!({"deviceId": "device-0", "userId": "user-0"}),
        )
        .await?,
    )
    .await?;
    assert_eq!(minted.expires_at, "2026-01-01T01:00:00.000Z");

    // Wrong CN: refused, challenge not consumed.
    let r = validate(&c, &fake, csr("device-9", Some(&minted.challenge))?).await?;
    assert_eq!(r.code, "SubjectNameMismatch");
    let r = validate(&c, &fake, csr("device-0", Some(&minted.challenge))?).await?;
    assert_eq!(r.code, "Success", "{r:?}");
    assert_eq!(r.device_id.as_deref(), Some("device-0"));
    assert_eq!(r.user_id.as_deref(), Some("user-0"));
    // Used once: a second use is rejected.
    let r = validate(&c, &fake, csr("device-0", Some(&minted.challenge))?).await?;
    assert_eq!(r.code, "ChallengeDecryptionError");
    // Never minted.
    let r = validate(&c, &fake, csr("device-0", Some("made-up"))?).await?;
    assert_eq!(r.code, "ChallengeDecryptionError");
    // No password at all.
    let r = validate(&c, &fake, csr("device-0", None)?).await?;
    assert_eq!(r.code, "ChallengePasswordMissing");
    // Not a CSR.
    let r = validate(&c, &fake, pki::b64(b"garbage")).await?;
    assert_eq!(r.code, "CertificateRequestDecodingFailed");

    // Expiry follows the scenario clock: valid at the expiry instant, expired just after.
    let m = mint(&fake, "device-0");
    clock.advance(Duration::from_secs(3600));
    let late = mint(&fake, "device-0");
    clock.advance(Duration::from_millis(1));
    let r = validate(&c, &fake, csr("device-0", Some(&m.challenge))?).await?;
    assert_eq!(r.code, "ChallengeExpired");
    let r = validate(&c, &fake, csr("device-0", Some(&late.challenge))?).await?;
    assert_eq!(r.code, "Success");
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn notifications_checkin_and_renewal() -> Res {
    let (fake, clock) = start(4).await?;
    let c = normal();
    let r: ScepResponse = ok_json(
        post(
            &c,
            &fake,
            P::SUCCESS_NOTIFICATION,
            &success_notification("tx-ok"),
        )
        .await?,
    )
    .await?;
    assert_eq!(r.code, "Success");
    let r: ScepResponse = ok_json(
        post(
            &c,
            &fake,
            P::FAILURE_NOTIFICATION,
            &failure_notification("tx-bad"),
        )
        .await?,
    )
    .await?;
    assert_eq!(r.code, "Success");
    assert_eq!(
        fake.snapshot().notifications,
        vec![
            ("tx-ok".to_string(), "success".to_string()),
            ("tx-bad".to_string(), "failure".to_string())
        ]
    );

    let checkin = Checkin {
        state: "started".into(),
        thumbprint: pki::thumbprint(&CONNECTOR.cert_der()?),
    };
    let ok: bool = ok_json(post(&c, &fake, P::CHECKIN, &checkin).await?).await?;
    assert!(ok);

    clock.advance(Duration::from_secs(86_400));
    let renew = RenewRequest {
        thumbprint: checkin.thumbprint.clone(),
        certificate_request: pki::b64(&pki::build_csr(
            &CONNECTOR.rsa_key()?,
            "TEST ONLY Intune Connector Registration",
            None,
        )?),
    };
    let renewed: RenewResponse = ok_json(post(&c, &fake, P::RENEW, &renew).await?).await?;
    let der = pki::unb64(&renewed.certificate)?;
    assert_eq!(renewed.thumbprint, pki::thumbprint(&der));
    assert_eq!(renewed.not_after, "2027-01-02T00:00:00.000Z");
    let cert = x509_cert::Certificate::from_der(&der)?;
    let issuing = ISSUING_CA.certificate()?;
    assert_eq!(cert.tbs_certificate.issuer, issuing.tbs_certificate.subject);
    assert_eq!(
        cert.tbs_certificate
            .validity
            .not_before
            .to_unix_duration()
            .as_secs(),
        clock.now().unix_timestamp() as u64
    );
    assert_eq!(
        cert.tbs_certificate.subject_public_key_info,
        CONNECTOR
            .certificate()?
            .tbs_certificate
            .subject_public_key_info
    );
    let spki = issuing.tbs_certificate.subject_public_key_info.to_der()?;
    VerifyingKey::<Sha256>::new(RsaPublicKey::from_public_key_der(&spki)?).verify(
        &cert.tbs_certificate.to_der()?,
        &Signature::try_from(cert.signature.raw_bytes())?,
    )?;

    let bad = RenewRequest {
        thumbprint: renew.thumbprint.clone(),
        certificate_request: pki::b64(b"nope"),
    };
    intune_error(post(&c, &fake, P::RENEW, &bad).await?, 400, "BadRequest").await?;

    // Admin state over HTTP equals the direct snapshot; unknown paths are 404.
    let state: IntuneSnapshot = ok_json(
        c.get(format!("{}{}", fake.url(), P::ADMIN_STATE))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(state, fake.snapshot());
    intune_error(post(&c, &fake, "/nowhere", &1).await?, 404, "NotFound").await?;
    let r = c
        .get(format!("{}{}", fake.url(), P::CHECKIN))
        .send()
        .await?;
    intune_error(r, 405, "MethodNotAllowed").await?;
    assert_eq!(
        fake.received(),
        vec![
            (IntuneOp::Notify, P::SUCCESS_NOTIFICATION.to_string()),
            (IntuneOp::Notify, P::FAILURE_NOTIFICATION.to_string()),
            (IntuneOp::Checkin, P::CHECKIN.to_string()),
            (IntuneOp::Renew, P::RENEW.to_string()),
            (IntuneOp::Renew, P::RENEW.to_string()),
        ]
    );
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn same_seed_same_ids() -> Res {
    let (a, _) = start(9).await?;
    let (b, _) = start(9).await?;
    let (c, _) = start(10).await?;
    assert_eq!(a.tenant_id(), b.tenant_id());
    assert_ne!(a.tenant_id(), c.tenant_id());
    assert_eq!(
        a.queue_pkcs(pkcs("device-0", None)?),
        b.queue_pkcs(pkcs("device-0", None)?)
    );
    assert_eq!(mint(&a, "d"), mint(&b, "d"));
    assert_eq!(
        a.queue_revocation(revocation("01")),
        b.queue_revocation(revocation("01"))
    );
    let fixed = FakeIntune::start(
        IntuneConfig {
            tenant_id: Some("tenant-x".into()),
        },
        Clock::default(),
        Rng::new(9),
    )
    .await?;
    assert_eq!(fixed.tenant_id(), "tenant-x");
    for f in [a, b, c, fixed] {
        f.shutdown().await;
    }
    Ok(())
}

/// Sends one call to `op` that succeeds when nothing is broken (setting up what it needs).
async fn call(c: &reqwest::Client, fake: &FakeIntune, op: IntuneOp) -> Res<reqwest::Response> {
    match op {
        IntuneOp::DownloadRequests => post(c, fake, P::DOWNLOAD_REQUESTS, &download(5)).await,
        IntuneOp::UploadResults => {
            let req = fake.queue_pkcs(pkcs("device-0", None)?);
            post(
                c,
                fake,
                P::UPLOAD_RESULTS,
                &UploadCaResults {
                    results: vec![result(&req, true, None)],
                },
            )
            .await
        }
        IntuneOp::DownloadRevocations => {
            post(c, fake, P::DOWNLOAD_REVOCATIONS, &download_revocations(5)).await
        }
        IntuneOp::UploadRevocationResults => {
            let req = fake.queue_revocation(revocation("0102"));
            post(
                c,
                fake,
                P::UPLOAD_REVOCATION_RESULTS,
                &UploadRevocationResults {
                    results: vec![revocation_result(&req.request_context, true, None)],
                },
            )
            .await
        }
        IntuneOp::Validate => {
            let m = mint(fake, "device-0");
            post(
                c,
                fake,
                P::VALIDATE,
                &validate_body(csr("device-0", Some(&m.challenge))?),
            )
            .await
        }
        IntuneOp::Notify => {
            post(
                c,
                fake,
                P::SUCCESS_NOTIFICATION,
                &success_notification("tx"),
            )
            .await
        }
        IntuneOp::Renew => {
            let renew = RenewRequest {
                thumbprint: "00".into(),
                certificate_request: pki::b64(&pki::build_csr(
                    &CONNECTOR.rsa_key()?,
                    "connector",
                    None,
                )?),
            };
            post(c, fake, P::RENEW, &renew).await
        }
        IntuneOp::Checkin => {
            let checkin = Checkin {
                state: "started".into(),
                thumbprint: "00".into(),
            };
            post(c, fake, P::CHECKIN, &checkin).await
        }
    }
}

/// Whether a 200 body is the normal answer of `op`.
fn normal_answer(op: IntuneOp, body: &[u8]) -> bool {
    let code = |b: &[u8]| serde_json::from_slice::<ScepResponse>(b).map(|r| r.code);
    match op {
        IntuneOp::DownloadRequests => serde_json::from_slice::<Vec<CaRequest>>(body).is_ok(),
        IntuneOp::DownloadRevocations => {
            serde_json::from_slice::<Vec<RevocationRequest>>(body).is_ok()
        }
        IntuneOp::UploadResults | IntuneOp::UploadRevocationResults | IntuneOp::Checkin => {
            serde_json::from_slice::<bool>(body).is_ok_and(|b| b)
        }
        IntuneOp::Validate | IntuneOp::Notify => code(body).is_ok_and(|c| c == "Success"),
        IntuneOp::Renew => serde_json::from_slice::<RenewResponse>(body).is_ok(),
    }
}

const OPS: [IntuneOp; 8] = [
    IntuneOp::DownloadRequests,
    IntuneOp::UploadResults,
    IntuneOp::DownloadRevocations,
    IntuneOp::UploadRevocationResults,
    IntuneOp::Validate,
    IntuneOp::Notify,
    IntuneOp::Renew,
    IntuneOp::Checkin,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_on_every_operation_strikes_once_and_changes_nothing() -> Res {
    let (fake, _) = start(5).await?;
    for op in OPS {
        for kind in FaultTarget::Intune(op).kinds() {
            let once = |kind| Fault {
                kind,
                scope: Scope::Times(1),
            };
            let before = fake.snapshot();
            match kind {
                KindName::Hang => {
                    fake.inject(op, once(FaultKind::Hang))?;
                    let started = Instant::now();
                    let err = call(&client(Duration::from_millis(200)), &fake, op)
                        .await
                        .err()
                        .ok_or("hang answered")?;
                    let err = err.downcast_ref::<reqwest::Error>().ok_or("not reqwest")?;
                    assert!(err.is_timeout(), "{op:?}: {err}");
                    assert!(started.elapsed() < Duration::from_secs(2));
                }
                KindName::Status => {
                    for (n, code) in [
                        (401, "Unauthorized"),
                        (500, "InternalServerError"),
                        (503, "ServiceUnavailable"),
                    ] {
                        fake.inject(op, once(FaultKind::Status(n)))?;
                        intune_error(call(&normal(), &fake, op).await?, n, code).await?;
                    }
                }
                KindName::Malformed => {
                    fake.inject(op, once(FaultKind::Malformed))?;
                    let r = call(&normal(), &fake, op).await?;
                    assert_eq!(r.status(), 200);
                    let body = r.bytes().await?;
                    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
                }
                KindName::Deny => {
                    fake.inject(op, once(FaultKind::Deny))?;
                    intune_error(call(&normal(), &fake, op).await?, 403, "Forbidden").await?;
                }
                KindName::ExpiredChallenge
                | KindName::UnknownChallenge
                | KindName::UnknownCode
                | KindName::NotRecorded => {
                    let (fault, want) = match kind {
                        KindName::ExpiredChallenge => {
                            (FaultKind::ExpiredChallenge, Some("ChallengeExpired"))
                        }
                        KindName::UnknownChallenge => (
                            FaultKind::UnknownChallenge,
                            Some("ChallengeDecryptionError"),
                        ),
                        KindName::UnknownCode => (FaultKind::UnknownCode, Some("Unknown")),
                        _ => (FaultKind::NotRecorded, None),
                    };
                    fake.inject(op, once(fault))?;
                    let r = call(&normal(), &fake, op).await?;
                    assert_eq!(r.status(), 200);
                    let body = r.bytes().await?;
                    match want {
                        Some(code) => {
                            let answer: ScepResponse = serde_json::from_slice(&body)?;
                            assert_eq!(answer.code, code, "{op:?} {kind:?}");
                        }
                        None => assert!(!serde_json::from_slice::<bool>(&body)?, "{op:?}"),
                    }
                }
                other => panic!("unexpected kind {other:?} on {op:?}"),
            }
            // The faulted call recorded nothing (the setup may have queued something).
            let after = fake.snapshot();
            assert_eq!(after.pkcs_results, before.pkcs_results, "{op:?} {kind:?}");
            assert_eq!(after.revocation_results, before.revocation_results);
            assert_eq!(after.notifications, before.notifications, "{op:?} {kind:?}");
            // The fault struck once: the next call is normal.
            let r = call(&normal(), &fake, op).await?;
            assert_eq!(r.status(), 200, "{op:?} after {kind:?}");
            assert!(
                normal_answer(op, &r.bytes().await?),
                "{op:?} after {kind:?}"
            );
        }
    }
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn faulted_validation_does_not_consume_the_challenge() -> Res {
    let (fake, _) = start(6).await?;
    let c = normal();
    let m = mint(&fake, "device-0");
    let body = csr("device-0", Some(&m.challenge))?;
    for kind in [
        FaultKind::ExpiredChallenge,
        FaultKind::Status(500),
        FaultKind::Deny,
    ] {
        fake.inject(
            IntuneOp::Validate,
            Fault {
                kind,
                scope: Scope::Times(1),
            },
        )?;
        let r = post(&c, &fake, P::VALIDATE, &validate_body(body.clone())).await?;
        if r.status() == 200 {
            let r: ScepResponse = r.json().await?;
            assert_ne!(r.code, "Success");
        }
    }
    assert_eq!(validate(&c, &fake, body).await?.code, "Success");
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn not_recorded_and_failed_uploads_keep_the_request_queued() -> Res {
    let (fake, _) = start(7).await?;
    let c = normal();
    let req = fake.queue_pkcs(pkcs("device-0", Some("r1"))?);
    let upload = UploadCaResults {
        results: vec![result(&req, true, None)],
    };
    fake.inject(
        IntuneOp::UploadResults,
        Fault {
            kind: FaultKind::NotRecorded,
            scope: Scope::Times(1),
        },
    )?;
    let answer: bool = ok_json(post(&c, &fake, P::UPLOAD_RESULTS, &upload).await?).await?;
    assert!(!answer);
    fake.inject(
        IntuneOp::UploadResults,
        Fault {
            kind: FaultKind::Status(500),
            scope: Scope::Times(1),
        },
    )?;
    intune_error(
        post(&c, &fake, P::UPLOAD_RESULTS, &upload).await?,
        500,
        "InternalServerError",
    )
    .await?;
    let snap = fake.snapshot();
    assert_eq!(snap.pending_pkcs, vec!["r1".to_string()]);
    assert!(snap.pkcs_results.is_empty());
    let answer: bool = ok_json(post(&c, &fake, P::UPLOAD_RESULTS, &upload).await?).await?;
    assert!(answer);
    let snap = fake.snapshot();
    assert!(snap.pending_pkcs.is_empty());
    assert_eq!(snap.pkcs_results.len(), 1);
    fake.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn scopes_and_unsupported_kinds() -> Res {
    let (fake, _) = start(8).await?;
    let c = normal();
    fake.inject(
        IntuneOp::Checkin,
        Fault {
            kind: FaultKind::Status(503),
            scope: Scope::Times(2),
        },
    )?;
    for _ in 0..2 {
        intune_error(
            call(&c, &fake, IntuneOp::Checkin).await?,
            503,
            "ServiceUnavailable",
        )
        .await?;
    }
    assert_eq!(call(&c, &fake, IntuneOp::Checkin).await?.status(), 200);

    fake.inject(
        IntuneOp::Renew,
        Fault {
            kind: FaultKind::Deny,
            scope: Scope::UntilHealed,
        },
    )?;
    for _ in 0..3 {
        intune_error(call(&c, &fake, IntuneOp::Renew).await?, 403, "Forbidden").await?;
    }
    fake.heal(IntuneOp::Renew);
    assert_eq!(call(&c, &fake, IntuneOp::Renew).await?.status(), 200);

    fake.inject(
        IntuneOp::Validate,
        Fault {
            kind: FaultKind::UnknownCode,
            scope: Scope::UntilHealed,
        },
    )?;
    fake.heal_all();
    assert_eq!(fake.switchboard().peek(IntuneOp::Validate), None);

    for (op, kind) in [
        (IntuneOp::Checkin, FaultKind::Unavailable),
        (IntuneOp::Checkin, FaultKind::NotRecorded),
        (IntuneOp::DownloadRequests, FaultKind::ExpiredChallenge),
        (IntuneOp::Validate, FaultKind::NotRecorded),
    ] {
        let err = fake
            .inject(
                op,
                Fault {
                    kind,
                    scope: Scope::UntilHealed,
                },
            )
            .err()
            .ok_or("accepted")?;
        assert!(matches!(err, FakeError::UnsupportedFault { .. }), "{err}");
    }
    fake.shutdown().await;
    Ok(())
}
