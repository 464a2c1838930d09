//! An `enroll` step: its devices enroll one after another, or — with `concurrency` above 1 —
//! with up to that many PKIOperation requests in flight at once.
//!
//! A concurrent step is deterministic by construction. Everything that touches the scenario
//! clock, an RNG or the fakes' state before the request (the challenge, the device's key and
//! CSR, NDES's certificates, the message) is prepared first, in enrollment order; only the
//! PKIOperation requests run at once; their outcomes are checked in enrollment order. What the
//! connector writes meanwhile is held by the sink and released grouped by enrollment
//! ([`crate::event::Hold`]), so the stream is the one the same step writes with concurrency 1.
//! What timing could still decide is refused: faults in force (a counted fault strikes whichever
//! request comes first; a retry's backoff moves the clock), events that name no enrollment of
//! the step, and any move of the scenario clock while the requests are in flight.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt};

use crate::contract::fault::FaultTarget;
use crate::contract::intune::admin::MintChallenge;
use crate::scenario::check::EXPIRED_CHALLENGE_WAIT_MS;
use crate::scenario::expand;
use crate::scenario::model::{ChallengeState, Enroll, EnrollOutcome};

use super::super::device::{self, Enrollment, Ready};
use super::super::world::World;

/// Enrolls the step's devices (the first is the run's `enrolled`-th enrollment; `enrolled` is
/// moved on), checks each outcome against `expect:` in enrollment order, and returns them.
pub(super) async fn step(
    world: &World,
    e: &Enroll,
    enrolled: &mut usize,
    challenges: &mut HashMap<String, String>,
) -> Result<Vec<(String, Enrollment)>, String> {
    if e.concurrency > 1 {
        return concurrently(world, e, enrolled, challenges).await;
    }
    let mut done = Vec::new();
    for device in expand(&e.device, e.count) {
        let ready = prepare(world, e, &device, *enrolled, challenges).await?;
        *enrolled += 1;
        let got = match ready {
            Ready::Send(p) => device::send(world, *p).await,
            Ready::Done(outcome) => outcome,
        };
        check(e, &device, &got)?;
        done.push((device, got));
    }
    Ok(done)
}

async fn concurrently(
    world: &World,
    e: &Enroll,
    enrolled: &mut usize,
    challenges: &mut HashMap<String, String>,
) -> Result<Vec<(String, Enrollment)>, String> {
    refuse_faults(world)?;
    let devices: Vec<String> = expand(&e.device, e.count).collect();
    let mut ready = Vec::with_capacity(devices.len());
    for device in &devices {
        // Building a request is CPU work: let a budget that ran out stop the run here.
        tokio::task::yield_now().await;
        ready.push(prepare(world, e, device, *enrolled, challenges).await?);
        *enrolled += 1;
    }
    let before = world.clock.now();
    let hold = world.sink.hold(&devices);
    let limit = usize::try_from(e.concurrency).unwrap_or(1).max(1);
    // `buffered` keeps up to `limit` requests in flight and yields their outcomes in order.
    let outcomes: Vec<Enrollment> = stream::iter(ready)
        .map(|r| async move {
            match r {
                Ready::Send(p) => device::send(world, *p).await,
                Ready::Done(outcome) => outcome,
            }
        })
        .buffered(limit)
        .collect()
        .await;
    let released = hold.release_resolving(|t| world.policy.subject_of(t));
    if released.unattributed > 0 {
        return Err(format!(
            "{} of the {} events written while this step's requests were in flight name no device of the step (no `device_id`, or another one), so only thread timing could place them in the stream; use `concurrency: 1` here",
            released.unattributed, released.records
        ));
    }
    if world.clock.now() != before {
        return Err(format!(
            "scenario time moved while this step's {} requests were in flight (a connector's backoff?), so when each event happened would depend on thread timing; use `concurrency: 1` here",
            devices.len()
        ));
    }
    let mut done = Vec::with_capacity(devices.len());
    for (device, got) in devices.into_iter().zip(outcomes) {
        check(e, &device, &got)?;
        done.push((device, got));
    }
    Ok(done)
}

/// Faults in force would let thread timing decide which request meets them (and, through a
/// retry's backoff, when scenario time moves): a concurrent step refuses to run beside them.
fn refuse_faults(world: &World) -> Result<(), String> {
    let ca = world.ca.switchboard().faults();
    let intune = world.intune.switchboard().faults();
    let ndes = world.ndes.switchboard().faults();
    let identity = world.identity.switchboard().faults();
    let faults: Vec<String> = (ca.iter().map(|(op, _)| FaultTarget::Ca(*op)))
        .chain(intune.iter().map(|(op, _)| FaultTarget::Intune(*op)))
        .chain(ndes.iter().map(|(op, _)| FaultTarget::Ndes(*op)))
        .chain(identity.iter().map(|(op, _)| FaultTarget::Identity(*op)))
        .map(|t| t.to_string())
        .collect();
    if faults.is_empty() {
        return Ok(());
    }
    Err(format!(
        "faults are in force ({}), and with concurrent requests thread timing would decide which request meets them; `heal` them before this step or use `concurrency: 1`",
        faults.join(", ")
    ))
}

fn check(e: &Enroll, device: &str, got: &Enrollment) -> Result<(), String> {
    match e.expect {
        Some(want) if got.outcome() != want => {
            let want = match want {
                EnrollOutcome::Issued => "a certificate",
                EnrollOutcome::Rejected => "a CertRep FAILURE",
                EnrollOutcome::Error => "no CertRep",
            };
            Err(format!("device `{device}` expected {want} but got {got}"))
        }
        _ => Ok(()),
    }
}

/// The challenge `device` presents, then its request, prepared (the `n`-th enrollment).
async fn prepare(
    world: &World,
    e: &Enroll,
    device: &str,
    n: usize,
    challenges: &mut HashMap<String, String>,
) -> Result<Ready, String> {
    let mint = |device: &str, validity: u64| {
        world
            .intune
            .mint_challenge(MintChallenge {
                device_id: device.into(),
                user_id: e.user.clone(),
                profile: e.profile.clone(),
                validity_seconds: validity,
            })
            .map(|m| m.challenge)
    };
    let challenge = match e.challenge {
        ChallengeState::Valid => {
            let c = mint(device, 3600)?;
            challenges.insert(device.to_string(), c.clone());
            Some(c)
        }
        ChallengeState::Expired => {
            let c = mint(device, 60)?;
            world
                .clock
                .advance(std::time::Duration::from_millis(EXPIRED_CHALLENGE_WAIT_MS as u64));
            Some(c)
        }
        ChallengeState::Unknown => Some(world.intune.foreign_challenge(&mut world.rng.fork(device))),
        ChallengeState::Garbled => Some("TEST-ONLY not a challenge".into()),
        ChallengeState::Missing => None,
        ChallengeState::OtherDevice => Some(mint(&format!("{device}-other"), 3600)?),
        ChallengeState::Reused => Some(
            challenges
                .get(device)
                .cloned()
                .ok_or_else(|| format!("device `{device}` has no earlier challenge to reuse; enroll it with a valid challenge first"))?,
        ),
    };
    let request = super::super::translate::csr_spec(&e.csr, device, &e.user, challenge.as_deref());
    device::prepare(world, device, n, &request, e.message).await
}
