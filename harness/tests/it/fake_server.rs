//! The HTTP server under every fake keeps its bounds against hostile peers over real sockets:
//! oversized bodies (declared or streamed), headers sent too slowly, idle connections, and a
//! handler that panics (answered 500 *and* recorded as a harness incident).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::{get, post};
use axum::Router;
use harness_runner::fakes::server::{Incidents, Limits, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SHORT: Duration = Duration::from_millis(300);

async fn echo_len(body: Bytes) -> String {
    body.len().to_string()
}

async fn boom() -> &'static str {
    panic!("deliberate test panic")
}

async fn start() -> (Server, Incidents) {
    let router = Router::new()
        .route("/echo", post(echo_len))
        .route("/boom", get(boom));
    let incidents = Incidents::default();
    let limits = Limits {
        body: 1024,
        header_read: SHORT,
        idle: SHORT,
        connections: 8,
        header_bytes: 8192,
    };
    let server = Server::bind(
        "127.0.0.1:0".parse().expect("addr"),
        router,
        "test",
        limits,
        incidents.clone(),
    )
    .await
    .expect("bind");
    (server, incidents)
}

/// Reads until the peer closes or `bound` passes; returns what came and whether it closed.
async fn read_until_closed(s: &mut TcpStream, bound: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let until = Instant::now() + bound;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into(), false),
        }
    }
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("connect")
}

#[tokio::test]
async fn a_panicking_handler_is_answered_and_recorded() {
    let (server, incidents) = start().await;
    let resp = reqwest::get(format!("http://{}/boom", server.addr()))
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(resp.status().as_u16(), 500);
    let body = resp.text().await.expect("body");
    assert!(body.contains("harness fault"), "{body}");
    let all = incidents.all();
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].contains("deliberate test panic"), "{all:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_declared_or_streamed() {
    let (server, _) = start().await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/echo", server.addr());
    let small = client
        .post(&url)
        .body(vec![b'x'; 1000])
        .send()
        .await
        .expect("send");
    assert_eq!(small.text().await.expect("body"), "1000");
    let declared = client
        .post(&url)
        .body(vec![b'x'; 5000])
        .send()
        .await
        .expect("send");
    assert_eq!(declared.status().as_u16(), 413);
    // Chunked: no Content-Length, the server counts as it reads.
    let mut s = connect(server.addr()).await;
    let head = "POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n";
    s.write_all(head.as_bytes()).await.expect("write");
    for _ in 0..10 {
        let chunk = format!("{:x}\r\n{}\r\n", 600, "y".repeat(600));
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let (server, _) = start().await;
    // One byte at a time, never finishing the headers.
    let mut slow = connect(server.addr()).await;
    let started = Instant::now();
    let mut closed = false;
    for b in b"GET /echo HTTP/1.1\r\nx-slow: ".iter().cycle().take(200) {
        if slow.write_all(&[*b]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    if !closed {
        closed = read_until_closed(&mut slow, Duration::from_secs(2)).await.1;
    }
    assert!(closed, "a slow-header client stayed connected");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Connects and says nothing.
    let mut idle = connect(server.addr()).await;
    let (said, closed) = read_until_closed(&mut idle, Duration::from_secs(3)).await;
    assert!(closed, "an idle connection stayed open (got {said:?})");
    server.shutdown().await;
}

#[tokio::test]
async fn close_refuses_new_connections_at_once() {
    let (mut server, _) = start().await;
    let addr = server.addr();
    server.close().await;
    let err = TcpStream::connect(addr)
        .await
        .expect_err("port must be closed");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}
