//! How the connector calls its peers: one call with a timeout, classified into what the event
//! log cares about, retried with backoff counted in scenario time.
//!
//! - [`Peer`] calls the CA (JSON over HTTP).
//! - [`IntuneClient`] calls Intune as Microsoft's reference client does: it finds each service
//!   through discovery (and forgets what it found when a call fails at the HTTP layer), and
//!   sends a bearer token, a fresh `client-request-id` and the service's `api-version`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::contract::intune::{transport, Discovery, Service};
use std::sync::Arc;

use super::env::Time;
use crate::transport::TransportError;

/// Retry and timeout policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Real-time limit of one HTTP call.
    pub timeout: Duration,
    /// Extra attempts after an unexpected failure (clean refusals are never retried).
    pub retries: u32,
    /// Wait before the first retry, doubled each time; counted on the scenario clock only.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            timeout: Duration::from_secs(5),
            retries: 2,
            backoff: Duration::from_secs(30),
        }
    }
}

/// Why a call did not produce a usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No HTTP answer: refused, reset, timed out, closed early, or not HTTP.
    Transport(TransportError),
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

    /// Whether the failure happened below HTTP (no answer at all).
    pub fn is_transport(&self) -> bool {
        matches!(self, Failure::Transport(_))
    }

    /// A stable short text for the event's `reason` detail.
    pub fn reason(&self) -> String {
        match self {
            Failure::Transport(t) => t.to_string(),
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
pub(crate) struct Called<T> {
    /// The answer, or the last failure.
    pub result: Result<T, Failure>,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
}

/// An answer as it came: status and body.
pub(crate) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The default reading: 2xx is JSON `T`, a 4xx (not 401) with an error body is a clean
    /// refusal, anything else an HTTP failure.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        if (200..300).contains(&self.status) {
            return serde_json::from_slice(&self.body).map_err(|_| Failure::Malformed);
        }
        Err(self.failure())
    }

    /// The failure a non-2xx answer stands for.
    pub(crate) fn failure(&self) -> Failure {
        if (400..500).contains(&self.status) && self.status != 401 {
            if let Some((code, message)) = error_body(&self.body) {
                return Failure::Refused {
                    status: self.status,
                    code,
                    message,
                };
            }
        }
        Failure::Status(self.status)
    }
}

/// An error body as the CA writes it (`{error, message}`) or Intune (`{"error": {code,
/// message}}`).
fn error_body(bytes: &[u8]) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    match v.get("error")? {
        serde_json::Value::String(kind) => {
            Some((kind.clone(), text(&v, "message").unwrap_or_default()))
        }
        inner @ serde_json::Value::Object(_) => Some((
            text(inner, "code")?,
            text(inner, "message").unwrap_or_default(),
        )),
        _ => None,
    }
}

fn client(policy: RetryPolicy) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(policy.timeout)
        .connect_timeout(policy.timeout)
        .no_proxy()
        // A fake may close and reopen its port; never reuse a connection across calls.
        .pool_max_idle_per_host(0)
        .build()
        .unwrap_or_default()
}

async fn send(req: reqwest::RequestBuilder, timeout: Duration) -> Result<Answer, Failure> {
    let resp = req
        .send()
        .await
        .map_err(|e| Failure::Transport(TransportError::classify(&e, timeout)))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| Failure::Transport(TransportError::classify(&e, timeout)))?;
    Ok(Answer {
        status,
        body: body.to_vec(),
    })
}

/// Runs `once` until it succeeds, fails cleanly, or the retries are spent; backs off in
/// scenario time only (deterministic and instant).
async fn retrying<T, F, Fut>(policy: RetryPolicy, clock: &dyn Time, mut once: F) -> Called<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut attempts = 0;
    let mut wait = policy.backoff;
    loop {
        attempts += 1;
        let result = once().await;
        match &result {
            Err(f) if f.is_unexpected() && attempts <= policy.retries => {
                clock.sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
            _ => return Called { result, attempts },
        }
    }
}

/// The CA: base URL, HTTP client and the retry policy.
#[derive(Clone)]
pub(crate) struct Peer {
    base: String,
    client: reqwest::Client,
    policy: RetryPolicy,
    clock: Arc<dyn Time>,
}

impl Peer {
    /// A peer at `base` (no trailing slash needed).
    pub(crate) fn new(base: &str, policy: RetryPolicy, clock: Arc<dyn Time>) -> Peer {
        Peer {
            base: base.trim_end_matches('/').to_string(),
            client: client(policy),
            policy,
            clock,
        }
    }

