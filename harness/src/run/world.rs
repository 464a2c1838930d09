//! One scenario's world: the scenario clock and seed, the event sink, the fakes on 127.0.0.1
//! (CA, Intune, NDES, and the identity platform a SCEP gateway gets its tokens from), the connector's registration store, and the connector under test wired to them
//! (and plugged into NDES as its policy module).

use std::sync::Arc;

use time::OffsetDateTime;

use super::under_test::{self, Choice, Config, ConnectorUnderTest, Failure};
use crate::event::Sink;
use crate::fakes::ca::{CaConfig, CaKind, FakeCa};
use crate::fakes::identity::{AppRegistration, FakeIdentity, IdentityConfig};
use crate::fakes::intune::{FakeIntune, IntuneConfig};
use crate::fakes::ndes::{FakeNdes, NdesConfig};
use crate::provision::{provision, StoreCondition, StoreSetup};
use crate::scenario::model::{CaKindSetup, Presence, Scenario};
use crate::sim::{Clock, Rng, DEFAULT_EPOCH};

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
        let start = setup.start_time.map(|t| t.0).unwrap_or(DEFAULT_EPOCH);
        let clock = Clock::new(start);
        let rng = Rng::new(seed);
        let sink = Sink::new(clock.clone());
        let err = |what: &'static str| {
            move |e: crate::fakes::FakeError| SetupError(format!("{what}: {e}"))
        };

        let ca_config = CaConfig {
            kind: match setup.ca.kind {
                CaKindSetup::Microsoft => CaKind::Microsoft,
                CaKindSetup::Digicert => CaKind::DigiCert,
            },
            name: setup.ca.name.clone(),
            templates: setup
                .ca
                .templates
                .iter()
                .map(super::translate::template)
                .collect(),
            ..CaConfig::default()
        };
        let ca = FakeCa::start(ca_config, clock.clone(), rng.fork("ca"))
            .await
            .map_err(err("fake CA"))?;
        let intune_config = IntuneConfig {
            profiles: setup
                .intune
                .profiles
                .iter()
                .map(super::translate::profile)
                .collect(),
            ..IntuneConfig::default()
        };
        let intune = FakeIntune::start(intune_config, clock.clone(), rng.fork("intune"))
            .await
            .map_err(err("fake Intune"))?;

        let identity = FakeIdentity::start(
            IdentityConfig::new(
                &intune.tenant_id(),
                AppRegistration::test_gateway(&mut rng.fork("identity.app")),
            ),
            clock.clone(),
            rng.fork("identity"),
        )
        .await
        .map_err(err("fake identity platform"))?;

        let c = &setup.connector;
        let store_dir = tempfile::Builder::new()
            .prefix("connector-store-")
            .tempdir()
            .map_err(|e| SetupError(format!("registration store directory: {e}")))?;
        let signing = crate::pki::unb64(&intune.signing_certificate().certificate)
            .map_err(|e| SetupError(format!("signing certificate: {e}")))?;
        provision(store_dir.path(), &store_setup(scenario, start)?, &signing)
            .map_err(|e| SetupError(e.to_string()))?;
        let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let config = Config {
            discovery_url: intune.discovery_url(),
            store_dir: store_dir.path().display().to_string(),
            ca_url: ca.url().to_string(),
            ca_name: setup.ca.name.clone(),
            timeout_ms: millis(c.timeout.get()),
            retries: c.retries,
            backoff_ms: millis(c.backoff.get()),
            renewal_window_ms: millis(c.renewal_window.get()),
            batch_size: c.batch_size.max(1),
            ra_certificate: c
                .ra_certificate
                .unwrap_or(setup.ca.kind == CaKindSetup::Digicert),
            scep_template: c.scep_template.clone(),
        };
        let connector = under_test::launch(choice, config, &clock, &sink)
            .await
            .map_err(|e| SetupError(e.to_string()))?;
        let ndes_config = NdesConfig {
            ca_url: ca.url().to_string(),
            ca_name: setup.ca.name.clone(),
            timeout: c.timeout.get(),
            capabilities: setup.ndes.capabilities,
            ..NdesConfig::default()
        };
        let policy = super::observed::Observed::new(connector.policy());
        let ndes = FakeNdes::start(ndes_config, policy.clone(), rng.fork("ndes"))
            .await
            .map_err(|e| SetupError(format!("fake NDES: {e}")))?;
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
            ca,
            intune,
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

fn store_setup(scenario: &Scenario, start: OffsetDateTime) -> Result<StoreSetup, SetupError> {
    let reg = &scenario.setup.registration;
    let day = time::Duration::days(1);
    let out_of_range = || {
        SetupError(format!(
            "registration certificate: its dates from start_time {} fall outside the calendar",
            crate::sim::format_time(start)
        ))
    };
    let left = match (reg.state, reg.expires_in) {
        (_, Some(left)) => left.signed(),
        (StoreCondition::NearExpiry, None) => day * 10,
        (StoreCondition::Expired, None) => -day,
        _ => day * 365,
    };
    let not_after = start.checked_add(left).ok_or_else(out_of_range)?;
    let year_before = not_after.checked_sub(day * 365).ok_or_else(out_of_range)?;
    let not_before = year_before.min(start.checked_sub(day).ok_or_else(out_of_range)?);
    Ok(StoreSetup {
        condition: reg.state,
        not_before,
        not_after,
        signing_certificate: reg.signing_certificate == Presence::Present,
        crp_encryption_certificate: reg.crp_encryption_certificate == Presence::Present,
    })
}
