//! The integration tests of the product, in one binary: each module is one concern (a command,
//! a fake, a document, a peer), sharing the helpers below. One binary links the crates once;
//! `cargo test --test it <module>::` runs one concern.
//!
//! The scenario library runs in its own binary (`tests/scenarios.rs`, one trial per scenario).

mod common;
mod props;
mod serve_support;

mod boundaries;
mod catalog_table;
mod check_cli;
mod check_evtx;
mod check_log;
mod conformance;
mod connector_peers;
mod connector_pkcs_order;
mod event_log_doc;
mod explain;
mod fake_server;
mod fakes_ca;
mod fakes_intune;
mod fuzz_regressions;
mod gateway;
mod html_report;
mod limits;
mod load_scep;
mod ndes;
mod properties;
mod pyscep_interop;
mod readme_faults;
mod readme_walkthrough;
mod run_cli;
mod scenario_errors;
mod scenario_readme;
mod scenario_time;
mod scep_interop;
mod serve_admin;
mod serve_doc;
mod serve_interop;
mod serve_process;
mod serve_tls;
mod storm_concurrency;
mod stream_formats;
mod unified_2021;
mod vendor_contract_doc;
mod vendor_mode;
mod wire_contracts_doc;
