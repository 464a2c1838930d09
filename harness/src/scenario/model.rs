//! The scenario language: what a scenario file may say, as types. Parsing happens once, in
//! [`super::load`]; everything after works on these types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::limits::{self, StartTime};
use super::span::Span;
use crate::catalog::{Detail, DiagnosticCode, EventId};
use crate::contract::fault::{FaultTarget, KindName};
use crate::provision::StoreCondition;

/// One scenario file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Connector Harness scenario")]
pub struct Scenario {
    /// Unique name; the file is `scenarios/<name>.yaml` and its snapshot `snapshots/<name>.snap`.
    pub name: String,
    /// One or two sentences for an admin: what happens and what it proves.
    pub summary: String,
    /// Labels to select scenarios with `--tag`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Seed of every random choice in the run (serials, GUIDs, challenges, nonces).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Real time the run may take, from 1s to 1h (default 60s); a run over it fails.
    #[serde(default, deserialize_with = "limits::budget")]
    pub budget: Option<Span>,
    /// The world before the first step.
    #[serde(default)]
    pub setup: Setup,
    /// What happens, in order (at most 1000 steps).
    #[schemars(with = "Vec<Step>", length(min = 1, max = 1000))]
    pub steps: Vec<Spanned<Step>>,
    /// What the event stream must show.
    #[serde(default)]
    pub expect: Expect,
}

fn default_seed() -> u64 {
    1
}

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
    "TEST-ISSUING-CA".into()
}

fn default_templates() -> Vec<TemplateSetup> {
    ["IntuneUser", "IntuneDevice"]
        .iter()
        .map(|n| TemplateSetup {
            name: (*n).into(),
            validity: Span::days(365),
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
    /// 30s.
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
        }
    }
}

fn default_timeout() -> Span {
    Span(std::time::Duration::from_millis(250))
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
    "IntuneDevice".into()
}

/// One step of a scenario.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Start the connector service.
    Start,
    /// Stop the connector service.
    Stop,
    /// Run one connector cycle: renewal check, PKCS queue, revocation queue.
    Sync,
    /// Move the scenario clock forward, by at most 36500d (and never past
    /// 9899-12-31T23:59:59.999Z, the end of scenario time).
    Advance(#[serde(deserialize_with = "limits::advance")] Span),
    /// Queue PKCS certificate requests at Intune.
    QueuePkcs(QueuePkcs),
    /// Queue at Intune the revocation of the certificate last issued to a device.
    QueueRevocation(QueueRevocation),
    /// A device enrolls over SCEP through NDES.
    Enroll(Enroll),
    /// Break one operation of a fake.
    Fault(FaultStep),
    /// Repair one operation of a fake (`all` repairs everything).
    Heal(String),
}

impl Step {
    /// The step's keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            Step::Start => "start",
            Step::Stop => "stop",
            Step::Sync => "sync",
            Step::Advance(_) => "advance",
            Step::QueuePkcs(_) => "queue_pkcs",
            Step::QueueRevocation(_) => "queue_revocation",
            Step::Enroll(_) => "enroll",
            Step::Fault(_) => "fault",
            Step::Heal(_) => "heal",
        }
    }
}

/// PKCS requests to queue.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueuePkcs {
    /// Device id (at most 128 characters); with `count` above 1, `-001`, `-002`… is appended.
    #[serde(deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub device: String,
    /// User id (at most 128 characters).
    #[serde(deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub user: String,
    /// Template (default IntuneUser; at most 128 characters).
    #[serde(default = "default_pkcs_template", deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub template: String,
    /// How many requests: 1 (default) to 1000; a scenario stands for at most 5000 requests,
    /// revocations and enrollments in all.
    #[serde(default = "one", deserialize_with = "limits::count")]
    #[schemars(range(min = 1, max = 1000))]
    pub count: u32,
    /// Send a request whose parameters do not parse (default false).
    #[serde(default)]
    pub corrupt: bool,
}

fn default_pkcs_template() -> String {
    "IntuneUser".into()
}

fn one() -> u32 {
    1
}

/// A revocation to queue.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueRevocation {
    /// The device whose most recent PKCS certificate is revoked; with `count` above 1, the
    /// devices `<device>-001`… of an earlier `queue_pkcs` with a count.
    #[serde(deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub device: String,
    /// How many devices: 1 (default) to 1000.
    #[serde(default = "one", deserialize_with = "limits::count")]
    #[schemars(range(min = 1, max = 1000))]
    pub count: u32,
}

/// The challenge a device presents.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeState {
    /// Freshly minted for this device.
    #[default]
    Valid,
    /// Minted, then left to expire (the clock moves past its lifetime).
    Expired,
    /// In Intune's format, but minted by another service (Intune cannot decrypt it).
    Unknown,
    /// Not an Intune challenge at all (Intune cannot decode it).
    Garbled,
    /// No challenge in the request.
    Missing,
    /// Minted for another device.
    OtherDevice,
    /// Already used by an earlier enrollment.
    Reused,
}

