//! Judging the 2021 connector's events one by one, then as a whole: ids against the profile,
//! channels and published levels, the support tools' failure set, failed attempts that are
//! never concluded, and the per-area summary.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::catalog::unified::{Area, Basis, Channel, Outcome, UnifiedEvent, PROVIDER};
use crate::catalog::Level;
use crate::event::unified::{Observed, Seen};
use crate::event::Origin;

use super::finding::{SupportRule, UnifiedFinding};

/// Distinct providers, requests and open attempts remembered at most: a hostile log cannot
/// make the checker hold more (past them, a note says the summary is incomplete).
pub const MAX_TRACKED: usize = 100_000;

/// Requests, and how they ended, of one area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AreaSummary {
    /// Distinct requests named (by `RequestId` or `TransactionId`; each health message).
    pub requests: u64,
    /// Requests that succeeded and never failed.
    pub successes: u64,
    /// Requests with a failure, and failures that name no request (a failed download).
    pub failures: u64,
    /// Failed attempts (the connector tried again).
    pub retries: u64,
}

/// Something worth knowing about the 2021 events that is not a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum UnifiedNote {
    /// A level differs from the one inferred from the name (the real one is unpublished).
    InferredLevelDiffers {
        /// Where.
        at: Origin,
        /// The event.
        event: UnifiedEvent,
        /// As written.
        written: String,
    },
    /// 1000/1001 on Operational: the wiki files them there, the overview on Admin.
    ChannelAsTheWikiSays {
        /// Where.
        at: Origin,
        /// The event.
        event: UnifiedEvent,
    },
    /// A failed attempt whose conclusion may be on a channel the log does not hold (a
    /// one-channel export): not judged.
    ConclusionElsewhere {
        /// Where.
        at: Origin,
        /// The failed attempt.
        event: UnifiedEvent,
        /// The channel missing from the log.
        channel: Channel,
    },
    /// More requests or attempts than are tracked: the summary and the unconcluded attempts
    /// cover only the first ones.
    Incomplete {
        /// The limit.
        limit: usize,
    },
}

impl std::fmt::Display for UnifiedNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnifiedNote::InferredLevelDiffers { at, event, written } => write!(
                f,
                "{at}: {} {} is level {written}; the profile infers {} from its name (its level is not published)",
                event.id(),
                event.name(),
                event.spec().level().windows_value()
            ),
            UnifiedNote::ChannelAsTheWikiSays { at, event } => write!(
                f,
                "{at}: {} {} is on Operational, as Microsoft's support wiki files it (the overview says Admin)",
                event.id(),
                event.name()
            ),
            UnifiedNote::ConclusionElsewhere { at, event, channel } => write!(
                f,
                "{at}: {} {} is not concluded in this log, but may be on {}, which it does not hold (export both channels)",
                event.id(),
                event.name(),
                channel.log_name()
            ),
            UnifiedNote::Incomplete { limit } => write!(
                f,
                "more than {limit} requests or attempts: the summary and the unconcluded attempts cover the first {limit}"
            ),
        }
    }
}

/// The verdict on the 2021 connector's events of one log.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProfileVerdict {
    /// Events of the provider checked.
    pub events: u64,
    /// Of them, per channel as written (`Admin`, `Operational`; others under `other`).
    pub channels: BTreeMap<String, u64>,
    /// Every provider seen (the 2021 connector's among them), with its count of events.
    pub providers: BTreeMap<String, u64>,
    /// What is wrong, in log order (unconcluded attempts after the rest).
    pub findings: Vec<UnifiedFinding>,
    /// Findings past the kept ones, counted only.
    pub more_findings: u64,
    /// Remarks.
    pub notes: Vec<UnifiedNote>,
    /// Per area, in range order.
    pub summary: BTreeMap<Area, AreaSummary>,
}

impl ProfileVerdict {
    /// No findings.
    pub fn passed(&self) -> bool {
        self.findings.is_empty() && self.more_findings == 0
    }

    /// All findings, kept or counted.
    pub fn finding_count(&self) -> u64 {
        self.findings.len() as u64 + self.more_findings
    }
}

