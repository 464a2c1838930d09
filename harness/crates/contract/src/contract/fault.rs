//! The vocabulary of faults: what a scenario (or `serve`'s admin API) breaks, where, and for
//! how long.
//!
//! A fault names an operation of one fake ([`FaultTarget`]), a [`FaultKind`] and a [`Scope`]
//! (the next N calls, or until healed). Each fake asks its switchboard
//! (`crate::fakes::switchboard`) on every call; nothing else decides whether a call fails.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::intune::ScepErrorCode;

/// An operation of the fake CA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaOp {
    /// `POST /ca/issue`
    Issue,
    /// `POST /ca/revoke`
    Revoke,
    /// `GET /ca/status/{serial}`
    Status,
    /// `GET /ca/crl`
    Crl,
    /// `GET /ca/chain`
    Chain,
}

/// An operation of the fake Intune service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntuneOp {
    /// Download pending PKCS requests.
    DownloadRequests,
    /// Upload PKCS results.
    UploadResults,
    /// Download pending revocation requests.
    DownloadRevocations,
    /// Upload revocation results.
    UploadRevocationResults,
    /// SCEP challenge validation (`ScepActions/validateRequest`).
    Validate,
    /// Success or failure notification (`ScepActions/*Notification`).
    Notify,
    /// Registration certificate renewal.
    Renew,
    /// Service check-in at start and stop.
    Checkin,
    /// Download of the policy module's SCEP signing certificate.
    DownloadCertificate,
    /// Service discovery (where each service lives).
    Discovery,
}

/// An operation (or a piece of configuration) of the fake NDES.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NdesOp {
    /// `GET ?operation=GetCACaps`
    GetCaCaps,
    /// `GET ?operation=GetCACert`
    GetCaCert,
    /// `PKIOperation` (GET or POST)
    PkiOperation,
    /// The RA encryption certificate (fault kind `missing` removes it).
    RaEncryption,
    /// The RA signing certificate (fault kind `missing` removes it).
    RaSigning,
}

/// An operation of the fake identity platform (Entra ID's token endpoints).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityOp {
    /// `POST /{tenant}/oauth2/v2.0/token` and `POST /{tenant}/oauth2/token`.
    Token,
}

/// Where a fault strikes: one operation of one fake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultTarget {
    /// The fake CA.
    Ca(CaOp),
    /// The fake Intune service.
    Intune(IntuneOp),
    /// The fake NDES.
    Ndes(NdesOp),
    /// The fake identity platform.
    Identity(IdentityOp),
}

const TARGETS: &[(&str, FaultTarget)] = &[
    ("ca.issue", FaultTarget::Ca(CaOp::Issue)),
    ("ca.revoke", FaultTarget::Ca(CaOp::Revoke)),
    ("ca.status", FaultTarget::Ca(CaOp::Status)),
    ("ca.crl", FaultTarget::Ca(CaOp::Crl)),
    ("ca.chain", FaultTarget::Ca(CaOp::Chain)),
    (
        "intune.download_requests",
        FaultTarget::Intune(IntuneOp::DownloadRequests),
    ),
    (
        "intune.upload_results",
        FaultTarget::Intune(IntuneOp::UploadResults),
    ),
    (
        "intune.download_revocations",
        FaultTarget::Intune(IntuneOp::DownloadRevocations),
    ),
    (
        "intune.upload_revocation_results",
        FaultTarget::Intune(IntuneOp::UploadRevocationResults),
    ),
    ("intune.validate", FaultTarget::Intune(IntuneOp::Validate)),
    ("intune.notify", FaultTarget::Intune(IntuneOp::Notify)),
    ("intune.renew", FaultTarget::Intune(IntuneOp::Renew)),
    ("intune.checkin", FaultTarget::Intune(IntuneOp::Checkin)),
    (
        "intune.download_certificate",
        FaultTarget::Intune(IntuneOp::DownloadCertificate),
    ),
    ("intune.discovery", FaultTarget::Intune(IntuneOp::Discovery)),
    ("ndes.get_ca_caps", FaultTarget::Ndes(NdesOp::GetCaCaps)),
    ("ndes.get_ca_cert", FaultTarget::Ndes(NdesOp::GetCaCert)),
    (
        "ndes.pki_operation",
        FaultTarget::Ndes(NdesOp::PkiOperation),
    ),
    (
        "ndes.ra_encryption",
        FaultTarget::Ndes(NdesOp::RaEncryption),
    ),
    ("ndes.ra_signing", FaultTarget::Ndes(NdesOp::RaSigning)),
    ("identity.token", FaultTarget::Identity(IdentityOp::Token)),
];

