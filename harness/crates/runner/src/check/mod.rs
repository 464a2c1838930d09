//! Checking a connector's exported event log (`connector-harness check`): against the
//! catalog alone, and optionally against one scenario's expectations.
//!
//! The log is read loosely ([`crate::event::scan_file`]): every item is judged, a bad one
//! becomes a [`Finding`] naming its record id or line, and reading goes on. Time, record ids,
//! computer names and events of other providers are never compared. The verdict is data;
//! printing it is the command line's business.

pub mod conformance;
mod expect;
mod finding;
pub mod unified;

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;

use crate::catalog::EventId;
use crate::event::{Format, Origin, ScanOptions, Scanned, StreamError};
use crate::scenario::model::Expect;

pub use finding::{Expected, Finding};

/// Findings kept in a verdict; past this they are only counted, so a hostile log cannot
/// make the checker hold an unbounded list.
pub const DEFAULT_KEEP: usize = 10_000;

/// Records kept for a scenario's expectations (those whose event an expectation names);
/// past this the rest are not checked against the scenario, and a finding says so. About
/// 120 MB; a scenario's log has hundreds.
pub const DEFAULT_MAX_RECORDS: usize = 1_000_000;

/// How to check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// What to read and how much.
    pub scan: ScanOptions,
    /// The format, or `None` to tell it from the file.
    pub format: Option<Format>,
    /// Findings kept; the rest are counted.
    pub keep: usize,
    /// Records kept for the scenario's expectations.
    pub max_records: usize,
    /// What the run that wrote the log recorded (`run --record`): with a scenario, the
    /// conformance rules judge the log against it, as `run` judged the run.
    pub world: Option<conformance::WorldRecord>,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            scan: ScanOptions::default(),
            format: None,
            keep: DEFAULT_KEEP,
            max_records: DEFAULT_MAX_RECORDS,
            world: None,
        }
    }
}

/// Something the reader of a verdict should know that is not a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// The scenario expects `drained`, which only Intune's state can show, not a log.
    DrainedNotCheckable,
    /// A reader's warning: something that may be wrong but is not for sure.
    Warning {
        /// Where.
        at: Origin,
        /// What.
        why: String,
    },
    /// A scenario was named without the world its run recorded: the rules that compare with
    /// the world (values, uploads, notifications, one lifecycle event per step) were not judged.
    WorldNotGiven,
    /// Not one event of the connector's provider was found.
    NoConnectorEvents {
        /// The provider names looked for.
        providers: Vec<String>,
    },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::DrainedNotCheckable => f.write_str(
                "the scenario's `drained: true` is not checked: only Intune's state shows it, not a log",
            ),
            Note::Warning { at, why } => write!(f, "{at}: {why}"),
            Note::WorldNotGiven => f.write_str(
                "only the stream's own rules of the contract were judged; pass --world (written by `run --record`) to judge values against the world",
            ),
            Note::NoConnectorEvents { providers } => write!(
                f,
                "no event of provider {} in the log (name another with --provider)",
                providers
                    .iter()
                    .map(|p| format!("'{p}'"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        }
    }
}

/// The outcome of checking one log.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// The format read.
    pub format: Format,
    /// Items of the connector's provider.
    pub events: u64,
    /// Events of other providers, skipped.
    pub other_providers: u64,
    /// Items that could not be read as events at all.
    pub unreadable: u64,
    /// What is wrong, in log order, then in the scenario's order.
    pub findings: Vec<Finding>,
    /// Findings past the kept ones, counted only.
    pub more_findings: u64,
    /// Remarks that are not findings.
    pub notes: Vec<Note>,
}

impl Verdict {
    /// No findings at all.
    pub fn passed(&self) -> bool {
        self.findings.is_empty() && self.more_findings == 0
    }

    /// All findings, kept or counted.
    pub fn finding_count(&self) -> u64 {
        self.findings.len() as u64 + self.more_findings
    }
}

/// Gathers a verdict item by item.
struct Collector {
    verdict: Verdict,
    keep: usize,
    /// The events kept for the scenario (none without a scenario; every event with one, for
    /// the conformance rules).
    relevant: BTreeSet<EventId>,
    records: Vec<expect::Located>,
    max_records: usize,
    /// Set once a relevant record could not be kept.
    cut: bool,
}

