//! The `intune_request` target's world: one fake Intune (started once per process, its routes
//! called in-process), reset before every input to the same state — two PKCS requests and two
//! revocations queued, three SCEP challenges minted (the third for a profile that demands
//! every extension) — so an input means the same thing every
//! time it runs and a crash reproduces from its file alone.
//!
//! An input is up to [`MAX_CALLS`] calls separated by a zero byte. A call's first byte picks
//! the route (`byte & 0x7F`, counting from 1, modulo the number of routes) and whether the transport headers
//! the reference client sends are left out (`byte & 0x80`); the rest is the request body.

pub mod seeds;

use std::sync::OnceLock;

use harness_runner::contract::intune::admin::{
    self, LedgerEntry, MintChallenge, Queue, QueuePkcs, QueueRevocation,
};
use harness_runner::contract::intune::{
    crp, pkcs, registration, revocation, scep, transport, Service, DISCOVERY_PATH,
};
use harness_runner::csr::{CsrSpec, KeyUse, CLIENT_AUTH};
use harness_runner::fakes::intune::{FakeIntune, IntuneConfig, SanKind, ScepProfile};
use harness_runner::fixtures;
use harness_runner::pki::b64;
use harness_runner::sim::{Clock, Rng};

/// Calls read from one input at most.
pub const MAX_CALLS: usize = 16;
/// The seed of the fake's random streams.
pub const SEED: u64 = 0xF022;
/// The device every queued request and minted challenge names.
pub const DEVICE: &str = "fuzz-device";
/// The user every queued request and minted challenge names.
pub const USER: &str = "alice@contoso.test";
/// The client-request-id every call sends.
pub const GUID: &str = "5f0f8b8e-1c2d-4e3f-8a9b-0c1d2e3f4a5b";

/// A profile that demands every alternative name, key usage and extended key usage, so
/// that each of the profile's checks can be reached.
pub const STRICT_PROFILE: &str = "SCEP-Strict";

fn strict_profile() -> ScepProfile {
    ScepProfile {
        name: STRICT_PROFILE.into(),
        subject_is_device: true,
        sans: vec![SanKind::Upn, SanKind::Dns, SanKind::Email],
        key_usage: Some(vec![KeyUse::DigitalSignature, KeyUse::KeyEncipherment]),
        key_length: Some(2048),
        extended_key_usage: Some(vec![CLIENT_AUTH]),
    }
}

/// One route of the fake.
#[derive(Clone, Debug)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path.
    pub path: String,
    /// The service called, for its transport headers (`None`: discovery and admin).
    pub service: Option<Service>,
}

/// Every route of the fake, in selector order.
pub fn routes() -> Vec<Route> {
    let svc = |service: Service, op: &str| Route {
        method: "POST",
        path: format!("/{}/{op}", service.name()),
        service: Some(service),
    };
    let plain = |method, path: &str| Route {
        method,
        path: path.to_string(),
        service: None,
    };
    vec![
        svc(Service::Pkcs, pkcs::DOWNLOAD),
        svc(Service::Pkcs, pkcs::UPLOAD),
        svc(Service::Revocation, revocation::DOWNLOAD),
        svc(Service::Revocation, revocation::UPLOAD),
        svc(Service::ScepValidation, scep::VALIDATE),
        svc(Service::ScepValidation, scep::SUCCESS_NOTIFICATION),
        svc(Service::ScepValidation, scep::FAILURE_NOTIFICATION),
        svc(Service::CertificateRegistration, crp::VERIFY_REQUEST),
        svc(Service::CertificateRegistration, crp::NOTIFY),
        svc(Service::ConnectorRegistration, registration::CHECKIN),
        svc(Service::ConnectorRegistration, registration::RENEW),
        svc(
            Service::ConnectorRegistration,
            registration::SIGNING_CERTIFICATE,
        ),
        plain("POST", admin::CHALLENGES),
        plain("POST", admin::PKCS_REQUESTS),
        plain("POST", admin::REVOCATION_REQUESTS),
        plain("GET", admin::STATE),
        plain("GET", DISCOVERY_PATH),
    ]
}

/// The selector byte of the route whose path ends with `path_suffix`, for seeds. Selectors
/// count from 1: a zero byte separates calls.
pub fn selector(path_suffix: &str) -> u8 {
    routes()
        .iter()
        .position(|r| r.path.ends_with(path_suffix))
        .and_then(|i| u8::try_from(i + 1).ok())
        .unwrap_or(1)
}

