//! The HTTP server under every fake: one listener, hyper with a bounded header read, idle
//! connections closed, a cap on connections and on request bodies, and handler panics answered
//! with a 500 *and recorded* as [`Incidents`], so a bug in a fake fails the scenario as a
//! harness error instead of reaching the connector as a dropped connection.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;

/// Bounds every fake puts on its peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted; larger ones get 413 (by `Content-Length`, or as soon as a
    /// streamed body passes it).
    pub body: usize,
    /// Longest a client may take to send a request's headers.
    pub header_read: Duration,
    /// A connection with no traffic for this long is closed.
    pub idle: Duration,
    /// Connections open at once; further clients wait in the listen backlog.
    pub connections: usize,
    /// Largest request line plus headers, in bytes.
    pub header_bytes: usize,
}

impl Default for Limits {
    /// 1 MiB bodies, 10 s to send headers, 30 s idle, 512 connections, 64 KiB of headers
    /// (NDES itself allows a URL of 65,534 bytes).
    fn default() -> Limits {
        Limits {
            body: 1 << 20,
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(30),
            connections: 512,
            header_bytes: 64 * 1024,
        }
    }
}

/// Internal failures of a fake (a handler that panicked, state it could not build). Each one
/// fails the scenario as a harness error. Cloning shares the same list.
#[derive(Clone, Debug, Default)]
pub struct Incidents(Arc<Mutex<Vec<String>>>);

impl Incidents {
    /// Records one.
    pub fn record(&self, what: impl Into<String>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what.into());
    }

    /// Everything recorded so far.
    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// `router` with the body limit and the panic guard every fake gets.
fn guarded(router: Router, name: &'static str, limits: Limits, incidents: Incidents) -> Router {
    let on_panic = move |payload: Box<dyn Any + Send + 'static>| -> Response {
        let text = format!("the fake {name} panicked: {}", panic_text(payload.as_ref()));
        incidents.record(text.clone());
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("harness fault: {text}"),
        )
            .into_response()
    };
    router
        .layer(DefaultBodyLimit::max(limits.body))
        .layer(CatchPanicLayer::custom(on_panic))
}

/// A running server. Dropping it stops accepting at once; connections still busy finish in
/// the background.
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    closed: Option<oneshot::Receiver<()>>,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `addr` (port 0 picks one) and serves `router` under `limits`. `name` says which fake
    /// in incident texts.
    pub async fn bind(
        addr: SocketAddr,
        router: Router,
        name: &'static str,
        limits: Limits,
        incidents: Incidents,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let router = guarded(router, name, limits, incidents);
        let (stop, stop_rx) = oneshot::channel();
        let (closed_tx, closed) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, router, limits, stop_rx, closed_tx));
        Ok(Server {
            addr,
            stop: Some(stop),
            closed: Some(closed),
            task,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the listening socket (new connections are refused from when this returns) and
    /// asks open connections to finish their request and close.
    pub async fn close(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(closed) = self.closed.take() {
            // Ok or Err: either way the listener is gone.
            let _ = closed.await;
        }
    }

    /// Closes and waits (up to 5 s) for open connections to finish.
    pub async fn shutdown(mut self) {
        self.close().await;
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: oneshot::Receiver<()>,
    closed: oneshot::Sender<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_buf_size(limits.header_bytes.max(8192));
    builder.http2().timer(TokioTimer::new());
    loop {
        let slot = tokio::select! {
            _ = &mut stop => break,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let (tcp, _) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors and the like: wait a moment instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let mut io = tokio_io_timeout::TimeoutStream::new(tcp);
        io.set_read_timeout(Some(limits.idle));
        io.set_write_timeout(Some(limits.idle));
        let io = TokioIo::new(Box::pin(io));
        let service = TowerToHyperService::new(router.clone());
        let conn = builder
            .serve_connection_with_upgrades(io, service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = closed.send(());
    graceful.shutdown().await;
}
