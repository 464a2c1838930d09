//! The fake CA's wire contract: paths, JSON bodies and error kinds.
//!
//! The CA is the harness's own stand-in for an issuing CA (ADCS or a DigiCert-style cloud CA):
//! there is no Microsoft contract to follow, so this module is the whole specification, and
//! `docs/wire-contracts.md` describes it for people.

use serde::{Deserialize, Serialize};

/// The fake CA's routes.
pub mod ca_paths {
    /// `POST` [`super::IssueRequest`] → [`super::IssueResponse`].
    pub const ISSUE: &str = "/ca/issue";
    /// `POST` [`super::RevokeRequest`] → [`super::RevokeResponse`].
    pub const REVOKE: &str = "/ca/revoke";
    /// `GET /ca/status/{serial}` → [`super::StatusResponse`].
    pub const STATUS: &str = "/ca/status";
    /// `GET` → DER CRL (`application/pkix-crl`).
    pub const CRL: &str = "/ca/crl";
    /// `GET` → PEM chain: issuing CA, then root.
    pub const CHAIN: &str = "/ca/chain";
    /// `GET` → the request journal (JSON array).
    pub const JOURNAL: &str = "/admin/requests";
}

/// Header carrying the caller's client-authentication certificate (base64 DER). Stands in for
/// TLS client authentication, which a DigiCert-style CA requires.
pub const CLIENT_CERT_HEADER: &str = "x-client-certificate";

/// A CSR submitted to the CA.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssueRequest {
    /// Template name; must be configured on the CA.
    pub template: String,
    /// PKCS#10 request, base64 DER.
    pub csr: String,
}

/// A certificate the CA issued.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssueResponse {
    /// Serial number, upper-case hex.
    pub serial_number: String,
    /// SHA-1 thumbprint of the DER, upper-case hex.
    pub thumbprint: String,
    /// The certificate, base64 DER.
    pub certificate: String,
    /// Issuing CA then root, base64 DER.
    pub chain: Vec<String>,
    /// Expiry, RFC 3339.
    pub not_after: String,
}

/// A revocation request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeRequest {
    /// Serial number, hex (any case).
    pub serial_number: String,
    /// CRL reason code (RFC 5280), 0 = unspecified.
    #[serde(default)]
    pub reason: u8,
}

/// A revocation done.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevokeResponse {
    /// Serial number, upper-case hex.
    pub serial_number: String,
    /// When, RFC 3339 scenario time.
    pub revoked_at: String,
}

/// Certificate status by serial.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusResponse {
    /// Serial number, upper-case hex.
    pub serial_number: String,
    /// `valid` or `revoked`.
    pub status: String,
    /// When revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Revocation reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<u8>,
}

/// Every non-2xx answer of the CA: `{"error": kind, "message": text}`.
///
/// Kinds: `denied` (issuance refused, incl. unknown template; HTTP 403), `access_denied`
/// (revocation refused; 403), `client_certificate_required` (DigiCert-style CA without the RA
/// certificate; 401), `not_found` (unknown serial; 404), `already_revoked` (409), `bad_request`
/// (400), `internal` (5xx).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// Machine-readable kind.
    pub error: String,
    /// Human-readable text.
    pub message: String,
}

/// One call the CA received (served as JSON at [`ca_paths::JOURNAL`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaJournalEntry {
    /// Scenario time of the call, RFC 3339.
    pub at: String,
    /// `issue`, `revoke`, `status`, `crl` or `chain`.
    pub op: String,
    /// Template asked for (issue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Serial issued, revoked or looked up (upper-case hex as the CA prints it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// `ok`, `issued`, `revoked`, an error kind (`denied`, `not_found`, …) or `fault:<kind>`.
    pub outcome: String,
}
