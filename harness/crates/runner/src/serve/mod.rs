//! `serve`: one set of fakes (CA, Intune, NDES) with the reference connector as NDES's policy
//! module, running until stopped, for vendors and outside clients to talk to — and an admin
//! API on its own port to break, move and inspect that world while it runs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), harness_runner::serve::ServeError> {
//! use harness_runner::serve::{Serve, ServeOptions};
//! let serve = Serve::start(ServeOptions::at(harness_runner::serve::clock::start_time(None)?)).await?;
//! println!("NDES at {}, admin at {}", serve.urls().ndes, serve.urls().admin);
//! serve.stopped().await; // until `POST /shutdown` (the CLI also stops on SIGINT and SIGTERM)
//! serve.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! Where it differs from a scenario run, on purpose (`docs/serve.md` has every switch):
//! - Time starts *now* and, by default, moves with wall time ([`clock`]).
//! - Events leave memory as they are written, for a file ([`events`]); histories are bounded
//!   ([`ServeOptions::history`]), so memory stays flat however long it runs.
//! - `--tls` serves HTTPS on every port ([`tls`]).

pub mod admin;
pub mod clock;
pub mod device;
pub mod events;
pub mod tls;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::assemble::{self, AssembleError, Backends, Listen};
use crate::contract::intune::admin as intune_admin;
use crate::event::Sink;
use crate::fakes::ca::FakeCa;
use crate::fakes::intune::FakeIntune;
use crate::fakes::ndes::FakeNdes;
use crate::fakes::server::{Incidents, Limits, Server};
use crate::run::under_test::{self, Choice, ConnectorUnderTest, Failure};
use crate::scenario::model::{ConnectorSetup, NdesSetup, Setup};
use crate::scenario::Span;
use crate::scep::Capabilities;
use crate::sim::{Clock, Rng};
use clock::{ClockControl, ClockMode};
use events::EventLog;

/// The default [`ServeOptions::history`].
pub const DEFAULT_HISTORY: usize = 1_000;

/// The largest [`ServeOptions::history`] accepted.
pub const MAX_HISTORY: usize = 1_000_000;

/// How to run `serve`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address every port listens on (the fakes and the admin API).
    pub bind: IpAddr,
    /// Seed of serials, challenges and nonces.
    pub seed: u64,
    /// Where the scenario clock starts ([`clock::start_time`]).
    pub start: OffsetDateTime,
    /// Whether wall time moves the clock.
    pub clock: ClockMode,
    /// The event file (JSON Lines, written as events happen); a temporary file when `None`.
    pub events: Option<PathBuf>,
    /// Print each event to stderr.
    pub echo_events: bool,
    /// Serve HTTPS (and plain HTTP) on every port, with a certificate from the test CA.
    pub tls: bool,
    /// More names (DNS or IP) for the TLS certificate.
    pub tls_names: Vec<String>,
    /// Write the CA a client should trust (the test root, PEM) here; with `tls` and no path,
    /// into a temporary folder.
    pub ca_file: Option<PathBuf>,
    /// Entries each history keeps (CA journal and certificates, NDES requests, Intune calls,
    /// uploads, challenges and transactions): beyond it the oldest are forgotten.
    pub history: usize,
    /// Idle time after which the admin API closes a connection; `None` (the default): never,
    /// so that an event follower, which sends nothing after its request, is never cut off.
    pub admin_idle: Option<Duration>,
    /// What NDES's GetCACaps advertises.
    pub capabilities: Capabilities,
    /// The connector NDES asks and `POST /sync` drives: the reference model, or an outside
    /// process speaking the connector-under-test protocol (`--connector-cmd`).
    pub connector: Choice,
}

