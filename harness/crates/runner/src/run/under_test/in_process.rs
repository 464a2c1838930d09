//! The reference connector in the harness's own process: the same model the
//! `connector-harness connector` binary runs, with the harness's clock and sink.

use std::sync::Arc;

use super::{Config, ConnectorUnderTest, Failure, Pending};
use crate::connector::{env, process::config_of, Bugs, Connector};
use crate::contract::policy::PolicyModule;
use crate::event::Sink;
use crate::sim::Clock;

/// The reference connector, in-process.
pub struct InProcess {
    connector: Connector,
}

impl InProcess {
    /// The model configured by `config`, writing to `sink`, reading `clock`.
    pub fn new(config: &Config, clock: &Clock, sink: &Sink) -> InProcess {
        let (time, log) = env::in_process(clock, sink);
        InProcess {
            connector: Connector::new(config_of(config, Bugs::default()), log, time),
        }
    }
}

impl ConnectorUnderTest for InProcess {
    fn start(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(async {
            self.connector.start().await;
            Ok(())
        })
    }

    fn stop(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(async {
            self.connector.stop().await;
            Ok(())
        })
    }

    fn sync(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(async {
            self.connector.sync().await;
            Ok(())
        })
    }

    fn clock_moved(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(async { Ok(()) })
    }

    fn policy(&self) -> Arc<dyn PolicyModule> {
        Arc::new(self.connector.clone())
    }

    fn failed(&self) -> Option<Failure> {
        None
    }

    fn close(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(async { Ok(()) })
    }
}