/// Splits an input into calls: (route, send the transport headers, body).
pub fn calls(input: &[u8]) -> Vec<(usize, bool, &[u8])> {
    let n = routes().len();
    input
        .split(|b| *b == 0)
        .filter_map(|call| {
            let (&sel, body) = call.split_first()?;
            let route = (usize::from(sel & 0x7F) + n - 1) % n;
            Some((route, sel & 0x80 == 0, body))
        })
        .take(MAX_CALLS)
        .collect()
}

/// Joins calls into one input (the inverse of [`calls`]).
pub fn frame(calls: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (sel, body)) in calls.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.push(*sel);
        out.extend_from_slice(body);
    }
    out
}

/// What the fixed state holds after a reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setup {
    /// The tenant every request carries (and every PKCS result must echo).
    pub tenant: String,
    /// Request ids of the queued PKCS requests.
    pub pkcs: Vec<String>,
    /// Request contexts of the queued revocations.
    pub revocations: Vec<String>,
    /// The minted challenges.
    pub challenges: Vec<String>,
}

/// The fake, its runtime and what a reset recreates.
pub struct World {
    runtime: tokio::runtime::Runtime,
    fake: FakeIntune,
    config: IntuneConfig,
    rng: Rng,
    pkcs_csr: String,
    /// The SCEP signing certificate (base64 DER) the legacy policy module presents.
    pub signing_certificate: String,
}

impl World {
    fn start() -> Result<World, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let mut config = IntuneConfig::default();
        config.profiles.push(strict_profile());
        let rng = Rng::new(SEED);
        let fake = runtime
            .block_on(FakeIntune::start(
                config.clone(),
                Clock::default(),
                rng.clone(),
            ))
            .map_err(|e| e.to_string())?;
        let key = fixtures::device_key(1).map_err(|e| e.to_string())?;
        let pkcs_csr = b64(&CsrSpec::simple(DEVICE, None)
            .build(&key)
            .map_err(|e| e.to_string())?);
        let signing_certificate = fake.signing_certificate().certificate;
        Ok(World {
            runtime,
            fake,
            config,
            rng,
            pkcs_csr,
            signing_certificate,
        })
    }

    /// Forgets every call and recreates the fixed state.
    pub fn reset(&self) -> Setup {
        self.fake.fuzz_reset(&self.config, &self.rng);
        let queue = |n: u32| {
            self.fake
                .queue_pkcs(QueuePkcs {
                    device_id: format!("{DEVICE}-{n}"),
                    user_id: USER.into(),
                    template_name: "IntuneUser".into(),
                    ca_name: "TEST-ISSUING-CA".into(),
                    certificate_request: self.pkcs_csr.clone(),
                    request_id: None,
                })
                .map(|r| r.request_id)
                .unwrap_or_default()
        };
        let revoke = |serial: &str| {
            self.fake
                .queue_revocation(QueueRevocation {
                    serial_number: serial.into(),
                    issuer_name: "contoso-ca".into(),
                    ca_configuration: None,
                })
                .map(|r| r.request_context)
                .unwrap_or_default()
        };
        let mint = |profile: &str| {
            self.fake
                .mint_challenge(MintChallenge {
                    device_id: DEVICE.into(),
                    user_id: USER.into(),
                    profile: profile.into(),
                    validity_seconds: 3600,
                })
                .map(|m| m.challenge)
                .unwrap_or_default()
        };
        Setup {
            tenant: self.fake.tenant_id(),
            pkcs: vec![queue(1), queue(2)],
            revocations: vec![revoke("0a1b2c"), revoke("1234567890")],
            challenges: vec![
                mint("SCEP-Default"),
                mint("SCEP-Default"),
                mint(STRICT_PROFILE),
            ],
        }
    }

    /// The headers the reference client sends to `route`.
    fn headers(&self, route: &Route) -> Vec<(&'static str, String)> {
        let mut h = vec![
            (
                transport::AUTHORIZATION,
                "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fuzz.sig".to_string(),
            ),
            (transport::CLIENT_REQUEST_ID, GUID.to_string()),
            (
                "content-type",
                "application/json; charset=utf-8".to_string(),
            ),
        ];
        if let Some(service) = route.service {
            if let Some(v) = service.api_version() {
                h.push((transport::API_VERSION, v.to_string()));
            }
            if service == Service::CertificateRegistration {
                h.push((transport::CLIENT_CERT, self.signing_certificate.clone()));
                h.push((transport::USER_AGENT, crp::USER_AGENT.to_string()));
            }
        }
        h
    }

    /// Resets, then makes every call of `input`; answers each call's status and body.
    pub fn run(&self, input: &[u8]) -> Vec<(String, u16, Vec<u8>)> {
        self.reset();
        let routes = routes();
        let mut answers = Vec::new();
        for (route, with_headers, body) in calls(input) {
            let route = &routes[route];
            let headers = if with_headers {
                self.headers(route)
            } else {
                Vec::new()
            };
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let upload = upload_ids(&route.path, body);
            let before = upload.as_ref().map(|_| self.fake.state().ledger);
            let answer = self.runtime.block_on(self.fake.fuzz_call(
                route.method,
                &route.path,
                &headers,
                body.to_vec(),
            ));
            match answer {
                Ok((status, answer)) => {
                    if let (Some((queue, ids)), Some(before)) = (&upload, &before) {
                        let after = self.fake.state().ledger;
                        if let Err(lie) =
                            upload_truth(*queue, ids, recorded(status, &answer), before, &after)
                        {
                            panic!(
                                "{}: answered {status} {} to {}: {lie}",
                                route.path,
                                String::from_utf8_lossy(&answer),
                                String::from_utf8_lossy(body)
                            );
                        }
                    }
                    if trace() {
                        eprintln!(
                            "{} {} -> {status} {}",
                            route.method,
                            route.path,
                            String::from_utf8_lossy(&answer)
                        );
                    }
                    answers.push((route.path.clone(), status, answer))
                }
                Err(e) => answers.push((route.path.clone(), 0, e.into_bytes())),
            }
        }
        answers
    }
}

