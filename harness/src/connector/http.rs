//! How the connector calls its peers: one JSON call with a timeout, classified into what the
//! event log cares about, retried with backoff counted in scenario time.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::sim::Clock;

/// Retry and timeout policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Real-time limit of one HTTP call (short: faults that hang must not slow tests).
    pub timeout: Duration,
    /// Extra attempts after an unexpected failure (clean refusals are never retried).
    pub retries: u32,
    /// Wait before the first retry, doubled each time; counted on the scenario clock only.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            timeout: Duration::from_millis(250),
            retries: 2,
            backoff: Duration::from_secs(30),
        }
    }
}

/// Why a call did not produce a usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Connection refused or reset before an answer: the peer is not there.
    Unreachable,
    /// No answer within the timeout.
    Timeout,
    /// A clean refusal: a 4xx status (other than 401) with a well-formed error body.
    Refused {
        /// HTTP status.
        status: u16,
        /// The error kind or code the body named.
        code: String,
        /// The body's text.
        message: String,
    },
    /// Any other HTTP error status (5xx, 401, 4xx without a well-formed body).
    Status(u16),
    /// 2xx whose body did not parse.
    Malformed,
}

impl Failure {
    /// Whether a retry may help.
    pub fn is_unexpected(&self) -> bool {
        !matches!(self, Failure::Refused { .. })
    }

    /// A stable short text for the event's `reason` detail.
    pub fn reason(&self, timeout: Duration) -> String {
        match self {
            Failure::Unreachable => "connection refused".into(),
            Failure::Timeout => format!("no answer within {} ms", timeout.as_millis()),
            Failure::Refused {
                status,
                code,
                message,
            } => format!("HTTP {status} {code}: {message}"),
            Failure::Status(s) => format!("HTTP {s}"),
            Failure::Malformed => "malformed answer".into(),
        }
    }
}

/// The result of a call after retries, with the number of attempts it took.
#[derive(Clone, Debug)]
pub struct Called<T> {
    /// The answer, or the last failure.
    pub result: Result<T, Failure>,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
}

/// A peer the connector calls: base URL, HTTP client and the retry policy.
#[derive(Clone, Debug)]
pub struct Peer {
    base: String,
    client: reqwest::Client,
    policy: RetryPolicy,
    clock: Clock,
}

/// An error body as either fake writes it: the CA's `{error, message}` or Intune's
/// `{code, message}`.
#[derive(serde::Deserialize)]
struct AnyErrorBody {
    #[serde(alias = "code")]
    error: String,
    #[serde(default)]
    message: String,
}

impl Peer {
    /// A peer at `base` (no trailing slash needed).
    pub fn new(base: &str, policy: RetryPolicy, clock: Clock) -> Peer {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .no_proxy()
            // A fake may close and reopen its port; never reuse a connection across calls.
            .pool_max_idle_per_host(0)
            .build()
            .unwrap_or_default();
        Peer {
            base: base.trim_end_matches('/').to_string(),
            client,
            policy,
            clock,
        }
    }

    /// POSTs `body` as JSON to `path` and parses the answer, retrying unexpected failures.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        headers: &[(&str, String)],
    ) -> Called<T> {
        self.retrying(|| async {
            let mut req = self.client.post(format!("{}{path}", self.base)).json(body);
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            classify(req.send().await).await
        })
        .await
    }

    async fn retrying<T, F, Fut>(&self, mut once: F) -> Called<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let mut attempts = 0;
        let mut wait = self.policy.backoff;
        loop {
            attempts += 1;
            let result = once().await;
            match &result {
                Err(f) if f.is_unexpected() && attempts <= self.policy.retries => {
                    // Back off in scenario time only: deterministic and instant.
                    self.clock.advance(wait);
                    wait = wait.saturating_mul(2);
                }
                _ => return Called { result, attempts },
            }
        }
    }
}

async fn classify<T: DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, Failure> {
    let resp = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return Err(Failure::Timeout),
        Err(_) => return Err(Failure::Unreachable),
    };
    let status = resp.status().as_u16();
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) if e.is_timeout() => return Err(Failure::Timeout),
        Err(_) => return Err(Failure::Unreachable),
    };
    if (200..300).contains(&status) {
        return serde_json::from_slice(&bytes).map_err(|_| Failure::Malformed);
    }
    if (400..500).contains(&status) && status != 401 {
        if let Ok(body) = serde_json::from_slice::<AnyErrorBody>(&bytes) {
            return Err(Failure::Refused {
                status,
                code: body.error,
                message: body.message,
            });
        }
    }
    Err(Failure::Status(status))
}
