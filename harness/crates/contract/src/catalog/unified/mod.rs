//! The `unified-2021` profile: the events of the Certificate Connector for Microsoft Intune
//! (6.2107.45.0 and later) as typed data.
//!
//! Sources (`../shared/research/connector-2021-and-gateways.md` §1): Microsoft's connector
//! overview ([`Source::Overview2025`]) publishes 61 ids with names, channel and a line of
//! description; copies of Microsoft's support wiki ([`Source::SupportWiki`]) add event 2 and
//! the levels of eleven ids. Everything else here is marked as inferred: the level of the other
//! ids (from the name: `…Success` Information, `…FailedAttempt` Warning, `…Failure` Error), the
//! Task Category (unpublished: only the id range is known), and event 2's channel. The list is
//! "not limited to" these ids, so an id outside it is unknown, not wrong for sure.

mod table;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::Level;

pub use table::UNIFIED_EVENTS;

/// The provider (event source) the 2021+ connector writes with.
pub const PROVIDER: &str = "Microsoft-Intune-CertificateConnectors";

/// A channel (log) of the 2021+ connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Channel {
    /// `Microsoft-Intune-CertificateConnectors/Admin`: one summary event per request.
    Admin,
    /// `Microsoft-Intune-CertificateConnectors/Operational`: each step.
    Operational,
}

impl Channel {
    /// Both channels.
    pub const ALL: [Channel; 2] = [Channel::Admin, Channel::Operational];

    /// The short name (`Admin`).
    pub fn name(self) -> &'static str {
        match self {
            Channel::Admin => "Admin",
            Channel::Operational => "Operational",
        }
    }

    /// The full log name Windows writes in `System/Channel` and `wevtutil` takes.
    pub fn log_name(self) -> &'static str {
        match self {
            Channel::Admin => "Microsoft-Intune-CertificateConnectors/Admin",
            Channel::Operational => "Microsoft-Intune-CertificateConnectors/Operational",
        }
    }

    /// The channel a `System/Channel` text names (case-insensitive), if it is one of ours.
    pub fn from_log_name(text: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|c| c.log_name().eq_ignore_ascii_case(text.trim()))
    }
}

/// The functional area of an id, by its published range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Area {
    /// 0001-0999: general.
    General,
    /// 1000-1999: PKCS requests (and their re-encryption, "recrypt").
    Pkcs,
    /// 2000-2999: imported PKCS (PFX) certificates.
    PkcsImport,
    /// 3000-3999: revocation.
    Revoke,
    /// 4000-4999: SCEP (the NDES policy module).
    Scep,
    /// 5000-5999: connector health messages.
    Health,
}

impl Area {
    /// Every area, in range order.
    pub const ALL: [Area; 6] = [
        Area::General,
        Area::Pkcs,
        Area::PkcsImport,
        Area::Revoke,
        Area::Scep,
        Area::Health,
    ];

    /// The area of an id, or `None` past 5999 (or 0).
    pub fn of_id(id: u16) -> Option<Area> {
        Some(match id {
            1..=999 => Area::General,
            1000..=1999 => Area::Pkcs,
            2000..=2999 => Area::PkcsImport,
            3000..=3999 => Area::Revoke,
            4000..=4999 => Area::Scep,
            5000..=5999 => Area::Health,
            _ => return None,
        })
    }

    /// How people call it.
    pub fn name(self) -> &'static str {
        match self {
            Area::General => "general",
            Area::Pkcs => "PKCS",
            Area::PkcsImport => "import",
            Area::Revoke => "revoke",
            Area::Scep => "SCEP",
            Area::Health => "health",
        }
    }

    /// The published id range.
    pub fn range(self) -> &'static str {
        match self {
            Area::General => "0001-0999",
            Area::Pkcs => "1000-1999",
            Area::PkcsImport => "2000-2999",
            Area::Revoke => "3000-3999",
            Area::Scep => "4000-4999",
            Area::Health => "5000-5999",
        }
    }
}

/// What an event says happened, as its name says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A request arrived or was handed over (`…DownloadedRequest`, `ScepRequestReceived`).
    Received,
    /// The details of one request (`…UploadedRequest`, `…DigiCertRequest`).
    Detail,
    /// A step or request succeeded.
    Success,
    /// A step failed and will be tried again (`…FailedAttempt`, `ScepNotifyAttemptFailed`).
    FailedAttempt,
    /// A step or request failed.
    Failure,
}