/// Whether to print every call and answer (`CONNECTOR_HARNESS_FUZZ_TRACE=1`), to see what
/// an input does when it is run alone.
fn trace() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE
        .get_or_init(|| std::env::var_os("CONNECTOR_HARNESS_FUZZ_TRACE").is_some_and(|v| v != "0"))
}

/// The queue and the result ids of an upload call's body, parsed as the fake parses it
/// (`None` for other routes and bodies that do not parse).
fn upload_ids(path: &str, body: &[u8]) -> Option<(Queue, Vec<String>)> {
    if path.ends_with(pkcs::UPLOAD) {
        let b: pkcs::UploadCaRequestResults = serde_json::from_slice(body).ok()?;
        Some((
            Queue::Pkcs,
            b.results.into_iter().map(|r| r.request_id).collect(),
        ))
    } else if path.ends_with(revocation::UPLOAD) {
        let b: revocation::UploadRevocationResults = serde_json::from_slice(body).ok()?;
        Some((
            Queue::Revocation,
            b.results.into_iter().map(|r| r.request_context).collect(),
        ))
    } else {
        None
    }
}

/// Whether an upload's answer says "recorded": `true` (PKCS) or `{"value": true}`
/// (revocation), with status 200.
fn recorded(status: u16, answer: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(answer) else {
        return false;
    };
    status == 200 && (v == serde_json::Value::Bool(true) || v["value"] == true)
}

/// Recorded or requeued results of `id` in a ledger.
fn kept(ledger: &[LedgerEntry], queue: Queue, id: &str) -> u32 {
    ledger
        .iter()
        .find(|e| e.queue == queue && e.request_id == id)
        .map_or(0, |e| e.recorded.saturating_add(e.requeued))
}

/// The fake tells the truth about an upload: when it answers "recorded", each result in the
/// batch was kept exactly once (recorded, or recorded and requeued); when it refuses, none
/// was.
pub fn upload_truth(
    queue: Queue,
    ids: &[String],
    answered_recorded: bool,
    before: &[LedgerEntry],
    after: &[LedgerEntry],
) -> Result<(), String> {
    for id in ids {
        let gained = kept(after, queue, id).saturating_sub(kept(before, queue, id));
        let occurrences = ids.iter().filter(|i| *i == id).count();
        if answered_recorded && (gained != 1 || occurrences != 1) {
            return Err(format!(
                "said recorded, but `{id}` ({occurrences} times in the batch) was kept {gained} times"
            ));
        }
        if !answered_recorded && gained != 0 {
            return Err(format!("refused the batch, but kept `{id}` {gained} times"));
        }
    }
    Ok(())
}

/// The world, started once per process.
///
/// # Panics
/// When the fake cannot start (no loopback socket, broken fixtures): not an input's fault.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::start().expect("the fake Intune starts"))
}
