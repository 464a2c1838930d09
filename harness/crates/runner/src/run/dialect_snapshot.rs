//! The second snapshot of a scenario whose connector also keeps its log in the 2021 dialect
//! (`setup.connector.dialect: unified-2021`): `snapshots/unified-2021/<scenario>.snap`, the
//! stream as [`crate::connector::dialect`] translates it. The scenario's own snapshot (the
//! legacy stream) is untouched; this one sits in a folder of its own, so the library's
//! one-snapshot-per-scenario rule still holds at the top.

use std::path::{Path, PathBuf};

use crate::catalog::Profile;
use crate::event::unified::{to_yaml, write_unified_xml, UnifiedXmlForm};
use crate::event::{EventRecord, XmlLayout};

use super::{snapshot, Problem, RunOptions};

/// The folder of the 2021-dialect snapshots, under the snapshots folder.
pub const FOLDER: &str = "unified-2021";

/// The 2021-dialect snapshot file of `scenario` under the snapshots folder `dir`.
pub fn path(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(FOLDER).join(format!("{scenario}.snap"))
}

/// The snapshot body of a legacy stream: its translation, as YAML.
pub fn body(events: &[EventRecord]) -> String {
    to_yaml(&crate::connector::dialect::translate(events))
        .trim_end_matches('\n')
        .to_string()
}

/// The file text for `body`, with insta's header.
pub fn render(scenario: &str, body: &str) -> String {
    format!(
        "---\nsource: scenarios/{scenario}.yaml\nexpression: event stream (unified-2021)\n---\n{body}\n"
    )
}

/// Compares (or, with `--update` outside CI, writes) the 2021-dialect snapshot of a scenario
/// that asks for one; a difference or a missing snapshot is a problem.
pub fn compare(
    dialect: Profile,
    dir: &Path,
    name: &str,
    events: &[EventRecord],
    options: &RunOptions,
    problems: &mut Vec<Problem>,
) {
    if dialect != Profile::Unified2021 {
        return;
    }
    let path = path(dir, name);
    let new = body(events);
    let old = match snapshot::read(&path) {
        Ok(old) => old,
        Err(e) => {
            return problems.push(Problem::SnapshotRead {
                path,
                error: e.to_string(),
            })
        }
    };
    if old.as_deref() == Some(new.as_str()) {
        return;
    }
    if options.update && !options.ci && problems.is_empty() {
        let written = std::fs::create_dir_all(dir.join(FOLDER))
            .and_then(|()| std::fs::write(&path, render(name, &new)));
        if let Err(e) = written {
            problems.push(Problem::SnapshotWrite {
                path,
                error: e.to_string(),
            });
        }
        return;
    }
    match old {
        None => problems.push(Problem::NoDialectSnapshot { path }),
        Some(old) => problems.push(Problem::DialectDiffers {
            path,
            diff: snapshot::diff(&format!("{old}\n"), &format!("{new}\n")),
        }),
    }
}

/// Writes `<name>.unified-2021.xml` (as `wevtutil qe /f:xml` prints it) beside the run's
/// record, for a scenario in the 2021 dialect.
pub fn record(
    dialect: Profile,
    dir: &Path,
    name: &str,
    events: &[EventRecord],
) -> std::io::Result<()> {
    if dialect != Profile::Unified2021 {
        return Ok(());
    }
    let unified = crate::connector::dialect::translate(events);
    std::fs::write(
        dir.join(format!("{name}.unified-2021.xml")),
        write_unified_xml(&unified, UnifiedXmlForm::Plain, XmlLayout::Wrapped),
    )
}
