//! The reference connector's own event log in the 2021 dialect (`connector --dialect
//! unified-2021 --log FILE`): each event it reports is also translated ([`super::dialect`])
//! and appended to FILE as `wevtutil qe /f:xml` prints events, stamped with scenario time.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::cause::Cause;
use super::dialect::Translator;
use super::env::Time;
use crate::catalog::Profile;
use crate::event::unified::{write_unified_xml, UnifiedXmlForm};
use crate::event::{Details, EventRecord, XmlLayout};

/// How the connector process writes its events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DialectOptions {
    /// The dialect it declares in `init_ok`.
    pub dialect: Profile,
    /// Its own event log, written in that dialect (only `unified-2021` writes one).
    pub log: Option<PathBuf>,
}

impl DialectOptions {
    /// What `init_ok` declares: nothing for the legacy default, so its transcript is unchanged.
    pub fn declared(&self) -> Option<Profile> {
        (self.dialect != Profile::Legacy).then_some(self.dialect)
    }

    /// The log to write, if one is asked for in the 2021 dialect (created empty).
    pub fn open(&self, clock: Arc<dyn Time>) -> std::io::Result<Option<Arc<DialectLog>>> {
        let (Profile::Unified2021, Some(path)) = (self.dialect, &self.log) else {
            return Ok(None);
        };
        let file = std::fs::File::create(path)?;
        Ok(Some(Arc::new(DialectLog {
            state: Mutex::new((Translator::new(), 0, file)),
            clock,
        })))
    }
}

/// An open 2021-dialect log.
pub struct DialectLog {
    /// The translator, the last legacy sequence number, the file.
    state: Mutex<(Translator, u64, std::fs::File)>,
    clock: Arc<dyn Time>,
}

impl DialectLog {
    /// Translates one event and appends what it becomes.
    pub fn write(&self, cause: Cause, details: &Details) {
        let pair = cause.pair();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (translator, seq, file) = &mut *state;
        *seq = seq.saturating_add(1);
        let record = EventRecord {
            sequence: *seq,
            time: self.clock.now(),
            event: pair.event,
            code: pair.code,
            details: details.clone(),
        };
        let unified = translator.push(&record);
        let text = write_unified_xml(&unified, UnifiedXmlForm::Plain, XmlLayout::Bare);
        // A log that cannot be written loses lines; the protocol's events still go out.
        let _ = file.write_all(text.as_bytes());
    }
}