    /// POSTs `body` as JSON to `path` and parses the answer, retrying unexpected failures.
    pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        headers: &[(&str, String)],
    ) -> Called<T> {
        retrying(self.policy, self.clock.as_ref(), || async {
            let mut req = self.client.post(format!("{}{path}", self.base)).json(body);
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            send(req, self.policy.timeout).await?.json()
        })
        .await
    }
}

/// The connector's client of the Intune services.
pub(crate) struct IntuneClient {
    discovery_url: String,
    token: String,
    client: reqwest::Client,
    policy: RetryPolicy,
    clock: Arc<dyn Time>,
    /// Service name (lower case) → base URI, as discovery answered.
    services: Mutex<HashMap<String, String>>,
    calls: AtomicU64,
}

impl IntuneClient {
    /// A client that finds the services at `discovery_url` and presents `token`.
    pub(crate) fn new(
        discovery_url: &str,
        token: &str,
        policy: RetryPolicy,
        clock: Arc<dyn Time>,
    ) -> IntuneClient {
        IntuneClient {
            discovery_url: discovery_url.to_string(),
            token: token.to_string(),
            client: client(policy),
            policy,
            clock,
            services: Mutex::new(HashMap::new()),
            calls: AtomicU64::new(0),
        }
    }

    /// A fresh activity id. Counted, not random: it never reaches the event stream, but a
    /// run must not depend on an unseeded generator either.
    fn activity_id(&self) -> String {
        let n = self.calls.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        format!("00000000-0000-4000-8000-{:012x}", n & 0xFFFF_FFFF_FFFF)
    }

    fn forget(&self) {
        self.services
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    async fn endpoint(&self, service: Service) -> Result<String, Failure> {
        let key = service.name().to_ascii_lowercase();
        if let Some(uri) = self
            .services
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(uri.clone());
        }
        let req = self
            .client
            .get(&self.discovery_url)
            .bearer_auth(&self.token)
            .header(transport::CLIENT_REQUEST_ID, self.activity_id());
        let found: Discovery = send(req, self.policy.timeout).await?.json()?;
        let mut map = self.services.lock().unwrap_or_else(|p| p.into_inner());
        map.clear();
        for e in found.value {
            if let Some(name) = e.name() {
                map.insert(
                    name.to_ascii_lowercase(),
                    e.uri.trim_end_matches('/').to_string(),
                );
            }
        }
        map.get(&key).cloned().ok_or_else(|| Failure::Refused {
            status: 404,
            code: "ServiceNotFound".into(),
            message: format!("discovery does not list {}", service.name()),
        })
    }

    /// POSTs `body` to `suffix` of `service`, reads the answer with `read`, retrying
    /// unexpected failures. `extra` headers are added to the standard ones.
    pub(crate) async fn call<B: Serialize, T>(
        &self,
        service: Service,
        suffix: &str,
        body: &B,
        extra: &[(&str, String)],
        read: impl Fn(&Answer) -> Result<T, Failure>,
    ) -> Called<T> {
        retrying(self.policy, self.clock.as_ref(), || async {
            let base = self.endpoint(service).await?;
            let mut req = self
                .client
                .post(format!("{base}/{suffix}"))
                .header(transport::CLIENT_REQUEST_ID, self.activity_id())
                .json(body);
            if service != Service::CertificateRegistration {
                req = req.bearer_auth(&self.token);
            }
            if let Some(v) = service.api_version() {
                req = req.header(transport::API_VERSION, v);
            }
            for (k, v) in extra {
                req = req.header(*k, v);
            }
            let answer = match send(req, self.policy.timeout).await {
                Ok(a) => a,
                Err(f) => {
                    // As the reference client: the service may have moved; ask again next time.
                    self.forget();
                    return Err(f);
                }
            };
            let read = read(&answer);
            if !(200..300).contains(&answer.status) && read.is_err() {
                self.forget();
            }
            read
        })
        .await
    }

    /// [`IntuneClient::call`] with the default reading (JSON on 2xx).
    pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        service: Service,
        suffix: &str,
        body: &B,
    ) -> Called<T> {
        self.call(service, suffix, body, &[], Answer::json).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_error_body_shapes_are_read() {
        assert_eq!(
            error_body(br#"{"error":"denied","message":"no"}"#),
            Some(("denied".into(), "no".into()))
        );
        assert_eq!(
            error_body(br#"{"error":{"code":"Conflict","message":"twice"}}"#),
            Some(("Conflict".into(), "twice".into()))
        );
        assert_eq!(error_body(br#"{"code":"x"}"#), None);
        assert_eq!(error_body(b"<html>"), None);
    }
}