#[derive(Clone, Copy, Default)]
struct RequestState {
    succeeded: bool,
    failed: bool,
}

/// Gathers the verdict event by event.
pub(crate) struct Judge {
    pub(crate) verdict: ProfileVerdict,
    keep: usize,
    /// Per (area, request): how it went.
    requests: HashMap<(Area, String), RequestState>,
    /// Open failed attempts, per (area, request), with the last one's origin and event.
    open: BTreeMap<(Area, Option<String>), (Origin, UnifiedEvent)>,
    /// The current health message (health events name no request).
    health_message: u64,
    incomplete: bool,
}

impl Judge {
    pub(crate) fn new(keep: usize) -> Judge {
        Judge {
            verdict: ProfileVerdict::default(),
            keep,
            requests: HashMap::new(),
            open: BTreeMap::new(),
            health_message: 0,
            incomplete: false,
        }
    }

    fn push(&mut self, f: UnifiedFinding) {
        if self.verdict.findings.len() < self.keep {
            self.verdict.findings.push(f);
        } else {
            self.verdict.more_findings = self.verdict.more_findings.saturating_add(1);
        }
    }

    fn note(&mut self, n: UnifiedNote) {
        if self.verdict.notes.len() < self.keep {
            self.verdict.notes.push(n);
        }
    }

    fn over_limit(&mut self, len: usize) -> bool {
        if len < MAX_TRACKED {
            return false;
        }
        if !self.incomplete {
            self.incomplete = true;
            self.note(UnifiedNote::Incomplete { limit: MAX_TRACKED });
        }
        true
    }

    /// Takes one item of the log.
    pub(crate) fn take(&mut self, item: Seen) {
        let Seen::Event(o) = item else { return };
        if !self.verdict.providers.contains_key(&o.provider)
            && self.verdict.providers.len() >= MAX_TRACKED
        {
            return;
        }
        let count = self
            .verdict
            .providers
            .entry(o.provider.clone())
            .or_insert(0);
        *count = count.saturating_add(1);
        if o.provider.trim().eq_ignore_ascii_case(PROVIDER) {
            self.judge(o);
        }
    }

    fn judge(&mut self, o: Observed) {
        self.verdict.events = self.verdict.events.saturating_add(1);
        let written = o.channel.as_deref().and_then(Channel::from_log_name);
        let channel_key = written.map_or("other", Channel::name).to_string();
        let n = self.verdict.channels.entry(channel_key).or_insert(0);
        *n = n.saturating_add(1);
        if written.is_none() {
            self.push(UnifiedFinding::UnknownChannel {
                at: o.origin,
                channel: o.channel.clone(),
            });
        }
        let id_text = o
            .event_id
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .to_string();
        let Some(event) = id_text.parse::<u16>().ok().and_then(UnifiedEvent::from_id) else {
            self.push(UnifiedFinding::UnknownEvent {
                at: o.origin,
                id: if id_text.is_empty() {
                    "(none)".into()
                } else {
                    id_text
                },
            });
            return;
        };
        let spec = event.spec();
        if let Some(w) = written.filter(|w| *w != spec.channel) {
            let wiki = matches!(
                event,
                UnifiedEvent::PkcsRequestSuccess | UnifiedEvent::PkcsRequestFailure
            ) && w == Channel::Operational;
            if wiki {
                self.note(UnifiedNote::ChannelAsTheWikiSays {
                    at: o.origin,
                    event,
                });
            } else {
                self.push(UnifiedFinding::WrongChannel {
                    at: o.origin,
                    event,
                    written: w,
                });
            }
        }
        let level_text = o.level.as_deref().map(str::trim).map(str::to_string);
        let level: Option<u8> = level_text.as_deref().and_then(|t| t.parse().ok());
        if level != Some(spec.level().windows_value()) {
            let written = level_text.clone().unwrap_or_else(|| "none".into());
            match spec.level_basis {
                Basis::Published => self.push(UnifiedFinding::WrongLevel {
                    at: o.origin,
                    event,
                    written,
                }),
                Basis::Inferred => self.note(UnifiedNote::InferredLevelDiffers {
                    at: o.origin,
                    event,
                    written,
                }),
            }
        }
        let request = o.request_key().map(str::to_string);
        // The rules go by the profile's channel: a misfiled event is its own finding.
        let rule = match spec.channel {
            Channel::Admin if spec.outcome == Outcome::Failure => Some(SupportRule::AdminFailure),
            Channel::Operational
                if level.map_or(spec.level() <= Level::Warning, |l| (1..=3).contains(&l)) =>
            {
                Some(SupportRule::OperationalLevel)
            }
            _ => None,
        };
        if let Some(rule) = rule {
            self.push(UnifiedFinding::Failure {
                at: o.origin,
                event,
                rule,
                level,
                request: request.clone(),
                remediation: spec.check,
            });
        }
        self.follow(o.origin, event, request);
    }

