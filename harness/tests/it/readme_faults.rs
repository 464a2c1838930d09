//! The README's fault table against the code: every target is listed once, with exactly the
//! kinds it accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use harness_runner::contract::fault::FaultTarget;

/// The backticked words of a table cell (the first word of each comma-separated item).
fn names(cell: &str) -> BTreeSet<String> {
    cell.split(',')
        .filter_map(|item| {
            let item = item.trim();
            let rest = item.strip_prefix('`')?;
            Some(rest[..rest.find('`')?].to_string())
        })
        .collect()
}

#[test]
fn the_fault_table_lists_every_target_with_its_kinds() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let at = readme
        .find("<!-- fault-table")
        .expect("the README marks its fault table");
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in readme[at..].lines().skip(3) {
        let Some(row) = line.strip_prefix('|') else {
            break;
        };
        let cells: Vec<&str> = row.split('|').collect();
        let kinds = names(cells[1]);
        for target in names(cells[0]) {
            assert!(
                documented.insert(target.clone(), kinds.clone()).is_none(),
                "{target} is listed twice"
            );
        }
    }
    let actual: BTreeMap<String, BTreeSet<String>> = FaultTarget::all()
        .map(|(name, t)| {
            let kinds = t.kinds().iter().map(|k| k.name().to_string()).collect();
            (name.to_string(), kinds)
        })
        .collect();
    assert_eq!(documented, actual);
}