impl FaultTarget {
    /// Every target, with its scenario spelling.
    pub fn all() -> impl Iterator<Item = (&'static str, FaultTarget)> {
        TARGETS.iter().copied()
    }

    /// The scenario spelling, such as `ca.issue`.
    pub fn name(self) -> &'static str {
        TARGETS
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// The fault kinds this target understands.
    pub fn kinds(self) -> &'static [KindName] {
        use KindName as K;
        match self {
            FaultTarget::Ca(CaOp::Issue) | FaultTarget::Ca(CaOp::Revoke) => {
                &[K::Unavailable, K::Hang, K::Status, K::Malformed, K::Deny]
            }
            FaultTarget::Ca(_) => &[K::Unavailable, K::Hang, K::Status, K::Malformed],
            FaultTarget::Intune(IntuneOp::Validate) => &[
                K::Hang,
                K::Status,
                K::Malformed,
                K::Deny,
                K::ExpiredChallenge,
                K::UnknownChallenge,
                K::UnknownCode,
                K::Answer,
            ],
            FaultTarget::Intune(IntuneOp::UploadResults)
            | FaultTarget::Intune(IntuneOp::UploadRevocationResults) => {
                &[K::Hang, K::Status, K::Malformed, K::Deny, K::NotRecorded]
            }
            FaultTarget::Intune(IntuneOp::Notify) => &[
                K::Hang,
                K::Status,
                K::Malformed,
                K::Deny,
                K::UnknownCode,
                K::Answer,
            ],
            FaultTarget::Intune(_) => &[K::Hang, K::Status, K::Malformed, K::Deny],
            FaultTarget::Ndes(NdesOp::RaEncryption) | FaultTarget::Ndes(NdesOp::RaSigning) => {
                &[K::Missing]
            }
            FaultTarget::Ndes(_) => &[K::Hang, K::Status],
            FaultTarget::Identity(IdentityOp::Token) => &[
                K::Unavailable,
                K::Hang,
                K::Status,
                K::Malformed,
                K::InvalidClient,
                K::ExpiredToken,
            ],
        }
    }
}

impl fmt::Display for FaultTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A target name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault target `{0}`: expected one of {list}", list = TARGETS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))]
pub struct UnknownTarget(pub String);

impl FromStr for FaultTarget {
    type Err = UnknownTarget;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TARGETS
            .iter()
            .find(|(n, _)| *n == s.trim())
            .map(|(_, t)| *t)
            .ok_or_else(|| UnknownTarget(s.to_string()))
    }
}

impl<'de> Deserialize<'de> for FaultTarget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for FaultTarget {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The name of a fault kind, as written in scenarios (`status` takes a code separately).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    /// Connection refused: the fake's port is closed (CA only).
    Unavailable,
    /// The fake accepts the request and never answers.
    Hang,
    /// An HTTP error status (`status: 500`).
    Status,
    /// HTTP 200 with a body that does not parse.
    Malformed,
    /// A clean, well-formed refusal (CA: access denied; Intune: HTTP 403 with an error body).
    Deny,
    /// An NDES RA certificate is missing.
    Missing,
    /// Intune answers `ChallengeExpired` whatever the challenge.
    ExpiredChallenge,
    /// Intune answers `ChallengeDecryptionError` (it cannot read the challenge).
    UnknownChallenge,
    /// Intune answers the unknown error code `Unknown`.
    UnknownCode,
    /// Intune answers an upload with `false` (not recorded).
    NotRecorded,
    /// Intune answers validation with the SCEP error code given in `code`.
    Answer,
    /// The identity platform refuses the client's credentials (400 `invalid_client`).
    InvalidClient,
    /// The identity platform issues a token that has expired already (Intune answers 401).
    ExpiredToken,
}

/// Why a fault's `times` cannot be: the problem, and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadTimes {
    /// What is wrong.
    pub problem: &'static str,
    /// What to write instead.
    pub fix: &'static str,
}

impl KindName {
    /// Whether `times` makes sense for this kind: a count of zero breaks nothing, and a kind
    /// no call strikes (a closed port, a missing certificate) has nothing to count down.
    pub fn check_times(self, times: Option<u32>) -> Result<(), BadTimes> {
        match (self, times) {
            (_, Some(0)) => Err(BadTimes {
                problem: "`times: 0` breaks nothing",
                fix: "leave `times` out to break every call until healed",
            }),
            (KindName::Unavailable, Some(_)) => Err(BadTimes {
                problem: "an unavailable fake has its port closed: no calls reach it to be counted",
                fix: "leave `times` out and `heal` it later",
            }),
            (KindName::Missing, Some(_)) => Err(BadTimes {
                problem: "a missing RA certificate is not a call: no call counts `times` down",
                fix: "leave `times` out and `heal` it later",
            }),
            _ => Ok(()),
        }
    }

