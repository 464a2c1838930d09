//! The PKI vocabulary scenarios share between setup and steps: key usages, extended key
//! usages, subject alternative names, SCEP profiles, and what NDES advertises.

use schemars::JsonSchema;
use serde::Deserialize;

use super::super::limits;

/// An extended key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EkuName {
    /// id-kp-clientAuth (1.3.6.1.5.5.7.3.2).
    ClientAuth,
    /// id-kp-serverAuth (1.3.6.1.5.5.7.3.1).
    ServerAuth,
    /// id-kp-emailProtection (1.3.6.1.5.5.7.3.4).
    EmailProtection,
    /// id-kp-codeSigning (1.3.6.1.5.5.7.3.3).
    CodeSigning,
}

impl EkuName {
    /// The OID.
    pub fn oid(self) -> der::oid::ObjectIdentifier {
        use der::oid::ObjectIdentifier as O;
        match self {
            EkuName::ClientAuth => crate::csr::CLIENT_AUTH,
            EkuName::ServerAuth => crate::csr::SERVER_AUTH,
            EkuName::EmailProtection => O::new_unwrap("1.3.6.1.5.5.7.3.4"),
            EkuName::CodeSigning => O::new_unwrap("1.3.6.1.5.5.7.3.3"),
        }
    }
}

/// A kind of subject alternative name a SCEP profile demands: `upn` and `email` must name
/// the user, `dns` the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SanKindName {
    /// Microsoft UPN other-name = the user.
    Upn,
    /// dNSName = the device.
    Dns,
    /// rfc822Name = the user.
    Email,
}

/// What a SCEP profile demands of the subject.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectRule {
    /// `CN=<device>`.
    #[default]
    Device,
    /// Anything (or nothing).
    Any,
}

/// A SCEP profile at Intune: what a device's request must look like.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSetup {
    /// Profile name; an enrollment's challenge is minted for one (default `SCEP-Default`).
    #[serde(deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub name: String,
    /// The subject (default `device`: `CN=<device>`).
    #[serde(default)]
    pub subject: SubjectRule,
    /// Subject alternative names the request must carry (default none).
    #[serde(default)]
    pub san: Vec<SanKindName>,
    /// Key usage the request may ask for (default: any).
    #[serde(default)]
    pub key_usage: Option<Vec<crate::csr::KeyUse>>,
    /// Key length in bits (default 2048; the devices' keys are 2048 bits).
    #[serde(default = "default_key_length")]
    pub key_length: u32,
    /// Extended key usages the request must ask for (default: none demanded).
    #[serde(default)]
    pub eku: Option<Vec<EkuName>>,
}

fn default_key_length() -> u32 {
    2048
}

impl ProfileSetup {
    /// `SCEP-Default`: subject `CN=<device>`, 2048-bit keys.
    pub fn default_profile() -> ProfileSetup {
        ProfileSetup {
            name: "SCEP-Default".into(),
            subject: SubjectRule::Device,
            san: Vec::new(),
            key_usage: None,
            key_length: 2048,
            eku: None,
        }
    }
}

/// The Intune service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntuneSetup {
    /// SCEP profiles (default: one, `SCEP-Default`).
    #[serde(default = "default_profiles")]
    pub profiles: Vec<ProfileSetup>,
}

impl Default for IntuneSetup {
    fn default() -> Self {
        IntuneSetup {
            profiles: default_profiles(),
        }
    }
}

fn default_profiles() -> Vec<ProfileSetup> {
    vec![ProfileSetup::default_profile()]
}

/// NDES.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NdesSetup {
    /// What GetCACaps advertises (default `ndes`).
    #[serde(default)]
    pub capabilities: crate::scep::Capabilities,
}

/// What a CA template does with extensions a request asks for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionsName {
    /// Key usage and EKU from the template; SANs from the request (default).
    #[default]
    Override,
    /// Key usage, EKU and SANs from the request when it asks for them.
    Honour,
}
