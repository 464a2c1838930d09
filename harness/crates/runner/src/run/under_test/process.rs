//! A connector running as its own process, driven over the connector-under-test protocol
//! ([`crate::contract::process`]): requests on its stdin, replies and events on its stdout, its
//! stderr kept for the report. The harness owns time (it answers `sleep` by moving the
//! scenario clock) and stamps every event on arrival.
//!
//! Every request has a time limit. A process that exits, stops answering, answers out of turn
//! or writes a line that is not a protocol message fails the scenario with what it wrote on
//! stderr; its process group is killed so nothing it started outlives the run.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::oneshot;

use super::{Config, ConnectorUnderTest, Failure, Pending};
use crate::catalog::{Detail, DiagnosticCode, EventId};
use crate::contract::policy::{Decision, Issued, PolicyFuture, PolicyModule};
use crate::contract::process::{self, Event, FromConnector, ToConnector};
use crate::event::{Details, Sink};
use crate::sim::{format_time, Clock};

/// Longest line the harness reads from a connector.
const MAX_LINE: usize = 1 << 20;
/// How much of the connector's stderr is kept.
const STDERR_TAIL: usize = 8 << 10;
/// How long `init` and `shutdown` may take.
const HANDSHAKE: Duration = Duration::from_secs(15);
/// How long the harness reads what a connector wrote before it exited, after `shutdown_ok`.
const AFTER_EXIT: Duration = Duration::from_secs(2);

type Reply = Result<FromConnector, Failure>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Shared {
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    next: AtomicU64,
    /// The first failure, as its cause alone: the stderr tail is added whenever it is read,
    /// so that what the process wrote just before it failed is there too.
    failed: Mutex<Option<String>>,
    stderr: Mutex<VecDeque<u8>>,
    clock: Clock,
    sink: Sink,
    /// Time limit of one step (`start`, `sync`, …).
    step_limit: Duration,
    /// Set once the connector answered `shutdown`: it may write nothing more.
    shut: AtomicBool,
}

impl Shared {
    /// The failure, with the tail of the process's stderr.
    fn with_stderr(&self, why: &str) -> Failure {
        let tail = lock(&self.stderr).iter().copied().collect::<Vec<u8>>();
        let tail = String::from_utf8_lossy(&tail);
        let tail = tail.trim_end();
        if tail.is_empty() {
            Failure(format!("{why} (it wrote nothing on stderr)"))
        } else {
            Failure(format!(
                "{why}\n--- the connector's stderr (last {} bytes) ---\n{tail}",
                tail.len()
            ))
        }
    }

    /// The first failure, with the stderr tail as it is now.
    fn failure(&self) -> Option<Failure> {
        let why = lock(&self.failed).clone();
        why.map(|w| self.with_stderr(&w))
    }

    /// Records the first failure and ends every request still waiting.
    fn fail(&self, why: &str) -> Failure {
        let f = {
            let mut failed = lock(&self.failed);
            let first = failed.get_or_insert_with(|| why.to_string()).clone();
            drop(failed);
            self.with_stderr(&first)
        };
        for (_, tx) in lock(&self.pending).drain() {
            let _ = tx.send(Err(f.clone()));
        }
        f
    }

    async fn write(&self, m: &ToConnector) -> Result<(), Failure> {
        let mut line = serde_json::to_vec(m).map_err(|e| Failure(e.to_string()))?;
        line.push(b'\n');
        let mut stdin = self.stdin.lock().await;
        let Some(pipe) = stdin.as_mut() else {
            return Err(self.fail("the connector's stdin is closed"));
        };
        match pipe.write_all(&line).await {
            Ok(()) => pipe
                .flush()
                .await
                .map_err(|e| self.fail(&format!("writing to the connector's stdin: {e}"))),
            Err(e) => Err(self.fail(&format!("writing to the connector's stdin: {e}"))),
        }
    }

