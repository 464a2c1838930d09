//! The connector-under-test protocol: how the harness drives a connector that runs as its own
//! process, in any language. Modelled on Maelstrom's: JSON messages, one per line, on the
//! process's stdin (from the harness) and stdout (to the harness); anything the process wants
//! to say to people goes to stderr, which the harness keeps and shows when the process fails.
//!
//! Every request carries a `msg_id`; every reply names it in `in_reply_to`. The harness owns
//! time: each message it sends carries the scenario time `now`, and a process that must wait
//! (backoff between retries) asks the harness with `sleep` instead of sleeping, so runs stay
//! instant and deterministic. The process reports each Windows event it would write as an
//! `event` message; the harness stamps it with scenario time on arrival.
//!
//! A session: `init` → `init_ok`; then any of `start`, `stop`, `sync`, `clock` (each answered
//! `<type>_ok`); `verify` / `notify` whenever NDES asks its policy module (answered `verify_ok`
//! with a decision, `notify_ok`); finally `shutdown` → `shutdown_ok`, and the process exits.
//! `docs/vendor-contract.md` describes it for people, with a JSON Schema per message.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::policy::{Decision, Issued};

/// The protocol version `init` names.
pub const PROTOCOL: &str = "connector-harness/1";

/// A message from the harness to the connector.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToConnector {
    /// The first message: where everything is.
    Init {
        /// Request id.
        msg_id: u64,
        /// Scenario time, RFC 3339.
        now: String,
        /// [`PROTOCOL`].
        protocol: String,
        /// Everything the connector is configured with.
        config: Config,
    },
    /// Start the service (read the registration store, check in).
    Start {
        /// Request id.
        msg_id: u64,
        /// Scenario time.
        now: String,
    },
    /// Stop the service.
    Stop {
        /// Request id.
        msg_id: u64,
        /// Scenario time.
        now: String,
    },
    /// Run one service cycle: renewal check, PKCS queue, revocation queue.
    Sync {
        /// Request id.
        msg_id: u64,
        /// Scenario time.
        now: String,
    },
    /// The scenario clock moved.
    Clock {
        /// Request id.
        msg_id: u64,
        /// Scenario time now.
        now: String,
    },
    /// NDES asks its policy module to verify a request.
    Verify {
        /// Request id.
        msg_id: u64,
        /// Scenario time.
        now: String,
        /// SCEP transaction id.
        transaction_id: String,
        /// The decrypted PKCS#10, base64 DER.
        certificate_request: String,
    },
    /// NDES tells its policy module what came of a request it allowed.
    Notify {
        /// Request id.
        msg_id: u64,
        /// Scenario time.
        now: String,
        /// SCEP transaction id.
        transaction_id: String,
        /// The PKCS#10, base64 DER.
        certificate_request: String,
        /// What happened.
        outcome: Issued,
    },
    /// The answer to the connector's `sleep`: the clock has moved.
    SleepOk {
        /// The `sleep`'s `msg_id`.
        in_reply_to: u64,
        /// Scenario time now.
        now: String,
    },
    /// The end: answer `shutdown_ok` and exit.
    Shutdown {
        /// Request id.
        msg_id: u64,
    },
}

/// A message from the connector to the harness.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FromConnector {
    /// `init` done.
    InitOk {
        /// The `init`'s `msg_id`.
        in_reply_to: u64,
        /// Optional: the event dialect the connector writes to its Windows event log,
        /// `legacy` (the default, the catalog's 19 events) or `unified-2021` (the 2021+
        /// Certificate Connector's channels). Its `event` messages use the catalog's ids either
        /// way; the declaration says how its real log is to be read (`check`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dialect: Option<crate::catalog::Profile>,
    },
    /// `start` done.
    StartOk {
        /// Its `msg_id`.
        in_reply_to: u64,
    },
    /// `stop` done.
    StopOk {
        /// Its `msg_id`.
        in_reply_to: u64,
    },
    /// `sync` done.
    SyncOk {
        /// Its `msg_id`.
        in_reply_to: u64,
    },
    /// `clock` noted.
    ClockOk {
        /// Its `msg_id`.
        in_reply_to: u64,
    },
    /// The policy module's decision.
    VerifyOk {
        /// The `verify`'s `msg_id`.
        in_reply_to: u64,
        /// Issue or refuse.
        decision: Decision,
    },
    /// `notify` handled.
    NotifyOk {
        /// Its `msg_id`.
        in_reply_to: u64,
    },
    /// `shutdown` done; the process exits next.
    ShutdownOk {
        /// Its `msg_id`.
        in_reply_to: u64,
    },
    /// Ask the harness to let scenario time pass (a backoff). Answered `sleep_ok`.
    Sleep {
        /// Request id (the connector's own numbering).
        msg_id: u64,
        /// How long, in milliseconds of scenario time (at most a day).
        ms: u64,
    },
    /// One Windows event the connector writes.
    Event(Event),
    /// A request could not be done.
    Error {
        /// The request's `msg_id`.
        in_reply_to: u64,
        /// Text for people.
        text: String,
    },
}

