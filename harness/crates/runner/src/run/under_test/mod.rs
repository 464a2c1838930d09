//! The connector under test: one interface through which the runner does everything a
//! scenario asks of a connector — start, stop, sync, tell it the clock moved, and plug it into
//! NDES as the policy module — with two implementations: the reference model in this process
//! ([`in_process`]), and any connector running as its own process and speaking the
//! connector-under-test protocol ([`process`], [`crate::contract::process`]).
//!
//! Both get the same [`Config`]: where the fakes are, the registration store directory, and
//! the scenario's settings. A step that cannot be carried out, a process that crashes, hangs or
//! writes garbage, is a [`Failure`] that fails the scenario with the process's stderr tail —
//! never a hung run.

pub mod in_process;
pub mod process;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::contract::policy::PolicyModule;
pub use crate::contract::process::Config;

/// A boxed, sendable future.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why the connector under test could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the connector under test failed: {0}")]
pub struct Failure(pub String);

/// Which connector a run drives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Choice {
    /// The reference model, in the harness's process.
    #[default]
    Reference,
    /// A process started with `sh -c <command>`, speaking the protocol on stdin and stdout.
    Command(String),
}

/// What the runner does with a connector.
pub trait ConnectorUnderTest: Send + Sync {
    /// Starts the service.
    fn start(&self) -> Pending<'_, Result<(), Failure>>;
    /// Stops the service.
    fn stop(&self) -> Pending<'_, Result<(), Failure>>;
    /// Runs one service cycle.
    fn sync(&self) -> Pending<'_, Result<(), Failure>>;
    /// Tells the connector the scenario clock moved.
    fn clock_moved(&self) -> Pending<'_, Result<(), Failure>>;
    /// The policy module NDES asks.
    fn policy(&self) -> Arc<dyn PolicyModule>;
    /// The first failure seen outside a step (during a policy-module call), if any.
    fn failed(&self) -> Option<Failure>;
    /// Ends the session (the process exits); a failure here fails the scenario too.
    fn close(&self) -> Pending<'_, Result<(), Failure>>;
}

/// Starts the chosen connector with `config`; events go to `sink`, time is `clock`'s.
pub async fn launch(
    choice: &Choice,
    config: Config,
    clock: &crate::sim::Clock,
    sink: &crate::event::Sink,
) -> Result<Arc<dyn ConnectorUnderTest>, Failure> {
    Ok(match choice {
        Choice::Reference => Arc::new(in_process::InProcess::new(&config, clock, sink)),
        Choice::Command(cmd) => Arc::new(process::Process::launch(cmd, config, clock, sink).await?),
    })
}
