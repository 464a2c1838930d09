//! Reading scenario files: YAML syntax and shape through serde-saphyr (which rejects duplicate
//! keys and knows where every node is), then the checks of meaning that types cannot express.
//! Every error names file, line and column, shows the line, and says what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::{Location, Spanned};

use super::model::{Scenario, Step};
use crate::contract::fault::{FaultTarget, KindName};

/// A scenario file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// What is wrong.
    pub message: String,
    /// The offending line of the file, when known.
    pub source_line: Option<String>,
    /// What to write instead.
    pub help: Option<String>,
}

impl std::error::Error for ScenarioError {}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        write!(
            f,
            "  --> {}:{}:{}",
            self.file.display(),
            self.line,
            self.column
        )?;
        if let Some(src) = &self.source_line {
            let n = self.line.to_string();
            let pad = " ".repeat(n.len());
            write!(
                f,
                "\n{pad} |\n{n} | {src}\n{pad} | {}^",
                " ".repeat(self.column.saturating_sub(1) as usize)
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

struct Source<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn error(
        &self,
        line: u64,
        column: u64,
        message: impl Into<String>,
        help: Option<String>,
    ) -> ScenarioError {
        let source_line = (line > 0)
            .then(|| self.text.lines().nth(line as usize - 1).map(str::to_string))
            .flatten();
        ScenarioError {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
            source_line,
            help,
        }
    }

    fn at(&self, loc: Location, message: impl Into<String>, help: Option<String>) -> ScenarioError {
        self.error(loc.line(), loc.column(), message, help)
    }
}

/// Reads and checks one scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read the file: {e}"),
        source_line: None,
        help: None,
    })?;
    load_str(path, &text)
}

/// Parses and checks scenario text; `path` is used in errors and for the name check.
pub fn load_str(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let src = Source { file: path, text };
    let scenario: Scenario = serde_saphyr::from_str(text).map_err(|e| syntax_error(&src, &e))?;
    check(&src, &scenario)?;
    Ok(scenario)
}

fn syntax_error(src: &Source<'_>, e: &serde_saphyr::Error) -> ScenarioError {
    let inner = e.without_snippet();
    let mut message = inner.to_string();
    // serde-saphyr appends the position; we print our own.
    for tail in [" at line ", ", set DuplicateKeyPolicy"] {
        if let Some(i) = message.find(tail) {
            message.truncate(i);
        }
    }
    if let Some(ty) = message.strip_prefix("invalid ") {
        if matches!(ty, "u8" | "u16" | "u32" | "u64" | "i64") {
            message = "expected a whole number here".into();
        }
    }
    let help = help_for(&message);
    match e.location() {
        Some(loc) => src.at(loc, message, help),
        None => src.error(0, 0, message, help),
    }
}

fn help_for(message: &str) -> Option<String> {
    let m = message.to_ascii_lowercase();
    if m.contains("unknown field") {
        Some(
            "remove the key or fix its spelling; `connector-harness schema` lists every key".into(),
        )
    } else if m.contains("duplicate") {
        Some("each key may appear once per mapping; delete one of them".into())
    } else if m.contains("unknown variant") {
        Some("use one of the values listed; scenarios/README.md has an example of each step".into())
    } else if m.contains("missing field") {
        Some("add the field; scenarios/README.md shows an example of every step".into())
    } else if m.contains("invalid type") {
        Some("check the value's type against `connector-harness schema`".into())
    } else {
        None
    }
}

fn check(src: &Source<'_>, s: &Scenario) -> Result<(), ScenarioError> {
    let stem = src
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if !stem.is_empty() && s.name != stem {
        return Err(src.error(
            line_of(src.text, "name:"),
            1,
            format!(
                "the scenario is named `{}` but its file is `{stem}.yaml`",
                s.name
            ),
            Some(format!("write `name: {stem}` or rename the file")),
        ));
    }
    if !s
        .name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || s.name.is_empty()
    {
        return Err(src.error(
            line_of(src.text, "name:"),
            1,
            format!("`{}` is not a valid scenario name", s.name),
            Some("use lower-case letters, digits and dashes".into()),
        ));
    }
    if let Some(t) = &s.setup.start_time {
        if crate::sim::parse_time(t).is_err() {
            return Err(src.error(
                line_of(src.text, "start_time:"),
                1,
                format!("`{t}` is not an RFC 3339 time"),
                Some("write e.g. 2026-01-01T00:00:00Z".into()),
            ));
        }
    }
    if s.steps.is_empty() {
        return Err(src.error(
            line_of(src.text, "steps:"),
            1,
            "a scenario needs at least one step",
            None,
        ));
    }
    let mut running = false;
    let mut pkcs_devices: Vec<String> = Vec::new();
    for step in &s.steps {
        check_step(src, step, &mut running, &mut pkcs_devices)?;
    }
    Ok(())
}

