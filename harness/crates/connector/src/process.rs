//! The reference connector run as its own process (`connector-harness connector`): it speaks
//! the connector-under-test protocol ([`crate::contract::process`]) on stdin and stdout, exactly
//! as a vendor's connector would, and drives the same model the harness runs in-process. The
//! whole scenario library passes through it byte for byte, which proves the protocol carries
//! everything a scenario does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::cause::Cause;
use super::env::{EventLog, Time, Wait};
use super::{Bugs, Connector, ConnectorConfig};
use crate::contract::policy::PolicyModule;
use crate::contract::process::{self, Config, Event, FromConnector, ToConnector};
use crate::event::Details;
use crate::sim::{parse_time, Clock};

/// Longest line read from the harness.
const MAX_LINE: usize = 4 << 20;

/// Writes messages to stdout, one per line, in the order they are sent.
#[derive(Clone)]
struct Out(mpsc::UnboundedSender<FromConnector>);

impl Out {
    fn send(&self, m: FromConnector) {
        // The writer ends only when stdout is gone; then there is nobody to tell.
        let _ = self.0.send(m);
    }
}

/// Scenario time as the harness tells it; a backoff is a `sleep` request.
struct Told {
    clock: Clock,
    out: Out,
    next: AtomicU64,
    sleeping: Mutex<HashMap<u64, oneshot::Sender<()>>>,
}

impl Time for Told {
    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn sleep(&self, by: Duration) -> Wait<'_> {
        Box::pin(async move {
            let msg_id = self.next.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
            let (tx, rx) = oneshot::channel();
            self.sleeping
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(msg_id, tx);
            let ms = u64::try_from(by.as_millis())
                .unwrap_or(u64::MAX)
                .min(process::MAX_SLEEP_MS);
            self.out.send(FromConnector::Sleep { msg_id, ms });
            let _ = rx.await;
        })
    }
}

impl Told {
    fn woke(&self, in_reply_to: u64) {
        if let Some(tx) = self
            .sleeping
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&in_reply_to)
        {
            let _ = tx.send(());
        }
    }
}

/// Events go to stdout (and, with `--dialect unified-2021 --log FILE`, to the connector's own
/// log in the 2021 dialect).
struct Reported(Out, Option<Arc<super::DialectLog>>);

impl EventLog for Reported {
    fn write(&self, cause: Cause, details: Details) {
        if let Some(log) = &self.1 {
            log.write(cause, &details);
        }
        let pair = cause.pair();
        self.0.send(FromConnector::Event(Event {
            event_id: pair.event.id(),
            code: pair.code.hex(),
            details: details
                .iter()
                .map(|(k, v)| (k.key().to_string(), v.to_string()))
                .collect(),
            cause: Some(cause.name().to_string()),
        }));
    }
}

/// The model's configuration from the protocol's `init`.
pub fn config_of(c: &Config, bugs: Bugs) -> ConnectorConfig {
    ConnectorConfig {
        discovery_url: c.discovery_url.clone(),
        ca_url: c.ca_url.clone(),
        ca_name: c.ca_name.clone(),
        store_dir: c.store_dir.clone().into(),
        retry: super::RetryPolicy {
            timeout: Duration::from_millis(c.timeout_ms),
            retries: c.retries,
            backoff: Duration::from_millis(c.backoff_ms),
        },
        renewal_window: time::Duration::milliseconds(
            i64::try_from(c.renewal_window_ms).unwrap_or(i64::MAX),
        ),
        batch_size: c.batch_size,
        ra_certificate: c.ra_certificate,
        scep_template: c.scep_template.clone(),
        bugs,
    }
}

/// Runs the protocol on stdin and stdout until `shutdown` or end of input. `bugs` are the
/// deliberate mistakes of the faulty example connector (none for the reference).
pub async fn serve_stdio(bugs: Bugs) -> Result<(), String> {
    serve_stdio_as(bugs, super::DialectOptions::default()).await
}

/// [`serve_stdio`] writing in a dialect: `init_ok` declares it, and with a log file the
/// connector also writes its events there, in that dialect, as `wevtutil qe /f:xml` prints
/// them.
pub async fn serve_stdio_as(bugs: Bugs, dialect: super::DialectOptions) -> Result<(), String> {
    let (tx, mut rx) = mpsc::unbounded_channel::<FromConnector>();
    let out = Out(tx);
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(m) = rx.recv().await {
            let mut line = serde_json::to_vec(&m).unwrap_or_default();
            line.push(b'\n');
            if stdout.write_all(&line).await.is_err() || stdout.flush().await.is_err() {
                return;
            }
        }
    });
    let result = read_loop(out, bugs, dialect).await;
    // Let the writer drain what was sent before the loop ended.
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    result
}

