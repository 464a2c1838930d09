//! The 62 events of the `unified-2021` profile: the 61 ids Microsoft's connector overview
//! publishes, and the general-exception event 2 seen in its support wiki. Names are
//! Microsoft's, spelling included; descriptions and checks are ours.

use super::{Basis, Channel, Outcome, Source, UnifiedSpec};

const fn channel_basis(source: Source) -> Basis {
    match source {
        Source::Overview2025 => Basis::Published,
        // Only the wiki mentions event 2, and not its channel.
        Source::SupportWiki => Basis::Inferred,
    }
}

macro_rules! events {
    ($( $variant:ident = $id:literal, $chan:ident, $outcome:ident, $level:ident, $source:ident,
        $desc:literal, $check:literal; )*) => {
        /// An event of the 2021+ Certificate Connector (profile `unified-2021`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(clippy::enum_variant_names)]
        pub enum UnifiedEvent {
            $( #[doc = concat!(stringify!($id), " ", stringify!($variant))] $variant, )*
        }

        /// Every event of the profile, in id order within each range (the enum's order).
        pub const UNIFIED_EVENTS: [UnifiedSpec; 62] = [
            $( UnifiedSpec {
                event: UnifiedEvent::$variant,
                id: $id,
                name: stringify!($variant),
                channel: Channel::$chan,
                channel_basis: channel_basis(Source::$source),
                outcome: Outcome::$outcome,
                level_basis: Basis::$level,
                description: $desc,
                check: $check,
                source: Source::$source,
            }, )*
        ];
    };
}

events! {
    GeneralException = 2, Operational, Failure, Published, SupportWiki,
        "An unexpected exception (the wiki's example: a NullReferenceException) stopped an operation; the event's message names the exception. Its name and channel are not published: the name is ours.",
        "Restart the connector's services (PkiCertificateConnectorSvc, PfxCertificateConnectorSvc, PkiRevokeConnectorSvc); if it comes back, read the exception's stack in the message. RPC_S_SERVER_UNAVAILABLE (0x800706BA) means the CA cannot be reached.";

    PkcsRequestSuccess = 1000, Admin, Success, Published, Overview2025,
        "A PKCS request was fulfilled and its result uploaded to Intune. (The wiki files it under Operational; the overview under Admin.)",
        "Nothing to do.";
    PkcsRequestFailure = 1001, Admin, Failure, Published, Overview2025,
        "A PKCS request could not be fulfilled, or its result not uploaded. (The wiki files it under Operational; the overview under Admin.)",
        "Read the Operational event beside it (1052 issue failure, 1101 upload failure) for the CA's answer and the requesting account. \"Denied by Policy Module\": the connector's account lacks Read and Enroll on the template; RPC_S_SERVER_UNAVAILABLE: the CA is unreachable (certsrv.msc, RPC/DCOM, firewall).";
    PkcsDownloadSuccess = 1002, Operational, Success, Published, Overview2025,
        "The connector downloaded pending PKCS requests from Intune.",
        "Nothing to do.";
    PkcsDownloadFailure = 1003, Operational, Failure, Inferred, Overview2025,
        "The connector could not download pending PKCS requests from Intune.",
        "Check outbound HTTPS from the connector server to Intune (the proxy in the connector's settings must start with http://) and that the PkiCertificateConnectorSvc service runs.";
    PkcsDownloadedRequest = 1020, Operational, Received, Published, Overview2025,
        "One downloaded PKCS request, with its details.",
        "Nothing to do: it names the request the next events are about.";
    PkcsDigiCertRequest = 1032, Operational, Detail, Inferred, Overview2025,
        "A PKCS request sent to a DigiCert CA, with its details (logged since 6.2109.51.0).",
        "Nothing to do; on a failure next to it, check the DigiCert RA certificate in LocalMachine\\My and the DigiCert settings.";
    PkcsIssuedSuccess = 1050, Operational, Success, Published, Overview2025,
        "The CA issued the certificate of a PKCS request.",
        "Nothing to do.";
    PkcsIssuedFailedAttempt = 1051, Operational, FailedAttempt, Published, Overview2025,
        "Issuing a PKCS request's certificate failed; the connector will try again.",
        "If no 1050 or 1052 follows for the request, the connector stopped trying: check that the CA service runs and answers (certutil -ping).";
    PkcsIssuedFailure = 1052, Operational, Failure, Published, Overview2025,
        "The CA did not issue the certificate of a PKCS request.",
        "Read the CA's answer in the event: \"Denied by Policy Module\" means the connector's account lacks Read and Enroll on the template; an unreachable CA means the CA name in the certificate profile (server\\CA) or RPC/DCOM.";
    PkcsUploadSuccess = 1100, Operational, Success, Published, Overview2025,
        "A PKCS request's result was uploaded to Intune.",
        "Nothing to do.";
    PkcsUploadFailure = 1101, Operational, Failure, Published, Overview2025,
        "A PKCS request's result could not be uploaded to Intune.",
        "Check outbound HTTPS to Intune and the proxy; the result is uploaded again at the next cycle.";
    PkcsUploadedRequest = 1102, Operational, Detail, Published, Overview2025,
        "One uploaded PKCS result, with its details.",
        "Nothing to do.";
    PkcsRecryptRequestSuccess = 1200, Admin, Success, Inferred, Overview2025,
        "A request to re-encrypt a PKCS certificate's key (recrypt) was fulfilled.",
        "Nothing to do.";
    PkcsRecryptRequestFailure = 1201, Admin, Failure, Inferred, Overview2025,
        "A request to re-encrypt a PKCS certificate's key (recrypt) failed.",
        "Read the Operational event beside it (1203, 1252, 1253, 1301) for the step that failed; check that the connector's account can read the key it decrypts with.";
    PkcsRecryptDownloadSuccess = 1202, Operational, Success, Inferred, Overview2025,
        "The connector downloaded pending re-encryption requests.",
        "Nothing to do.";
    PkcsRecryptDownloadFailure = 1203, Operational, Failure, Inferred, Overview2025,
        "The connector could not download pending re-encryption requests.",
        "Check outbound HTTPS to Intune and the proxy.";
    PkcsRecryptDownloadedRequest = 1220, Operational, Received, Inferred, Overview2025,
        "One downloaded re-encryption request, with its details.",
        "Nothing to do.";
    PkcsRecryptReencryptSuccess = 1250, Operational, Success, Inferred, Overview2025,
        "A key was re-encrypted for its new recipient.",
        "Nothing to do.";
    PkcsRecryptDecryptSuccess = 1251, Operational, Success, Inferred, Overview2025,
        "A key to re-encrypt was decrypted.",
        "Nothing to do.";
    PkcsRecryptDecryptFailure = 1252, Operational, Failure, Inferred, Overview2025,
        "A key to re-encrypt could not be decrypted.",
        "Check that the decryption certificate and its private key are in the connector's store and readable by its service account.";
    PkcsRecryptReencryptFailure = 1253, Operational, Failure, Inferred, Overview2025,
        "A key could not be re-encrypted for its new recipient.",
        "Check the recipient's certificate the request names; retry after the next download.";
    PkcsRecryptUploadSuccess = 1300, Operational, Success, Inferred, Overview2025,
        "A re-encryption result was uploaded to Intune.",
        "Nothing to do.";
    PkcsRecryptUploadFailure = 1301, Operational, Failure, Inferred, Overview2025,
        "A re-encryption result could not be uploaded to Intune.",
        "Check outbound HTTPS to Intune and the proxy.";
    PkcsRecryptUploadedRequest = 1302, Operational, Detail, Inferred, Overview2025,
        "One uploaded re-encryption result, with its details.",
        "Nothing to do.";

    PkcsImportRequestSuccess = 2000, Admin, Success, Inferred, Overview2025,
        "An imported PKCS (PFX) certificate request was fulfilled.",
        "Nothing to do.";
    PkcsImportRequestFailure = 2001, Admin, Failure, Inferred, Overview2025,
        "An imported PKCS (PFX) certificate request failed.",
        "Read the Operational event beside it (2203, 2052, 2101); check that PfxCertificateConnectorSvc runs and that the key the PFX was imported with (IntunePfxImport) is on this server.";
    PkcsImportDownloadedRequest = 2020, Operational, Received, Inferred, Overview2025,
        "One downloaded imported-PFX request, with its details.",
        "Nothing to do.";
    PkcsImportReencryptSuccess = 2050, Operational, Success, Inferred, Overview2025,
        "An imported PFX was re-encrypted for its device.",
        "Nothing to do.";
    PkcsImportReencryptFailedAttempt = 2051, Operational, FailedAttempt, Inferred, Overview2025,
        "Re-encrypting an imported PFX failed; the connector will try again.",
        "If no 2050 or 2052 follows, check the import key's availability to the connector's account.";
    PkcsImportReencryptFailure = 2052, Operational, Failure, Inferred, Overview2025,
        "An imported PFX could not be re-encrypted for its device.",
        "Check that the private key the PFX was encrypted to (the import's KSP key) is on this server and readable by the connector's account.";
    PkcsImportUploadSuccess = 2100, Operational, Success, Inferred, Overview2025,
        "An imported-PFX result was uploaded to Intune.",
        "Nothing to do.";
    PkcsImportUploadFailure = 2101, Operational, Failure, Inferred, Overview2025,
        "An imported-PFX result could not be uploaded to Intune.",
        "Check outbound HTTPS to Intune and the proxy.";
    PkcsImportUploadedRequest = 2102, Operational, Detail, Inferred, Overview2025,
        "One uploaded imported-PFX result, with its details.",
        "Nothing to do.";
    PkcsImportDownloadSuccess = 2202, Operational, Success, Inferred, Overview2025,
        "The connector downloaded pending imported-PFX requests (the id is 2202, not 2002, as published).",
        "Nothing to do.";
    PkcsImportDownloadFailure = 2203, Operational, Failure, Inferred, Overview2025,
        "The connector could not download pending imported-PFX requests.",
        "Check outbound HTTPS to Intune and the proxy.";

    RevokeRequestSuccess = 3000, Admin, Success, Inferred, Overview2025,
        "The connector got the pending revocation requests from Intune (Microsoft describes it as downloading requests).",
        "Nothing to do.";
    RevokeRequestFailure = 3001, Admin, Failure, Inferred, Overview2025,
        "The connector could not get the pending revocation requests from Intune.",
        "Check that PkiRevokeConnectorSvc runs, the proxy, and outbound HTTPS to Intune; read 3003 beside it.";
    RevokeDownloadSuccess = 3002, Operational, Success, Inferred, Overview2025,
        "Pending revocation requests were downloaded.",
        "Nothing to do.";
    RevokeDownloadFailure = 3003, Operational, Failure, Inferred, Overview2025,
        "Pending revocation requests could not be downloaded.",
        "Check outbound HTTPS to Intune and the proxy.";
    RevokeDownloadedRequest = 3020, Operational, Received, Inferred, Overview2025,
        "One downloaded revocation request, with its details.",
        "Nothing to do.";
    RevokeDigicertRequest = 3032, Operational, Detail, Inferred, Overview2025,
        "A revocation sent to a DigiCert CA, with its details.",
        "Nothing to do; on a failure next to it, check the DigiCert RA certificate and settings.";
    RevokeSuccess = 3050, Operational, Success, Inferred, Overview2025,
        "The CA revoked a certificate.",
        "Nothing to do.";
    RevokeFailure = 3051, Operational, Failure, Inferred, Overview2025,
        "The CA did not revoke a certificate (note: 3051 is the failure and 3052 the failed attempt, the other way round from PKCS).",
        "Grant the connector's account Issue and Manage Certificates on the CA (certsrv.msc > Properties > Security); an unknown or already revoked serial number is refused too.";
    RevokeFailedAttempt = 3052, Operational, FailedAttempt, Inferred, Overview2025,
        "Revoking a certificate failed; the connector will try again.",
        "If no 3050 or 3051 follows for the request, check that the CA service runs and answers.";
    RevokeUploadSuccess = 3100, Operational, Success, Inferred, Overview2025,
        "A revocation result was uploaded to Intune.",
        "Nothing to do.";
    RevokeUploadFailure = 3101, Operational, Failure, Inferred, Overview2025,
        "A revocation result could not be uploaded to Intune.",
        "Check outbound HTTPS to Intune and the proxy.";
    RevokeUploadedRequest = 3102, Operational, Detail, Inferred, Overview2025,
        "One uploaded revocation result, with its details.",
        "Nothing to do.";

    ScrepRequestSuccess = 4000, Admin, Success, Inferred, Overview2025,
        "A SCEP request was processed and Intune was notified (Microsoft's spelling: Screp).",
        "Nothing to do.";
    ScepRequestIssuedFailure = 4001, Admin, Failure, Inferred, Overview2025,
        "A SCEP request failed at the CA; Intune was notified of the failure.",
        "Read 4007 beside it and the CA's Application log; check that NDES's service account may Enroll on the SCEP template and that the CA is reachable from NDES.";
    ScepRequestUploadFailure = 4002, Admin, Failure, Inferred, Overview2025,
        "A SCEP request was processed, but notifying Intune failed, so the device gets no certificate.",
        "Check outbound HTTPS from the NDES server to Intune and the proxy (written with http://); read the 4009 and 4010 before it.";
    ScepRequestReceived = 4003, Operational, Received, Inferred, Overview2025,
        "The policy module received a SCEP request from NDES (device id, SCEP policy id, template).",
        "Nothing to do: it names the device the next events are about.";
    ScepVerifySuccess = 4004, Operational, Success, Inferred, Overview2025,
        "Intune confirmed a device's SCEP challenge and request.",
        "Nothing to do.";
    ScepVerifyFailure = 4005, Operational, Failure, Inferred, Overview2025,
        "Intune (or the policy module) refused a device's SCEP challenge or request; NDES answers the device with a failure.",
        "Read the reason: an expired or already used challenge heals at the device's next check-in; a request that does not match the SCEP profile (subject, SAN, key usage, key size) needs the profile fixed; a proxy without http:// shows as NDES's \"password cannot be verified\".";
    ScepIssuedSuccess = 4006, Operational, Success, Inferred, Overview2025,
        "The CA issued a SCEP certificate (thumbprint and subject in the event).",
        "Nothing to do.";
    ScepIssuedFailure = 4007, Operational, Failure, Inferred, Overview2025,
        "The CA did not issue a SCEP certificate.",
        "Read the CA's Application log for the request; check the template's permissions for NDES's service account and the CA's reachability.";
    ScepNotifySuccess = 4008, Operational, Success, Inferred, Overview2025,
        "Intune acknowledged the SCEP certificate's notification; the device gets it.",
        "Nothing to do.";
    ScepNotifyAttemptFailed = 4009, Operational, FailedAttempt, Inferred, Overview2025,
        "Notifying Intune of a SCEP result failed; the policy module will try again.",
        "If no 4008 follows for the transaction, check outbound HTTPS to Intune and the proxy.";
    ScepNotifySaveToDiskFailed = 4010, Operational, Failure, Inferred, Overview2025,
        "The policy module could not save a notification to disk for a later try, so Intune is never told.",
        "Check free space and the connector account's write access to its folder under Program Files; restart the services.";

    HealthMessageUploadSuccess = 5000, Operational, Success, Inferred, Overview2025,
        "The connector uploaded a health message to Intune.",
        "Nothing to do.";
    HealthMessageUploadFailedAttempt = 5001, Operational, FailedAttempt, Inferred, Overview2025,
        "Uploading a health message failed; the connector will try again.",
        "If no 5000 follows, check outbound HTTPS to Intune and the proxy; the console shows the connector as unhealthy meanwhile.";
    HealthMessageUploadFailure = 5002, Operational, Failure, Inferred, Overview2025,
        "The connector could not upload a health message to Intune.",
        "Check outbound HTTPS to Intune and the proxy, and that the connector's registration is still valid (Intune admin center > Tenant administration > Connectors and tokens).";
}