impl Collector {
    fn push(&mut self, finding: Finding) {
        if self.verdict.findings.len() < self.keep {
            self.verdict.findings.push(finding);
        } else {
            self.verdict.more_findings = self.verdict.more_findings.saturating_add(1);
        }
    }

    fn take(&mut self, item: Scanned) {
        match item {
            Scanned::Foreign(_) => {
                self.verdict.other_providers = self.verdict.other_providers.saturating_add(1)
            }
            Scanned::Warning { origin, why } => {
                if self.verdict.notes.len() < self.keep {
                    self.verdict.notes.push(Note::Warning { at: origin, why });
                }
            }
            Scanned::Unreadable { origin, why } => {
                self.verdict.unreadable = self.verdict.unreadable.saturating_add(1);
                self.push(Finding::Unreadable { at: origin, why });
            }
            Scanned::Record(i) => {
                self.verdict.events = self.verdict.events.saturating_add(1);
                for problem in i.problems {
                    self.push(Finding::Record {
                        at: i.origin,
                        problem,
                    });
                }
                // Only records an expectation could be about are kept for the scenario.
                if let Some(r) = i.record.filter(|r| self.relevant.contains(&r.event)) {
                    if self.records.len() < self.max_records {
                        self.records.push((i.origin, r));
                    } else if !self.cut {
                        // Once only, first, and past the cap on findings: it must be seen.
                        self.cut = true;
                        self.verdict.findings.insert(
                            0,
                            Finding::Unchecked {
                                at: i.origin,
                                limit: self.max_records as u64,
                            },
                        );
                    }
                }
            }
        }
    }
}

/// Judges `records` against a scenario's `expect.sequence` and `expect.absent`: the one
/// implementation `run` and `check --scenario` share.
pub fn check_expectations(
    records: &[(Origin, crate::event::EventRecord)],
    expect: &Expect,
    out: &mut dyn FnMut(Finding),
) {
    expect::check(records, expect, out)
}

/// Checks items already read (for callers that read the log themselves).
pub fn check_items(
    format: Format,
    items: impl IntoIterator<Item = Scanned>,
    expect: Option<&Expect>,
    options: &CheckOptions,
) -> Verdict {
    let mut c = collector(format, expect, options);
    for item in items {
        c.take(item);
    }
    finish(c, expect, options)
}

/// Reads and checks a log file. Only a file that cannot be read, is too large, or whose
/// format cannot be told is an error; everything wrong inside it is a finding.
pub fn check_file(
    path: &Path,
    expect: Option<&Expect>,
    options: &CheckOptions,
) -> Result<Verdict, StreamError> {
    // The format is filled in once known.
    let mut c = collector(Format::Jsonl, expect, options);
    let format = crate::event::scan_file(path, options.format, &options.scan, |item| {
        c.take(item);
        ControlFlow::Continue(())
    })?;
    c.verdict.format = format;
    Ok(finish(c, expect, options))
}

fn collector(format: Format, expect: Option<&Expect>, options: &CheckOptions) -> Collector {
    let relevant = match expect {
        Some(_) => EventId::all().collect(),
        None => BTreeSet::new(),
    };
    Collector {
        verdict: Verdict {
            format,
            events: 0,
            other_providers: 0,
            unreadable: 0,
            findings: Vec::new(),
            more_findings: 0,
            notes: Vec::new(),
        },
        keep: options.keep,
        relevant,
        records: Vec::new(),
        max_records: options.max_records,
        cut: false,
    }
}

fn finish(mut c: Collector, expect: Option<&Expect>, options: &CheckOptions) -> Verdict {
    if let Some(expect) = expect {
        let records = std::mem::take(&mut c.records);
        expect::check(&records, expect, &mut |f| c.push(f));
        let stream: Vec<crate::event::EventRecord> = records.into_iter().map(|(_, r)| r).collect();
        for v in conformance::judge(&stream, options.world.as_ref(), expect.drained) {
            c.push(Finding::Contract(v));
        }
        if options.world.is_none() {
            c.verdict.notes.push(Note::WorldNotGiven);
            if expect.drained {
                c.verdict.notes.push(Note::DrainedNotCheckable);
            }
        }
    }
    if c.verdict.events == 0 {
        c.verdict.notes.push(Note::NoConnectorEvents {
            providers: options.scan.providers.clone(),
        });
    }
    c.verdict
}