async fn read_loop(out: Out, bugs: Bugs, dialect: super::DialectOptions) -> Result<(), String> {
    let mut stdin = BufReader::new(tokio::io::stdin());
    let mut session: Option<(Connector, Arc<Told>)> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut stdin)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| format!("reading stdin: {e}"))?;
        if n == 0 {
            return Ok(());
        }
        if line.len() > MAX_LINE {
            return Err(format!("a line from the harness is over {MAX_LINE} bytes"));
        }
        let msg: ToConnector = serde_json::from_slice(&line)
            .map_err(|e| format!("a line from the harness is not a protocol message: {e}"))?;
        if let Some((_, told)) = &session {
            if let Some(now) = now_of(&msg) {
                told.clock.catch_up(now);
            }
        }
        match msg {
            ToConnector::Init {
                msg_id,
                now,
                protocol,
                config,
            } => {
                if protocol != process::PROTOCOL {
                    out.send(FromConnector::Error {
                        in_reply_to: msg_id,
                        text: format!("protocol `{protocol}` is not {}", process::PROTOCOL),
                    });
                    continue;
                }
                let start = parse_time(&now).map_err(|e| format!("init: now `{now}`: {e}"))?;
                let told = Arc::new(Told {
                    clock: Clock::new(start),
                    out: out.clone(),
                    next: AtomicU64::new(0),
                    sleeping: Mutex::new(HashMap::new()),
                });
                let log = dialect
                    .open(told.clone())
                    .map_err(|e| format!("the dialect log: {e}"))?;
                let connector = Connector::new(
                    config_of(&config, bugs),
                    Arc::new(Reported(out.clone(), log)),
                    told.clone(),
                );
                session = Some((connector, told));
                out.send(FromConnector::InitOk {
                    in_reply_to: msg_id,
                    dialect: dialect.declared(),
                });
            }
            ToConnector::SleepOk { in_reply_to, .. } => {
                if let Some((_, told)) = &session {
                    told.woke(in_reply_to);
                }
            }
            ToConnector::Shutdown { msg_id } => {
                out.send(FromConnector::ShutdownOk {
                    in_reply_to: msg_id,
                });
                return Ok(());
            }
            other => {
                let Some((connector, _)) = &session else {
                    if let Some(id) = other.msg_id() {
                        out.send(FromConnector::Error {
                            in_reply_to: id,
                            text: "send `init` first".into(),
                        });
                    }
                    continue;
                };
                // Requests run side by side, so that `sleep_ok` can arrive while one waits.
                tokio::spawn(handle(connector.clone(), other, out.clone()));
            }
        }
    }
}

fn now_of(m: &ToConnector) -> Option<OffsetDateTime> {
    let now = match m {
        ToConnector::Init { now, .. }
        | ToConnector::Start { now, .. }
        | ToConnector::Stop { now, .. }
        | ToConnector::Sync { now, .. }
        | ToConnector::Clock { now, .. }
        | ToConnector::Verify { now, .. }
        | ToConnector::Notify { now, .. }
        | ToConnector::SleepOk { now, .. } => now,
        ToConnector::Shutdown { .. } => return None,
    };
    parse_time(now).ok()
}

async fn handle(connector: Connector, m: ToConnector, out: Out) {
    let reply = match m {
        ToConnector::Start { msg_id, .. } => {
            connector.start().await;
            FromConnector::StartOk {
                in_reply_to: msg_id,
            }
        }
        ToConnector::Stop { msg_id, .. } => {
            connector.stop().await;
            FromConnector::StopOk {
                in_reply_to: msg_id,
            }
        }
        ToConnector::Sync { msg_id, .. } => {
            connector.sync().await;
            FromConnector::SyncOk {
                in_reply_to: msg_id,
            }
        }
        ToConnector::Clock { msg_id, .. } => FromConnector::ClockOk {
            in_reply_to: msg_id,
        },
        ToConnector::Verify {
            msg_id,
            transaction_id,
            certificate_request,
            ..
        } => match crate::pki::unb64(&certificate_request) {
            Ok(csr) => FromConnector::VerifyOk {
                in_reply_to: msg_id,
                decision: connector.verify(&transaction_id, &csr).await,
            },
            Err(e) => FromConnector::Error {
                in_reply_to: msg_id,
                text: format!("certificate_request is not base64: {e}"),
            },
        },
        ToConnector::Notify {
            msg_id,
            transaction_id,
            certificate_request,
            outcome: o,
            ..
        } => match crate::pki::unb64(&certificate_request) {
            Ok(csr) => {
                connector.notify(&transaction_id, &csr, o).await;
                FromConnector::NotifyOk {
                    in_reply_to: msg_id,
                }
            }
            Err(e) => FromConnector::Error {
                in_reply_to: msg_id,
                text: format!("certificate_request is not base64: {e}"),
            },
        },
        ToConnector::Init { .. } | ToConnector::SleepOk { .. } | ToConnector::Shutdown { .. } => {
            return
        }
    };
    out.send(reply);
}
