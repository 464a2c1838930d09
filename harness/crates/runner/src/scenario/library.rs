//! A folder of scenario files: every file loaded, every error kept (not just the first), and the
//! names checked across files — two files may not name one scenario, since a name picks the
//! snapshot and the rerun command.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::ScenarioError;
use super::load::{load_file, scenario_files};
use super::model::Scenario;

/// A loaded scenario and its file.
#[derive(Debug)]
pub struct Loaded {
    /// The file.
    pub file: PathBuf,
    /// The scenario.
    pub scenario: Scenario,
}

/// Why a folder of scenarios cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibraryError {
    /// The folder cannot be read or holds no scenario file.
    Folder {
        /// The folder.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// One file cannot be used.
    File(ScenarioError),
    /// Several files name the same scenario.
    DuplicateName {
        /// The name.
        name: String,
        /// Every file that carries it, sorted.
        files: Vec<PathBuf>,
    },
}

impl LibraryError {
    /// The file or folder the error is about.
    pub fn subject(&self) -> String {
        match self {
            LibraryError::Folder { dir, .. } => dir.display().to_string(),
            LibraryError::File(e) => e.file.display().to_string(),
            LibraryError::DuplicateName { name, .. } => name.clone(),
        }
    }
}

impl fmt::Display for LibraryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LibraryError::Folder { message, .. } => write!(f, "error: {message}"),
            LibraryError::File(e) => e.fmt(f),
            LibraryError::DuplicateName { name, files } => {
                write!(
                    f,
                    "error: {} files name the scenario `{name}`:",
                    files.len()
                )?;
                for file in files {
                    write!(f, "\n  --> {}", file.display())?;
                }
                write!(
                    f,
                    "\n  = help: a name picks one snapshot; keep one file (a scenario file is `<name>.yaml`)"
                )
            }
        }
    }
}

impl std::error::Error for LibraryError {}

/// Loads every scenario file in `dir` (see [`scenario_files`]); on failure, every error.
pub fn load_all(dir: &Path) -> Result<Vec<Loaded>, Vec<LibraryError>> {
    let files = scenario_files(dir).map_err(|e| {
        vec![LibraryError::Folder {
            dir: dir.to_path_buf(),
            message: format!("cannot read the scenario folder {}: {e}", dir.display()),
        }]
    })?;
    if files.is_empty() {
        return Err(vec![LibraryError::Folder {
            dir: dir.to_path_buf(),
            message: format!("no scenario files (*.yaml) in {}", dir.display()),
        }]);
    }
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match load_file(&file) {
            Ok(scenario) => loaded.push(Loaded { file, scenario }),
            Err(e) => errors.push(LibraryError::File(e)),
        }
    }
    let mut by_name: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
    for l in &loaded {
        by_name
            .entry(l.scenario.name.as_str())
            .or_default()
            .push(l.file.clone());
    }
    for (name, mut files) in by_name {
        if files.len() > 1 {
            files.sort();
            errors.push(LibraryError::DuplicateName {
                name: name.to_string(),
                files,
            });
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}
