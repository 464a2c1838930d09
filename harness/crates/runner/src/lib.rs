//! # Connector Harness: the runner
//!
//! The library behind the `connector-harness` command line, a deterministic simulation and
//! test harness for the Intune Certificate Connector: the service on an NDES server that issues
//! and revokes PKCS certificates for Intune and verifies SCEP challenges through its policy
//! module. It holds the scenario language, the one world assembly, the driver and scheduler,
//! the checks, `serve`, `load`, the gateway runner and the reports; the command line
//! (`harness/`, clap and printing) calls it and nothing here parses arguments.
//!
//! Depends on every lower crate (contract, sim, pki, events, fakes, the reference connector)
//! and re-exports their modules under the names below; nothing below it depends on it.
//!
//! Data flows one way: a scenario is loaded and planned, run against fakes on real sockets
//! (a CA, the Intune service, an NDES/SCEP server) with a connector reacting to them; the
//! events the connector writes are collected by one [`event::Sink`], then checked against the
//! [`catalog`], snapshots and the scenario's expectations, and reported.
//!
//! ```
//! use harness_runner::catalog::{DiagnosticCode, EventId};
//! use harness_runner::event::{Details, Sink};
//! use harness_runner::sim::Clock;
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
