//! What a scenario's event stream must show.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::catalog::{Detail, DiagnosticCode, EventId};

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
    /// Detail values that must match: exactly, except `reason`, which is free text and matches
    /// when it names the value as a word (`Contoso: Intune said ChallengeExpired` matches
    /// `ChallengeExpired`). A detail the conformance contract leaves optional for the event
    /// matches when the event does not carry it (but `reason` and `attempts`).
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
                .all(|(k, v)| detail_matches(self.event, *k, v, record.details.get(*k)))
    }
}

/// Whether a record of `event` whose value of `detail` is `found` satisfies the expected
/// `wanted`. Every detail is compared exactly but `reason`, whose wording is the connector's
/// own: it must contain `wanted` as a whole word (bounded by the text's ends or by characters
/// that are neither letters, digits nor `_`). A detail the contract leaves optional for the
/// event (docs/conformance.md) matches when it is absent, except `reason` and `attempts`:
/// a scenario that names them asks the connector to say why, or how often it tried.
pub fn detail_matches(event: EventId, detail: Detail, wanted: &str, found: Option<&str>) -> bool {
    let Some(found) = found else {
        return !event.required_details().contains(&detail)
            && !matches!(detail, Detail::Reason | Detail::Attempts);
    };
    if detail != Detail::Reason {
        return found == wanted;
    }
    if wanted.is_empty() {
        return true;
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    found.match_indices(wanted).any(|(at, _)| {
        let before = found[..at].chars().next_back();
        let after = found[at + wanted.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
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
