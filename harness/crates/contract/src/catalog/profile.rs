//! Catalog profiles: which connector's event vocabulary a log, a writer or a connector speaks.
//!
//! `legacy` is the seed's table (the 6.1806.x "Microsoft Intune Connector" log: 19 events, 12
//! codes, 48 pairs), the scenario library's language. `unified-2021` is the "Certificate
//! Connector for Microsoft Intune" (6.2107.45.0 and later), which writes other ids to the
//! `Microsoft-Intune-CertificateConnectors/Admin` and `/Operational` channels
//! ([`super::unified`]). The same name serves `catalog --profile`, `connector --dialect`, the
//! scenario setting `connector.dialect` and `init_ok`'s `dialect`.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A connector's event vocabulary.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
)]
pub enum Profile {
    /// The seed's table: the legacy connector's 19 events (10010 … 20602).
    #[default]
    #[serde(rename = "legacy")]
    Legacy,
    /// The 2021+ Certificate Connector: 61 published ids and event 2, on two channels.
    #[serde(rename = "unified-2021")]
    Unified2021,
}

/// A profile name that is not one of [`Profile::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{0}`: expected `legacy` or `unified-2021`")]
pub struct UnknownProfile(pub String);

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 2] = [Profile::Legacy, Profile::Unified2021];

    /// The name the command line, scenarios and the protocol use.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Legacy => "legacy",
            Profile::Unified2021 => "unified-2021",
        }
    }

    /// Which connector it describes, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Profile::Legacy => {
                "the legacy Microsoft Intune Connector (6.1806.x), log \"Microsoft Intune Connector\""
            }
            Profile::Unified2021 => {
                "the Certificate Connector for Microsoft Intune (6.2107.45.0 and later), channels Microsoft-Intune-CertificateConnectors/Admin and /Operational"
            }
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Profile, UnknownProfile> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownProfile(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_text_and_json() {
        for p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>(), Ok(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
            assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), p);
        }
        assert!("unified".parse::<Profile>().is_err());
        assert!(serde_json::from_str::<Profile>("\"unified\"").is_err());
    }
}
