//! The contract between the harness and what it tests: the catalog of connector events and
//! diagnostic codes, the wire shapes of the fake CA and Intune, the NDES policy-module interface,
//! the fault names, the registration store's layout and the connector-under-test protocol.
//!
//! This is what a vendor's Rust connector or SCEP gateway depends on, and all it depends on is
//! serde, schemars and thiserror: no async runtime, no TLS, no C build. The fakes and the
//! reference connector both depend on it and never on each other.

#![warn(missing_docs, unreachable_pub)]

pub mod catalog;
pub mod contract;
