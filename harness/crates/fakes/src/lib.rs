//! The fakes the connector talks to, each a real HTTP server on 127.0.0.1 with its own state
//! and fault switchboard: the CA, the Intune service, the NDES (SCEP) server and the identity
//! platform (Entra ID's token endpoints, for SCEP gateways). They speak the
//! [`harness_contract::contract`]; none of them knows the connector.
//!
//! Depends on the contract, PKI and simulation crates and on the HTTP stack (tokio, axum,
//! hyper, rustls); never on the harness, the reference connector or the scenario language, so
//! the connector cannot import a fake by accident: the crate graph forbids it.

#![warn(missing_docs, unreachable_pub)]

// The lower crates' modules, under the names this crate's paths use (`crate::sim::Clock`).
use harness_contract::contract;
use harness_pki::{csr, fixtures, pki, scep};
use harness_sim::{sim, transport};

pub mod ca;
pub mod error;
pub mod identity;
pub mod intune;
pub mod ndes;
pub mod server;
pub mod signer;
pub mod switchboard;

pub use error::FakeError;
