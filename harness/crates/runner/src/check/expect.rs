//! A scenario's expectations over a log's records: `sequence` (in order, others between) and
//! `absent`, with the same [`EventMatch::matches`] the runner uses; when an expected event is
//! not there, the nearest record is named (same event, other code or other detail).

use crate::event::{EventRecord, Origin};
use crate::scenario::model::{detail_matches, EventMatch, Expect};

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
                    if !detail_matches(pattern.event, *detail, wanted, found) {
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
        .all(|(k, v)| detail_matches(pattern.event, *k, v, r.details.get(*k)));
    code_ok != details_ok
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::catalog::{Detail, DiagnosticCode, EventId};
    use crate::event::Details;

    fn expect(sequence: &str) -> Expect {
        let text = format!("name: t\nsummary: s\nsteps: [start]\nexpect:\n  sequence:\n{sequence}");
        crate::scenario::load_str(Path::new("t.yaml"), &text)
            .expect("the test scenario loads")
            .expect
    }

    fn records(devices: &[&str]) -> Vec<Located> {
        devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let origin = Origin {
                    index: i as u64 + 1,
                    record_id: Some(i as u64 + 1),
                    ..Origin::default()
                };
                let record = EventRecord {
                    sequence: i as u64 + 1,
                    time: time::OffsetDateTime::UNIX_EPOCH,
                    event: EventId::PkcsCertIssueSuccess,
                    code: DiagnosticCode::Success,
                    details: Details::new().with(Detail::DeviceId, *d),
                };
                (origin, record)
            })
            .collect()
    }

    fn findings(records: &[Located], expect: &Expect) -> Vec<String> {
        let mut out = Vec::new();
        check(records, expect, &mut |f| {
            out.push(format!("{} {f}", f.label()))
        });
        out
    }

    const A_THEN_B: &str = "    - {event: 20100, details: {device_id: a}}\n    - {event: 20100, details: {device_id: b}}\n";

    #[test]
    fn a_record_another_expectation_claims_is_no_near_miss() {
        // Only b is there: a is missing, not "b with the wrong device".
        let got = findings(&records(&["b"]), &expect(A_THEN_B));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0]
                .starts_with("missing 20100 PkcsCertIssue_Success, device_id=a (scenario line 6)"),
            "{got:?}"
        );
        // c is no one's: it is the nearest record to a.
        let got = findings(&records(&["c", "b"]), &expect(A_THEN_B));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0]
                .starts_with("wrong detail record 1: 20100 PkcsCertIssue_Success has device_id=c"),
            "{got:?}"
        );
    }

    #[test]
    fn order_matters() {
        let got = findings(&records(&["b", "a"]), &expect(A_THEN_B));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("out of order 20100 PkcsCertIssue_Success, device_id=b (scenario line 7) appears only at record 1"), "{got:?}");
        assert!(findings(&records(&["a", "x", "b"]), &expect(A_THEN_B)).is_empty());
    }

    #[test]
    fn a_wrong_code_is_told_from_a_wrong_detail() {
        let want = expect("    - {event: 20100, code: Unknown_Error, details: {device_id: a}}\n");
        let got = findings(&records(&["a"]), &want);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("wrong code record 1: 20100 PkcsCertIssue_Success carries 0x00000000 Success; the scenario (line 6) expects 0x0FFFFFFF Unknown_Error"), "{got:?}");
        // Wrong in both ways: not a near miss.
        let got = findings(&records(&["z"]), &want);
        assert!(got[0].starts_with("missing"), "{got:?}");
    }
}
