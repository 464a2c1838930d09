//! Gateway scenarios (`scenarios/gateway/*.yaml`): devices enrolling against the gateway under
//! test while faults break Intune, the identity platform or the CA, and what must come of it —
//! what each device receives and which rules, if any, the checker finds broken (none for a
//! correct gateway).
//!
//! ```yaml
//! name: gateway-notify-fails
//! summary: Intune fails the success notification once; the device must not get a certificate.
//! tags: [gateway]
//! steps:
//!   - fault: {target: intune.notify, kind: status, status: 500, times: 1}
//!   - enroll: {device: phone-1, user: bob@contoso.test, expect: rejected}
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::devices::{ChallengePlan, DevicePlan, DeviceResult, Received};
use super::finding::{GatewayFinding, GatewayRule};
use super::world::{GatewayError, GatewayUnderTest, GatewayWorld};
use crate::contract::fault::FaultTarget;
use crate::scenario::model::FaultStep;

/// The default seed of a gateway scenario.
pub const DEFAULT_SEED: u64 = 18;

/// Most steps a gateway scenario may have.
pub const MAX_STEPS: usize = 200;

/// A gateway scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayScenario {
    /// Its name (the file's stem).
    pub name: String,
    /// One sentence for people.
    pub summary: String,
    /// Tags; every gateway scenario carries `gateway`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The seed.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// What happens, in order.
    pub steps: Vec<GatewayStep>,
    /// Rules the checker must find broken (default: none).
    #[serde(default)]
    pub findings: Vec<GatewayRule>,
}

fn default_seed() -> u64 {
    DEFAULT_SEED
}

/// One step.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GatewayStep {
    /// Breaks an operation of Intune, the identity platform or the CA.
    Fault(FaultStep),
    /// Heals a target (or `all`).
    Heal(String),
    /// One device enrolls.
    Enroll(EnrollStep),
    /// The CA stops offering a template (the reference gateway issues with `IntuneDevice`).
    RemoveTemplate(String),
}

/// One device's enrollment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollStep {
    /// Device id.
    pub device: String,
    /// User id.
    pub user: String,
    /// `valid` (minted by Intune, the default) or `foreign` (never minted).
    #[serde(default)]
    pub challenge: ChallengeName,
    /// What the device must receive.
    pub expect: Expect,
}

/// The challenge a device presents.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeName {
    /// Minted by Intune for the device.
    #[default]
    Valid,
    /// Never minted by Intune.
    Foreign,
}

/// What a device must receive.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// A certificate.
    Issued,
    /// No certificate (CertRep FAILURE).
    Rejected,
}

/// Why a gateway scenario did not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML does not describe a gateway scenario.
    #[error("{file}: {why}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Why (with line and column where the parser knows them).
        why: String,
    },
}

/// Loads one scenario file.
pub fn load(file: &Path) -> Result<GatewayScenario, LoadError> {
    let text = std::fs::read_to_string(file).map_err(|source| LoadError::Read {
        file: file.into(),
        source,
    })?;
    let invalid = |why: String| LoadError::Invalid {
        file: file.into(),
        why,
    };
    // Through a JSON value: steps are written as one-key maps (`- fault: {…}`), the form
    // serde reads as an externally tagged enum from JSON but not from YAML tags.
    let value: serde_json::Value =
        serde_yaml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let s: GatewayScenario = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    if s.steps.len() > MAX_STEPS {
        return Err(invalid(format!(
            "{} steps; at most {MAX_STEPS}",
            s.steps.len()
        )));
    }
    for step in &s.steps {
        if let GatewayStep::Fault(f) = step {
            if !f.target.kinds().contains(&f.kind) {
                return Err(invalid(format!(
                    "fault kind `{}` does not apply to `{}`",
                    f.kind.name(),
                    f.target
                )));
            }
            if matches!(f.target, FaultTarget::Ndes(_)) {
                return Err(invalid(format!(
                    "`{}`: the gateway under test is the SCEP server; break Intune, the identity platform or the CA",
                    f.target
                )));
            }
        }
    }
    Ok(s)
}

/// What one scenario came to.
#[derive(Debug, Clone)]
pub struct ScenarioOutcome {
    /// The scenario's name.
    pub name: String,
    /// Every device's enrollment.
    pub devices: Vec<DeviceResult>,
    /// What the checker found.
    pub findings: Vec<GatewayFinding>,
    /// Why the scenario failed (empty: it passed).
    pub problems: Vec<String>,
}