    /// Scenario spelling.
    pub fn name(self) -> &'static str {
        match self {
            KindName::Unavailable => "unavailable",
            KindName::Hang => "hang",
            KindName::Status => "status",
            KindName::Malformed => "malformed",
            KindName::Deny => "deny",
            KindName::Missing => "missing",
            KindName::ExpiredChallenge => "expired_challenge",
            KindName::UnknownChallenge => "unknown_challenge",
            KindName::UnknownCode => "unknown_code",
            KindName::NotRecorded => "not_recorded",
            KindName::Answer => "answer",
            KindName::InvalidClient => "invalid_client",
            KindName::ExpiredToken => "expired_token",
        }
    }
}

/// What a broken call does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// Connection refused (port closed).
    Unavailable,
    /// Never answers.
    Hang,
    /// Answers with this HTTP status and a plain error body.
    Status(u16),
    /// Answers 200 with an unparseable body.
    Malformed,
    /// A clean refusal.
    Deny,
    /// An RA certificate is missing.
    Missing,
    /// Challenge reported expired.
    ExpiredChallenge,
    /// Challenge reported undecryptable.
    UnknownChallenge,
    /// Unknown result code.
    UnknownCode,
    /// Upload answered `false`.
    NotRecorded,
    /// Validation answered with this SCEP error code.
    Answer(ScepErrorCode),
    /// Credentials refused (`invalid_client`).
    InvalidClient,
    /// A token issued already expired.
    ExpiredToken,
}

impl FaultKind {
    /// The kind's name.
    pub fn name(self) -> KindName {
        match self {
            FaultKind::Unavailable => KindName::Unavailable,
            FaultKind::Hang => KindName::Hang,
            FaultKind::Status(_) => KindName::Status,
            FaultKind::Malformed => KindName::Malformed,
            FaultKind::Deny => KindName::Deny,
            FaultKind::Missing => KindName::Missing,
            FaultKind::ExpiredChallenge => KindName::ExpiredChallenge,
            FaultKind::UnknownChallenge => KindName::UnknownChallenge,
            FaultKind::UnknownCode => KindName::UnknownCode,
            FaultKind::NotRecorded => KindName::NotRecorded,
            FaultKind::Answer(_) => KindName::Answer,
            FaultKind::InvalidClient => KindName::InvalidClient,
            FaultKind::ExpiredToken => KindName::ExpiredToken,
        }
    }
}

impl FaultKind {
    /// The kind a name stands for, when the name alone says it all (not `status` or `answer`,
    /// which take a value).
    pub fn from_name(name: KindName) -> Option<FaultKind> {
        Some(match name {
            KindName::Unavailable => FaultKind::Unavailable,
            KindName::Hang => FaultKind::Hang,
            KindName::Malformed => FaultKind::Malformed,
            KindName::Deny => FaultKind::Deny,
            KindName::Missing => FaultKind::Missing,
            KindName::ExpiredChallenge => FaultKind::ExpiredChallenge,
            KindName::UnknownChallenge => FaultKind::UnknownChallenge,
            KindName::UnknownCode => FaultKind::UnknownCode,
            KindName::NotRecorded => FaultKind::NotRecorded,
            KindName::InvalidClient => FaultKind::InvalidClient,
            KindName::ExpiredToken => FaultKind::ExpiredToken,
            KindName::Status | KindName::Answer => return None,
        })
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Status(code) => write!(f, "status {code}"),
            FaultKind::Answer(code) => write!(f, "answer {code}"),
            other => f.write_str(other.name().name()),
        }
    }
}

/// How long a fault lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The next N calls to the operation.
    Times(u32),
    /// Every call until healed.
    UntilHealed,
}

/// One fault in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What it does.
    pub kind: FaultKind,
    /// How long it lasts.
    pub scope: Scope,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_round_trip() {
        for (name, t) in FaultTarget::all() {
            assert_eq!(name.parse::<FaultTarget>().unwrap(), t);
            assert_eq!(t.name(), name);
        }
        let err = "ca.explode".parse::<FaultTarget>().unwrap_err().to_string();
        assert!(err.contains("ca.issue"), "{err}");
    }
}
