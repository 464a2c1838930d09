//! Faults: inject one (`POST /faults`), list those in force (`GET /faults`), heal one
//! (`DELETE /faults/{target}`) or all (`DELETE /faults`). Targets, kinds and their rules are
//! the scenarios' own ([`crate::contract::fault`]); the checks mirror the scenario loader's.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{body, AdminError, Answer};
use crate::contract::fault::{Fault, FaultKind, FaultTarget, KindName, Scope};
use crate::contract::intune::ScepErrorCode;
use crate::serve::World;

/// Every fault kind, as scenarios spell them.
pub(crate) const KINDS: &[KindName] = &[
    KindName::Unavailable,
    KindName::Hang,
    KindName::Status,
    KindName::Malformed,
    KindName::Deny,
    KindName::Missing,
    KindName::ExpiredChallenge,
    KindName::UnknownChallenge,
    KindName::UnknownCode,
    KindName::NotRecorded,
    KindName::Answer,
    KindName::InvalidClient,
    KindName::ExpiredToken,
];

/// The body of `POST /faults`, as a scenario's `fault:` step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultBody {
    target: String,
    kind: String,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    times: Option<u32>,
}

const SHAPE: &str = r#"{"target", "kind", "status"?, "code"?, "times"?}"#;

/// A fault in force, as `GET /faults` lists it and `POST /faults` echoes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FaultView {
    /// The target, `ca.issue`.
    pub target: String,
    /// The kind, `status`.
    pub kind: String,
    /// The HTTP status of kind `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The Intune error code of kind `answer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Calls left to strike; absent: until healed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

fn view(target: FaultTarget, fault: Fault) -> FaultView {
    FaultView {
        target: target.name().into(),
        kind: fault.kind.name().name().into(),
        status: match fault.kind {
            FaultKind::Status(n) => Some(n),
            _ => None,
        },
        code: match fault.kind {
            FaultKind::Answer(c) => Some(c.to_string()),
            _ => None,
        },
        times: match fault.scope {
            Scope::Times(n) => Some(n),
            Scope::UntilHealed => None,
        },
    }
}

fn kind_names(kinds: &[KindName]) -> Vec<&'static str> {
    kinds.iter().map(|k| k.name()).collect()
}

/// Checks a body as the scenario loader checks a `fault:` step.
pub(crate) fn parse(b: &FaultBody) -> Result<(FaultTarget, Fault), AdminError> {
    let target: FaultTarget = b.target.parse().map_err(|_| {
        AdminError::bad_request(format!("unknown fault target `{}`", b.target))
            .with_valid(FaultTarget::all().map(|(n, _)| n))
    })?;
    let allowed = target.kinds();
    let Some(kind) = KINDS.iter().copied().find(|k| k.name() == b.kind.trim()) else {
        return Err(
            AdminError::bad_request(format!("unknown fault kind `{}`", b.kind))
                .with_valid(kind_names(allowed)),
        );
    };
    if !allowed.contains(&kind) {
        return Err(AdminError::bad_request(format!(
            "fault kind `{}` does not apply to `{target}`",
            kind.name()
        ))
        .with_valid(kind_names(allowed)));
    }
    let fault_kind = match (kind, b.status, b.code.as_deref()) {
        (KindName::Status, Some(n), None) if (400..=599).contains(&n) => FaultKind::Status(n),
        (KindName::Status, Some(n), None) => {
            return Err(AdminError::bad_request(format!(
                "`status: {n}` is not an HTTP error status: use a code from 400 to 599"
            )))
        }
        (KindName::Status, None, _) => {
            return Err(AdminError::bad_request(
                "fault kind `status` needs `status` (an HTTP code, e.g. 500)",
            ))
        }
        (KindName::Answer, None, Some(code)) => {
            FaultKind::Answer(code.parse::<ScepErrorCode>().map_err(|_| {
                AdminError::bad_request(format!("`{code}` is not an Intune SCEP error code"))
                    .with_valid(ScepErrorCode::ALL.iter().map(|c| c.to_string()))
            })?)
        }
        (KindName::Answer, _, None) => return Err(AdminError::bad_request(
            "fault kind `answer` needs `code` (an Intune SCEP error code, e.g. KeyUsageMismatch)",
        )),
        (k, Some(_), _) if k != KindName::Status => {
            return Err(AdminError::bad_request(
                "`status` only applies to fault kind `status`",
            ))
        }
        (k, _, Some(_)) if k != KindName::Answer => {
            return Err(AdminError::bad_request(
                "`code` only applies to fault kind `answer`",
            ))
        }
        (k, _, _) => FaultKind::from_name(k).ok_or_else(|| {
            AdminError::internal(format!("fault kind `{}` takes a value", k.name()))
        })?,
    };
    kind.check_times(b.times)
        .map_err(|bad| AdminError::bad_request(format!("{}: {}", bad.problem, bad.fix)))?;
    let scope = match b.times {
        Some(n) => Scope::Times(n),
        None => Scope::UntilHealed,
    };
    Ok((
        target,
        Fault {
            kind: fault_kind,
            scope,
        },
    ))
}

