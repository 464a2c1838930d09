//! What an administrator of a real NDES / connector server checks for each cause: the
//! certificate store, the registry value, the IIS application and the log that tell the story.
//! `connector-harness explain` prints these beside the scenario that reproduces the cause.
//!
//! The places named are the legacy connector's (its event log "Microsoft Intune Connector" is
//! the one the catalog's events belong to): logs under
//! `C:\Program Files\Microsoft Intune\NDESConnectorSvc\Logs\Logs\` (`NDESConnector*.svclog`,
//! `CertificateRegistrationPoint*.svclog`) and `...\NDESPolicyModule\Logs\NDESPlugin.log`; the
//! machine store is `LocalMachine\My` (certlm.msc).

use super::Cause;

const NOTHING: &str = "Nothing to do: this is the healthy path.";
const RETRIED_INTUNE: &str = "Nothing broke for good, but the connector met an unexpected error from Intune before it worked. If it repeats, check the server's outbound HTTPS (proxy, TLS inspection, firewall) and NDESConnector*.svclog for the failing call.";
const RETRIED_CA: &str = "Nothing broke for good, but the CA failed once before it worked. If it repeats, check the CA's own Application log and the Certification Authority service (certsrv.msc) for load or restarts.";

impl Cause {
    /// What to check on a real server when this cause is reported.
    pub fn remedy(self) -> &'static str {
        use Cause as C;
        match self {
            C::ServiceStarted | C::ServiceStopped => NOTHING,
            C::ServiceStartedWithError | C::ServiceStoppedWithError => "The service runs, but its check-in with Intune failed unexpectedly. Check outbound HTTPS from the server to Intune (proxy settings, TLS inspection, firewall) and NDESConnector*.svclog for the HTTP status.",
            C::RenewalSucceeded => NOTHING,
            C::RenewalSucceededAfterRetry => RETRIED_INTUNE,
            C::RenewalDenied => "Intune refused to renew the connector's registration certificate: the connector may have been deleted or disabled in the Intune admin center (Tenant administration > Connectors and tokens). Re-enroll the connector from its setup UI.",
            C::RenewalCertificateExpired => "The registration certificate in LocalMachine\\My expired before it could be renewed (the service was stopped or offline through its renewal window). Re-enroll the connector from its setup UI; renewal cannot bring back an expired certificate.",
            C::RenewalFailed => "Renewal kept failing unexpectedly. Check outbound HTTPS to Intune, the server's clock, and NDESConnector*.svclog; renew before the registration certificate expires or re-enrollment will be needed.",
            C::CertificateNearExpiry => "The registration certificate in LocalMachine\\My is inside its renewal window. Keep the connector service running so it renews; look for 10100 next.",
            C::ThumbprintNotFound => "The thumbprint the connector is configured with matches no certificate in LocalMachine\\My (the certificate was replaced or deleted). Re-enroll the connector so its configured thumbprint is written again.",
            C::StoreReadRetried => "The first read of LocalMachine\\My failed. Check the Application log for CryptoAPI or key-storage errors around the same time and that the service account can read the store.",
            C::CertificateMissingKey => "The registration certificate is in LocalMachine\\My but without its private key (imported without the key, or the key's permissions were removed). In certlm.msc the certificate shows no key icon; re-enroll the connector, or grant the service account access to the key.",
            C::CertificateNotFound => "There is no registration certificate in LocalMachine\\My. Enroll the connector from its setup UI (sign in with an Intune admin account).",
            C::StoreUnreadable => "The service cannot read LocalMachine\\My at all. Check the service account's rights, the CryptoAPI entries in the Application log, and that the machine key store (ProgramData\\Microsoft\\Crypto) is intact.",
            C::PkcsIssued => NOTHING,
            C::PkcsIssuedAfterRetry => RETRIED_CA,
            C::PkcsDenied => "The CA refused the request. In certsrv.msc, look under Failed Requests for the reason: usually the template is not published on this CA, or the connector's account lacks Read and Enroll on the template named in the event.",
            C::PkcsCaUnavailable => "The CA named in the event cannot be reached. Check that the Certification Authority service runs on it, that its name in the Intune certificate profile is right (server\\CA name), and that RPC/DCOM from the connector server to the CA is open.",
            C::PkcsRaCertMissing => "The DigiCert RA client-authentication certificate is not in LocalMachine\\My with its private key. Import it (with the key) and make sure the connector's DigiCert configuration names its thumbprint.",
            C::PkcsCaError => "The CA failed on every attempt. Check the CA's Application log and certsrv.msc (database, service health), then the event's details for the answer it gave.",
            C::Revoked => NOTHING,
            C::RevokedAfterRetry => RETRIED_CA,
            C::RevokeRefused => "The CA answered that it cannot revoke this serial number: it is already revoked or was not issued by this CA. Usually harmless; in certsrv.msc check Revoked Certificates for the serial in the event.",
            C::RevokeAccessDenied => "The connector's account may not revoke at this CA. In the CA's Security tab (certsrv.msc > Properties), grant it Issue and Manage Certificates.",
            C::RevokeCaError => "The CA failed or could not be reached while revoking. Check the Certification Authority service, the network path to it, and its Application log.",
            C::Uploaded => NOTHING,
            C::UploadedAfterRetry => RETRIED_INTUNE,
            C::UploadNotRecorded => "Intune did not record the result; the connector keeps it and uploads again next cycle. If it persists, check NDESConnector*.svclog for Intune's answer and that the connector is still enrolled in the Intune admin center.",
            C::UploadFailed => "The upload failed unexpectedly; the result waits for the next cycle. Check outbound HTTPS to Intune (proxy, TLS inspection) and NDESConnector*.svclog.",
            C::Downloaded => NOTHING,
            C::DownloadedAfterRetry => RETRIED_INTUNE,
            C::DownloadRefused => "Intune refused the download: the connector's registration is no longer accepted. Check the connector's status in the Intune admin center and re-enroll it if it is gone.",
            C::DownloadFailed => "The download failed on every attempt. Check outbound HTTPS to Intune and NDESConnector*.svclog; at start this also means the SCEP signing certificate could not be fetched (see 20502 with 0x00000409).",
            C::ChallengeVerified => NOTHING,
            C::ChallengeVerifiedAfterRetry => RETRIED_INTUNE,
            C::ChallengeRejected => "Intune refused this device's request; the event's Reason names Intune's error code (run `connector-harness explain <code>`). Usually the SCEP profile and the device's request disagree (subject, alternative names, key usage, key length) or the challenge was used already: fix the profile in Intune, not the server.",
            C::ChallengeExpired => "The device presented its challenge too late. Nothing on the server: Intune hands the device a new challenge at its next check-in. Many of these together point at a slow path from device to NDES (Entra application proxy, IIS queueing).",
            C::ChallengeRejectedUnknown => "Intune refused with its catch-all code. Find the transaction in CertificateRegistrationPoint*.svclog and NDESPlugin.log; if it repeats, collect those logs for Microsoft support.",
            C::VerifyDenied => "The Certificate Registration Point refused the policy module's call itself (HTTP 403). Check the client-authentication certificate the policy module presents (registry HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP\\Modules\\NDESPolicy, value NDESCertThumbprint): it must be in LocalMachine\\My, valid, trusted, and carry the client-authentication EKU.",
            C::CrpEncryptionCertificateMissing => "The CRP encryption certificate of this NDES / connector configuration is missing. Check the connector's certificates in LocalMachine\\My and re-run the connector's configuration so it is provisioned again.",
            C::SigningCertificateMissing => "Check that the connector service runs and that its certificate download at start succeeded (20400, not 20402): the registry value HKLM\\SOFTWARE\\Microsoft\\MicrosoftIntune\\NDESConnector\\SigningCertificate holds what it downloaded. NDESPlugin.log says \"Signing certificate could not be retrieved\".",
            C::ChallengeUndecodable => "Intune could not read the device's challenge: it is damaged or was not minted by Intune (a device enrolling with a static or third-party challenge). Check the SCEP profile's server URL points at this NDES, and IIS's long-URL limits (HTTP.sys MaxFieldLength / MaxRequestBytes) when devices use GET.",
            C::VerifyFailed => "The validation call to Intune failed on every attempt. Check that the IIS application CertificateRegistrationSvc and the SCEP app pool are started, then outbound HTTPS to Intune, and NDESPlugin.log and CertificateRegistrationPoint*.svclog for the failing step.",
            C::Notified => NOTHING,
            C::NotifiedAfterRetry => RETRIED_INTUNE,
            C::NotifyCaDenied => "Intune verified the request but the CA refused to issue. Check the CA's Failed Requests (certsrv.msc) and the template named in HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP (SignatureTemplate, EncryptionTemplate, GeneralPurposeTemplate): it must exist, be published, and let the NDES service account enroll.",
            C::NotifyRefused => "Intune did not accept the issuance notification, so it will not show the certificate as delivered. Check CertificateRegistrationPoint*.svclog for its answer; repeated refusals point at transactions Intune never validated.",
            C::NotifyFailed => "The notification did not complete: the call to Intune failed, or the CA failed after verification. Check the CA's health first, then outbound HTTPS to Intune and NDESPlugin.log (\"Exiting Notify\" with a non-zero code).",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_or_warning_names_something_to_check() {
        for c in Cause::ALL {
            let text = c.remedy();
            assert!(!text.is_empty(), "{c:?}");
            let healthy = c.pair().code == crate::catalog::DiagnosticCode::Success
                && c.pair().event.level() == crate::catalog::Level::Information;
            assert_eq!(text == NOTHING, healthy, "{c:?}: {text}");
        }
    }
}
