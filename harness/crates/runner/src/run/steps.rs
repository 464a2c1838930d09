//! Executing a scenario's steps against its world, in order.

use std::collections::HashMap;

use crate::contract::fault::{Fault, FaultKind, FaultTarget, KindName, Scope};
use crate::contract::intune::admin::{QueuePkcs, QueueRevocation};
use crate::scenario::model::{EnrollOutcome, FaultStep, Step};
use crate::scenario::{expand, Scenario};
use crate::sim::{format_time, END_OF_TIME};

use super::device::Enrollment;
use super::world::World;
use crate::check::conformance::{PkcsRequest, RevocationRequest, StepMark};

mod enroll;

/// A step that could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step {index} (`{keyword}`, line {line}): {message}")]
pub struct StepError {
    /// 1-based step number.
    pub index: usize,
    /// The step's keyword.
    pub keyword: &'static str,
    /// Line in the scenario file.
    pub line: u64,
    /// What went wrong.
    pub message: String,
}

/// What the steps left behind for the checks.
#[derive(Debug, Default)]
pub struct Ledger {
    /// PKCS requests queued at Intune.
    pub pkcs_requests: Vec<PkcsRequest>,
    /// Revocations queued at Intune.
    pub revocations: Vec<RevocationRequest>,
    /// Enrollment outcomes, in order: device and what it got.
    pub enrollments: Vec<(String, Enrollment)>,
    /// Each step carried out (or begun), with the events it wrote.
    pub marks: Vec<StepMark>,
}

/// Runs every step into `ledger`; stops at the first that cannot be carried out.
pub async fn run_steps(
    world: &World,
    scenario: &Scenario,
    ledger: &mut Ledger,
) -> Result<(), StepError> {
    let mut challenges: HashMap<String, String> = HashMap::new();
    let mut enrolled = 0usize;
    for (i, step) in scenario.steps.iter().enumerate() {
        let fail = |message: String| StepError {
            index: i + 1,
            keyword: step.value.keyword(),
            line: step.referenced.line(),
            message,
        };
        let before = world.sink.written();
        let done = run_step(
            world,
            scenario,
            step,
            ledger,
            &mut challenges,
            &mut enrolled,
        )
        .await;
        ledger.marks.push(StepMark {
            keyword: step.value.keyword().to_string(),
            line: step.referenced.line(),
            first: before.saturating_add(1),
            last: world.sink.written(),
        });
        done.map_err(fail)?;
        // A connector process can fail outside a step of its own (answering NDES, or a stray
        // reply): a moment's grace lets the report carry what it wrote on stderr last.
        if world.connector.failed().is_some() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            if let Some(f) = world.connector.failed() {
                return Err(fail(f.to_string()));
            }
        }
        if world.clock.overflowed() {
            return Err(fail(format!(
                "scenario time ran past {}, the end of scenario time; the clock stopped there",
                format_time(END_OF_TIME)
            )));
        }
    }
    Ok(())
}

