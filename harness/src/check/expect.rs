//! A scenario's expectations over a log's records: `sequence` (in order, others between) and
//! `absent`, with the same [`EventMatch::matches`] the runner uses; when an expected event is
//! not there, the nearest record is named (same event, other code or other detail).

use crate::event::{EventRecord, Origin};
use crate::scenario::model::{EventMatch, Expect};

use super::finding::{Expected, Finding};

/// A record of the connector's provider that could be read, with where it is.
pub(crate) type Located = (Origin, EventRecord);

/// Checks `expect` against `records`, handing each finding to `out`.
///
/// Sequence: each expectation is searched from just after the previous match. When it is not
/// found, the first later record of the same event that no other expectation claims is a near
/// miss: with the expected details but another code it is a wrong code, with the expected code
/// but another detail a wrong detail (one finding per differing detail); the search goes on
/// after it. Failing that, a match before the cursor is out of order, and else the event is
/// missing (the search goes on from the same place).
pub(crate) fn check(records: &[Located], expect: &Expect, out: &mut dyn FnMut(Finding)) {
    let claimed: Vec<bool> = records
        .iter()
        .map(|(_, r)| expect.sequence.iter().any(|w| w.value.matches(r)))
        .collect();
    let mut cursor = 0;
    for want in &expect.sequence {
        let pattern = &want.value;
        let expected = Expected {
            line: want.referenced.line(),
            pattern: pattern.clone(),
        };
        if let Some(i) = records[cursor..]
            .iter()
            .position(|(_, r)| pattern.matches(r))
        {
            cursor += i + 1;
            continue;
        }
        let near = (cursor..records.len()).find(|&i| {
            !claimed[i] && records[i].1.event == pattern.event && near_miss(pattern, &records[i].1)
        });
        if let Some(i) = near {
            let (at, r) = &records[i];
            if pattern.code.is_some_and(|c| c != r.code) {
                out(Finding::WrongCode {
                    expected,
                    at: *at,
                    found: r.code,
                });
            } else {
                for (detail, wanted) in &pattern.details {
                    let found = r.details.get(*detail);
                    if found != Some(wanted.as_str()) {
                        out(Finding::WrongDetail {
                            expected: expected.clone(),
                            at: *at,
                            detail: *detail,
                            wanted: wanted.clone(),
                            found: found.map(str::to_string),
                        });
                    }
                }
            }
            cursor = i + 1;
            continue;
        }
        match records[..cursor].iter().find(|(_, r)| pattern.matches(r)) {
            Some((at, _)) => out(Finding::OutOfOrder { expected, at: *at }),
            None => out(Finding::Missing { expected }),
        }
    }
    for banned in &expect.absent {
        let forbidden = Expected {
            line: banned.referenced.line(),
            pattern: banned.value.clone(),
        };
        for (at, r) in records.iter().filter(|(_, r)| banned.value.matches(r)) {
            out(Finding::Unexpected {
                forbidden: forbidden.clone(),
                at: *at,
                event: r.event,
                code: r.code,
            });
        }
    }
}

/// Same event, and off in exactly one way: the code (details all as expected) or the
/// details (code as expected).
fn near_miss(pattern: &EventMatch, r: &EventRecord) -> bool {
    let code_ok = pattern.code.is_none_or(|c| c == r.code);
    let details_ok = pattern
        .details
        .iter()
        .all(|(k, v)| r.details.get(*k) == Some(v.as_str()));
    code_ok != details_ok
}
