//! Random worlds as data: a setup and a list of operations, drawn by proptest strategies.
//!
//! An operation is an intention ("queue PKCS requests", "revoke one of the certificates pinned
//! earlier", "break some operation of some fake"), not yet a scenario step: [`super::lower`]
//! turns the list into steps the loader accepts, dropping or adapting what the world cannot
//! carry out at that point. So every list proptest shrinks to is still a valid scenario, and
//! shrinking never has to know the loader's rules.

use harness_runner::contract::intune::ScepErrorCode;
use harness_runner::scenario::model::{ChallengeState, MessageShape};
use proptest::prelude::*;
use proptest::sample::Index;

/// Most operations in one world (before the liveness phase).
pub const MAX_OPS: usize = 24;

/// One random world.
#[derive(Clone, Debug)]
pub struct World {
    /// The scenario's seed.
    pub seed: u64,
    /// The world before the first step.
    pub setup: Setup,
    /// What happens, in order (the liveness phase is added when lowering).
    pub ops: Vec<Op>,
}

/// The registration certificate's condition in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Usable: `present`.
    Present,
    /// Usable, inside its renewal window: `near_expiry`.
    NearExpiry,
    /// Usable after a fallback by subject: `thumbprint_mismatch`.
    ThumbprintMismatch,
    /// Usable after a failed first read: `flaky`.
    Flaky,
    /// Unusable: `missing`.
    Missing,
    /// Unusable: `expired`.
    Expired,
    /// Unusable: `no_private_key`.
    NoPrivateKey,
    /// Unusable: `unreadable`.
    Unreadable,
}

impl Registration {
    /// The scenario spelling.
    pub fn name(self) -> &'static str {
        match self {
            Registration::Present => "present",
            Registration::NearExpiry => "near_expiry",
            Registration::ThumbprintMismatch => "thumbprint_mismatch",
            Registration::Flaky => "flaky",
            Registration::Missing => "missing",
            Registration::Expired => "expired",
            Registration::NoPrivateKey => "no_private_key",
            Registration::Unreadable => "unreadable",
        }
    }

    /// Whether the connector can work with it (and so must drain its queues).
    pub fn usable(self) -> bool {
        matches!(
            self,
            Registration::Present
                | Registration::NearExpiry
                | Registration::ThumbprintMismatch
                | Registration::Flaky
        )
    }
}

/// The world before the first step.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The registration certificate.
    pub registration: Registration,
    /// Its time left, in days (usable states only; the world's clock moves less than this).
    pub expires_days: u32,
    /// Whether the SCEP signing certificate is missing from the store (the service downloads
    /// it at start).
    pub no_signing_certificate: bool,
    /// Whether the CRP encryption certificate is missing from the store.
    pub no_crp_encryption_certificate: bool,
    /// `None`: a Microsoft CA; `Some(ra)`: a DigiCert CA, with or without the RA certificate.
    pub digicert: Option<bool>,
    /// Extra attempts per call.
    pub retries: u32,
    /// Wait before the first retry, in seconds of scenario time.
    pub backoff_secs: u32,
    /// Requests downloaded per cycle.
    pub batch_size: u32,
}

/// A PKCS request's template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// `IntuneUser` (the CA offers it).
    User,
    /// `IntuneDevice` (the CA offers it).
    Device,
    /// A template the CA does not offer (it denies the request).
    Unknown,
}

impl Template {
    /// The template's name.
    pub fn name(self) -> &'static str {
        match self {
            Template::User => "IntuneUser",
            Template::Device => "IntuneDevice",
            Template::Unknown => "NoSuchTemplate",
        }
    }
}

/// A fault to inject: indices into the loader's own tables, resolved when lowering.
#[derive(Clone, Debug)]
pub struct FaultSpec {
    /// Which target of `FaultTarget::all()`.
    pub target: Index,
    /// Which of that target's kinds.
    pub kind: Index,
    /// HTTP status, for kind `status`.
    pub status: u16,
    /// SCEP error code, for kind `answer`.
    pub code: Index,
    /// The next N calls, or until healed.
    pub times: Option<u32>,
    /// A draw from 0 to 99 that decides whether a fault costing real time is kept as drawn
    /// (see `cost::Cost`), so that such faults stay a small share of the worlds.
    pub cost_draw: u8,
}

