//! The reference gateway's client of Intune, as Microsoft's reference client behaves: an
//! application token per resource from the identity platform (v2 endpoint, cached until a
//! minute before it expires), the SCEP validation service found through Graph discovery
//! (cached, forgotten on a transport failure), tokens forgotten when a call is answered 401,
//! and each `ScepActions` call a `POST` with the
//! bearer token, a fresh GUID `client-request-id` and `api-version`.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::config::GatewayConfig;
use crate::contract::identity::{token_v2_path, Resource, TokenAnswerV2, CLIENT_CREDENTIALS};
use crate::contract::intune::{transport, Discovery, Service, DISCOVERY_PATH};
use crate::sim::{Clock, Rng};

/// The longest answer read from any peer.
const MAX_ANSWER: usize = 256 * 1024;

/// Why a call did not get an answer to read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No token: the identity platform refused or failed.
    #[error("no token for {resource:?}: {why}")]
    Token {
        /// Which resource.
        resource: Resource,
        /// What went wrong.
        why: String,
    },
    /// Discovery failed or does not list the SCEP validation service.
    #[error("discovery: {0}")]
    Discovery(String),
    /// The call itself failed (connection, timeout).
    #[error("transport: {0}")]
    Transport(String),
}

/// An answer of a `ScepActions` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScepAnswer {
    /// HTTP status.
    pub status: u16,
    /// The `code` of the body, when it was a SCEP response.
    pub code: Option<String>,
}

impl ScepAnswer {
    /// 2xx with `code: Success`.
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status) && self.code.as_deref() == Some("Success")
    }
}

struct Cached {
    resource: Resource,
    token: String,
    until: i64,
}

/// The client. One per gateway; tokens and the endpoint are reused across requests.
pub struct IntuneClient {
    http: reqwest::Client,
    config: GatewayConfig,
    clock: Clock,
    tokens: Mutex<Vec<Cached>>,
    endpoint: Mutex<Option<String>>,
    ids: Mutex<Rng>,
    /// A fixed `client-request-id` for every call (a bug switch), or `None` for a fresh one.
    pub fixed_request_id: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn read(resp: reqwest::Response) -> Result<(u16, Vec<u8>), String> {
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    if bytes.len() > MAX_ANSWER {
        return Err(format!("answer of {} bytes is too long", bytes.len()));
    }
    Ok((status, bytes.to_vec()))
}

impl IntuneClient {
    /// A client for `config`, every call bounded by `timeout`, ids drawn from `rng`.
    pub fn new(
        config: GatewayConfig,
        clock: Clock,
        timeout: Duration,
        rng: Rng,
    ) -> Result<IntuneClient, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(IntuneClient {
            http,
            config,
            clock,
            tokens: Mutex::new(Vec::new()),
            endpoint: Mutex::new(None),
            ids: Mutex::new(rng),
            fixed_request_id: None,
        })
    }

    async fn token(&self, resource: Resource) -> Result<String, ClientError> {
        let now = self.clock.now().unix_timestamp();
        if let Some(c) = lock(&self.tokens)
            .iter()
            .find(|c| c.resource == resource && c.until > now)
        {
            return Ok(c.token.clone());
        }
        let fail = |why: String| ClientError::Token { resource, why };
        let url = format!(
            "{}{}",
            self.config.login_url,
            token_v2_path(&self.config.tenant_id)
        );
        let scope = resource.scope();
        let form = [
            ("grant_type", CLIENT_CREDENTIALS),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.as_str()),
            ("scope", scope.as_str()),
        ];
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let (status, bytes) = read(resp).await.map_err(fail)?;
        if status != 200 {
            return Err(fail(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            )));
        }
        let answer: TokenAnswerV2 =
            serde_json::from_slice(&bytes).map_err(|e| fail(format!("answer: {e}")))?;
        let life = i64::try_from(answer.expires_in).unwrap_or(i64::MAX);
        let mut tokens = lock(&self.tokens);
        tokens.retain(|c| c.resource != resource);
        tokens.push(Cached {
            resource,
            token: answer.access_token.clone(),
            until: now.saturating_add(life).saturating_sub(60),
        });
        Ok(answer.access_token)
    }

    fn request_id(&self) -> String {
        match &self.fixed_request_id {
            Some(id) => id.clone(),
            None => lock(&self.ids).guid(),
        }
    }

    async fn scep_endpoint(&self) -> Result<String, ClientError> {
        if let Some(uri) = lock(&self.endpoint).clone() {
            return Ok(uri);
        }
        let token = self
            .token(Resource::Graph)
            .await
            .map_err(|e| ClientError::Discovery(e.to_string()))?;
        let resp = self
            .http
            .get(format!("{}{DISCOVERY_PATH}", self.config.graph_url))
            .bearer_auth(token)
            .header(transport::CLIENT_REQUEST_ID, self.request_id())
            .send()
            .await
            .map_err(|e| ClientError::Discovery(e.to_string()))?;
        let (status, bytes) = read(resp).await.map_err(ClientError::Discovery)?;
        if status == 401 {
            lock(&self.tokens).clear();
        }
        if status != 200 {
            return Err(ClientError::Discovery(format!("HTTP {status}")));
        }
        let found: Discovery =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Discovery(e.to_string()))?;
        let want = Service::ScepValidation.name();
        let uri = found
            .value
            .iter()
            .find(|e| e.name().is_some_and(|n| n.eq_ignore_ascii_case(want)))
            .map(|e| e.uri.clone())
            .ok_or_else(|| ClientError::Discovery(format!("{want} is not listed")))?;
        *lock(&self.endpoint) = Some(uri.clone());
        Ok(uri)
    }

    /// `POST <ScepRequestValidationFEService>/ScepActions/<suffix>` with `body`.
    pub async fn call(&self, suffix: &str, body: &Value) -> Result<ScepAnswer, ClientError> {
        let base = self.scep_endpoint().await?;
        let token = self.token(Resource::Intune).await?;
        let sent = self
            .http
            .post(format!("{base}/{suffix}"))
            .bearer_auth(token)
            .header(transport::CLIENT_REQUEST_ID, self.request_id())
            .header(
                transport::API_VERSION,
                Service::ScepValidation.api_version().unwrap_or_default(),
            )
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                // The reference client forgets where the service is after a transport failure.
                *lock(&self.endpoint) = None;
                return Err(ClientError::Transport(e.to_string()));
            }
        };
        let (status, bytes) = read(resp).await.map_err(ClientError::Transport)?;
        if status == 401 {
            // The token was refused: ask for a new one next time.
            lock(&self.tokens).clear();
        }
        let code = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_string));
        Ok(ScepAnswer { status, code })
    }
}

/// Percent-encodes a form value (RFC 3986 unreserved characters kept).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
