//! A scenario's steps: what happens, in order.

use schemars::JsonSchema;
use serde::Deserialize;

use super::super::limits;
use super::super::span::Span;
use super::pki::{EkuName, ProfileSetup};
use super::setup::TemplateSetup;
use crate::contract::fault::{FaultTarget, KindName};
use crate::csr::KeyUse;

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
    /// Remove the fault an earlier `fault` step put on one operation, or (`all`) every fault in
    /// force. It heals faults only: what `setup` (or a change step) made of the world stays.
    Heal(String),
    /// The CA starts offering a template.
    AddTemplate(TemplateSetup),
    /// The CA stops offering a template.
    RemoveTemplate(#[serde(deserialize_with = "limits::text")] String),
    /// Intune gets (or replaces) a SCEP profile.
    AddProfile(ProfileSetup),
    /// Intune unassigns a SCEP profile: challenges for it are refused from now on.
    RemoveProfile(#[serde(deserialize_with = "limits::text")] String),
    /// Intune forgets a device: its challenges are refused (BadDeviceIdInChallenge).
    RetireDevice(#[serde(deserialize_with = "limits::text")] String),
    /// Intune forgets a user: their challenges are refused (BadUserIdInChallenge).
    RetireUser(#[serde(deserialize_with = "limits::text")] String),
    /// Files appear in or vanish from the connector's registration store.
    Store(StoreChange),
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
            Step::AddTemplate(_) => "add_template",
            Step::RemoveTemplate(_) => "remove_template",
            Step::AddProfile(_) => "add_profile",
            Step::RemoveProfile(_) => "remove_profile",
            Step::RetireDevice(_) => "retire_device",
            Step::RetireUser(_) => "retire_user",
            Step::Store(_) => "store",
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
    crate::fixtures::USER_TEMPLATE.into()
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
    /// How many of the step's PKIOperation requests are in flight at once: 1 (default: one
    /// device after the other) to 32. Above 1, every enrollment is prepared first, in order,
    /// and the event stream is the same as with 1.
    #[serde(default = "one", deserialize_with = "limits::concurrency")]
    #[schemars(range(min = 1, max = 32))]
    pub concurrency: u32,
    /// The SCEP profile the challenge is minted for (default `SCEP-Default`; it must exist at
    /// this step: in `setup.intune.profiles` or added by `add_profile`).
    #[serde(default = "default_profile", deserialize_with = "limits::text")]
    #[schemars(length(max = 128))]
    pub profile: String,
    /// What the device's certificate request carries (default: `CN=<device>`, no extensions,
    /// SHA-256).
    #[serde(default)]
    pub csr: CsrShape,
}

fn default_profile() -> String {
    "SCEP-Default".into()
}

/// What a device's certificate request carries.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CsrShape {
    /// The subject: `device` (default, `CN=<device>`), `none` (an empty subject), or a literal
    /// common name.
    #[serde(default)]
    pub subject: Option<String>,
    /// Subject alternative names: `{upn: …}`, `{dns: …}`, `{email: …}`; `{device}` and
    /// `{user}` in a value stand for the enrolling device and user.
    #[serde(default)]
    pub san: Vec<SanValue>,
    /// Key usage the request asks for (default: none).
    #[serde(default)]
    pub key_usage: Vec<KeyUse>,
    /// Extended key usages the request asks for (default: none).
    #[serde(default)]
    pub eku: Vec<EkuName>,
    /// The request's signature digest (default `sha256`).
    #[serde(default)]
    pub digest: DigestName,
}

/// One subject alternative name in a request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SanValue {
    /// Microsoft UPN other-name.
    Upn(String),
    /// dNSName.
    Dns(String),
    /// rfc822Name.
    Email(String),
}

/// A request signature digest.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DigestName {
    /// sha1WithRSAEncryption, as older clients still send.
    Sha1,
    /// sha256WithRSAEncryption.
    #[default]
    Sha256,
}

/// Files of the connector's registration store to put in place or take away mid-run.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreChange {
    /// The policy module's SCEP signing certificate (`signing.pem`).
    #[serde(default)]
    pub signing_certificate: Option<super::setup::Presence>,
    /// The CRP encryption certificate (`crp-encryption.pem`).
    #[serde(default)]
    pub crp_encryption_certificate: Option<super::setup::Presence>,
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
