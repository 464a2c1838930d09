//! The SCEP gateway under test: a third-party SCEP server that validates each device's
//! request with Intune (`ScepActions`) before issuing and notifies Intune afterwards. The
//! harness plays everything around it — the identity platform, Graph discovery, Intune and the
//! devices — and judges what Intune recorded against what each device received.
//!
//! - [`world`]: the seam — the reference gateway or a vendor's SCEP URL (and command), and the
//!   fakes around it;
//! - [`config`]: what a gateway is configured with, as a file and as environment variables;
//! - [`reference`]: the reference gateway's policy module, with switchable bugs;
//! - [`intune_client`]: its client of the identity platform, discovery and `ScepActions`;
//! - [`devices`]: the devices that enroll against the gateway;
//! - [`checker`] and [`finding`]: the rules and what breaking one looks like;
//! - [`scenario`]: gateway scenarios (`scenarios/gateway/*.yaml`) and their runner.
//!
//! `docs/gateway.md` is the vendor's guide.

pub mod checker;
pub mod config;
pub mod devices;
pub mod finding;
pub mod intune_client;
pub mod reference;
pub mod report;
pub mod scenario;
pub mod world;

pub use finding::{GatewayFinding, GatewayRule};
pub use reference::GatewayBug;
pub use world::{GatewayUnderTest, GatewayVerdict, GatewayWorld};