impl ScenarioOutcome {
    /// A scenario whose run could not be carried out: `why` is its one problem.
    pub fn not_run(name: &str, why: String) -> ScenarioOutcome {
        ScenarioOutcome {
            name: name.to_string(),
            devices: Vec::new(),
            findings: Vec::new(),
            problems: vec![why],
        }
    }

    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

async fn step(
    w: &GatewayWorld,
    s: &GatewayStep,
    devices: &mut Vec<DeviceResult>,
) -> Result<(), String> {
    match s {
        GatewayStep::Fault(f) => {
            let fault = crate::run::steps::fault_of(f);
            match f.target {
                FaultTarget::Intune(op) => w.intune.inject(op, fault),
                FaultTarget::Identity(op) => w.identity.inject(op, fault).await,
                FaultTarget::Ca(op) => w.ca.inject(op, fault).await,
                FaultTarget::Ndes(_) => Ok(()),
            }
            .map_err(|e| e.to_string())
        }
        GatewayStep::Heal(target) => match target.parse::<FaultTarget>() {
            Ok(FaultTarget::Intune(op)) => {
                w.intune.heal(op);
                Ok(())
            }
            Ok(FaultTarget::Identity(op)) => w.identity.heal(op).await.map_err(|e| e.to_string()),
            Ok(FaultTarget::Ca(op)) => w.ca.heal(op).await.map_err(|e| e.to_string()),
            Ok(FaultTarget::Ndes(_)) => Ok(()),
            Err(_) if target == "all" => {
                w.intune.heal_all();
                w.identity.heal_all().await.map_err(|e| e.to_string())?;
                w.ca.heal_all().await.map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        },
        GatewayStep::RemoveTemplate(name) => {
            w.ca.remove_template(name);
            Ok(())
        }
        GatewayStep::Enroll(e) => {
            let plan = DevicePlan {
                device: e.device.clone(),
                user: e.user.clone(),
                profile: "SCEP-Default".into(),
                challenge: match e.challenge {
                    ChallengeName::Valid => ChallengePlan::Valid,
                    ChallengeName::Foreign => ChallengePlan::Foreign,
                },
            };
            let got = w.enroll(&[plan]).await.map_err(|e| e.to_string())?;
            devices.extend(got);
            Ok(())
        }
    }
}

/// Runs `scenario` against `under_test` and judges it.
pub async fn run(
    scenario: &GatewayScenario,
    under_test: &GatewayUnderTest,
) -> Result<ScenarioOutcome, GatewayError> {
    let w = GatewayWorld::start(scenario.seed, under_test).await?;
    let mut devices = Vec::new();
    let mut problems = Vec::new();
    for (i, s) in scenario.steps.iter().enumerate() {
        if let Err(why) = step(&w, s, &mut devices).await {
            problems.push(format!("step {}: {why}", i + 1));
            break;
        }
    }
    let findings = w.judge(&devices);
    let enrolls = scenario.steps.iter().filter_map(|s| match s {
        GatewayStep::Enroll(e) => Some(e),
        _ => None,
    });
    for (e, d) in enrolls.zip(&devices) {
        let issued = matches!(d.received, Received::Certificate { .. });
        match (e.expect, issued) {
            (Expect::Issued, false) => problems.push(format!(
                "{}: expected a certificate, received {:?}",
                e.device, d.received
            )),
            (Expect::Rejected, true) => problems.push(format!(
                "{}: expected no certificate, received one",
                e.device
            )),
            _ => {}
        }
    }
    let found: Vec<GatewayRule> = findings.iter().map(|f| f.rule).collect();
    for f in &findings {
        if !scenario.findings.contains(&f.rule) {
            problems.push(format!("finding: {f}"));
        }
    }
    for want in &scenario.findings {
        if !found.contains(want) {
            problems.push(format!("expected finding {want} was not found"));
        }
    }
    w.shutdown().await;
    Ok(ScenarioOutcome {
        name: scenario.name.clone(),
        devices,
        findings,
        problems,
    })
}

/// Every `*.yaml` under `dir`, sorted.
pub fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    crate::scenario::scenario_files(dir)
}
