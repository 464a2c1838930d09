//! The one assembly of a world from a scenario's [`Setup`]: the fake CA and Intune service,
//! the connector's registration store, the connector's configuration, and NDES with the
//! connector as its policy module. `run` (one world per scenario), `serve` (one world for a
//! person or a vendor's process) and `load pkcs` build theirs here, so a default — a timeout,
//! the renewal window, a batch size, a template or CA name — is the [`Setup`]'s, named once.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::contract::policy::PolicyModule;
use crate::fakes::ca::{CaConfig, CaKind, FakeCa, CA_HISTORY};
use crate::fakes::intune::{FakeIntune, History, IntuneConfig};
use crate::fakes::ndes::{FakeNdes, NdesConfig, NDES_HISTORY};
use crate::fakes::server::Tls;
use crate::provision::{provision, StoreCondition, StoreSetup};
use crate::run::translate;
use crate::run::under_test::Config;
use crate::scenario::model::{CaKindSetup, Presence, RegistrationSetup, Setup};
use crate::sim::{Clock, Rng};

/// Where and how the fakes listen, and how much they remember. The default is a scenario
/// run's: 127.0.0.1, plain HTTP, histories far beyond any scenario.
#[derive(Clone, Debug)]
pub struct Listen {
    /// The address every fake binds (ports chosen by the OS).
    pub bind: IpAddr,
    /// HTTPS as well as plain HTTP on each port.
    pub tls: Option<Tls>,
    /// Most calls, uploads, challenges, transactions and requests each fake keeps.
    pub history: Option<usize>,
}

impl Default for Listen {
    fn default() -> Listen {
        Listen {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            tls: None,
            history: None,
        }
    }
}

/// Why a world could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    /// A fake did not start.
    #[error("starting the fake {what}: {why}")]
    Fake {
        /// Which.
        what: &'static str,
        /// Why.
        why: String,
    },
    /// The registration store could not be made.
    #[error("the registration store: {0}")]
    Store(String),
}

/// The CA and the Intune service of a world (NDES needs the connector, so comes later).
pub struct Backends {
    /// The fake CA.
    pub ca: FakeCa,
    /// The fake Intune service.
    pub intune: FakeIntune,
}

/// The fake CA `setup` describes.
pub fn ca_config(setup: &Setup, listen: &Listen) -> CaConfig {
    CaConfig {
        bind: listen.bind,
        kind: match setup.ca.kind {
            CaKindSetup::Microsoft => CaKind::Microsoft,
            CaKindSetup::Digicert => CaKind::DigiCert,
        },
        name: setup.ca.name.clone(),
        templates: setup.ca.templates.iter().map(translate::template).collect(),
        tls: listen.tls.clone(),
        history: listen.history.unwrap_or(CA_HISTORY),
        ..CaConfig::default()
    }
}

/// The fake Intune service `setup` describes.
pub fn intune_config(setup: &Setup, listen: &Listen) -> IntuneConfig {
    IntuneConfig {
        bind: listen.bind,
        profiles: setup
            .intune
            .profiles
            .iter()
            .map(translate::profile)
            .collect(),
        tls: listen.tls.clone(),
        history: match listen.history {
            Some(h) => History {
                calls: h,
                uploads: h,
                challenges: h,
                transactions: h,
            },
            None => History::default(),
        },
        ..IntuneConfig::default()
    }
}

/// Starts the fake CA and Intune service on `clock`, each with its own fork of `rng`.
pub async fn start_backends(
    setup: &Setup,
    listen: &Listen,
    clock: &Clock,
    rng: &Rng,
) -> Result<Backends, AssembleError> {
    let fake = |what: &'static str| {
        move |e: crate::fakes::FakeError| AssembleError::Fake {
            what,
            why: e.to_string(),
        }
    };
    let ca = FakeCa::start(ca_config(setup, listen), clock.clone(), rng.fork("ca"))
        .await
        .map_err(fake("CA"))?;
    let intune = FakeIntune::start(
        intune_config(setup, listen),
        clock.clone(),
        rng.fork("intune"),
    )
    .await
    .map_err(fake("Intune service"))?;
    Ok(Backends { ca, intune })
}