/// One operation of a world.
#[derive(Clone, Debug)]
pub enum Op {
    /// Start the service.
    Start,
    /// Stop the service.
    Stop,
    /// One service cycle.
    Sync,
    /// Move the clock, in seconds.
    Advance(u32),
    /// Queue PKCS requests at Intune.
    QueuePkcs {
        /// How many devices.
        count: u32,
        /// Their template.
        template: Template,
        /// Parameters that do not parse.
        corrupt: bool,
    },
    /// Heal everything, then have one device issued a certificate (so it can be revoked).
    Pin,
    /// Revoke the certificate of one pinned device.
    Revoke(Index),
    /// Devices enroll over SCEP.
    Enroll {
        /// The challenge presented.
        challenge: ChallengeState,
        /// How the message is built.
        message: MessageShape,
        /// How many devices.
        count: u32,
        /// For `reused`: which earlier device.
        pick: Index,
    },
    /// Break one operation of a fake.
    Fault(FaultSpec),
    /// Repair one operation (`Some`: an index into `FaultTarget::all()`) or all.
    Heal(Option<Index>),
}

fn registration() -> impl Strategy<Value = Registration> {
    prop_oneof![
        10 => Just(Registration::Present),
        3 => Just(Registration::NearExpiry),
        2 => Just(Registration::ThumbprintMismatch),
        2 => Just(Registration::Flaky),
        1 => Just(Registration::Missing),
        1 => Just(Registration::Expired),
        1 => Just(Registration::NoPrivateKey),
        1 => Just(Registration::Unreadable),
    ]
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        registration(),
        prop::sample::select(vec![365u32, 20, 10]),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.1),
        prop_oneof![8 => Just(None), 1 => Just(Some(true)), 1 => Just(Some(false))],
        0u32..=1,
        1u32..=60,
        1u32..=4,
    )
        .prop_map(
            |(
                registration,
                expires_days,
                no_signing_certificate,
                no_crp_encryption_certificate,
                digicert,
                retries,
                backoff_secs,
                batch_size,
            )| Setup {
                registration,
                expires_days,
                no_signing_certificate,
                no_crp_encryption_certificate,
                digicert,
                retries,
                backoff_secs,
                batch_size,
            },
        )
}

fn challenge() -> impl Strategy<Value = ChallengeState> {
    prop_oneof![
        6 => Just(ChallengeState::Valid),
        1 => Just(ChallengeState::Expired),
        1 => Just(ChallengeState::Unknown),
        1 => Just(ChallengeState::Garbled),
        1 => Just(ChallengeState::Missing),
        1 => Just(ChallengeState::OtherDevice),
        2 => Just(ChallengeState::Reused),
    ]
}

fn message() -> impl Strategy<Value = MessageShape> {
    prop_oneof![
        12 => Just(MessageShape::Valid),
        1 => Just(MessageShape::Truncated),
        1 => Just(MessageShape::WrongContentType),
        1 => Just(MessageShape::BadSignature),
        1 => Just(MessageShape::OtherRecipient),
    ]
}

fn fault() -> impl Strategy<Value = FaultSpec> {
    (
        any::<Index>(),
        any::<Index>(),
        400u16..=599,
        any::<Index>(),
        prop::option::weighted(0.5, 1u32..=3),
        0u8..100,
    )
        .prop_map(|(target, kind, status, code, times, cost_draw)| FaultSpec {
            target,
            kind,
            status,
            code,
            times,
            cost_draw,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Start),
        1 => Just(Op::Stop),
        6 => Just(Op::Sync),
        2 => (1u32..=6 * 3600).prop_map(Op::Advance),
        4 => (1u32..=3, prop_oneof![4 => Just(Template::User), 2 => Just(Template::Device), 1 => Just(Template::Unknown)], prop::bool::weighted(0.1))
            .prop_map(|(count, template, corrupt)| Op::QueuePkcs { count, template, corrupt }),
        2 => Just(Op::Pin),
        3 => any::<Index>().prop_map(Op::Revoke),
        4 => (challenge(), message(), 1u32..=2, any::<Index>())
            .prop_map(|(challenge, message, count, pick)| Op::Enroll { challenge, message, count, pick }),
        7 => fault().prop_map(Op::Fault),
        2 => prop::option::weighted(0.6, any::<Index>()).prop_map(Op::Heal),
    ]
}

/// Random worlds of up to [`MAX_OPS`] operations.
pub fn world() -> impl Strategy<Value = World> {
    (
        any::<u64>(),
        setup(),
        prop::collection::vec(op(), 0..=MAX_OPS),
    )
        .prop_map(|(seed, setup, ops)| World { seed, setup, ops })
}

/// Every SCEP error code a fault of kind `answer` may name.
pub fn scep_codes() -> &'static [ScepErrorCode] {
    ScepErrorCode::ALL
}