/// Every fault in force, in target order.
pub(crate) fn in_force(w: &World) -> Vec<FaultView> {
    let mut all: Vec<(FaultTarget, Fault)> =
        w.ca.switchboard()
            .faults()
            .into_iter()
            .map(|(op, f)| (FaultTarget::Ca(op), f))
            .chain(
                w.intune
                    .switchboard()
                    .faults()
                    .into_iter()
                    .map(|(op, f)| (FaultTarget::Intune(op), f)),
            )
            .chain(
                w.ndes
                    .switchboard()
                    .faults()
                    .into_iter()
                    .map(|(op, f)| (FaultTarget::Ndes(op), f)),
            )
            .collect();
    all.sort_by_key(|(t, _)| *t);
    all.into_iter().map(|(t, f)| view(t, f)).collect()
}

pub(super) async fn list(State(w): State<Arc<World>>) -> Json<Vec<FaultView>> {
    Json(in_force(&w))
}

pub(super) async fn inject(State(w): State<Arc<World>>, bytes: Bytes) -> Answer<FaultView> {
    let b: FaultBody = body(&bytes, SHAPE)?;
    let (target, fault) = parse(&b)?;
    let done = match target {
        FaultTarget::Ca(op) => w.ca.inject(op, fault).await,
        FaultTarget::Intune(op) => w.intune.inject(op, fault),
        FaultTarget::Ndes(op) => {
            w.ndes.switchboard().inject(op, fault);
            Ok(())
        }
        FaultTarget::Identity(_) => {
            return Err(AdminError::bad_request(
                "serve runs no identity platform: identity faults apply to gateway scenarios",
            ))
        }
    };
    done.map_err(|e| AdminError::bad_request(e.to_string()))?;
    Ok(Json(view(target, fault)))
}

/// What a heal removed.
#[derive(Debug, Serialize)]
pub(super) struct Healed {
    healed: Vec<FaultView>,
}

async fn heal_target(w: &World, target: FaultTarget) -> Result<(), AdminError> {
    match target {
        FaultTarget::Ca(op) => {
            w.ca.heal(op)
                .await
                .map_err(|e| AdminError::internal(e.to_string()))
        }
        FaultTarget::Intune(op) => {
            w.intune.heal(op);
            Ok(())
        }
        FaultTarget::Ndes(op) => {
            w.ndes.switchboard().heal(op);
            Ok(())
        }
        // serve runs no identity platform: nothing to heal.
        FaultTarget::Identity(_) => Ok(()),
    }
}

pub(super) async fn heal_all(State(w): State<Arc<World>>) -> Answer<Healed> {
    let healed = in_force(&w);
    w.intune.heal_all();
    w.ndes.switchboard().heal_all();
    w.ca.heal_all()
        .await
        .map_err(|e| AdminError::internal(e.to_string()))?;
    Ok(Json(Healed { healed }))
}

pub(super) async fn heal(
    State(w): State<Arc<World>>,
    Path(target): Path<String>,
) -> Answer<Healed> {
    if target.trim() == "all" {
        return heal_all(State(w)).await;
    }
    let t: FaultTarget = target.parse().map_err(|_| {
        AdminError::bad_request(format!("unknown fault target `{target}`"))
            .with_valid(std::iter::once("all").chain(FaultTarget::all().map(|(n, _)| n)))
    })?;
    let healed = in_force(&w)
        .into_iter()
        .filter(|f| f.target == t.name())
        .collect();
    heal_target(&w, t).await?;
    Ok(Json(Healed { healed }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(json: &str) -> Result<(FaultTarget, Fault), AdminError> {
        parse(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn every_kind_a_target_accepts_is_known() {
        for (_, t) in FaultTarget::all() {
            for k in t.kinds() {
                assert!(KINDS.contains(k), "{t}: {}", k.name());
            }
        }
    }

    #[test]
    fn bodies_are_checked_as_scenario_steps_are() {
        let (t, f) =
            parsed(r#"{"target":"ca.issue","kind":"status","status":503,"times":2}"#).unwrap();
        assert_eq!(t.name(), "ca.issue");
        assert_eq!(f.kind, FaultKind::Status(503));
        assert_eq!(f.scope, Scope::Times(2));
        for (json, says) in [
            (
                r#"{"target":"ca.explode","kind":"hang"}"#,
                "unknown fault target",
            ),
            (
                r#"{"target":"ca.issue","kind":"explode"}"#,
                "unknown fault kind",
            ),
            (
                r#"{"target":"ndes.get_ca_caps","kind":"deny"}"#,
                "does not apply",
            ),
            (r#"{"target":"ca.issue","kind":"status"}"#, "needs `status`"),
            (
                r#"{"target":"ca.issue","kind":"status","status":200}"#,
                "not an HTTP error",
            ),
            (
                r#"{"target":"ca.issue","kind":"hang","status":500}"#,
                "only applies",
            ),
            (
                r#"{"target":"intune.validate","kind":"answer"}"#,
                "needs `code`",
            ),
            (
                r#"{"target":"intune.validate","kind":"answer","code":"Nope"}"#,
                "not an Intune",
            ),
            (
                r#"{"target":"ca.issue","kind":"hang","times":0}"#,
                "breaks nothing",
            ),
            (
                r#"{"target":"ca.issue","kind":"unavailable","times":1}"#,
                "port closed",
            ),
            (
                r#"{"target":"ndes.ra_signing","kind":"missing","times":1}"#,
                "no call counts `times` down",
            ),
        ] {
            let e = parsed(json).unwrap_err();
            assert!(e.message.contains(says), "{json}: {}", e.message);
        }
        let e = parsed(r#"{"target":"ndes.get_ca_caps","kind":"deny"}"#).unwrap_err();
        assert_eq!(e.valid, ["hang", "status"]);
    }
}