impl Outcome {
    /// The level the name implies: failures are errors, failed attempts warnings, the rest
    /// information.
    pub fn implied_level(self) -> Level {
        match self {
            Outcome::Failure => Level::Error,
            Outcome::FailedAttempt => Level::Warning,
            Outcome::Received | Outcome::Detail | Outcome::Success => Level::Information,
        }
    }
}

/// Where a fact comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Microsoft's "Certificate Connector for Microsoft Intune" overview
    /// (MicrosoftDocs/memdocs `certificate-connector-overview.md`, 2025-08-04).
    Overview2025,
    /// Public copies of Microsoft's support wiki (Supportability/Intune, PKCS pages); lower
    /// confidence.
    SupportWiki,
}

impl Source {
    /// For people.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Overview2025 => {
                "Microsoft's Certificate Connector overview (learn.microsoft.com, 2025-08-04)"
            }
            Source::SupportWiki => "copies of Microsoft's support wiki (lower confidence)",
        }
    }
}

/// Whether a fact is published or inferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Published by the source.
    Published,
    /// Inferred (from the name, the range or the legacy connector's behaviour).
    Inferred,
}

impl Basis {
    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Basis::Published => "published",
            Basis::Inferred => "inferred",
        }
    }
}

/// Static facts about one event of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnifiedSpec {
    /// The event.
    pub event: UnifiedEvent,
    /// Windows event id.
    pub id: u16,
    /// Name exactly as Microsoft spells it (`ScrepRequestSuccess` included); event 2 has none
    /// published and carries ours.
    pub name: &'static str,
    /// The channel it is written to.
    pub channel: Channel,
    /// Whether the channel is published (event 2's is not).
    pub channel_basis: Basis,
    /// What the name says happened.
    pub outcome: Outcome,
    /// Whether the level is published (eleven ids) or inferred from the name.
    pub level_basis: Basis,
    /// What the event means, in our own words.
    pub description: &'static str,
    /// What an administrator checks on a real server when it appears.
    pub check: &'static str,
    /// Where the id and name come from.
    pub source: Source,
}

impl UnifiedSpec {
    /// The level (published, or implied by the name: see [`UnifiedSpec::level_basis`]).
    pub fn level(&self) -> Level {
        self.outcome.implied_level()
    }

    /// The functional area (from the id's range).
    pub fn area(&self) -> Area {
        // Every id of the table is in a range; General is never wrong for the rest.
        Area::of_id(self.id).unwrap_or(Area::General)
    }

    /// What support tools count as a failure: an Admin failure (ICCD's EVT01 set: 1001, 1201,
    /// 2001, 3001, 4001, 4002), or an Operational event at level 3 or worse (EVT02).
    pub fn is_support_failure(&self) -> bool {
        match self.channel {
            Channel::Admin => self.outcome == Outcome::Failure,
            Channel::Operational => self.level() <= Level::Warning,
        }
    }
}

/// Errors raised when text does not name an event of the profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an event of profile unified-2021: expected an id such as 4005 or a name such as ScepVerifyFailure (see `connector-harness catalog --profile unified-2021`)")]
pub struct UnknownUnifiedEvent(pub String);

impl UnifiedEvent {
    /// Every event, in table order.
    pub fn all() -> impl Iterator<Item = UnifiedEvent> {
        UNIFIED_EVENTS.iter().map(|e| e.event)
    }

    /// Static facts about this event.
    pub fn spec(self) -> &'static UnifiedSpec {
        // The table is ordered like the enum; the index is the discriminant.
        &UNIFIED_EVENTS[self as usize]
    }

    /// Windows event id.
    pub fn id(self) -> u16 {
        self.spec().id
    }

    /// Name as Microsoft spells it.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The event with this Windows id.
    pub fn from_id(id: u16) -> Option<UnifiedEvent> {
        UNIFIED_EVENTS.iter().find(|e| e.id == id).map(|e| e.event)
    }

    /// For a failed attempt, the events that conclude it (a later success or failure of the
    /// same request); empty for every other event.
    pub fn conclusions(self) -> &'static [UnifiedEvent] {
        use UnifiedEvent as U;
        match self {
            U::PkcsIssuedFailedAttempt => &[U::PkcsIssuedSuccess, U::PkcsIssuedFailure],
            U::PkcsImportReencryptFailedAttempt => {
                &[U::PkcsImportReencryptSuccess, U::PkcsImportReencryptFailure]
            }
            U::RevokeFailedAttempt => &[U::RevokeSuccess, U::RevokeFailure],
            U::ScepNotifyAttemptFailed => &[
                U::ScepNotifySuccess,
                U::ScepRequestUploadFailure,
                U::ScepNotifySaveToDiskFailed,
            ],
            U::HealthMessageUploadFailedAttempt => {
                &[U::HealthMessageUploadSuccess, U::HealthMessageUploadFailure]
            }
            _ => &[],
        }
    }
}

