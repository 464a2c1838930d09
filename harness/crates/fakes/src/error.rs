//! The one error type of the fakes: starting them, and asking them for something they cannot do.

use std::net::SocketAddr;

use crate::contract::fault::{FaultKind, FaultTarget};
use crate::fixtures::FixtureError;

/// Why a fake could not start, reopen, or accept a request from the scenario runner.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    /// The listening socket could not be bound (or re-bound after `unavailable` was healed).
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's answer.
        source: std::io::Error,
    },
    /// The built-in PKI material did not load.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// The fake's configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The target does not understand this fault kind (see [`FaultTarget::kinds`]).
    #[error("fault `{kind}` is not supported on {target}")]
    UnsupportedFault {
        /// Where it was aimed.
        target: FaultTarget,
        /// What it was.
        kind: FaultKind,
    },
    /// The fault kind only works with another scope (`unavailable` needs `UntilHealed`).
    #[error("fault `{kind}` on {target} only works with scope until-healed")]
    UnsupportedScope {
        /// Where it was aimed.
        target: FaultTarget,
        /// What it was.
        kind: FaultKind,
    },
    /// Signing a certificate failed.
    #[error("signing: {0}")]
    Sign(String),
}
