//! The `intune_request` target's seeds: JSON bodies in the reference client's shapes, as
//! `harness/tests/it/fakes_intune.rs` writes them, framed as [`super::frame`] reads them.

use harness_runner::contract::intune::scep as scep_service;
use harness_runner::contract::intune::{admin, crp, pkcs, registration, revocation};
use harness_runner::csr::{CsrDigest, CsrSpec, KeyUse, San, CLIENT_AUTH};
use harness_runner::fixtures;
use harness_runner::pki::b64;

use super::selector as sel;
use crate::seeds::{err, Res, Seed};

/// The seeds: single calls and sequences in the reference client's shapes (C# and Java
/// spellings), using the tenant, ids and challenges of the reset state.
pub fn all() -> Res<Vec<Seed>> {
    let world = super::world();
    let setup = world.reset();
    let key = fixtures::device_key(0).map_err(err)?;
    let csr_with = |challenge: &str| -> Res<String> {
        Ok(b64(&CsrSpec::simple(super::DEVICE, Some(challenge))
            .build(&key)
            .map_err(err)?))
    };
    let strict = CsrSpec {
        common_name: Some(super::DEVICE.into()),
        challenge: Some(setup.challenges[2].clone()),
        sans: vec![
            San::Upn(super::USER.into()),
            San::Dns(super::DEVICE.into()),
            San::Email(super::USER.into()),
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
        super::USER,
        super::DEVICE
    );
    let pkcs_upload_java = format!(
        r#"{{"results":[{{"tenantId":"{}","userId":"{}","deviceId":"{}-2","requestId":"{p2}","requestType":"PkcsCertificate","succeeded":false,"errorCode":"4004","errorMessage":"CA unavailable"}}]}}"#,
        setup.tenant,
        super::USER,
        super::DEVICE
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
        ("admin-mint", vec![(sel(admin::CHALLENGES), format!(r#"{{"deviceId":"{}","userId":"{}","profile":"SCEP-Default","validitySeconds":60}}"#, super::DEVICE, super::USER))]),
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
            (format!("{name}.bin"), super::frame(&calls))
        })
        .collect())
}
