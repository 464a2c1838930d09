//! A gateway's world: the scenario clock and seed, the identity platform, the fake Intune
//! (checking the platform's tokens, judging transport deviations), and the gateway under
//! test behind a SCEP URL — the reference gateway (the fake NDES with
//! [`ReferenceGateway`] as its policy module and the fake CA issuing, over real sockets), or a
//! vendor's, at a URL, optionally started by the harness with its configuration in a file and
//! in environment variables ([`GatewayConfig`]).

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use super::checker;
use super::config::GatewayConfig;
use super::devices::{enroll_all, DevicePlan, DeviceResult, IssuanceWitness};
use super::finding::GatewayFinding;
use super::intune_client::IntuneClient;
use super::reference::{GatewayBug, ReferenceGateway};
use crate::contract::intune::judged::TransportMode;
use crate::fakes::ca::{CaConfig, FakeCa};
use crate::fakes::identity::{AppRegistration, FakeIdentity, IdentityConfig};
use crate::fakes::intune::{FakeIntune, IntuneConfig};
use crate::fakes::ndes::{FakeNdes, NdesConfig};
use crate::sim::{Clock, Rng, DEFAULT_EPOCH};

/// How long a started gateway command has to answer GetCACaps.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// The gateway under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewayUnderTest {
    /// The reference gateway, with these bugs switched on.
    Reference(BTreeSet<GatewayBug>),
    /// A vendor's gateway at `scep_url`; with `command`, the harness starts it (`sh -c`) with
    /// the configuration and stops it at the end.
    External {
        /// Its SCEP URL (the mscep.dll or `/scep` endpoint).
        scep_url: String,
        /// A shell command that runs it.
        command: Option<String>,
    },
}

/// Why a gateway world could not be built or driven.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A fake, the configuration file or the command did not start.
    #[error("gateway world: {0}")]
    Setup(String),
    /// The gateway could not be enrolled against at all.
    #[error("gateway at {url}: {why}")]
    Unusable {
        /// Its SCEP URL.
        url: String,
        /// What went wrong.
        why: String,
    },
}

/// Everything a gateway runs against.
pub struct GatewayWorld {
    /// Scenario clock.
    pub clock: Clock,
    /// Root of the run's randomness.
    pub rng: Rng,
    /// The identity platform.
    pub identity: FakeIdentity,
    /// Intune.
    pub intune: FakeIntune,
    /// The reference gateway's CA (also offered to a vendor's gateway).
    pub ca: FakeCa,
    /// The reference gateway's NDES, when it is the one under test.
    pub ndes: Option<FakeNdes>,
    /// The configuration the gateway got.
    pub config: GatewayConfig,
    /// The SCEP URL the devices enroll at.
    pub scep_url: String,
    child: Option<tokio::process::Child>,
    witness: Option<Arc<IssuanceWitness>>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    devices_rng: tokio::sync::Mutex<Rng>,
}

