//! `check` on a log as an admin exports it: the legacy connector's events against the seed's
//! catalog ([`super::check_file`], unchanged), and in the same log the 2021+ connector's
//! (provider `Microsoft-Intune-CertificateConnectors`, channels `/Admin` and `/Operational`)
//! against the `unified-2021` profile ([`judge`]). The profile is told from each event's
//! provider and channel, so one file may hold both channels, NDES's and the legacy connector's
//! events. A log in which no event of either was checked is never a pass: that is a finding
//! that names the providers seen.

mod finding;
mod judge;

use std::io::Read as _;
use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;

use crate::catalog::unified::PROVIDER;
use crate::event::unified::{looks_like_evtx_json, scan, Seen, UnifiedFormat};
use crate::event::{read_capped, Format, StreamError};
use crate::scenario::model::Expect;

use super::{check_file, check_items, CheckOptions, Verdict};

pub use finding::{SupportRule, UnifiedFinding};
pub use judge::{AreaSummary, ProfileVerdict, UnifiedNote, MAX_TRACKED};

/// The verdict on a whole log: both profiles.
#[derive(Clone, Debug, Serialize)]
pub struct LogVerdict {
    /// The legacy connector's events against the seed's catalog (and the scenario, if named).
    pub legacy: Verdict,
    /// The 2021 connector's events against `unified-2021`, with every provider seen.
    pub unified: ProfileVerdict,
    /// Set when the file is `evtx_dump` JSON rather than the legacy reader's formats.
    pub evtx_json: bool,
    /// Not one event of either connector was checked (and nothing else was found).
    pub nothing_checked: Option<UnifiedFinding>,
}

impl LogVerdict {
    /// No findings in either profile, and something was checked.
    pub fn passed(&self) -> bool {
        self.legacy.passed() && self.unified.passed() && self.nothing_checked.is_none()
    }

    /// Whether the 2021 profile has anything to say (else the legacy verdict is all).
    pub fn involves_unified(&self) -> bool {
        self.unified.events > 0 || self.nothing_checked.is_some() || self.evtx_json
    }

    /// All findings, kept or counted.
    pub fn finding_count(&self) -> u64 {
        self.legacy
            .finding_count()
            .saturating_add(self.unified.finding_count())
            .saturating_add(u64::from(self.nothing_checked.is_some()))
    }
}

/// The first bytes of a file, to tell `evtx_dump` JSON from the harness's JSON Lines.
fn head(path: &Path) -> Result<Vec<u8>, StreamError> {
    let io = |source| StreamError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut bytes = Vec::with_capacity(256);
    std::fs::File::open(path)
        .map_err(io)?
        .take(256)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

/// Judges the 2021 connector's events of a log image.
pub fn judge_bytes(bytes: Vec<u8>, format: UnifiedFormat, keep: usize) -> ProfileVerdict {
    let mut judge = judge::Judge::new(keep);
    scan(bytes, format, |item| {
        judge.take(item);
        ControlFlow::Continue(())
    });
    judge.finish()
}

/// Judges items already read (the test path of the .evtx reader, [`crate::event::unified::scan_evtx_rendered`]).
pub fn judge_items(items: impl IntoIterator<Item = Seen>, keep: usize) -> ProfileVerdict {
    let mut judge = judge::Judge::new(keep);
    for item in items {
        judge.take(item);
    }
    judge.finish()
}

/// Reads and checks a log file for both profiles. Only a file that cannot be read, is too
/// large, or whose format cannot be told is an error.
pub fn check_log(
    path: &Path,
    expect: Option<&Expect>,
    options: &CheckOptions,
) -> Result<LogVerdict, StreamError> {
    // The 2021 connector's provider is this module's to judge, whatever --provider says.
    let mut legacy_options = options.clone();
    legacy_options
        .scan
        .providers
        .retain(|p| !p.trim().eq_ignore_ascii_case(PROVIDER));
    let evtx_json = options.format.is_none() && looks_like_evtx_json(&head(path)?);
    let (legacy, unified) = if evtx_json {
        let bytes = read_capped(path, options.scan.max_bytes)?;
        let legacy = check_items(Format::Jsonl, std::iter::empty(), expect, &legacy_options);
        (
            legacy,
            judge_bytes(bytes, UnifiedFormat::EvtxJson, options.keep),
        )
    } else {
        let legacy = check_file(path, expect, &legacy_options)?;
        let unified = match legacy.format {
            Format::Xml => UnifiedFormat::Xml,
            Format::Evtx => UnifiedFormat::Evtx,
            // The harness's own records carry no provider: all of them are the legacy's.
            Format::Jsonl | Format::Yaml => {
                return Ok(finish(legacy, ProfileVerdict::default(), false))
            }
        };
        let bytes = read_capped(path, options.scan.max_bytes)?;
        (legacy, judge_bytes(bytes, unified, options.keep))
    };
    Ok(finish(legacy, unified, evtx_json))
}

fn finish(legacy: Verdict, unified: ProfileVerdict, evtx_json: bool) -> LogVerdict {
    let nothing = legacy.events == 0 && unified.events == 0 && legacy.passed() && unified.passed();
    let nothing_checked = nothing.then(|| UnifiedFinding::NothingChecked {
        providers: unified
            .providers
            .iter()
            .map(|(p, n)| (p.clone(), *n))
            .collect(),
    });
    LogVerdict {
        legacy,
        unified,
        evtx_json,
        nothing_checked,
    }
}
