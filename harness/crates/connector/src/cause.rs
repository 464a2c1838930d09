//! Every cause the reference connector can report, each bound to one catalog pair.
//!
//! The connector writes events only through [`Cause`], so the set of (event, code) pairs it can
//! ever emit is exactly the image of [`Cause::ALL`] — a test checks that image lies inside the
//! catalog and covers all 48 pairs. `connector-harness catalog --paths` prints this table.
//!
//! The generic codes follow one rule throughout: a *success* event carries 0x0FFFFFFF when the
//! operation succeeded only after retrying an unexpected error; a *failure* event carries
//! 0x00000000 when the peer answered cleanly with a refusal that has no specific code, and
//! 0x0FFFFFFF when the peer failed unexpectedly (HTTP 5xx or 401, malformed answer, timeout
//! after retries).

use crate::catalog::{DiagnosticCode, EventId, Pair};
use crate::contract::intune::ScepErrorCode;

macro_rules! causes {
    ($( $(#[$doc:meta])* $variant:ident => $event:ident, $code:ident, $scenario:literal, $text:literal; )*) => {
        /// One reason the connector writes an event.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Cause {
            $( $(#[$doc])* $variant, )*
        }

        impl Cause {
            /// Every cause.
            pub const ALL: &'static [Cause] = &[$(Cause::$variant),*];

            /// The cause's name (its variant, as the process protocol's `cause` field carries it).
            pub fn name(self) -> &'static str {
                match self { $(Cause::$variant => stringify!($variant),)* }
            }

            /// The cause with this name.
            pub fn from_name(name: &str) -> Option<Cause> {
                Cause::ALL.iter().copied().find(|c| c.name() == name)
            }

            /// The catalog pair this cause writes.
            pub fn pair(self) -> Pair {
                match self { $(Cause::$variant => Pair { event: EventId::$event, code: DiagnosticCode::$code },)* }
            }

            /// The scenario (file stem in `scenarios/`) that reproduces this cause.
            pub fn scenario(self) -> &'static str {
                match self { $(Cause::$variant => $scenario,)* }
            }

            /// What makes the connector report it.
            pub fn description(self) -> &'static str {
                match self { $(Cause::$variant => $text,)* }
            }
        }
    };
}