impl ServeOptions {
    /// The defaults, with the clock starting at `start`.
    pub fn at(start: OffsetDateTime) -> ServeOptions {
        ServeOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            seed: 1,
            start,
            clock: ClockMode::Wall,
            events: None,
            echo_events: false,
            tls: false,
            tls_names: Vec::new(),
            ca_file: None,
            history: DEFAULT_HISTORY,
            admin_idle: None,
            capabilities: Capabilities::Ndes,
            connector: Choice::Reference,
        }
    }
}

/// Errors starting or stopping `serve`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A start time or clock move that cannot be.
    #[error("{0}")]
    Clock(#[from] clock::ClockError),
    /// A fake did not start.
    #[error("starting the fake {what}: {why}")]
    Fake {
        /// Which.
        what: &'static str,
        /// Why.
        why: String,
    },
    /// The admin API did not start.
    #[error("starting the admin API on {addr}: {source}")]
    Admin {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS material could not be made.
    #[error("--tls: {0}")]
    Tls(String),
    /// A bad option.
    #[error("{0}")]
    Option(String),
    /// The connector under test did not start.
    #[error("{0}")]
    Connector(#[from] Failure),
    /// The fakes or the registration store could not be put together.
    #[error("{0}")]
    World(#[from] AssembleError),
    /// A file could not be written.
    #[error("{what}: {source}")]
    Io {
        /// Which file, doing what.
        what: String,
        /// Why.
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let what = what.into();
    move |source| ServeError::Io { what, source }
}

/// Every URL `serve` offers (printed at start, written to `--urls-file`, `GET /urls`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Urls {
    /// The fake CA's base URL.
    pub ca: String,
    /// The fake Intune's base URL.
    pub intune: String,
    /// The fake NDES's mscep.dll URL.
    pub ndes: String,
    /// Intune's service discovery URL (what a connector is configured with).
    pub intune_discovery: String,
    /// Intune's own challenge-minting endpoint (the admin API has one too).
    pub mint_challenge: String,
    /// The admin API's base URL.
    pub admin: String,
    /// The admin API's live event stream.
    pub events: String,
    /// The event file (JSON Lines).
    pub events_file: PathBuf,
    /// The CA file a client should trust (the test root, PEM), when one was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// The running world the admin API works on.
pub(crate) struct World {
    pub ca: FakeCa,
    pub intune: FakeIntune,
    pub ndes: FakeNdes,
    pub connector: Arc<dyn ConnectorUnderTest>,
    pub clock: ClockControl,
    pub start: OffsetDateTime,
    pub log: Arc<EventLog>,
    /// Set once the admin API listens (its URL is one of them).
    pub urls: OnceLock<Urls>,
    pub admin_incidents: Incidents,
    stop: watch::Sender<bool>,
}

impl World {
    /// Every URL (empty until the admin API listens, which is before anyone can ask).
    pub(crate) fn urls(&self) -> Urls {
        self.urls.get().cloned().unwrap_or_else(|| Urls {
            ca: String::new(),
            intune: String::new(),
            ndes: String::new(),
            intune_discovery: String::new(),
            mint_challenge: String::new(),
            admin: String::new(),
            events: String::new(),
            events_file: self.log.path().to_path_buf(),
            ca_file: None,
        })
    }

    /// Asks serve to stop (what `POST /shutdown` does).
    pub(crate) fn request_stop(&self) {
        self.stop.send_replace(true);
    }
}

/// A running `serve`. Stop it with [`Serve::shutdown`], which flushes the event file.
pub struct Serve {
    world: Arc<World>,
    admin: Server,
    stop: watch::Receiver<bool>,
    tasks: Vec<JoinHandle<()>>,
    _store_dir: tempfile::TempDir,
    _ca_dir: Option<tempfile::TempDir>,
}

/// What a stopped `serve` leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stopped {
    /// Records in the event file.
    pub records: u64,
    /// The event file (gone if it was a temporary one).
    pub events_file: PathBuf,
}

/// The host a client dials for a listener on `addr` (loopback for an unspecified address).
fn dial(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port()).to_string()
}

impl Serve {
    /// Starts the fakes, the connector, the event log and the admin API.
    pub async fn start(opts: ServeOptions) -> Result<Serve, ServeError> {
        if !(1..=MAX_HISTORY).contains(&opts.history) {
            return Err(ServeError::Option(format!(
                "--history {} is out of range: keep from 1 to {MAX_HISTORY} entries",
                opts.history
            )));
        }
        if !(crate::sim::START_OF_TIME..=crate::sim::END_OF_TIME).contains(&opts.start) {
            return Err(clock::ClockError::OutOfRange(crate::sim::format_time(opts.start)).into());
        }
        let tls = if opts.tls {
            Some(tls::issue(tls::names_for(opts.bind, &opts.tls_names))?)
        } else {
            None
        };
        let ca_dir = match (&opts.ca_file, &tls) {
            (None, Some(_)) => Some(
                tempfile::Builder::new()
                    .prefix("connector-harness-ca-")
                    .tempdir()
                    .map_err(io("creating a folder for the CA file"))?,
            ),
            _ => None,
        };
        let ca_file = opts
            .ca_file
            .clone()
            .or_else(|| ca_dir.as_ref().map(|d| d.path().join("ca.pem")));
        if let Some(path) = &ca_file {
            std::fs::write(path, crate::fixtures::ROOT_CA.cert_pem)
                .map_err(io(format!("writing the CA file {}", path.display())))?;
        }
        let server_tls = tls.as_ref().map(|t| t.tls.clone());

        let clock = Clock::new(opts.start);
        let control = ClockControl::new(clock.clone(), opts.clock);
        let rng = Rng::new(opts.seed);
        let sink = Sink::new(clock.clone());
        let log = Arc::new(
            EventLog::create(sink.clone(), opts.events.as_deref(), opts.echo_events).map_err(
                io(match &opts.events {
                    Some(p) => format!("creating the event file {}", p.display()),
                    None => "creating a temporary event file".into(),
                }),
            )?,
        );
        let setup = setup(&opts);
        let listen = Listen {
            bind: opts.bind,
            tls: server_tls.clone(),
            history: Some(opts.history),
        };
        let backends = assemble::start_backends(&setup, &listen, &clock, &rng).await?;
        let store_dir = assemble::registration_store(&setup, &backends.intune, opts.start)?;
        let config = assemble::connector_config(&setup, &backends, store_dir.path());
        let connector = under_test::launch(&opts.connector, config, &clock, &sink).await?;
        connector.start().await?;
        let ndes =
            assemble::start_ndes(&setup, &listen, &backends.ca, connector.policy(), &rng).await?;
        let Backends { ca, intune } = backends;

        let scheme = if tls.is_some() { "https" } else { "http" };
        let (stop_tx, stop) = watch::channel(false);
        let admin_incidents = Incidents::default();
        let world = Arc::new(World {
            ca,
            intune,
            ndes,
            connector,
            clock: control.clone(),
            start: opts.start,
            log: log.clone(),
            urls: OnceLock::new(),
            admin_incidents: admin_incidents.clone(),
            stop: stop_tx,
        });
        let admin_addr = SocketAddr::new(opts.bind, 0);
        let admin = Server::bind_with_tls(
            admin_addr,
            admin::router(world.clone()),
            "admin API",
            Limits {
                idle: opts.admin_idle.unwrap_or(Duration::MAX),
                ..Limits::default()
            },
            admin_incidents.clone(),
            server_tls,
        )
        .await
        .map_err(|source| ServeError::Admin {
            addr: admin_addr,
            source,
        })?;
        let admin_url = format!("{scheme}://{}", dial(admin.addr()));
        let intune_url = format!("{scheme}://{}", dial(intune_addr(&world.intune)?));
        let _ = world.urls.set(Urls {
            ca: format!("{scheme}://{}", dial(world.ca.addr())),
            ndes: format!(
                "{scheme}://{}{}",
                dial(world.ndes.addr()),
                crate::fakes::ndes::MSCEP_PATH
            ),
            intune_discovery: format!("{intune_url}{}", crate::contract::intune::DISCOVERY_PATH),
            mint_challenge: format!("{intune_url}{}", intune_admin::CHALLENGES),
            intune: intune_url,
            events: format!("{admin_url}{}", admin::paths::EVENTS),
            admin: admin_url,
            events_file: log.path().to_path_buf(),
            ca_file,
        });
        let tasks = vec![
            tokio::spawn(control.follow_wall(Duration::from_millis(100), stop.clone())),
            tokio::spawn(pump(log, admin_incidents, stop.clone())),
        ];
        Ok(Serve {
            world,
            admin,
            stop,
            tasks,
            _store_dir: store_dir,
            _ca_dir: ca_dir,
        })
    }

    /// Every URL.
    pub fn urls(&self) -> Urls {
        self.world.urls()
    }

    /// The scenario clock.
    pub fn clock(&self) -> &Clock {
        self.world.clock.clock()
    }

    /// Resolves when the admin API was asked to stop (`POST /shutdown`).
    pub async fn stopped(&self) {
        let mut stop = self.stop.clone();
        let _ = stop.wait_for(|s| *s).await;
    }

    /// Stops: the connector stops (its last events written), the event file is flushed to
    /// disk and its followers' streams end, then every port closes.
    pub async fn shutdown(self) -> Result<Stopped, ServeError> {
        self.world.request_stop();
        // A connector that fails to stop or exit has its failure in the event file's
        // neighbour, stderr: serve's own shutdown goes on.
        if let Err(f) = self.world.connector.stop().await {
            eprintln!("serve: {f}");
        }
        if let Err(f) = self.world.connector.close().await {
            eprintln!("serve: {f}");
        }
        for t in self.tasks {
            let _ = t.await;
        }
        let flushed = self.world.log.finish();
        let stopped = Stopped {
            records: self.world.log.records(),
            events_file: self.world.log.path().to_path_buf(),
        };
        self.admin.shutdown().await;
        match Arc::try_unwrap(self.world) {
            Ok(world) => {
                world.ndes.shutdown().await;
                world.intune.shutdown().await;
                world.ca.shutdown().await;
            }
            // A handler still holds the world (a connection the admin API could not close in
            // time): its fakes stop when it lets go.
            Err(world) => {
                world.ndes.switchboard().close();
                world.intune.switchboard().close();
                world.ca.switchboard().close();
            }
        }
        flushed.map_err(io("flushing the event file"))?;
        Ok(stopped)
    }
}

fn intune_addr(intune: &FakeIntune) -> Result<SocketAddr, ServeError> {
    intune
        .url()
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| ServeError::Fake {
            what: "Intune service",
            why: format!("its URL {} has no address: {e}", intune.url()),
        })
}

/// How long the connector (and NDES, calling the CA) waits for an answer in `serve`: longer
/// than a scenario's default, for a person stepping through by hand.
pub const SERVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The world `serve` runs: the scenario language's defaults, with [`SERVE_TIMEOUT`] and what
/// `opts` says NDES advertises.
fn setup(opts: &ServeOptions) -> Setup {
    Setup {
        connector: ConnectorSetup {
            timeout: Span(SERVE_TIMEOUT),
            ..ConnectorSetup::default()
        },
        ndes: NdesSetup {
            capabilities: opts.capabilities,
        },
        ..Setup::default()
    }
}

/// Moves events from the sink to the file every 50 ms until serve stops; a failed write is
/// an incident of the admin API (and is tried again: nothing is lost).
async fn pump(log: Arc<EventLog>, incidents: Incidents, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut failing = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match log.pump() {
            Ok(_) => failing = false,
            Err(e) if !failing => {
                failing = true;
                incidents.record(format!(
                    "writing the event file {}: {e}",
                    log.path().display()
                ));
            }
            Err(_) => {}
        }
    }
}
