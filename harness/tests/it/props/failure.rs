//! A failing world written down: the scenario file (with what it broke in a header comment and
//! what the CLI can check of it as expectations), its stream as the snapshot, and the one
//! command that reruns it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use harness_runner::run::snapshot;

use super::invariants::Invariant;
use super::Judged;

/// A failing world, shrunk and written down.
pub struct Failure {
    /// The scenario file written.
    pub file: PathBuf,
    /// The scenario's name.
    pub name: String,
    /// The command that reruns it with the harness's CLI.
    pub command: String,
    /// Everything to print: violations, file, command.
    pub message: String,
}

/// Writes a failing world, with the stream it wrote, into `out`.
pub(super) fn write(judged: &Judged, again: bool, out: &Path) -> Failure {
    let plan = &judged.plan;
    let invariants: BTreeSet<Invariant> = judged.violations.iter().map(|v| v.invariant).collect();
    let mut text = String::new();
    text.push_str(
        "# A random world the property tests (harness/tests/it/properties.rs) found failing,\n",
    );
    text.push_str("# shrunk by proptest. What it broke:\n");
    for v in &judged.violations {
        for (i, line) in v.to_string().lines().enumerate() {
            text.push_str(if i == 0 { "#   - " } else { "#     " });
            text.push_str(line);
            text.push('\n');
        }
    }
    let again = if again {
        "It failed again when run once more."
    } else {
        "It passed when run once more: the failure depends on timing."
    };
    text.push_str(&format!("# {again}\n"));
    text.push_str(
        "# The snapshot beside this file is the stream this world wrote; the expectations\n",
    );
    text.push_str("# below carry what the CLI can check of the broken invariants.\n");
    text.push_str(&plan.yaml);
    if invariants.contains(&Invariant::Forced) {
        if !plan.yaml.contains("\nexpect:\n") {
            text.push_str("expect:\n");
        }
        text.push_str("  absent:\n    - {event: StartedConnectorService}\n");
    }
    let file = out.join(format!("{}.yaml", plan.name));
    let written = std::fs::create_dir_all(out)
        .and_then(|()| std::fs::write(&file, &text))
        .and_then(|()| snapshot::write(out, &plan.name, judged.yaml.trim_end_matches('\n')));
    let shown_dir = shown_path(out);
    let mut command = format!(
        "cargo run -p connector-harness -- run --scenarios {shown_dir} --snapshots {shown_dir} --exact {} --no-coverage-gate",
        plan.name
    );
    if invariants.contains(&Invariant::Determinism) {
        command.push_str(" --check-determinism");
    }
    let mut message = String::new();
    message.push_str("a random world breaks the invariants:\n");
    for v in &judged.violations {
        message.push_str(&format!("  {v}\n"));
    }
    message.push_str(&format!("{again}\n"));
    match written {
        Ok(()) => message.push_str(&format!(
            "shrunk world written to {}\nrerun it: {command}\n",
            file.display()
        )),
        Err(e) => message.push_str(&format!(
            "could not write {}: {e}\n{text}\n",
            file.display()
        )),
    }
    Failure {
        file,
        name: plan.name.clone(),
        command,
        message,
    }
}

/// `dir` relative to the workspace root when it lies inside it (commands run from there).
fn shown_path(dir: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap_or(root);
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    dir.strip_prefix(&root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| dir.display().to_string())
}

/// `target/proptest-scenarios`, beside the build's own files.
pub fn default_out_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|t| t.join("proptest-scenarios"))
        .unwrap_or_else(|| PathBuf::from("target/proptest-scenarios"))
}
