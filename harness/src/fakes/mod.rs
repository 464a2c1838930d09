//! The fakes the connector talks to, each a real HTTP server on 127.0.0.1 with its own state
//! and fault switchboard: the CA, the Intune service and the NDES (SCEP) server.

pub mod api;
pub mod ca;
pub mod error;
pub mod fault;
pub mod intune;
pub mod ndes;
pub mod policy;

pub use error::FakeError;
