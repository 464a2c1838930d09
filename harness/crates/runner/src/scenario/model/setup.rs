//! The world before a scenario's first step: the CA, the registration store, the connector's
//! settings, the Intune service's SCEP profiles and NDES.

use schemars::JsonSchema;
use serde::Deserialize;

use super::super::limits::{self, StartTime};
use super::super::span::Span;
use super::pki::{EkuName, ExtensionsName, IntuneSetup, NdesSetup};
use crate::csr::KeyUse;
use crate::provision::StoreCondition;

/// The world before the first step.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Scenario time at the start, RFC 3339 (default 2026-01-01T00:00:00Z), from
    /// 1970-01-01T00:00:00Z to 9899-12-31T23:59:59.999Z (the end of scenario time).
    #[serde(default)]
    pub start_time: Option<StartTime>,
    /// The certification authority.
    #[serde(default)]
    pub ca: CaSetup,
    /// The connector's registration certificate in its local store.
    #[serde(default)]
    pub registration: RegistrationSetup,
    /// Connector settings.
    #[serde(default)]
    pub connector: ConnectorSetup,
    /// The Intune service: its SCEP profiles.
    #[serde(default)]
    pub intune: IntuneSetup,
    /// NDES: what it advertises.
    #[serde(default)]
    pub ndes: NdesSetup,
}

/// Which kind of CA.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaKindSetup {
    /// A Microsoft enterprise CA (ADCS).
    #[default]
    Microsoft,
    /// A DigiCert (formerly Symantec) CA that requires an RA client-authentication certificate.
    Digicert,
}

/// The certification authority.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaSetup {
    /// Kind of CA.
    #[serde(default)]
    pub kind: CaKindSetup,
    /// CA name the connector reports (at most 128 characters).
    #[serde(default = "default_ca_name", deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub name: String,
    /// Certificate templates the CA offers (default: IntuneUser and IntuneDevice, 365 days).
    #[serde(default = "default_templates")]
    pub templates: Vec<TemplateSetup>,
}

impl Default for CaSetup {
    fn default() -> Self {
        CaSetup {
            kind: CaKindSetup::default(),
            name: default_ca_name(),
            templates: default_templates(),
        }
    }
}

fn default_ca_name() -> String {
    crate::fixtures::CA_NAME.into()
}

fn default_templates() -> Vec<TemplateSetup> {
    [
        crate::fixtures::USER_TEMPLATE,
        crate::fixtures::DEVICE_TEMPLATE,
    ]
    .iter()
    .map(|n| TemplateSetup {
        name: (*n).into(),
        validity: Span::days(365),
        key_usage: None,
        eku: None,
        extensions: ExtensionsName::Override,
    })
    .collect()
}

/// A certificate template.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSetup {
    /// Template name (at most 128 characters).
    #[serde(deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub name: String,
    /// Lifetime of certificates issued with it (at most 36500d).
    #[serde(default = "default_validity", deserialize_with = "limits::validity")]
    pub validity: Span,
    /// Key usages of issued certificates (default digital_signature, key_encipherment).
    #[serde(default)]
    pub key_usage: Option<Vec<KeyUse>>,
    /// Extended key usages of issued certificates (default client_auth).
    #[serde(default)]
    pub eku: Option<Vec<EkuName>>,
    /// What happens to extensions a request asks for (default `override`).
    #[serde(default)]
    pub extensions: ExtensionsName,
}

fn default_validity() -> Span {
    Span::days(365)
}

/// The registration certificate in the connector's store.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSetup {
    /// What the store holds.
    #[serde(default = "default_store")]
    #[schemars(with = "StoreCondition")]
    pub state: StoreCondition,
    /// Time left before the certificate expires, from the start time, at most 36500d
    /// (defaults: 365d; 10d for `near_expiry`; `expired` means it expired a day before the
    /// start).
    #[serde(default, deserialize_with = "limits::expires_in")]
    pub expires_in: Option<Span>,
    /// The policy module's SCEP signing certificate (`signing.pem`); when missing, the service
    /// downloads it from Intune at start.
    #[serde(default)]
    pub signing_certificate: Presence,
    /// The CRP encryption certificate of the connector's configuration (`crp-encryption.pem`).
    #[serde(default)]
    pub crp_encryption_certificate: Presence,
}

/// Whether a file is in the connector's store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// It is there.
    #[default]
    Present,
    /// It is not.
    Missing,
}

impl Default for RegistrationSetup {
    fn default() -> Self {
        RegistrationSetup {
            state: default_store(),
            expires_in: None,
            signing_certificate: Presence::Present,
            crp_encryption_certificate: Presence::Present,
        }
    }
}

fn default_store() -> StoreCondition {
    StoreCondition::Present
}

/// Connector settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSetup {
    /// Real-time limit of one HTTP call (a hanging peer costs this much per attempt), at most
    /// 30s; default 2s, far above what a healthy fake takes even on an overloaded machine, so
    /// that only a `hang` times out and real time never decides the stream.
    #[serde(default = "default_timeout", deserialize_with = "limits::timeout")]
    pub timeout: Span,
    /// Extra attempts after an unexpected failure, at most 10.
    #[serde(default = "default_retries", deserialize_with = "limits::retries")]
    #[schemars(range(max = 10))]
    pub retries: u32,
    /// Wait before the first retry, doubled each time (scenario time), at most 1d.
    #[serde(default = "default_backoff", deserialize_with = "limits::backoff")]
    pub backoff: Span,
    /// How long before expiry the registration certificate is renewed, at most 36500d.
    #[serde(
        default = "default_window",
        deserialize_with = "limits::renewal_window"
    )]
    pub renewal_window: Span,
    /// Most requests downloaded per cycle, 1 to 1000.
    #[serde(default = "default_batch", deserialize_with = "limits::batch_size")]
    #[schemars(range(min = 1, max = 1000))]
    pub batch_size: u32,
    /// Whether the connector holds the RA client-authentication certificate a DigiCert CA
    /// requires (default: yes for a DigiCert CA).
    #[serde(default)]
    pub ra_certificate: Option<bool>,
    /// Template NDES issues SCEP certificates with (at most 128 characters).
    #[serde(default = "default_scep_template", deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub scep_template: String,
    /// The event dialect the connector's log is also kept in: `legacy` (the default: the
    /// catalog's events only) or `unified-2021`, which also snapshots the stream as the 2021+
    /// connector would write it (`snapshots/unified-2021/<name>.snap`, docs/event-log.md).
    #[serde(default)]
    pub dialect: crate::catalog::Profile,
}

impl Default for ConnectorSetup {
    fn default() -> Self {
        ConnectorSetup {
            timeout: default_timeout(),
            retries: default_retries(),
            backoff: default_backoff(),
            renewal_window: default_window(),
            batch_size: default_batch(),
            ra_certificate: None,
            scep_template: default_scep_template(),
            dialect: crate::catalog::Profile::Legacy,
        }
    }
}

fn default_timeout() -> Span {
    Span(std::time::Duration::from_secs(2))
}
fn default_retries() -> u32 {
    2
}
fn default_backoff() -> Span {
    Span::secs(30)
}
fn default_window() -> Span {
    Span::days(30)
}
fn default_batch() -> u32 {
    100
}
fn default_scep_template() -> String {
    crate::fixtures::DEVICE_TEMPLATE.into()
}
