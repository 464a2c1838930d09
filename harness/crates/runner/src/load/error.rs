//! Why a load run or a benchmark driver could not be carried out. A failed enrollment is not
//! one of these: it is counted in the report.

use crate::assemble::AssembleError;
use crate::fixtures::FixtureError;
use crate::pki::PkiError;
use crate::scep::ScepError;

/// A load run that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A bound the caller broke; the message names the flag to change.
    #[error("{0}")]
    Options(String),
    /// The async runtime could not be started.
    #[error("starting the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Client(reqwest::Error),
    /// No answer from the server (`what`: the operation).
    #[error("{what}: no answer from {url}: {error}")]
    Unreachable {
        /// The operation (GetCACaps, minting a challenge).
        what: String,
        /// Where it was sent.
        url: String,
        /// The transport's error.
        error: reqwest::Error,
    },
    /// The server answered with something the run cannot use: an HTTP error, a body too
    /// large or cut off, a GetCACert answer without usable RA certificates, a minted
    /// challenge that is not JSON.
    #[error("{what}: {why}")]
    Answer {
        /// The operation.
        what: String,
        /// What was wrong with its answer.
        why: String,
    },
    /// A fixture key could not be read.
    #[error("{what}: {error}")]
    Fixture {
        /// What needed it.
        what: String,
        /// Why it failed.
        error: FixtureError,
    },
    /// A request could not be built or a key operation failed.
    #[error("{what}: {error}")]
    Pki {
        /// What was being built.
        what: String,
        /// Why it failed.
        error: PkiError,
    },
    /// A SCEP message could not be built.
    #[error("{what}: {error}")]
    Scep {
        /// What was being built.
        what: String,
        /// Why it failed.
        error: ScepError,
    },
    /// A benchmark driver failed outside the calls it measures (the RSA measurement's
    /// setup, the PKCS pipeline's queue).
    #[error("{what}: {why}")]
    Bench {
        /// Which driver.
        what: &'static str,
        /// What failed.
        why: String,
    },
    /// A world could not be assembled.
    #[error(transparent)]
    Assemble(#[from] AssembleError),
    /// A worker thread or task panicked.
    #[error("{0} panicked")]
    Panicked(&'static str),
}

impl LoadError {
    /// A fixture error, saying what needed the key.
    pub(crate) fn fixture(what: impl Into<String>) -> impl FnOnce(FixtureError) -> LoadError {
        let what = what.into();
        move |error| LoadError::Fixture { what, error }
    }

    /// A PKI error, saying what was being built.
    pub(crate) fn pki(what: impl Into<String>) -> impl FnOnce(PkiError) -> LoadError {
        let what = what.into();
        move |error| LoadError::Pki { what, error }
    }

    /// A SCEP error, saying what was being built.
    pub(crate) fn scep(what: impl Into<String>) -> impl FnOnce(ScepError) -> LoadError {
        let what = what.into();
        move |error| LoadError::Scep { what, error }
    }
}
