//! The contract: everything a vendor's connector, SCEP gateway or CA sees of the harness, and
//! nothing else.
//!
//! Fakes and the reference connector both depend on this module and never on each other:
//! - [`ca`]: the fake CA's HTTP API;
//! - [`intune`]: the Intune service's HTTP API, in the shapes of Microsoft's reference client;
//! - [`identity`]: the identity platform's token endpoints (client credentials, v1 and v2);
//! - [`policy`]: the NDES policy-module interface (verify a request, hear how it ended);
//! - [`fault`]: the names of the faults a scenario or `serve`'s admin API can inject;
//! - [`store`]: the layout of the connector's registration store directory;
//! - [`process`]: the protocol a connector running as its own process speaks with the harness.
//!
//! `docs/wire-contracts.md` describes the same for people.

pub mod ca;
pub mod fault;
pub mod identity;
pub mod intune;
pub mod policy;
pub mod process;
pub mod store;
