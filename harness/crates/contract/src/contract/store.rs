//! The connector's registration store: a directory the harness provisions for each scenario
//! and hands to the connector under test (ours, or a vendor's) at start. It stands in for the
//! Windows certificate store and the connector's registry values; every condition a scenario
//! sets up (a missing certificate, a missing key, a mismatched thumbprint, an unreadable file)
//! is a real condition of these files, found by reading them.
//!
//! | file | holds | when absent |
//! |---|---|---|
//! | `registration.pem` | the registration certificate (PEM) | 10302 with 0x00000404 |
//! | `registration.key` | its private key (PKCS#8 PEM) | 10302 with 0x00000000 |
//! | `connector.json` | settings: `{"thumbprint": "<SHA-1 hex>"}` | the certificate is found by subject |
//! | `signing.pem` | the policy module's SCEP signing certificate | downloaded from Intune at start |
//! | `crp-encryption.pem` | the CRP encryption certificate | 20502 with 0x00000408 |
//!
//! A renewal writes `registration.pem.tmp` and renames it over `registration.pem`; a store
//! left with an empty `registration.pem` beside a complete `.tmp` is a renewal interrupted
//! mid-way, which the connector completes on its next read.

/// The registration certificate, PEM.
pub const REGISTRATION_CERT: &str = "registration.pem";
/// Its private key, PKCS#8 PEM.
pub const REGISTRATION_KEY: &str = "registration.key";
/// The connector's settings, JSON.
pub const SETTINGS: &str = "connector.json";
/// The policy module's SCEP signing certificate, PEM.
pub const SIGNING_CERT: &str = "signing.pem";
/// The CRP encryption certificate, PEM.
pub const CRP_ENCRYPTION_CERT: &str = "crp-encryption.pem";
/// Suffix of a file being written.
pub const PARTIAL: &str = ".tmp";

/// `connector.json`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Thumbprint (SHA-1, upper-case hex) of the registration certificate to use.
    #[serde(default)]
    pub thumbprint: Option<String>,
}
