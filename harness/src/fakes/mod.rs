//! The fakes the connector talks to, each a real HTTP server on 127.0.0.1 with its own state
//! and fault switchboard: the CA, the Intune service, the NDES (SCEP) server and the identity
//! platform (Entra ID's token endpoints, for SCEP gateways). They speak the
//! [`crate::contract`]; none of them knows the connector.

pub mod ca;
pub mod error;
pub mod identity;
pub mod intune;
pub mod ndes;
pub mod server;
pub(crate) mod signer;
pub mod switchboard;

pub use error::FakeError;