    /// Sends a request and waits (at most `limit`) for its reply.
    async fn request(
        &self,
        limit: Duration,
        what: &str,
        make: impl FnOnce(u64) -> ToConnector,
    ) -> Reply {
        if let Some(f) = self.failure() {
            return Err(f);
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        self.write(&make(id)).await?;
        match tokio::time::timeout(limit, rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Err(self.fail(&format!(
                "the connector's reader stopped before `{what}` was answered"
            ))),
            Err(_) => Err(self.fail(&format!(
                "the connector did not answer `{what}` within {} s",
                limit.as_secs()
            ))),
        }
    }

    fn now(&self) -> String {
        format_time(self.clock.now())
    }

    /// Sends a step and expects its `_ok`.
    async fn step(
        &self,
        what: &'static str,
        make: impl FnOnce(u64, String) -> ToConnector,
    ) -> Result<(), Failure> {
        let now = self.now();
        let reply = match self
            .request(self.step_limit, what, |id| make(id, now))
            .await
        {
            Ok(reply) => reply,
            // Give the stderr reader a moment: the tail is what the vendor needs.
            Err(f) => return Err(settled(self, f).await),
        };
        let expected = matches!(
            (what, &reply),
            ("start", FromConnector::StartOk { .. })
                | ("stop", FromConnector::StopOk { .. })
                | ("sync", FromConnector::SyncOk { .. })
                | ("clock", FromConnector::ClockOk { .. })
        );
        if expected {
            Ok(())
        } else {
            Err(self.fail(&format!(
                "the connector answered `{what}` with {}",
                reply.describe()
            )))
        }
    }

    /// Handles one line from the connector's stdout.
    async fn on_line(&self, line: &[u8]) -> Result<(), Failure> {
        let m: FromConnector = serde_json::from_slice(line).map_err(|e| {
            let shown: String = String::from_utf8_lossy(line).chars().take(200).collect();
            self.fail(&format!(
                "the connector wrote a line on stdout that is not a protocol message ({e}): {shown}"
            ))
        })?;
        if self.shut.load(Ordering::SeqCst) {
            return Err(self.fail(&format!(
                "protocol violation: the connector wrote {} after `shutdown_ok`; nothing may follow it",
                m.describe()
            )));
        }
        if matches!(m, FromConnector::ShutdownOk { .. }) {
            self.shut.store(true, Ordering::SeqCst);
        }
        match m {
            FromConnector::Event(e) => self.on_event(e),
            FromConnector::Sleep { msg_id, ms } => {
                if ms > process::MAX_SLEEP_MS {
                    return Err(self.fail(&format!(
                        "the connector asked to sleep {ms} ms; at most {} ms at once",
                        process::MAX_SLEEP_MS
                    )));
                }
                self.clock.advance(Duration::from_millis(ms));
                self.write(&ToConnector::SleepOk {
                    in_reply_to: msg_id,
                    now: self.now(),
                })
                .await
            }
            FromConnector::Error { in_reply_to, text } => {
                let waiting = lock(&self.pending).contains_key(&in_reply_to);
                if !waiting {
                    return self.answer(in_reply_to, Err(Failure(text)));
                }
                // The scenario fails with the connector's words; every waiter hears it, so a
                // policy-module request (answered to NDES as a refusal) fails it too.
                self.fail(&format!(
                    "the connector could not do request {in_reply_to}: {text}"
                ));
                Ok(())
            }
            reply => {
                let id = match &reply {
                    FromConnector::InitOk { in_reply_to, .. }
                    | FromConnector::StartOk { in_reply_to }
                    | FromConnector::StopOk { in_reply_to }
                    | FromConnector::SyncOk { in_reply_to }
                    | FromConnector::ClockOk { in_reply_to }
                    | FromConnector::VerifyOk { in_reply_to, .. }
                    | FromConnector::NotifyOk { in_reply_to }
                    | FromConnector::ShutdownOk { in_reply_to } => *in_reply_to,
                    _ => 0,
                };
                self.answer(id, Ok(reply))
            }
        }
    }

    fn answer(&self, id: u64, reply: Reply) -> Result<(), Failure> {
        // The lock is released before `fail`, which takes it again to end every waiter.
        let waiting = lock(&self.pending).remove(&id);
        match waiting {
            Some(tx) => {
                let _ = tx.send(reply);
                Ok(())
            }
            None => {
                let what = match &reply {
                    Ok(m) => m.describe(),
                    Err(_) => "`error`".to_string(),
                };
                Err(self.fail(&format!(
                    "protocol violation: the connector sent {what} for request {id}, which is not waiting for an answer (a second reply, or a reply to a request never sent)"
                )))
            }
        }
    }

    fn on_event(&self, e: Event) -> Result<(), Failure> {
        let bad = |why: String| {
            self.fail(&format!(
                "the connector reported an event the harness cannot read: {why}"
            ))
        };
        let event = EventId::from_id(e.event_id)
            .ok_or_else(|| bad(format!("event id {} is not in the catalog", e.event_id)))?;
        let code: DiagnosticCode = e
            .code
            .parse()
            .map_err(|err| bad(format!("code `{}`: {err}", e.code)))?;
        let mut details = Details::new();
        for (k, v) in e.details {
            let key: Detail = k
                .parse()
                .map_err(|err| bad(format!("detail `{k}`: {err}")))?;
            if v.len() > 4096 {
                return Err(bad(format!("detail `{k}` is over 4096 bytes")));
            }
            details.insert(key, v);
        }
        // A pair or detail outside the catalog is a contract violation the sink keeps; the
        // run's check reports it.
        let _ = self
            .sink
            .emit_caused(event, code, details, e.cause.as_deref());
        Ok(())
    }
}

async fn read_stdout(shared: Arc<Shared>, stdout: ChildStdout) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await;
        match read {
            Ok(0) => {
                if !shared.shut.load(Ordering::SeqCst) {
                    shared.fail("the connector closed its stdout (did it exit?)");
                }
                return;
            }
            Ok(_) if line.len() > MAX_LINE => {
                shared.fail(&format!("the connector wrote a line over {MAX_LINE} bytes"));
                return;
            }
            Ok(_) => {
                if shared.on_line(&line).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                shared.fail(&format!("reading the connector's stdout: {e}"));
                return;
            }
        }
    }
}

