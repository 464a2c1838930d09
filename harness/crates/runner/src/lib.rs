//! # Connector Harness
//!
//! A deterministic simulation and test harness for the Intune Certificate Connector: the
//! service on an NDES server that issues and revokes PKCS certificates for Intune and verifies
//! SCEP challenges through its policy module.
//!
//! Data flows one way: a scenario is loaded and planned, run against fakes on real sockets
//! (a CA, the Intune service, an NDES/SCEP server) with a connector reacting to them; the
//! events the connector writes are collected by one [`event::Sink`], then checked against the
//! [`catalog`], snapshots and the scenario's expectations, and reported.
//!
//! ```
//! use connector_harness::catalog::{DiagnosticCode, EventId};
//! use connector_harness::event::{Details, Sink};
//! use connector_harness::sim::Clock;
//!
//! let sink = Sink::new(Clock::default());
//! sink.emit(EventId::StartedConnectorService, DiagnosticCode::Success, Details::new()).unwrap();
//! // 20100 with 0x400 is not in the catalog: the sink refuses it.
//! assert!(sink.emit(EventId::PkcsCertIssueSuccess, DiagnosticCode::PkcsIssueCaUnavailable, Details::new()).is_err());
//! assert_eq!(sink.records().len(), 1);
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod assemble;
pub mod check;
pub mod cli;
pub mod gateway;
pub mod html;
pub mod load;
pub mod run;
pub mod scenario;
pub mod serve;
pub use harness_connector as connector;
pub use harness_contract::{catalog, contract};
pub use harness_events as event;
pub use harness_fakes as fakes;
pub use harness_pki::{csr, fixtures, pki, provision, scep};
pub use harness_sim::{sim, transport};