    /// Tracks attempts and requests for the unconcluded attempts and the summary.
    fn follow(&mut self, at: Origin, event: UnifiedEvent, request: Option<String>) {
        let spec = event.spec();
        let area = spec.area();
        let tally = self.verdict.summary.entry(area).or_default();
        if spec.outcome == Outcome::FailedAttempt {
            tally.retries = tally.retries.saturating_add(1);
        }
        // Health messages name no request: each runs from its first event to its conclusion.
        let key = match (&request, area) {
            (Some(k), _) => Some(k.clone()),
            (None, Area::Health) => Some(format!("health message {}", self.health_message)),
            (None, _) => None,
        };
        match &key {
            Some(k) => {
                let len = self.requests.len();
                let known = self.requests.contains_key(&(area, k.clone()));
                if known || !self.over_limit(len) {
                    let state = self.requests.entry((area, k.clone())).or_default();
                    match spec.outcome {
                        Outcome::Success => state.succeeded = true,
                        Outcome::Failure => state.failed = true,
                        _ => {}
                    }
                }
            }
            None if spec.outcome == Outcome::Failure => {
                let tally = self.verdict.summary.entry(area).or_default();
                tally.failures = tally.failures.saturating_add(1);
            }
            None => {}
        }
        let slot = (area, request);
        if spec.outcome == Outcome::FailedAttempt {
            let len = self.open.len();
            if self.open.contains_key(&slot) || !self.over_limit(len) {
                self.open.insert(slot, (at, event));
            }
        } else if self
            .open
            .get(&slot)
            .is_some_and(|(_, open)| open.conclusions().contains(&event))
        {
            self.open.remove(&slot);
        }
        if area == Area::Health && matches!(spec.outcome, Outcome::Success | Outcome::Failure) {
            self.health_message = self.health_message.saturating_add(1);
        }
    }

    /// The verdict, with unconcluded attempts and the summary's request counts.
    pub(crate) fn finish(mut self) -> ProfileVerdict {
        if self.verdict.events > 0 {
            // The five areas a connector serves are always in the summary, even when idle.
            for area in [
                Area::Pkcs,
                Area::PkcsImport,
                Area::Revoke,
                Area::Scep,
                Area::Health,
            ] {
                self.verdict.summary.entry(area).or_default();
            }
        }
        let open = std::mem::take(&mut self.open);
        for ((_, request), (at, event)) in open {
            let absent = event
                .conclusions()
                .iter()
                .map(|c| c.spec().channel)
                .find(|c| !self.verdict.channels.contains_key(c.name()));
            match absent {
                Some(channel) => self.note(UnifiedNote::ConclusionElsewhere { at, event, channel }),
                None => self.push(UnifiedFinding::NeverConcluded { at, event, request }),
            }
        }
        for ((area, _), state) in &self.requests {
            let tally = self.verdict.summary.entry(*area).or_default();
            tally.requests = tally.requests.saturating_add(1);
            if state.failed {
                tally.failures = tally.failures.saturating_add(1);
            } else if state.succeeded {
                tally.successes = tally.successes.saturating_add(1);
            }
        }
        self.verdict
    }
}