async fn read_stderr(shared: Arc<Shared>, mut stderr: tokio::process::ChildStderr) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stderr.read(&mut buf).await {
        if n == 0 {
            return;
        }
        let mut tail = lock(&shared.stderr);
        tail.extend(&buf[..n]);
        while tail.len() > STDERR_TAIL {
            tail.pop_front();
        }
    }
}

/// A connector process.
pub struct Process {
    shared: Arc<Shared>,
    child: tokio::sync::Mutex<Option<Child>>,
    /// The stdout reader, awaited after `shutdown_ok` so that anything written after it is seen.
    reader: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Process {
    /// Starts `sh -c <command>` and completes the `init` handshake.
    pub async fn launch(
        command: &str,
        config: Config,
        clock: &Clock,
        sink: &Sink,
    ) -> Result<Process, Failure> {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Failure(format!("cannot start `sh -c {command}`: {e}")))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(Failure("the connector's pipes could not be opened".into()));
        };
        // A step may wait on every retry of every call it makes; the scenario's own budget is
        // the real bound.
        let per_call = config
            .timeout_ms
            .saturating_mul(u64::from(config.retries) + 1);
        let step_limit = Duration::from_millis(per_call.saturating_mul(8).saturating_add(5_000));
        let shared = Arc::new(Shared {
            stdin: tokio::sync::Mutex::new(Some(stdin)),
            pending: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            failed: Mutex::new(None),
            stderr: Mutex::new(VecDeque::new()),
            clock: clock.clone(),
            sink: sink.clone(),
            step_limit,
            shut: AtomicBool::new(false),
        });
        let reader = tokio::spawn(read_stdout(shared.clone(), stdout));
        tokio::spawn(read_stderr(shared.clone(), stderr));
        let process = Process {
            shared: shared.clone(),
            child: tokio::sync::Mutex::new(Some(child)),
            reader: tokio::sync::Mutex::new(Some(reader)),
        };
        let now = shared.now();
        let reply = shared
            .request(HANDSHAKE, "init", |msg_id| ToConnector::Init {
                msg_id,
                now,
                protocol: process::PROTOCOL.into(),
                config,
            })
            .await;
        match reply {
            Ok(FromConnector::InitOk { .. }) => Ok(process),
            Ok(other) => {
                let f = shared.fail(&format!(
                    "the connector answered `init` with {}",
                    other.describe()
                ));
                process.kill().await;
                Err(f)
            }
            Err(f) => {
                process.kill().await;
                Err(settled(&shared, f).await)
            }
        }
    }

    async fn kill(&self) {
        if let Some(mut child) = self.child.lock().await.take() {
            if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                // The whole process group: whatever the command started.
                // SAFETY: kill(2) with a negative pid signals a process group; no memory is
                // touched.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = child.kill().await;
        }
    }
}

/// Gives the stderr reader a moment to catch the last words of a process that just died, then
/// states the failure with them.
async fn settled(shared: &Shared, f: Failure) -> Failure {
    tokio::time::sleep(Duration::from_millis(100)).await;
    if f.0.contains("--- the connector's stderr") {
        return f;
    }
    let why =
        f.0.split(" (it wrote nothing on stderr)")
            .next()
            .unwrap_or(&f.0)
            .to_string();
    shared.with_stderr(&why)
}

