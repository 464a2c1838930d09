//! The strict reading the harness uses on its own streams: the first unreadable item or
//! record problem is an error. Contract breaches (a pair outside the catalog, a detail the
//! event does not carry) pass, because the sink and the run's checks judge those.

use std::ops::ControlFlow;

use super::raw::{interpret, Interpreted, Item};
use super::record::EventRecord;
use super::StreamError;

/// Collects the records a format reader hands on, stopping at the first error. `format`
/// names the format in errors; `needs_record_id` makes a missing `EventRecordID` an error.
pub(crate) fn collect(
    format: &'static str,
    needs_record_id: bool,
    read: impl FnOnce(&mut dyn FnMut(Item) -> ControlFlow<()>),
) -> Result<Vec<EventRecord>, StreamError> {
    let mut out = Vec::new();
    let mut failure = None;
    read(&mut |item| {
        let result = match item {
            Item::Foreign(_) | Item::Warning { .. } => return ControlFlow::Continue(()),
            Item::Unreadable { origin, why } => Err(StreamError::Item {
                format,
                at: origin.to_string(),
                why,
            }),
            Item::Event(raw) if needs_record_id && raw.origin.record_id.is_none() => Err(
                StreamError::Xml("an <Event> has no numeric <EventRecordID>".into()),
            ),
            Item::Event(raw) => record(interpret(raw)),
        };
        match result {
            Ok(r) => {
                out.push(r);
                ControlFlow::Continue(())
            }
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The record, unless something other than a contract breach is wrong with it.
pub(crate) fn record(i: Interpreted) -> Result<EventRecord, StreamError> {
    let seq = i.origin.record_id.unwrap_or(i.origin.index);
    let bad = |why: String| StreamError::Record { seq, why };
    if let Some(p) = i.problems.iter().find(|p| !p.is_contract()) {
        return Err(bad(p.to_string()));
    }
    if let Some(why) = i.bad_time {
        return Err(bad(why));
    }
    i.record
        .ok_or_else(|| bad("neither the event nor the code can be told".into()))
}
