//! What `check` finds in the 2021 connector's channels: one typed finding per problem, each
//! naming its record, and what an administrator does about it.

use std::fmt;

use serde::Serialize;

use crate::catalog::unified::{Channel, UnifiedEvent};
use crate::event::Origin;

/// Which support-tool rule an event breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportRule {
    /// A failure on the Admin channel (ICCD EVT01: 1001, 1201, 2001, 3001, 4001, 4002).
    AdminFailure,
    /// An Operational event at level 1 to 3, critical to warning (ICCD EVT02).
    OperationalLevel,
}

/// One thing wrong in the 2021 connector's events of a log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnifiedFinding {
    /// An event support tools count as a failure.
    Failure {
        /// Where.
        at: Origin,
        /// The event.
        event: UnifiedEvent,
        /// The rule.
        rule: SupportRule,
        /// The level as written (Windows' number), if written.
        level: Option<u8>,
        /// The request it names, if any.
        request: Option<String>,
        /// What to check.
        remediation: &'static str,
    },
    /// A failed attempt no later success or failure of the same request concludes.
    NeverConcluded {
        /// Where the (last) failed attempt is.
        at: Origin,
        /// The failed attempt.
        event: UnifiedEvent,
        /// The request, if the event names one.
        request: Option<String>,
    },
    /// An id the profile does not know (the published list is "not limited to" its ids).
    UnknownEvent {
        /// Where.
        at: Origin,
        /// The id as written.
        id: String,
    },
    /// An event written to the other channel than the profile's.
    WrongChannel {
        /// Where.
        at: Origin,
        /// The event.
        event: UnifiedEvent,
        /// The channel written.
        written: Channel,
    },
    /// An event of the provider on a channel that is neither Admin nor Operational.
    UnknownChannel {
        /// Where.
        at: Origin,
        /// The channel as written.
        channel: Option<String>,
    },
    /// A level other than the published one.
    WrongLevel {
        /// Where.
        at: Origin,
        /// The event.
        event: UnifiedEvent,
        /// The level as written.
        written: String,
    },
    /// Not one event of a connector was checked.
    NothingChecked {
        /// Every provider seen, with its count of events.
        providers: Vec<(String, u64)>,
    },
}

impl UnifiedFinding {
    /// A short label for text output.
    pub fn label(&self) -> &'static str {
        match self {
            UnifiedFinding::Failure {
                rule: SupportRule::AdminFailure,
                ..
            } => "admin failure",
            UnifiedFinding::Failure { .. } => "operational",
            UnifiedFinding::NeverConcluded { .. } => "never concluded",
            UnifiedFinding::UnknownEvent { .. } => "unknown event",
            UnifiedFinding::WrongChannel { .. } => "wrong channel",
            UnifiedFinding::UnknownChannel { .. } => "unknown channel",
            UnifiedFinding::WrongLevel { .. } => "wrong level",
            UnifiedFinding::NothingChecked { .. } => "nothing checked",
        }
    }
}

fn request(r: &Option<String>) -> String {
    r.as_deref()
        .map(|k| format!(" for request {k}"))
        .unwrap_or_default()
}

impl fmt::Display for UnifiedFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnifiedFinding::Failure {
                at,
                event,
                rule,
                level,
                request: r,
                remediation,
            } => {
                let spec = event.spec();
                let why = match (rule, level) {
                    (SupportRule::AdminFailure, _) => "a failure on the Admin channel".to_string(),
                    (SupportRule::OperationalLevel, Some(l)) => format!("Operational, level {l}"),
                    (SupportRule::OperationalLevel, None) => {
                        format!("Operational, level {} by the profile", spec.level().windows_value())
                    }
                };
                write!(
                    f,
                    "{at}: {} {}{} ({why}); check: {remediation}",
                    spec.id,
                    spec.name,
                    request(r)
                )
            }
            UnifiedFinding::NeverConcluded { at, event, request: r } => {
                let ends: Vec<String> = event
                    .conclusions()
                    .iter()
                    .map(|c| format!("{} {}", c.id(), c.name()))
                    .collect();
                write!(
                    f,
                    "{at}: {} {}{} is never concluded: no later {} for it; the connector gave up or stopped",
                    event.id(),
                    event.name(),
                    request(r),
                    ends.join(" or ")
                )
            }
            UnifiedFinding::UnknownEvent { at, id } => write!(
                f,
                "{at}: event id {id} is not one of the 62 of profile unified-2021 (Microsoft's list is not complete: read the event's message)"
            ),
            UnifiedFinding::WrongChannel { at, event, written } => write!(
                f,
                "{at}: {} {} is written to {}, but the profile puts it on {}",
                event.id(),
                event.name(),
                written.log_name(),
                event.spec().channel.log_name()
            ),
            UnifiedFinding::UnknownChannel { at, channel } => write!(
                f,
                "{at}: an event of {} on channel `{}`, which is neither /Admin nor /Operational",
                crate::catalog::unified::PROVIDER,
                channel.as_deref().unwrap_or("none")
            ),
            UnifiedFinding::WrongLevel { at, event, written } => write!(
                f,
                "{at}: {} {} is published at level {} ({}), but the record says {written}",
                event.id(),
                event.name(),
                event.spec().level().windows_value(),
                event.spec().level().name()
            ),
            UnifiedFinding::NothingChecked { providers } => {
                if providers.is_empty() {
                    return f.write_str("the log holds no event at all, so nothing was checked");
                }
                let seen: Vec<String> = providers
                    .iter()
                    .map(|(p, n)| format!("'{p}' ({n})"))
                    .collect();
                write!(
                    f,
                    "no event of a connector was checked; the providers seen are {}: name the connector's with --provider, or export the 2021 connector's channels (provider {})",
                    seen.join(", "),
                    crate::catalog::unified::PROVIDER
                )
            }
        }
    }
}