impl GatewayWorld {
    /// Builds the world with `seed` around `under_test`.
    pub async fn start(
        seed: u64,
        under_test: &GatewayUnderTest,
    ) -> Result<GatewayWorld, GatewayError> {
        fn setup(what: &'static str) -> impl Fn(String) -> GatewayError {
            move |e| GatewayError::Setup(format!("{what}: {e}"))
        }
        let clock = Clock::new(DEFAULT_EPOCH);
        let rng = Rng::new(seed);
        let tenant_id = rng.fork("gateway.tenant").guid();
        let app = AppRegistration::test_gateway(&mut rng.fork("identity.app"));
        let identity = FakeIdentity::start(
            IdentityConfig::new(&tenant_id, app.clone()),
            clock.clone(),
            rng.fork("identity"),
        )
        .await
        .map_err(|e| setup("identity platform")(e.to_string()))?;
        let intune = FakeIntune::start(
            IntuneConfig {
                tenant_id: Some(tenant_id.clone()),
                tokens: Some(identity.keys()),
                transport: TransportMode::Judge,
                ..IntuneConfig::default()
            },
            clock.clone(),
            rng.fork("intune"),
        )
        .await
        .map_err(|e| setup("Intune")(e.to_string()))?;
        let ca = FakeCa::start(CaConfig::default(), clock.clone(), rng.fork("ca"))
            .await
            .map_err(|e| setup("CA")(e.to_string()))?;
        let config = GatewayConfig {
            tenant_id,
            client_id: app.client_id,
            client_secret: app.client_secret,
            login_url: identity.url().to_string(),
            graph_url: intune.url(),
            ca_bundle: None,
        };
        let dir = tempfile::Builder::new()
            .prefix("gateway-")
            .tempdir()
            .map_err(|e| setup("directory")(e.to_string()))?;
        let (ndes, scep_url, child, witness) = match under_test {
            GatewayUnderTest::Reference(bugs) => {
                let client = IntuneClient::new(
                    config.clone(),
                    clock.clone(),
                    Duration::from_secs(5),
                    rng.fork("gateway.ids"),
                )
                .map_err(setup("gateway client"))?;
                let policy = Arc::new(IssuanceWitness::new(
                    Arc::new(ReferenceGateway::new(client, "IntuneDevice", bugs.clone())),
                    intune.scep_call_counter(),
                ));
                let ndes = FakeNdes::start(
                    NdesConfig {
                        ca_url: ca.url().to_string(),
                        ca_name: CaConfig::default().name,
                        ..NdesConfig::default()
                    },
                    policy.clone(),
                    rng.fork("ndes"),
                )
                .await
                .map_err(|e| setup("NDES")(e.to_string()))?;
                let url = ndes.url();
                (Some(ndes), url, None, Some(policy))
            }
            GatewayUnderTest::External { scep_url, command } => {
                let file = dir.path().join("gateway.json");
                config
                    .write(&file)
                    .map_err(|e| setup("gateway.json")(e.to_string()))?;
                let child = match command {
                    None => None,
                    Some(cmd) => Some(
                        tokio::process::Command::new("sh")
                            .arg("-c")
                            .arg(cmd)
                            .envs(config.env(&file))
                            .stdin(Stdio::null())
                            .kill_on_drop(true)
                            .spawn()
                            .map_err(|e| setup("gateway command")(e.to_string()))?,
                    ),
                };
                (None, scep_url.clone(), child, None)
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .map_err(|e| setup("HTTP client")(e.to_string()))?;
        let devices_rng = tokio::sync::Mutex::new(rng.fork("gateway.devices"));
        Ok(GatewayWorld {
            http,
            devices_rng,
            clock,
            rng,
            identity,
            intune,
            ca,
            ndes,
            config,
            scep_url,
            child,
            witness,
            dir,
        })
    }

    /// Enrolls `plans` one after another and judges the result.
    pub async fn run(&self, plans: &[DevicePlan]) -> Result<GatewayVerdict, GatewayError> {
        let devices = self.enroll(plans).await?;
        let findings = self.judge(&devices);
        Ok(GatewayVerdict { devices, findings })
    }

    /// Enrolls `plans` one after another (device keys and nonces from the seed, continuing
    /// across calls).
    pub async fn enroll(&self, plans: &[DevicePlan]) -> Result<Vec<DeviceResult>, GatewayError> {
        let unusable = |why: String| GatewayError::Unusable {
            url: self.scep_url.clone(),
            why,
        };
        let server = self.ready(&self.http).await.map_err(unusable)?;
        let mut rng = self.devices_rng.lock().await;
        let mut devices = enroll_all(
            &self.http,
            &self.scep_url,
            &server,
            &self.intune,
            plans,
            &mut rng,
        )
        .await
        .map_err(unusable)?;
        if let Some(w) = &self.witness {
            for d in &mut devices {
                d.calls_before_issuance = w.issued_at(&d.transaction_id);
            }
        }
        Ok(devices)
    }

    /// The checker's findings for `devices`, from what Intune recorded.
    pub fn judge(&self, devices: &[DeviceResult]) -> Vec<GatewayFinding> {
        checker::check(&self.intune.state().scep_calls, devices)
    }

    async fn ready(&self, http: &reqwest::Client) -> Result<crate::load::discover::Server, String> {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            match crate::load::discover::discover(http, &self.scep_url).await {
                Ok(s) => return Ok(s),
                Err(e) if self.child.is_none() || tokio::time::Instant::now() >= deadline => {
                    return Err(format!("{e:#}"))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Stops the gateway command (if the harness started one) and the fakes.
    pub async fn shutdown(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
        if let Some(ndes) = self.ndes.take() {
            ndes.shutdown().await;
        }
        self.intune.shutdown().await;
        self.identity.shutdown().await;
        self.ca.shutdown().await;
        drop(self.dir);
    }
}

/// What one run of devices came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayVerdict {
    /// Each device's enrollment.
    pub devices: Vec<DeviceResult>,
    /// What the checker found (none: the gateway kept every rule).
    pub findings: Vec<GatewayFinding>,
}