/// The registration certificate's dates and files `reg` asks for, a scenario starting at
/// `start`: by default valid from a day before the start to a year after.
pub fn store_setup(
    reg: &RegistrationSetup,
    start: OffsetDateTime,
) -> Result<StoreSetup, AssembleError> {
    let day = time::Duration::days(1);
    let out_of_range = || {
        AssembleError::Store(format!(
            "its certificate's dates from start_time {} fall outside the calendar",
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

/// A fresh registration store (removed when dropped) holding what `setup.registration` asks
/// for, with Intune's SCEP signing certificate.
pub fn registration_store(
    setup: &Setup,
    intune: &FakeIntune,
    start: OffsetDateTime,
) -> Result<tempfile::TempDir, AssembleError> {
    let dir = tempfile::Builder::new()
        .prefix("connector-store-")
        .tempdir()
        .map_err(|e| AssembleError::Store(format!("its directory: {e}")))?;
    let signing = crate::pki::unb64(&intune.signing_certificate().certificate)
        .map_err(|e| AssembleError::Store(format!("the SCEP signing certificate: {e}")))?;
    provision(
        dir.path(),
        &store_setup(&setup.registration, start)?,
        &signing,
    )
    .map_err(|e| AssembleError::Store(e.to_string()))?;
    Ok(dir)
}

/// The connector's configuration: `setup`'s settings, the backends' in-process URLs and the
/// store at `store_dir`.
pub fn connector_config(setup: &Setup, backends: &Backends, store_dir: &std::path::Path) -> Config {
    let c = &setup.connector;
    let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    Config {
        discovery_url: backends.intune.discovery_url(),
        store_dir: store_dir.display().to_string(),
        ca_url: backends.ca.url().to_string(),
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
    }
}

/// Starts NDES in front of the backends' CA, with `policy` as its policy module.
pub async fn start_ndes(
    setup: &Setup,
    listen: &Listen,
    ca: &FakeCa,
    policy: Arc<dyn PolicyModule>,
    rng: &Rng,
) -> Result<FakeNdes, AssembleError> {
    let config = NdesConfig {
        bind: listen.bind,
        ca_url: ca.url().to_string(),
        ca_name: setup.ca.name.clone(),
        timeout: setup.connector.timeout.get(),
        capabilities: setup.ndes.capabilities,
        tls: listen.tls.clone(),
        history: listen.history.unwrap_or(NDES_HISTORY),
        ..NdesConfig::default()
    };
    FakeNdes::start(config, policy, rng.fork("ndes"))
        .await
        .map_err(|e| AssembleError::Fake {
            what: "NDES",
            why: e.to_string(),
        })
}

/// The scenario time a world starts at.
pub fn start_time(setup: &Setup) -> OffsetDateTime {
    setup
        .start_time
        .map(|t| t.0)
        .unwrap_or(crate::sim::DEFAULT_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::intune::ScepProfile;

    /// `serve` and `load pkcs` run on the default setup: it must be the fakes' own defaults,
    /// or the three worlds would differ.
    #[test]
    fn the_default_setup_is_the_fakes_defaults() {
        let setup = Setup::default();
        let listen = Listen::default();
        assert_eq!(ca_config(&setup, &listen), CaConfig::default());
        assert_eq!(
            intune_config(&setup, &listen).profiles,
            vec![ScepProfile::default_profile()]
        );
        assert_eq!(intune_config(&setup, &listen), IntuneConfig::default());
    }

    #[test]
    fn the_default_store_is_valid_from_a_day_before_to_a_year_after() {
        let start = crate::sim::DEFAULT_EPOCH;
        let s = store_setup(&RegistrationSetup::default(), start).expect("in range");
        assert_eq!(s.not_before, start - time::Duration::days(1));
        assert_eq!(s.not_after, start + time::Duration::days(365));
        assert!(s.signing_certificate && s.crp_encryption_certificate);
        assert_eq!(s.condition, StoreCondition::Present);
    }
}