/// Carries out one step; `Err` says why it could not be.
async fn run_step(
    world: &World,
    scenario: &Scenario,
    step: &serde_saphyr::Spanned<Step>,
    ledger: &mut Ledger,
    challenges: &mut HashMap<String, String>,
    enrolled: &mut usize,
) -> Result<(), String> {
    let fail = |message: String| message;
    {
        match &step.value {
            Step::Start => world
                .connector
                .start()
                .await
                .map_err(|e| fail(e.to_string()))?,
            Step::Stop => world
                .connector
                .stop()
                .await
                .map_err(|e| fail(e.to_string()))?,
            Step::Sync => world
                .connector
                .sync()
                .await
                .map_err(|e| fail(e.to_string()))?,
            Step::Advance(by) => {
                world.clock.advance(by.get());
                world
                    .connector
                    .clock_moved()
                    .await
                    .map_err(|e| fail(e.to_string()))?;
            }
            Step::QueuePkcs(q) => {
                for (n, device) in expand(&q.device, q.count).enumerate() {
                    // Building a CSR is CPU work: let a budget that ran out stop the run here.
                    tokio::task::yield_now().await;
                    let key = crate::fixtures::device_key(n % crate::fixtures::DEVICE_KEYS.len())
                        .map_err(|e| fail(e.to_string()))?;
                    let csr = crate::pki::build_csr(&key, &device, None)
                        .map_err(|e| fail(e.to_string()))?;
                    let req = QueuePkcs {
                        device_id: device.clone(),
                        user_id: q.user.clone(),
                        template_name: q.template.clone(),
                        ca_name: scenario.setup.ca.name.clone(),
                        certificate_request: if q.corrupt {
                            "not base64 at all".into()
                        } else {
                            crate::pki::b64(&csr)
                        },
                        request_id: None,
                    };
                    let csr_sha256 = crate::pki::unb64(&req.certificate_request)
                        .ok()
                        .map(|der| crate::pki::sha256_hex(&der));
                    let (device_id, user_id, template_name) = (
                        req.device_id.clone(),
                        req.user_id.clone(),
                        req.template_name.clone(),
                    );
                    let queued = world.intune.queue_pkcs(req).map_err(&fail)?;
                    ledger.pkcs_requests.push(PkcsRequest {
                        request_id: queued.request_id,
                        device_id,
                        user_id,
                        template_name,
                        csr_sha256,
                    });
                }
            }
            Step::QueueRevocation(r) => {
                // The CA owns what it issued: the device's certificate is its latest one.
                let issued = world.ca.issued();
                for device in expand(&r.device, r.count) {
                    tokio::task::yield_now().await;
                    let serial = issued
                        .iter()
                        .rev()
                        .find(|c| c.subject_cn.as_deref() == Some(device.as_str()))
                        .map(|c| c.serial.clone())
                        .ok_or_else(|| fail(format!("no certificate was issued to `{device}` before this step, so there is nothing to revoke; add a `sync` after its `queue_pkcs`")))?;
                    let queued = world
                        .intune
                        .queue_revocation(QueueRevocation {
                            serial_number: serial.clone(),
                            issuer_name: scenario.setup.ca.name.clone(),
                            ca_configuration: None,
                        })
                        .map_err(&fail)?;
                    ledger.revocations.push(RevocationRequest {
                        request_id: queued.request_context,
                        serial_number: serial,
                    });
                }
            }
            Step::Enroll(e) => {
                let done = enroll::step(world, e, enrolled, challenges)
                    .await
                    .map_err(&fail)?;
                ledger.enrollments.extend(done);
            }
            Step::Fault(f) => inject(world, f).await.map_err(|e| fail(e.to_string()))?,
            Step::Heal(target) => heal(world, target).await.map_err(|e| fail(e.to_string()))?,
            Step::AddTemplate(t) => world.ca.add_template(super::translate::template(t)),
            Step::RemoveTemplate(name) => world.ca.remove_template(name),
            Step::AddProfile(p) => world.intune.put_profile(super::translate::profile(p)),
            Step::RemoveProfile(name) => world.intune.remove_profile(name),
            Step::RetireDevice(d) => world.intune.retire_device(d),
            Step::RetireUser(u) => world.intune.retire_user(u),
            Step::Store(change) => world
                .change_store(change)
                .map_err(|e| fail(e.to_string()))?,
        }
    }
    Ok(())
}

pub(crate) fn fault_of(f: &FaultStep) -> Fault {
    let kind = match f.kind {
        KindName::Unavailable => FaultKind::Unavailable,
        KindName::Hang => FaultKind::Hang,
        KindName::Status => FaultKind::Status(f.status.unwrap_or(500)),
        KindName::Malformed => FaultKind::Malformed,
        KindName::Deny => FaultKind::Deny,
        KindName::Missing => FaultKind::Missing,
        KindName::ExpiredChallenge => FaultKind::ExpiredChallenge,
        KindName::UnknownChallenge => FaultKind::UnknownChallenge,
        KindName::UnknownCode => FaultKind::UnknownCode,
        KindName::NotRecorded => FaultKind::NotRecorded,
        KindName::Answer => FaultKind::Answer(
            f.code
                .unwrap_or(crate::contract::intune::ScepErrorCode::Unknown),
        ),
        KindName::InvalidClient => FaultKind::InvalidClient,
        KindName::ExpiredToken => FaultKind::ExpiredToken,
    };
    let scope = f.times.map(Scope::Times).unwrap_or(Scope::UntilHealed);
    Fault { kind, scope }
}

async fn inject(world: &World, f: &FaultStep) -> Result<(), crate::fakes::FakeError> {
    let fault = fault_of(f);
    match f.target {
        FaultTarget::Ca(op) => world.ca.inject(op, fault).await,
        FaultTarget::Intune(op) => world.intune.inject(op, fault),
        FaultTarget::Ndes(op) => {
            world.ndes.switchboard().inject(op, fault);
            Ok(())
        }
        FaultTarget::Identity(op) => world.identity.inject(op, fault).await,
    }
}

async fn heal(world: &World, target: &str) -> Result<(), crate::fakes::FakeError> {
    match target.parse::<FaultTarget>() {
        Ok(FaultTarget::Ca(op)) => world.ca.heal(op).await,
        Ok(FaultTarget::Intune(op)) => {
            world.intune.heal(op);
            Ok(())
        }
        Ok(FaultTarget::Ndes(op)) => {
            world.ndes.switchboard().heal(op);
            Ok(())
        }
        Ok(FaultTarget::Identity(op)) => world.identity.heal(op).await,
        // `all` (the loader admits nothing else).
        Err(_) => {
            world.intune.heal_all();
            world.ndes.switchboard().heal_all();
            world.identity.heal_all().await?;
            world.ca.heal_all().await
        }
    }
}

impl Enrollment {
    /// The outcome class, as scenarios write it.
    pub fn outcome(&self) -> EnrollOutcome {
        match self {
            Enrollment::Issued { .. } => EnrollOutcome::Issued,
            Enrollment::Rejected { .. } => EnrollOutcome::Rejected,
            Enrollment::Error { .. } => EnrollOutcome::Error,
        }
    }
}
