//! PKI and SCEP: RSA keys on one fast backend, PKCS#10 requests, the test PKI fixtures, SCEP
//! (RFC 8894) messages for servers and devices, and provisioning a connector's registration store.

#![warn(missing_docs, unreachable_pub)]

// The lower crates' modules, under the names this crate's paths use (`crate::sim::Clock`).
use harness_contract::contract;
use harness_sim::sim;

pub mod csr;
pub mod fixtures;
pub mod pki;
pub mod provision;
pub mod scep;