/// How the device's SCEP message is built.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageShape {
    /// A correct PKCSReq.
    #[default]
    Valid,
    /// Cut short mid-DER.
    Truncated,
    /// Signed data whose content is not enveloped data.
    WrongContentType,
    /// Signature does not verify.
    BadSignature,
    /// Envelope encrypted to someone else.
    OtherRecipient,
}

/// What the device should get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrollOutcome {
    /// A certificate (CertRep SUCCESS).
    Issued,
    /// A CertRep FAILURE.
    Rejected,
    /// No CertRep at all: an HTTP error or no answer.
    Error,
}

/// A SCEP enrollment.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Enroll {
    /// Device id (the CSR's common name; at most 128 characters); with `count` above 1,
    /// `-001`… is appended.
    #[serde(deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub device: String,
    /// User id (at most 128 characters).
    #[serde(deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub user: String,
    /// The challenge presented (default valid).
    #[serde(default)]
    pub challenge: ChallengeState,
    /// How the message is built (default valid).
    #[serde(default)]
    pub message: MessageShape,
    /// How many devices: 1 (default) to 1000.
    #[serde(default = "one", deserialize_with = "limits::count")]
    #[schemars(range(min = 1, max = 1000))]
    pub count: u32,
    /// What every device should get; the run fails otherwise.
    #[serde(default)]
    pub expect: Option<EnrollOutcome>,
}

/// A fault to inject.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultStep {
    /// The operation: `ca.issue`, `intune.upload_results`, `ndes.ra_signing`…
    #[schemars(with = "String")]
    pub target: FaultTarget,
    /// What it does.
    pub kind: KindName,
    /// HTTP status, for kind `status`.
    #[serde(default)]
    pub status: Option<u16>,
    /// Intune's SCEP error code, for kind `answer` (`ChallengeExpired`, `KeyUsageMismatch`, …).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub code: Option<crate::contract::intune::ScepErrorCode>,
    /// The next N calls only; absent means until healed.
    #[serde(default)]
    pub times: Option<u32>,
}

/// What the event stream must show.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Events that must appear in this order (others may come between).
    #[serde(default)]
    #[schemars(with = "Vec<EventMatch>")]
    pub sequence: Vec<Spanned<EventMatch>>,
    /// Events that must not appear at all.
    #[serde(default)]
    #[schemars(with = "Vec<EventMatch>")]
    pub absent: Vec<Spanned<EventMatch>>,
    /// Every request Intune queued has a recorded result and nothing is pending at the end.
    #[serde(default)]
    pub drained: bool,
}

/// A pattern over events: the event, and optionally the code and some details.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventMatch {
    /// Event id or name (`20102`, `PkcsCertIssue_Failure`).
    #[schemars(with = "EventRef")]
    pub event: EventId,
    /// Diagnostic code in any spelling (`0x400`, `PKCS_Issue_CA_Unavailable`), the seed's
    /// nine-digit `0x0FFFFFFFF` included, quoted or not.
    #[serde(default, deserialize_with = "DiagnosticCode::deserialize_as_written")]
    #[schemars(with = "Option<CodeRef>")]
    pub code: Option<DiagnosticCode>,
    /// Detail values that must match exactly.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub details: BTreeMap<Detail, String>,
}

impl EventMatch {
    /// Whether `record` matches.
    pub fn matches(&self, record: &crate::event::EventRecord) -> bool {
        record.event == self.event
            && self.code.is_none_or(|c| c == record.code)
            && self
                .details
                .iter()
                .all(|(k, v)| record.details.get(*k) == Some(v.as_str()))
    }
}

impl std::fmt::Display for EventMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.event.id(), self.event.name())?;
        if let Some(c) = self.code {
            write!(f, " with {c} {}", c.name())?;
        }
        for (k, v) in &self.details {
            write!(f, ", {k}={v}")?;
        }
        Ok(())
    }
}

/// Schema of an event reference.
#[allow(dead_code)]
struct EventRef;

impl JsonSchema for EventRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Event".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<_> = crate::catalog::EVENTS
            .iter()
            .map(|e| serde_json::Value::from(e.event.name()))
            .collect();
        let ids: Vec<_> = crate::catalog::EVENTS
            .iter()
            .map(|e| serde_json::Value::from(e.event.id()))
            .collect();
        schemars::json_schema!({
            "description": "An event, by name or id.",
            "anyOf": [ { "type": "string", "enum": names }, { "type": "integer", "enum": ids } ]
        })
    }
}

/// Schema of a code reference.
#[allow(dead_code)]
struct CodeRef;

impl JsonSchema for CodeRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DiagnosticCode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<_> = crate::catalog::CODES
            .iter()
            .map(|c| serde_json::Value::from(c.code.name()))
            .collect();
        schemars::json_schema!({
            "description": "A diagnostic code: its name, or its value in hex (0x400, 0x00000400) or decimal (1024).",
            "anyOf": [ { "type": "string", "enum": names }, { "type": "string", "pattern": "^0[xX][0-9a-fA-F]+$" }, { "type": "integer" } ]
        })
    }
}