/// The longest `sleep` a connector may ask for at once.
pub const MAX_SLEEP_MS: u64 = 86_400_000;

/// One event, as the connector would write it to its event log.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Event id (10010 … 20602).
    pub event_id: u16,
    /// Diagnostic code, `0x%08X`.
    pub code: String,
    /// Detail fields by key (`device_id`, `transaction_id`, …).
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    /// Optional: why the connector wrote it (the reference connector names its `Cause`, so the
    /// harness can report which causes a run reached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// Where everything is, and the connector's settings.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Intune's service discovery URL.
    pub discovery_url: String,
    /// The CA's base URL.
    pub ca_url: String,
    /// The CA's name.
    pub ca_name: String,
    /// The registration store directory (see [`super::store`]).
    pub store_dir: String,
    /// Real-time limit of one HTTP call, milliseconds.
    pub timeout_ms: u64,
    /// Extra attempts after an unexpected failure.
    pub retries: u32,
    /// Backoff before the first retry, milliseconds of scenario time (doubled each time).
    pub backoff_ms: u64,
    /// How long before expiry the registration certificate is renewed, milliseconds.
    pub renewal_window_ms: u64,
    /// Most requests downloaded per cycle.
    pub batch_size: u32,
    /// Whether the connector holds the RA client-authentication certificate a DigiCert-style
    /// CA demands.
    pub ra_certificate: bool,
    /// Template SCEP requests are issued with.
    pub scep_template: String,
}

impl ToConnector {
    /// The request id, if this message is a request.
    pub fn msg_id(&self) -> Option<u64> {
        match self {
            ToConnector::Init { msg_id, .. }
            | ToConnector::Start { msg_id, .. }
            | ToConnector::Stop { msg_id, .. }
            | ToConnector::Sync { msg_id, .. }
            | ToConnector::Clock { msg_id, .. }
            | ToConnector::Verify { msg_id, .. }
            | ToConnector::Notify { msg_id, .. }
            | ToConnector::Shutdown { msg_id } => Some(*msg_id),
            ToConnector::SleepOk { .. } => None,
        }
    }
}

/// The JSON Schemas of both directions (for `docs/vendor-contract.md` and validators).
pub fn schemas() -> String {
    let both = serde_json::json!({
        "to_connector": schemars::schema_for!(ToConnector),
        "from_connector": schemars::schema_for!(FromConnector),
    });
    serde_json::to_string_pretty(&both).unwrap_or_default() + "\n"
}

impl FromConnector {
    /// The message as the protocol names it, for people: `stop_ok (in reply to 2)`.
    pub fn describe(&self) -> String {
        let (kind, reply) = match self {
            FromConnector::InitOk { in_reply_to, .. } => ("init_ok", Some(in_reply_to)),
            FromConnector::StartOk { in_reply_to } => ("start_ok", Some(in_reply_to)),
            FromConnector::StopOk { in_reply_to } => ("stop_ok", Some(in_reply_to)),
            FromConnector::SyncOk { in_reply_to } => ("sync_ok", Some(in_reply_to)),
            FromConnector::ClockOk { in_reply_to } => ("clock_ok", Some(in_reply_to)),
            FromConnector::VerifyOk { in_reply_to, .. } => ("verify_ok", Some(in_reply_to)),
            FromConnector::NotifyOk { in_reply_to } => ("notify_ok", Some(in_reply_to)),
            FromConnector::ShutdownOk { in_reply_to } => ("shutdown_ok", Some(in_reply_to)),
            FromConnector::Sleep { .. } => ("sleep", None),
            FromConnector::Event(_) => ("event", None),
            FromConnector::Error { in_reply_to, .. } => ("error", Some(in_reply_to)),
        };
        match reply {
            Some(id) => format!("`{kind}` (in reply to request {id})"),
            None => format!("`{kind}`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_flat_json_with_a_type() {
        let line = serde_json::to_string(&ToConnector::Sync {
            msg_id: 3,
            now: "2026-01-01T00:00:00.000Z".into(),
        })
        .unwrap();
        assert_eq!(
            line,
            r#"{"type":"sync","msg_id":3,"now":"2026-01-01T00:00:00.000Z"}"#
        );
        let back: FromConnector = serde_json::from_str(
            r#"{"type":"event","event_id":20500,"code":"0x00000000","details":{"device_id":"d"}}"#,
        )
        .unwrap();
        assert!(matches!(
            back,
            FromConnector::Event(Event {
                event_id: 20500,
                ..
            })
        ));
        let decided: FromConnector = serde_json::from_str(
            r#"{"type":"verify_ok","in_reply_to":6,"decision":{"refuse":{"reason":"no"}}}"#,
        )
        .unwrap();
        assert!(matches!(
            decided,
            FromConnector::VerifyOk {
                decision: Decision::Refuse { .. },
                ..
            }
        ));
        assert!(serde_json::from_str::<FromConnector>(r#"{"type":"sync_ok"}"#).is_err());
        assert!(serde_json::from_str::<FromConnector>(
            r#"{"type":"sync_ok","in_reply_to":1,"x":1}"#
        )
        .is_err());
    }
}