fn check_step(
    src: &Source<'_>,
    step: &Spanned<Step>,
    running: &mut bool,
    pkcs_devices: &mut Vec<String>,
) -> Result<(), ScenarioError> {
    let loc = step.referenced;
    let needs_running = |what: &str| -> Result<(), ScenarioError> {
        if *running {
            Ok(())
        } else {
            Err(src.at(
                loc,
                format!("step `{what}` comes before the connector is started"),
                Some("add a `- start` step before it".into()),
            ))
        }
    };
    match &step.value {
        Step::Start => {
            if *running {
                return Err(src.at(
                    loc,
                    "the connector is already running here",
                    Some("add a `- stop` step before starting it again".into()),
                ));
            }
            *running = true;
        }
        Step::Stop => {
            needs_running("stop")?;
            *running = false;
        }
        Step::Sync => needs_running("sync")?,
        Step::Enroll(e) => {
            needs_running("enroll")?;
            if e.count == 0 {
                return Err(src.at(loc, "`count` must be at least 1", None));
            }
        }
        Step::Advance(span) => {
            if span.get().is_zero() {
                return Err(src.at(
                    loc,
                    "`advance` needs a positive duration",
                    Some("write e.g. `- advance: 1h`".into()),
                ));
            }
        }
        Step::QueuePkcs(q) => {
            if q.count == 0 {
                return Err(src.at(loc, "`count` must be at least 1", None));
            }
            for d in expand(&q.device, q.count) {
                pkcs_devices.push(d);
            }
        }
        Step::QueueRevocation(r) => {
            if r.count == 0 {
                return Err(src.at(loc, "`count` must be at least 1", None));
            }
            for d in expand(&r.device, r.count) {
                if !pkcs_devices.contains(&d) {
                    return Err(src.at(
                        loc,
                        format!("revocation of a certificate never issued: no earlier `queue_pkcs` step asks for one for device `{d}`"),
                        Some("queue a PKCS request for the device (and `sync`) before revoking".into()),
                    ));
                }
            }
        }
        Step::Fault(f) => {
            let allowed = f.target.kinds();
            if !allowed.contains(&f.kind) {
                return Err(src.at(
                    loc,
                    format!(
                        "fault kind `{}` does not apply to `{}`",
                        f.kind.name(),
                        f.target
                    ),
                    Some(format!(
                        "`{}` accepts: {}",
                        f.target,
                        allowed
                            .iter()
                            .map(|k| k.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ));
            }
            match (f.kind, f.status) {
                (KindName::Status, None) => {
                    return Err(src.at(
                        loc,
                        "fault kind `status` needs `status: <HTTP code>`",
                        Some("e.g. `status: 500`".into()),
                    ))
                }
                (KindName::Status, Some(c)) if !(400..=599).contains(&c) => {
                    return Err(src.at(
                        loc,
                        format!("`status: {c}` is not an HTTP error status"),
                        Some("use a code from 400 to 599".into()),
                    ))
                }
                (k, Some(_)) if k != KindName::Status => {
                    return Err(src.at(loc, "`status` only applies to fault kind `status`", None))
                }
                _ => {}
            }
            match (f.kind, f.code) {
                (KindName::Answer, None) => {
                    return Err(src.at(
                        loc,
                        "fault kind `answer` needs `code: <Intune SCEP error code>`",
                        Some("e.g. `code: KeyUsageMismatch`".into()),
                    ))
                }
                (k, Some(_)) if k != KindName::Answer => {
                    return Err(src.at(loc, "`code` only applies to fault kind `answer`", None))
                }
                _ => {}
            }
            if f.times == Some(0) {
                return Err(src.at(
                    loc,
                    "`times: 0` breaks nothing",
                    Some("leave `times` out to break every call until healed".into()),
                ));
            }
            if f.kind == KindName::Unavailable && f.times.is_some() {
                return Err(src.at(
                    loc,
                    "an unavailable CA has its port closed: no calls reach it to be counted",
                    Some("leave `times` out and `heal` it later".into()),
                ));
            }
        }
        Step::Heal(target) => {
            if target != "all" && target.parse::<FaultTarget>().is_err() {
                return Err(src.at(
                    loc,
                    format!("unknown fault target `{target}`"),
                    Some(format!(
                        "write `all` or one of: {}",
                        FaultTarget::all()
                            .map(|(n, _)| n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ));
            }
        }
    }
    Ok(())
}

/// The device ids a step with `count` stands for.
pub fn expand(device: &str, count: u32) -> Vec<String> {
    if count <= 1 {
        vec![device.to_string()]
    } else {
        (1..=count).map(|i| format!("{device}-{i:03}")).collect()
    }
}

fn line_of(text: &str, key: &str) -> u64 {
    text.lines()
        .position(|l| l.trim_start().starts_with(key))
        .map(|i| i as u64 + 1)
        .unwrap_or(1)
}

/// Every `*.yaml` file under `dir`, sorted by name.
pub fn scenario_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}