impl fmt::Display for UnifiedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for UnifiedEvent {
    type Err = UnknownUnifiedEvent;

    /// Accepts the id (`4005`) or the name (`ScepVerifyFailure`, any case).
    fn from_str(s: &str) -> Result<UnifiedEvent, UnknownUnifiedEvent> {
        let t = s.trim();
        let unknown = || UnknownUnifiedEvent(t.to_string());
        if let Ok(n) = t.parse::<u16>() {
            return UnifiedEvent::from_id(n).ok_or_else(unknown);
        }
        UNIFIED_EVENTS
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(t))
            .map(|e| e.event)
            .ok_or_else(unknown)
    }
}

impl Serialize for UnifiedEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

pub use table::UnifiedEvent;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_table_is_in_enum_order_with_unique_ids_and_names() {
        let mut ids = BTreeSet::new();
        let mut names = BTreeSet::new();
        for (i, e) in UNIFIED_EVENTS.iter().enumerate() {
            assert_eq!(e.event as usize, i, "{}", e.name);
            assert!(ids.insert(e.id), "{} twice", e.id);
            assert!(
                names.insert(e.name.to_ascii_lowercase()),
                "{} twice",
                e.name
            );
            assert_eq!(Area::of_id(e.id), Some(e.area()), "{}", e.name);
        }
    }

    #[test]
    fn sixty_one_published_ids_and_event_2() {
        assert_eq!(UNIFIED_EVENTS.len(), 62);
        let published = UNIFIED_EVENTS
            .iter()
            .filter(|e| e.source == Source::Overview2025)
            .count();
        assert_eq!(published, 61);
        assert_eq!(
            UnifiedEvent::from_id(2).map(|e| e.spec().source),
            Some(Source::SupportWiki)
        );
    }

    #[test]
    fn published_levels_are_the_wikis_eleven() {
        let published: BTreeSet<u16> = UNIFIED_EVENTS
            .iter()
            .filter(|e| e.level_basis == Basis::Published)
            .map(|e| e.id)
            .collect();
        let wiki: BTreeSet<u16> = [
            1000, 1002, 1020, 1050, 1100, 1102, 1051, 1001, 1052, 1101, 2,
        ]
        .into_iter()
        .collect();
        assert_eq!(published, wiki);
        assert_eq!(
            UnifiedEvent::PkcsIssuedFailedAttempt.spec().level(),
            Level::Warning
        );
        assert_eq!(UnifiedEvent::GeneralException.spec().level(), Level::Error);
    }

    #[test]
    fn the_support_failure_set_is_iccds() {
        let admin: BTreeSet<u16> = UNIFIED_EVENTS
            .iter()
            .filter(|e| e.channel == Channel::Admin && e.is_support_failure())
            .map(|e| e.id)
            .collect();
        assert_eq!(
            admin,
            [1001, 1201, 2001, 3001, 4001, 4002].into_iter().collect()
        );
    }

    #[test]
    fn names_keep_microsofts_spelling() {
        assert_eq!(
            "4000".parse::<UnifiedEvent>().unwrap().name(),
            "ScrepRequestSuccess"
        );
        assert_eq!(
            "scepverifyfailure".parse::<UnifiedEvent>().unwrap(),
            UnifiedEvent::ScepVerifyFailure
        );
        assert_eq!(UnifiedEvent::RevokeDigicertRequest.id(), 3032);
        assert!("4011".parse::<UnifiedEvent>().is_err());
        assert!("ScepRequestSuccess".parse::<UnifiedEvent>().is_err());
    }

    #[test]
    fn every_failed_attempt_has_conclusions_in_its_area() {
        for e in UnifiedEvent::all() {
            let spec = e.spec();
            assert_eq!(
                spec.outcome == Outcome::FailedAttempt,
                !e.conclusions().is_empty(),
                "{}",
                spec.name
            );
            for c in e.conclusions() {
                assert_eq!(c.spec().area(), spec.area(), "{} → {}", spec.name, c.name());
                assert!(
                    matches!(c.spec().outcome, Outcome::Success | Outcome::Failure),
                    "{}",
                    c.name()
                );
            }
        }
    }
}
