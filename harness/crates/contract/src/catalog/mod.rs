//! The catalog: the seed table of connector events and diagnostic codes as typed data.
//!
//! The source of truth is the vendor's troubleshooting table (19 events, 12 codes, 48 allowed
//! (event, code) pairs). Everything that writes or checks an event goes through these types, so
//! a pair outside the table cannot be expressed without an error.

mod code;
mod detail;
mod event;
mod profile;
pub mod unified;

pub use code::{CodeSpec, DiagnosticCode, CODES};
pub use detail::Detail;
pub use event::{EventId, EventSpec, Level, EVENTS};
pub use profile::{Profile, UnknownProfile};

use serde::{Deserialize, Serialize};

/// Errors raised when text does not name a catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Not an event id or name from the table.
    #[error("unknown event `{0}`: expected an event id such as 20102 or a name such as PkcsCertIssue_Failure (see `connector-harness catalog`)")]
    UnknownEvent(String),
    /// Not a diagnostic code, number or name from the table.
    #[error("unknown diagnostic code `{0}`: expected a code such as 0x00000400, 0x400, 1024 or PKCS_Issue_CA_Unavailable (see `connector-harness catalog`)")]
    UnknownCode(String),
    /// Not a detail field name.
    #[error("unknown detail field `{0}`: expected one of {list}", list = Detail::ALL.iter().map(|d| d.key()).collect::<Vec<_>>().join(", "))]
    UnknownDetail(String),
    /// Neither an event nor a code.
    #[error("`{0}` is neither an event (id such as 20102, name such as PkcsCertIssue_Failure) nor a diagnostic code (0x00000400, 1024, PKCS_Issue_CA_Unavailable)")]
    UnknownTerm(String),
}

/// One allowed (event, code) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pair {
    /// The event.
    pub event: EventId,
    /// The diagnostic code.
    pub code: DiagnosticCode,
}

impl Pair {
    /// Whether the catalog allows this pair.
    pub fn is_allowed(self) -> bool {
        self.event.allows(self.code)
    }
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} / {} {}",
            self.event.id(),
            self.event.name(),
            self.code,
            self.code.name()
        )
    }
}

/// All 48 allowed pairs, in table order.
pub fn pairs() -> Vec<Pair> {
    EVENTS
        .iter()
        .flat_map(|e| {
            e.codes.iter().map(move |&code| Pair {
                event: e.event,
                code,
            })
        })
        .collect()
}

/// The events that may carry `code`.
pub fn events_carrying(code: DiagnosticCode) -> Vec<EventId> {
    EVENTS
        .iter()
        .filter(|e| e.codes.contains(&code))
        .map(|e| e.event)
        .collect()
}

/// What a free-form term names: an event or a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// An event.
    Event(EventId),
    /// A diagnostic code.
    Code(DiagnosticCode),
}

/// Resolves a term typed by a person: a hex code is a code; a bare number is an event id if the
/// table has one, otherwise a code; a name is looked up among events, then codes.
pub fn lookup(term: &str) -> Result<Term, CatalogError> {
    let t = term.trim();
    let is_hex = t.starts_with("0x") || t.starts_with("0X");
    if !is_hex {
        if let Ok(e) = t.parse::<EventId>() {
            return Ok(Term::Event(e));
        }
    }
    t.parse::<DiagnosticCode>()
        .map(Term::Code)
        .map_err(|_| CatalogError::UnknownTerm(t.to_string()))
}

/// A scalar that may be written as a string or a number (`20102` or `"20102"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum NameOrNumber {
    Number(u64),
    Text(String),
}

impl NameOrNumber {
    fn as_text(&self) -> String {
        match self {
            NameOrNumber::Number(n) => n.to_string(),
            NameOrNumber::Text(s) => s.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_tables_are_in_enum_order() {
        for (i, e) in EVENTS.iter().enumerate() {
            assert_eq!(e.event as usize, i, "{}", e.name);
        }
        for (i, c) in CODES.iter().enumerate() {
            assert_eq!(c.code as usize, i, "{}", c.name);
        }
    }

    #[test]
    fn counts_match_the_seed() {
        assert_eq!(EVENTS.len(), 19);
        assert_eq!(CODES.len(), 12);
        assert_eq!(pairs().len(), 48);
    }

    #[test]
    fn code_spellings() {
        for s in [
            "0x400",
            "0x00000400",
            "1024",
            "PKCS_Issue_CA_Unavailable",
            "pkcs_issue_ca_unavailable",
        ] {
            assert_eq!(
                s.parse::<DiagnosticCode>().unwrap(),
                DiagnosticCode::PkcsIssueCaUnavailable,
                "{s}"
            );
        }
        for s in [
            "0x0FFFFFFFF",
            "0x0FFFFFFF",
            "0xFFFFFFF",
            "268435455",
            "Unknown_Error",
        ] {
            assert_eq!(
                s.parse::<DiagnosticCode>().unwrap(),
                DiagnosticCode::UnknownError,
                "{s}"
            );
        }
        for s in [
            "",
            "0x406",
            "0xZZ",
            "1025x",
            "Nope",
            "0xFFFFFFFF",
            "99999999999999999999",
        ] {
            assert!(s.parse::<DiagnosticCode>().is_err(), "{s}");
        }
        assert_eq!(DiagnosticCode::UnknownError.to_string(), "0x0FFFFFFF");
        assert_eq!(
            DiagnosticCode::CrpScepSigningCertNotFound.to_string(),
            "0x00000409"
        );
    }

    #[test]
    fn lookup_prefers_events_for_bare_numbers() {
        assert_eq!(
            lookup("20502").unwrap(),
            Term::Event(EventId::CrpVerifyMetricFailure)
        );
        assert_eq!(
            lookup("1033").unwrap(),
            Term::Code(DiagnosticCode::CrpScepSigningCertNotFound)
        );
        assert_eq!(
            lookup("0x0FFFFFFFF").unwrap(),
            Term::Code(DiagnosticCode::UnknownError)
        );
        assert!(lookup("0x4242").is_err());
    }
}
