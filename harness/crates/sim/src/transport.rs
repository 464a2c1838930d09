//! How a failed HTTP call is described: connection refused, connection reset, no answer in
//! time, connection closed before an answer, or an answer that could not be read.
//!
//! The texts are stable and carry no address, port or operating-system wording, because they
//! reach the event stream (a connector's `reason` detail) and the stream must be the same on
//! every machine and every run.

use std::error::Error as _;
use std::fmt;
use std::io::ErrorKind;
use std::time::Duration;

/// Why a call produced no HTTP answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportError {
    /// The peer's port is closed (TCP RST to the SYN).
    Refused,
    /// The connection was reset or aborted by the peer mid-call.
    Reset,
    /// No answer within the caller's timeout.
    TimedOut(Duration),
    /// The peer closed the connection before a complete answer.
    Closed,
    /// The answer was not valid HTTP (or its body could not be read as sent).
    Malformed,
    /// Anything else the client library reports (DNS, TLS, a bad URL).
    Other,
}

impl TransportError {
    /// Classifies a `reqwest` error; `timeout` is the caller's limit, for the text.
    pub fn classify(e: &reqwest::Error, timeout: Duration) -> TransportError {
        if e.is_timeout() {
            return TransportError::TimedOut(timeout);
        }
        let mut source = e.source();
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    ErrorKind::ConnectionRefused => return TransportError::Refused,
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                        return TransportError::Reset
                    }
                    ErrorKind::TimedOut => return TransportError::TimedOut(timeout),
                    ErrorKind::UnexpectedEof | ErrorKind::BrokenPipe => {
                        return TransportError::Closed
                    }
                    _ => {}
                }
            }
            if let Some(h) = s.downcast_ref::<hyper::Error>() {
                if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
                    return TransportError::Closed;
                }
                if h.is_parse() || h.is_parse_status() {
                    return TransportError::Malformed;
                }
                if h.is_timeout() {
                    return TransportError::TimedOut(timeout);
                }
            }
            source = s.source();
        }
        if e.is_decode() || e.is_body() {
            TransportError::Malformed
        } else if e.is_connect() {
            // A connect error without an I/O cause we recognise: the port did not answer.
            TransportError::Refused
        } else {
            TransportError::Other
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Refused => f.write_str("connection refused"),
            TransportError::Reset => f.write_str("connection reset"),
            TransportError::TimedOut(t) => write!(f, "no answer within {} ms", t.as_millis()),
            TransportError::Closed => f.write_str("connection closed before an answer"),
            TransportError::Malformed => f.write_str("malformed answer"),
            TransportError::Other => f.write_str("transport failure"),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    const LIMIT: Duration = Duration::from_millis(300);

    /// What a one-shot peer does after reading the request.
    #[derive(Clone, Copy)]
    enum Then {
        Silence,
        HangUp,
        Garbage,
        Reset,
    }

    async fn peer(then: Then) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/x", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            finish(s, then).await;
        });
        url
    }

    async fn finish(mut s: TcpStream, then: Then) {
        match then {
            Then::Silence => tokio::time::sleep(Duration::from_secs(2)).await,
            Then::HangUp => {}
            Then::Garbage => {
                let _ = s.write_all(b"SMTP ready\r\n\r\n").await;
            }
            // Linger 0 turns the close into a RST.
            Then::Reset => {
                let _ = s.set_zero_linger();
            }
        }
    }

    async fn classify(url: &str) -> TransportError {
        let client = reqwest::Client::builder()
            .timeout(LIMIT)
            .no_proxy()
            .build()
            .expect("client");
        let e = client
            .get(url)
            .send()
            .await
            .expect_err("the call must fail");
        TransportError::classify(&e, LIMIT)
    }

    #[tokio::test]
    async fn each_failure_is_named_for_what_happened() {
        let closed_port = {
            let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            format!("http://{}/x", l.local_addr().expect("addr"))
        };
        assert_eq!(classify(&closed_port).await, TransportError::Refused);
        assert_eq!(
            classify(&peer(Then::Silence).await).await,
            TransportError::TimedOut(LIMIT)
        );
        assert_eq!(
            classify(&peer(Then::HangUp).await).await,
            TransportError::Closed
        );
        assert_eq!(
            classify(&peer(Then::Garbage).await).await,
            TransportError::Malformed
        );
        let reset = classify(&peer(Then::Reset).await).await;
        assert!(
            matches!(reset, TransportError::Reset | TransportError::Closed),
            "{reset:?}"
        );
    }

    #[test]
    fn texts_carry_no_address() {
        for e in [
            TransportError::Refused,
            TransportError::Reset,
            TransportError::TimedOut(LIMIT),
            TransportError::Closed,
            TransportError::Malformed,
            TransportError::Other,
        ] {
            let t = e.to_string();
            assert!(!t.contains("127.0.0.1") && !t.contains(':'), "{t}");
        }
    }
}
