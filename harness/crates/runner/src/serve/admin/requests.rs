//! Work for the world: mint a SCEP challenge (`POST /challenges`), queue a PKCS request
//! (`POST /pkcs-requests`) or a revocation (`POST /revocation-requests`) at the fake Intune,
//! and run one service cycle of the connector (`POST /sync`), which downloads and
//! answers what is queued. The bodies are the fake Intune's own admin shapes
//! ([`crate::contract::intune::admin`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::{body, AdminError, Answer};
use crate::contract::intune::admin::{MintChallenge, MintedChallenge, QueuePkcs, QueueRevocation};
use crate::contract::intune::pkcs::CaRequest;
use crate::contract::intune::revocation::RevocationRequest;
use crate::serve::World;

pub(super) async fn mint(State(w): State<Arc<World>>, bytes: Bytes) -> Answer<MintedChallenge> {
    let m: MintChallenge = body(
        &bytes,
        r#"{"deviceId", "userId", "profile"?, "validitySeconds"?}"#,
    )?;
    w.intune
        .mint_challenge(m)
        .map(Json)
        .map_err(AdminError::bad_request)
}

pub(super) async fn queue_pkcs(State(w): State<Arc<World>>, bytes: Bytes) -> Answer<CaRequest> {
    let q: QueuePkcs = body(
        &bytes,
        r#"{"deviceId", "userId", "templateName", "caName", "certificateRequest", "requestId"?}"#,
    )?;
    w.intune
        .queue_pkcs(q)
        .map(Json)
        .map_err(AdminError::internal)
}

pub(super) async fn queue_revocation(
    State(w): State<Arc<World>>,
    bytes: Bytes,
) -> Answer<RevocationRequest> {
    let q: QueueRevocation = body(
        &bytes,
        r#"{"serialNumber", "issuerName", "caConfiguration"?}"#,
    )?;
    w.intune
        .queue_revocation(q)
        .map(Json)
        .map_err(AdminError::internal)
}

/// What a cycle did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Synced {
    /// Events the cycle wrote.
    events: u64,
    /// Requests Intune still waits for a final result of (queued, handed out, or answered
    /// with a retryable code): PKCS, revocation. Read from the fake, so it holds for any
    /// connector.
    pending: (usize, usize),
}

pub(super) async fn sync(State(w): State<Arc<World>>) -> Answer<Synced> {
    // Pumping around the cycle makes the count this cycle's own.
    let pump = |w: &World| {
        w.log
            .pump()
            .map_err(|e| AdminError::internal(format!("writing the event log: {e}")))
    };
    pump(&w)?;
    let before = w.log.records();
    w.connector
        .sync()
        .await
        .map_err(|f| AdminError::internal(f.to_string()))?;
    pump(&w)?;
    let state = w.intune.state();
    Ok(Json(Synced {
        events: w.log.records().saturating_sub(before),
        pending: (state.pending_pkcs.len(), state.pending_revocations.len()),
    }))
}