causes! {
    /// 10010 / 0
    ServiceStarted => StartedConnectorService, Success, "lifecycle-start-stop",
        "The service started, read its registration certificate and checked in with Intune without trouble.";
    /// 10010 / 0x0FFFFFFF
    ServiceStartedWithError => StartedConnectorService, UnknownError, "lifecycle-start-checkin-error",
        "The service started, but its start-up check-in with Intune met an unexpected error (HTTP 5xx, timeout), even if a retry then worked.";
    /// 10020 / 0
    ServiceStopped => StoppedConnectorService, Success, "lifecycle-start-stop",
        "The service stopped and checked out with Intune cleanly.";
    /// 10020 / 0x0FFFFFFF
    ServiceStoppedWithError => StoppedConnectorService, UnknownError, "lifecycle-stop-checkin-error",
        "The service stopped, but its final check-out with Intune failed unexpectedly.";
    /// 10100 / 0
    RenewalSucceeded => CertificateRenewalSuccess, Success, "registration-renewal",
        "The registration certificate entered its renewal window and Intune renewed it at the first attempt.";
    /// 10100 / 0x0FFFFFFF
    RenewalSucceededAfterRetry => CertificateRenewalSuccess, UnknownError, "registration-renewal-retried",
        "Intune renewed the registration certificate, but only after the connector retried an unexpected error.";
    /// 10102 / 0
    RenewalDenied => CertificateRenewalFailure, Success, "registration-renewal-denied",
        "Intune answered the renewal cleanly with a refusal (HTTP 403 with an error body).";
    /// 10102 / 0x405
    RenewalCertificateExpired => CertificateRenewalFailure, CertificateExpired, "registration-expired",
        "The registration certificate had already expired when the connector tried to renew it; only re-enrolling helps.";
    /// 10102 / 0x0FFFFFFF
    RenewalFailed => CertificateRenewalFailure, UnknownError, "registration-renewal-error",
        "Renewal failed unexpectedly: Intune kept answering HTTP 5xx, a malformed body, or nothing at all.";
    /// 10301 / 0
    CertificateNearExpiry => RetrieveCertificateWarning, Success, "registration-near-expiry",
        "The registration certificate was found at start, but it is already inside its renewal window.";
    /// 10301 / 0x403
    ThumbprintNotFound => RetrieveCertificateWarning, CertThumbprintNotFound, "registration-thumbprint-mismatch",
        "No certificate in the store matches the configured thumbprint; the connector fell back to the registration certificate it found by subject.";
    /// 10301 / 0x0FFFFFFF
    StoreReadRetried => RetrieveCertificateWarning, UnknownError, "registration-store-flaky",
        "The first read of the certificate store failed unexpectedly; a second read worked.";
    /// 10302 / 0
    CertificateMissingKey => RetrieveCertificateError, Success, "registration-no-private-key",
        "The registration certificate is in the store but its private key is not; the store answered cleanly.";
    /// 10302 / 0x404
    CertificateNotFound => RetrieveCertificateError, CertificateNotFound, "registration-missing",
        "There is no registration certificate in the store at all.";
    /// 10302 / 0x0FFFFFFF
    StoreUnreadable => RetrieveCertificateError, UnknownError, "registration-store-unreadable",
        "Every read of the certificate store failed unexpectedly.";
    /// 20100 / 0
    PkcsIssued => PkcsCertIssueSuccess, Success, "pkcs-issue",
        "The CA issued the PKCS certificate Intune asked for.";
    /// 20100 / 0x0FFFFFFF
    PkcsIssuedAfterRetry => PkcsCertIssueSuccess, UnknownError, "pkcs-issue-ca-retried",
        "The CA issued the certificate after the connector retried an unexpected CA error (HTTP 500).";
    /// 20102 / 0
    PkcsDenied => PkcsCertIssueFailure, Success, "pkcs-issue-ca-denied",
        "The CA answered cleanly with a refusal (policy denial or unknown template).";
    /// 20102 / 0x400
    PkcsCaUnavailable => PkcsCertIssueFailure, PkcsIssueCaUnavailable, "pkcs-issue-ca-unavailable",
        "The CA could not be reached: connection refused or no answer within the timeout, after retries.";
    /// 20102 / 0x401
    PkcsRaCertMissing => PkcsCertIssueFailure, SymantecClientAuthCertNotFound, "pkcs-issue-digicert-ra-missing",
        "A DigiCert-style CA demanded the RA client-authentication certificate, which the connector does not hold.";
    /// 20102 / 0x0FFFFFFF
    PkcsCaError => PkcsCertIssueFailure, UnknownError, "pkcs-issue-ca-error",
        "The CA failed unexpectedly (HTTP 5xx or a malformed answer) on every attempt.";
    /// 20200 / 0
    Revoked => RevokeCertSuccess, Success, "revoke",
        "The CA revoked the certificate Intune asked to revoke.";
    /// 20200 / 0x0FFFFFFF
    RevokedAfterRetry => RevokeCertSuccess, UnknownError, "revoke-ca-retried",
        "The CA revoked the certificate after the connector retried an unexpected CA error.";
    /// 20202 / 0
    RevokeRefused => RevokeCertFailure, Success, "revoke-already-revoked",
        "The CA answered cleanly that it cannot revoke: unknown serial number or already revoked.";
    /// 20202 / 0x402
    RevokeAccessDenied => RevokeCertFailure, RevokeCertAccessDenied, "revoke-access-denied",
        "The CA refused the revocation: the connector's account lacks permission to revoke.";
    /// 20202 / 0x0FFFFFFF
    RevokeCaError => RevokeCertFailure, UnknownError, "revoke-ca-error",
        "The CA failed unexpectedly or could not be reached while revoking.";
    /// 20300 / 0
    Uploaded => UploadSuccess, Success, "upload",
        "Intune recorded the uploaded result at the first attempt.";
    /// 20300 / 0x0FFFFFFF
    UploadedAfterRetry => UploadSuccess, UnknownError, "upload-retried",
        "Intune recorded the uploaded result after the connector retried an unexpected error.";
    /// 20302 / 0
    UploadNotRecorded => UploadFailure, Success, "upload-not-recorded",
        "Intune answered the upload cleanly but did not record it (answered `false`, or refused it); the result stays in the outbox.";
    /// 20302 / 0x0FFFFFFF
    UploadFailed => UploadFailure, UnknownError, "upload-error",
        "The upload failed unexpectedly (HTTP 5xx, timeout, malformed answer); the result stays in the outbox for the next cycle.";
    /// 20400 / 0
    Downloaded => DownloadSuccess, Success, "download",
        "The connector downloaded pending requests from Intune.";
    /// 20400 / 0x0FFFFFFF
    DownloadedAfterRetry => DownloadSuccess, UnknownError, "download-retried",
        "The download worked after the connector retried an unexpected error.";
    /// 20402 / 0
    DownloadRefused => DownloadFailure, Success, "download-denied",
        "Intune answered the download cleanly with a refusal (HTTP 403 with an error body).";
    /// 20402 / 0x0FFFFFFF
    DownloadFailed => DownloadFailure, UnknownError, "download-error",
        "The download failed unexpectedly on every attempt (HTTP 5xx or 401, timeout, malformed answer).";
    /// 20500 / 0
    ChallengeVerified => CrpVerifyMetricSuccess, Success, "scep-enroll",
        "Intune confirmed the device's SCEP challenge.";
    /// 20500 / 0x0FFFFFFF
    ChallengeVerifiedAfterRetry => CrpVerifyMetricSuccess, UnknownError, "scep-verify-retried",
        "Intune confirmed the challenge after the policy module retried an unexpected error.";
    /// 20501 / 0
    ChallengeRejected => CrpVerifyMetricWarning, Success, "scep-challenge-unknown",
        "Intune answered cleanly and refused the request for another reason: a challenge it did not mint, one already used or missing, or a request that does not match the SCEP profile (subject, alternative names, key usage, key length).";
    /// 20501 / 0x411
    ChallengeExpired => CrpVerifyMetricWarning, CrpScepChallengeExpired, "scep-challenge-expired",
        "Intune rejected the request because its challenge had expired.";
    /// 20501 / 0x0FFFFFFF
    ChallengeRejectedUnknown => CrpVerifyMetricWarning, UnknownError, "scep-verify-unknown-code",
        "Intune rejected the request with the catch-all error code `Unknown`.";
    /// 20502 / 0
    VerifyDenied => CrpVerifyMetricFailure, Success, "scep-verify-denied",
        "Intune refused the validation call itself cleanly (HTTP 403 with an error body).";
    /// 20502 / 0x408
    CrpEncryptionCertificateMissing => CrpVerifyMetricFailure, CrpScepCertNotFound, "scep-crp-encryption-missing",
        "The policy module's configuration has no CRP encryption certificate (crp-encryption.pem is not in the connector's store), so it cannot verify requests.";
    /// 20502 / 0x409
    SigningCertificateMissing => CrpVerifyMetricFailure, CrpScepSigningCertNotFound, "scep-signing-certificate-missing",
        "The policy module has no SCEP signing certificate: the service could not download it from Intune (see its 20402 Download_Failure at start), so it cannot call the Certificate Registration Point.";
    /// 20502 / 0x410
    ChallengeUndecodable => CrpVerifyMetricFailure, CrpScepDeserializeFailed, "scep-challenge-undecodable",
        "Intune could not deserialize or decode the device's SCEP challenge (ChallengeDeserializationError, ChallengeDecodingError): the challenge is damaged or not an Intune challenge at all.";
    /// 20502 / 0x0FFFFFFF
    VerifyFailed => CrpVerifyMetricFailure, UnknownError, "scep-verify-error",
        "The validation call failed unexpectedly on every attempt, or Intune answered a code the client does not know.";
    /// 20600 / 0
    Notified => CrpNotifyMetricSuccess, Success, "scep-enroll",
        "The certificate was issued and Intune acknowledged the success notification.";
    /// 20600 / 0x0FFFFFFF
    NotifiedAfterRetry => CrpNotifyMetricSuccess, UnknownError, "scep-notify-retried",
        "Intune acknowledged the success notification after the policy module retried an unexpected error.";
    /// 20602 / 0
    NotifyCaDenied => CrpNotifyMetricFailure, Success, "scep-notify-ca-denied",
        "After verification the CA cleanly refused to issue, so no certificate went to the device (Intune was told).";
    /// 20602 / 0
    NotifyRefused => CrpNotifyMetricFailure, Success, "scep-notify-denied",
        "Intune answered the notification cleanly but did not accept it.";
    /// 20602 / 0x0FFFFFFF
    NotifyFailed => CrpNotifyMetricFailure, UnknownError, "scep-notify-error",
        "The notification could not be completed: the notification call failed unexpectedly, or the CA failed unexpectedly after verification.";
}