impl ConnectorUnderTest for Process {
    fn start(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(
            self.shared
                .step("start", |msg_id, now| ToConnector::Start { msg_id, now }),
        )
    }

    fn stop(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(
            self.shared
                .step("stop", |msg_id, now| ToConnector::Stop { msg_id, now }),
        )
    }

    fn sync(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(
            self.shared
                .step("sync", |msg_id, now| ToConnector::Sync { msg_id, now }),
        )
    }

    fn clock_moved(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(
            self.shared
                .step("clock", |msg_id, now| ToConnector::Clock { msg_id, now }),
        )
    }

    fn policy(&self) -> Arc<dyn PolicyModule> {
        Arc::new(Policy(self.shared.clone()))
    }

    fn failed(&self) -> Option<Failure> {
        self.shared.failure()
    }

    fn close(&self) -> Pending<'_, Result<(), Failure>> {
        Box::pin(async move {
            let result = if self.failed().is_some() {
                Ok(())
            } else {
                match self
                    .shared
                    .request(HANDSHAKE, "shutdown", |msg_id| ToConnector::Shutdown {
                        msg_id,
                    })
                    .await
                {
                    Ok(FromConnector::ShutdownOk { .. }) => self.exited().await,
                    Ok(other) => Err(self.shared.fail(&format!(
                        "the connector answered `shutdown` with {}",
                        other.describe()
                    ))),
                    Err(f) => Err(f),
                }
            };
            self.kill().await;
            result
        })
    }
}

impl Process {
    /// Closes the process's input (a connector behind a pipeline exits only at end of input)
    /// and waits for it to exit after `shutdown_ok`; it must exit, and cleanly.
    async fn exited(&self) -> Result<(), Failure> {
        drop(self.shared.stdin.lock().await.take());
        let mut guard = self.child.lock().await;
        let Some(child) = guard.as_mut() else {
            return Ok(());
        };
        match tokio::time::timeout(HANDSHAKE, child.wait()).await {
            Ok(Ok(status)) if status.success() => {
                // It exited: its stdout ends, and the reader judges what came after shutdown_ok.
                if let Some(reader) = self.reader.lock().await.take() {
                    let _ = tokio::time::timeout(AFTER_EXIT, reader).await;
                }
                match self.shared.failure() {
                    Some(f) => Err(f),
                    None => Ok(()),
                }
            }
            Ok(Ok(status)) => Err(self.shared.with_stderr(&format!(
                "the connector exited with {status} after `shutdown`"
            ))),
            Ok(Err(e)) => Err(Failure(format!("waiting for the connector to exit: {e}"))),
            Err(_) => Err(self
                .shared
                .with_stderr("the connector did not exit after `shutdown_ok`")),
        }
    }
}

/// NDES's policy module, answered by the process.
struct Policy(Arc<Shared>);

impl PolicyModule for Policy {
    fn verify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
    ) -> PolicyFuture<'a, Decision> {
        Box::pin(async move {
            let now = self.0.now();
            let reply = self
                .0
                .request(self.0.step_limit, "verify", |msg_id| ToConnector::Verify {
                    msg_id,
                    now,
                    transaction_id: transaction_id.into(),
                    certificate_request: crate::pki::b64(csr_der),
                })
                .await;
            match reply {
                Ok(FromConnector::VerifyOk { decision, .. }) => decision,
                Ok(other) => {
                    let f = self.0.fail(&format!(
                        "the connector answered `verify` with {}",
                        other.describe()
                    ));
                    Decision::Refuse { reason: f.0 }
                }
                // The failure is recorded; the scenario fails after this step.
                Err(f) => Decision::Refuse { reason: f.0 },
            }
        })
    }

    fn notify<'a>(
        &'a self,
        transaction_id: &'a str,
        csr_der: &'a [u8],
        outcome: Issued,
    ) -> PolicyFuture<'a, ()> {
        Box::pin(async move {
            let now = self.0.now();
            let reply = self
                .0
                .request(self.0.step_limit, "notify", |msg_id| ToConnector::Notify {
                    msg_id,
                    now,
                    transaction_id: transaction_id.into(),
                    certificate_request: crate::pki::b64(csr_der),
                    outcome,
                })
                .await;
            if let Ok(other) = reply {
                if !matches!(other, FromConnector::NotifyOk { .. }) {
                    self.0.fail(&format!(
                        "the connector answered `notify` with {}",
                        other.describe()
                    ));
                }
            }
        })
    }
}
