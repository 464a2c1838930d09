//! The HTTP server under every fake: one listener, hyper with a bounded header read, idle
//! connections closed, a cap on connections and on request bodies, and handler panics answered
//! with a 500 *and recorded* as [`Incidents`], so a bug in a fake fails the scenario as a
//! harness error instead of reaching the connector as a dropped connection.
//!
//! With [`Tls`] a port answers HTTPS as well: the first byte of each connection decides (a TLS
//! handshake opens with 0x16), so in-process peers without a TLS client (the reference
//! connector, NDES calling the CA) keep reaching it over plain HTTP. Every request carries the
//! [`Transport`] it came over as an extension.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
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
    /// A connection whose reads (or writes) wait this long is closed; [`Duration::MAX`]:
    /// never (for a port whose responses stream for as long as the client listens).
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

/// A server certificate and key: with it a port answers HTTPS too (see the module docs).
/// Cloning shares the same configuration.
#[derive(Clone)]
pub struct Tls(Arc<rustls::ServerConfig>);

impl Tls {
    /// Serves with `config` (its ALPN list is set here: `h2`, `http/1.1`).
    pub fn new(mut config: rustls::ServerConfig) -> Tls {
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Tls(Arc::new(config))
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls(..)")
    }
}

impl PartialEq for Tls {
    fn eq(&self, other: &Tls) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Tls {}

/// How a request reached the server (a request extension on every request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Transport {
    /// The URL scheme: `http` or `https`.
    pub fn scheme(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Https => "https",
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
        Server::bind_with_tls(addr, router, name, limits, incidents, None).await
    }

    /// As [`Server::bind`]; with `tls`, the port answers HTTPS as well as plain HTTP.
    pub async fn bind_with_tls(
        addr: SocketAddr,
        router: Router,
        name: &'static str,
        limits: Limits,
        incidents: Incidents,
        tls: Option<Tls>,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Server::serve_with_tls(listener, router, name, limits, incidents, tls)
    }

    /// As [`Server::bind_with_tls`], on a socket already listening.
    pub fn serve_with_tls(
        listener: TcpListener,
        router: Router,
        name: &'static str,
        limits: Limits,
        incidents: Incidents,
        tls: Option<Tls>,
    ) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        let router = guarded(router, name, limits, incidents);
        let (stop, stop_rx) = oneshot::channel();
        let (closed_tx, closed) = oneshot::channel();
        let task = tokio::spawn(accept_loop(
            listener, router, limits, tls, stop_rx, closed_tx,
        ));
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
    tls: Option<Tls>,
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
    let routers = Routers {
        http: router.clone().layer(Extension(Transport::Http)),
        https: router.layer(Extension(Transport::Https)),
    };
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
        let conn = Connection {
            routers: routers.clone(),
            builder: builder.clone(),
            watcher: graceful.watcher(),
            limits,
            tls: tls.clone(),
        };
        tokio::spawn(async move {
            conn.serve(tcp).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = closed.send(());
    graceful.shutdown().await;
}

#[derive(Clone)]
struct Routers {
    http: Router,
    https: Router,
}

/// One accepted connection and what it needs to be served.
struct Connection {
    routers: Routers,
    builder: auto::Builder<TokioExecutor>,
    watcher: Watcher,
    limits: Limits,
    tls: Option<Tls>,
}

/// The first byte of a TLS connection (a handshake record).
const TLS_HANDSHAKE: u8 = 0x16;

impl Connection {
    async fn serve(self, tcp: TcpStream) {
        let _ = tcp.set_nodelay(true);
        let handshake = match &self.tls {
            None => false,
            Some(_) => {
                let mut first = [0u8; 1];
                match tokio::time::timeout(self.limits.header_read, tcp.peek(&mut first)).await {
                    Ok(Ok(1)) => first[0] == TLS_HANDSHAKE,
                    // Closed, failed, or silent for as long as a request's headers may take.
                    _ => return,
                }
            }
        };
        let mut io = tokio_io_timeout::TimeoutStream::new(tcp);
        let idle = (self.limits.idle < Duration::MAX).then_some(self.limits.idle);
        io.set_read_timeout(idle);
        io.set_write_timeout(idle);
        let io = Box::pin(io);
        match self.tls.as_ref().filter(|_| handshake) {
            Some(tls) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.0.clone());
                let accepted =
                    tokio::time::timeout(self.limits.header_read, acceptor.accept(io)).await;
                // A failed or slow handshake ends the connection; the client sees the alert.
                let Ok(Ok(stream)) = accepted else { return };
                let router = self.routers.https.clone();
                self.run(TokioIo::new(stream), router).await;
            }
            None => {
                let router = self.routers.http.clone();
                self.run(TokioIo::new(io), router).await;
            }
        }
    }

    async fn run<I>(self, io: I, router: Router)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let Connection {
            builder, watcher, ..
        } = self;
        let service = TowerToHyperService::new(router);
        let conn = builder
            .serve_connection_with_upgrades(io, service)
            .into_owned();
        let _ = watcher.watch(conn).await;
    }
}