impl Cause {
    /// The cause the policy module reports for Intune's validation answer `code` at the first
    /// attempt (a success after retries is [`Cause::ChallengeVerifiedAfterRetry`]).
    pub fn for_validation(code: ScepErrorCode) -> Cause {
        use ScepErrorCode as E;
        match code {
            E::Success => Cause::ChallengeVerified,
            E::ChallengeExpired => Cause::ChallengeExpired,
            E::ChallengeDeserializationError | E::ChallengeDecodingError => {
                Cause::ChallengeUndecodable
            }
            E::Unknown => Cause::ChallengeRejectedUnknown,
            _ => Cause::ChallengeRejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::catalog;

    #[test]
    fn every_cause_is_an_allowed_pair() {
        for c in Cause::ALL {
            assert!(
                c.pair().is_allowed(),
                "{c:?} writes {} which the catalog forbids",
                c.pair()
            );
        }
    }

    #[test]
    fn causes_cover_all_48_pairs() {
        let reached: BTreeSet<_> = Cause::ALL.iter().map(|c| c.pair()).collect();
        let all: BTreeSet<_> = catalog::pairs().into_iter().collect();
        let missing: Vec<_> = all.difference(&reached).map(|p| p.to_string()).collect();
        assert!(missing.is_empty(), "pairs no cause reaches: {missing:?}");
    }
}
