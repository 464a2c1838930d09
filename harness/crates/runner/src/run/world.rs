//! One scenario's world: the scenario clock and seed, the event sink, the fakes on 127.0.0.1
//! (CA, Intune, NDES, and the identity platform a SCEP gateway gets its tokens from), the
//! connector's registration store, and the connector under test wired to them
//! (and plugged into NDES as its policy module) — put together by [`crate::assemble`].

use std::sync::Arc;

use super::under_test::{self, Choice, ConnectorUnderTest, Failure};
use crate::assemble::{self, AssembleError, Listen};
use crate::event::Sink;
use crate::fakes::ca::FakeCa;
use crate::fakes::identity::{AppRegistration, FakeIdentity, IdentityConfig};
use crate::fakes::intune::FakeIntune;
use crate::fakes::ndes::FakeNdes;
use crate::scenario::model::{Presence, Scenario};
use crate::sim::{Clock, Rng};

/// Everything a scenario runs against.
pub struct World {
    /// Scenario clock.
    pub clock: Clock,
    /// Root of the run's randomness.
    pub rng: Rng,
    /// The event stream.
    pub sink: Sink,
    /// Fake CA.
    pub ca: FakeCa,
    /// Fake Intune service.
    pub intune: FakeIntune,
    /// Fake NDES.
    pub ndes: FakeNdes,
    /// Fake identity platform (its tokens are checked only where a gateway is under test).
    pub identity: FakeIdentity,
    /// The connector under test (the reference model or a vendor's process).
    pub connector: Arc<dyn ConnectorUnderTest>,
    /// The name the CA issues as.
    pub ca_name: String,
    /// The connector's policy module as NDES calls it, recording each enrollment.
    pub policy: Arc<super::observed::Observed>,
    /// HTTP client of the simulated devices.
    pub http: reqwest::Client,
    /// The connector's registration store directory (removed with the world).
    pub store_dir: tempfile::TempDir,
}

/// A world that could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the scenario's world: {0}")]
pub struct SetupError(pub String);

impl World {
    /// Builds the world `scenario` describes, with `seed`, around the connector `choice`.
    pub async fn start(
        scenario: &Scenario,
        seed: u64,
        choice: &Choice,
    ) -> Result<World, SetupError> {
        let setup = &scenario.setup;
        let start = assemble::start_time(setup);
        let clock = Clock::new(start);
        let rng = Rng::new(seed);
        let sink = Sink::new(clock.clone());
        let setup_error = |e: AssembleError| SetupError(e.to_string());
        let listen = Listen::default();
        let backends = assemble::start_backends(setup, &listen, &clock, &rng)
            .await
            .map_err(setup_error)?;
        let identity = FakeIdentity::start(
            IdentityConfig::new(
                &backends.intune.tenant_id(),
                AppRegistration::test_gateway(&mut rng.fork("identity.app")),
            ),
            clock.clone(),
            rng.fork("identity"),
        )
        .await
        .map_err(|e| SetupError(format!("starting the fake identity platform: {e}")))?;
        let store_dir =
            assemble::registration_store(setup, &backends.intune, start).map_err(setup_error)?;
        let config = assemble::connector_config(setup, &backends, store_dir.path());
        let connector = under_test::launch(choice, config, &clock, &sink)
            .await
            .map_err(|e| SetupError(e.to_string()))?;
        let policy = super::observed::Observed::new(connector.policy());
        let ndes = assemble::start_ndes(setup, &listen, &backends.ca, policy.clone(), &rng)
            .await
            .map_err(setup_error)?;
        let c = &setup.connector;
        // A device waits long enough for NDES to exhaust the connector's own retries. (The
        // loader caps both; saturating keeps that true for any caller.)
        let patience = c
            .timeout
            .get()
            .saturating_mul(
                c.retries
                    .saturating_add(1)
                    .saturating_mul(4)
                    .saturating_add(2),
            )
            .saturating_add(std::time::Duration::from_secs(2));
        let http = reqwest::Client::builder()
            .timeout(patience)
            .no_proxy()
            .build()
            .map_err(|e| SetupError(format!("HTTP client: {e}")))?;
        Ok(World {
            clock,
            rng,
            sink,
            ca: backends.ca,
            intune: backends.intune,
            ndes,
            identity,
            connector,
            ca_name: setup.ca.name.clone(),
            policy,
            http,
            store_dir,
        })
    }

    /// Stops the fakes (releasing any hanging request).
    /// Puts files in place in, or takes them away from, the connector's store mid-run.
    pub fn change_store(
        &self,
        change: &crate::scenario::model::StoreChange,
    ) -> Result<(), crate::provision::ProvisionError> {
        let signing = crate::pki::unb64(&self.intune.signing_certificate().certificate)
            .map_err(|e| crate::provision::ProvisionError::Certificate(e.to_string()))?;
        if let Some(p) = change.signing_certificate {
            crate::provision::set_signing_certificate(
                self.store_dir.path(),
                (p == Presence::Present).then_some(signing.as_slice()),
            )?;
        }
        if let Some(p) = change.crp_encryption_certificate {
            crate::provision::set_crp_encryption_certificate(
                self.store_dir.path(),
                p == Presence::Present,
            )?;
        }
        Ok(())
    }

    /// Ends the connector's session, then stops the fakes (releasing any held request). A
    /// connector that fails to end cleanly is a failure of the run.
    pub async fn shutdown(self) -> Result<(), Failure> {
        let closed = self.connector.close().await;
        self.ndes.shutdown().await;
        self.intune.shutdown().await;
        self.ca.shutdown().await;
        self.identity.shutdown().await;
        closed
    }
}
