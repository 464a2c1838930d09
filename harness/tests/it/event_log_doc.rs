//! `docs/event-log.md` says what `check` does: its positional order, its data names and its
//! examples must be what the code does, so the page cannot drift from it.

use std::path::Path;

use harness_runner::catalog::{Detail, DiagnosticCode, EventId, EVENTS};
use harness_runner::event;

fn page() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/event-log.md");
    std::fs::read_to_string(path).expect("docs/event-log.md exists")
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn the_positional_order_is_the_catalog_order() {
    let page = page();
    let rows: Vec<Vec<String>> = page
        .lines()
        .filter(|l| l.starts_with("| 1") || l.starts_with("| 2"))
        .map(cells)
        .filter(|c| c.get(1).is_some_and(|c| c == "code"))
        .collect();
    assert_eq!(rows.len(), EVENTS.len(), "one row per catalog event");
    for (row, spec) in rows.iter().zip(EVENTS.iter()) {
        assert_eq!(row[0], format!("{} {}", spec.id, spec.name));
        let written: Vec<&str> = row[2..]
            .iter()
            .map(String::as_str)
            .filter(|c| !c.is_empty())
            .collect();
        let catalog: Vec<&str> = spec.details.iter().map(|d| d.xml_name()).collect();
        assert_eq!(written, catalog, "{}", spec.name);
    }
}

#[test]
fn the_data_names_are_the_catalog_names() {
    let page = page();
    let rows: Vec<Vec<String>> = page
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(cells)
        .filter(|c| c.len() == 2)
        .collect();
    assert_eq!(rows.len(), Detail::ALL.len());
    for (row, detail) in rows.iter().zip(Detail::ALL) {
        assert_eq!(row[0], format!("`{}`", detail.xml_name()));
        assert_eq!(row[1], format!("`{}`", detail.key()));
    }
}

#[test]
fn the_examples_read_as_they_say() {
    let page = page();
    let classic = page
        .lines()
        .find(|l| l.starts_with("<Event ") && l.contains("Qualifiers='0'"))
        .expect("a classic example");
    let records = event::from_xml(classic.as_bytes()).expect("the classic example reads");
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.event, EventId::PkcsCertIssueFailure);
    assert_eq!(r.code, DiagnosticCode::PkcsIssueCaUnavailable);
    assert_eq!(r.details.get(Detail::DeviceId), Some("laptop-1"));
    assert_eq!(r.details.get(Detail::CaName), Some("TEST-ISSUING-CA"));
    assert_eq!(r.details.len(), 2);
    // The harness's own classic writer writes exactly that line.
    assert_eq!(event::event_to_xml_in(r, event::XmlForm::Classic), classic);

    let named = page
        .lines()
        .find(|l| l.starts_with("<EventData><Data Name="))
        .expect("a named example");
    let manifest = classic.replace(
        &classic[classic.find("<EventData>").unwrap()..classic.find("</Event>").unwrap()],
        named,
    );
    assert_eq!(event::from_xml(manifest.as_bytes()).unwrap(), records);

    let json = page
        .lines()
        .find(|l| l.starts_with("{\"seq\""))
        .expect("a JSON Lines example");
    let from_json = event::from_jsonl(json).expect("the JSON example reads");
    assert_eq!(from_json[0].event, r.event);
    assert_eq!(from_json[0].code, r.code);
    assert_eq!(from_json[0].details, r.details);
}
