//! The checks of meaning that types cannot express: the name matches the file, steps come in an
//! order that makes sense, revocations follow issuance, an enrollment's profile exists, a
//! `heal` has a fault to heal, and the scenario stays within its caps —
//! steps, expanded counts, and scenario time (start plus every `advance` must not pass the end
//! of scenario time). One pass over the steps, linear in their number.

use std::collections::{BTreeSet, HashSet};

use serde_saphyr::{Location, Spanned};

use super::error::{ScenarioError, Source};
use super::limits::{self, clip, MAX_EXPANDED, MAX_STEPS};
use super::model::{ChallengeState, Scenario, Step};
use crate::contract::fault::{FaultTarget, KindName};
use crate::sim::{format_time, DEFAULT_EPOCH, END_OF_TIME};

pub(super) fn check(src: &Source<'_>, s: &Scenario) -> Result<(), ScenarioError> {
    let stem = src
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if !stem.is_empty() && s.name != stem {
        return Err(src.error(
            line_of(src.text, "name:"),
            1,
            format!(
                "the scenario is named `{}` but its file is `{stem}.yaml`",
                clip(&s.name, 60)
            ),
            Some(format!("write `name: {stem}` or rename the file")),
        ));
    }
    if !s
        .name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || s.name.is_empty()
    {
        return Err(src.error(
            line_of(src.text, "name:"),
            1,
            format!("`{}` is not a valid scenario name", clip(&s.name, 60)),
            Some("use lower-case letters, digits and dashes".into()),
        ));
    }
    if s.steps.is_empty() {
        return Err(src.error(
            line_of(src.text, "steps:"),
            1,
            "a scenario needs at least one step",
            None,
        ));
    }
    if let Some(step) = s.steps.get(MAX_STEPS) {
        return Err(src.at(
            step.referenced,
            format!(
                "a scenario has at most {MAX_STEPS} steps; this is step {}",
                MAX_STEPS + 1
            ),
            Some(
                "split it into several scenarios, or use `count` instead of repeating steps".into(),
            ),
        ));
    }
    let start = s.setup.start_time.map(|t| t.0).unwrap_or(DEFAULT_EPOCH);
    let mut walk = Walk {
        running: false,
        pkcs_devices: HashSet::new(),
        expanded: 0,
        elapsed: 0,
        left: (END_OF_TIME - start).whole_milliseconds().max(0) as i64,
        profiles: s
            .setup
            .intune
            .profiles
            .iter()
            .map(|p| p.name.clone())
            .collect(),
        faulted: BTreeSet::new(),
    };
    for step in &s.steps {
        check_step(src, step, &mut walk)?;
    }
    Ok(())
}

/// What the loader tracks while walking the steps in order.
struct Walk {
    running: bool,
    /// Every device a `queue_pkcs` has asked a certificate for so far.
    pkcs_devices: HashSet<String>,
    /// Requests, revocations and enrollments so far, counts expanded.
    expanded: u64,
    /// Scenario time that steps have moved the clock by, in milliseconds.
    elapsed: i64,
    /// Scenario time between the start and the end of scenario time, in milliseconds.
    left: i64,
    /// SCEP profiles Intune has at this point.
    profiles: BTreeSet<String>,
    /// Targets a `fault` step broke and no `heal` has repaired since.
    faulted: BTreeSet<FaultTarget>,
}

impl Walk {
    fn expand(&mut self, src: &Source<'_>, loc: Location, count: u32) -> Result<(), ScenarioError> {
        self.expanded += u64::from(count);
        if self.expanded > MAX_EXPANDED {
            return Err(src.at(
                loc,
                format!(
                    "this step takes the scenario to {} requests, revocations and enrollments; a scenario stands for at most {MAX_EXPANDED}",
                    self.expanded
                ),
                Some("split it into several scenarios or lower the counts".into()),
            ));
        }
        Ok(())
    }

    fn advance(&mut self, src: &Source<'_>, loc: Location, ms: i64) -> Result<(), ScenarioError> {
        self.elapsed = self.elapsed.saturating_add(ms);
        if self.elapsed > self.left {
            return Err(src.at(
                loc,
                format!(
                    "here scenario time would run past {}, the end of scenario time",
                    format_time(END_OF_TIME)
                ),
                Some("start earlier (`setup.start_time`) or advance less".into()),
            ));
        }
        Ok(())
    }
}

/// How far an enrollment with an expired challenge moves the clock (past the challenge's
/// 60-second lifetime; see `run::steps`).
pub const EXPIRED_CHALLENGE_WAIT_MS: i64 = 61_000;

fn check_step(
    src: &Source<'_>,
    step: &Spanned<Step>,
    walk: &mut Walk,
) -> Result<(), ScenarioError> {
    let loc = step.referenced;
    let needs_running = |what: &str, running: bool| -> Result<(), ScenarioError> {
        if running {
            Ok(())
        } else {
            Err(src.at(
                loc,
                format!("step `{what}` comes before the connector is started"),
                Some("add a `- start` step before it".into()),
            ))
        }
    };
    match &step.value {
        Step::Start => {
            if walk.running {
                return Err(src.at(
                    loc,
                    "the connector is already running here",
                    Some("add a `- stop` step before starting it again".into()),
                ));
            }
            walk.running = true;
        }
        Step::Stop => {
            needs_running("stop", walk.running)?;
            walk.running = false;
        }
        Step::Sync => needs_running("sync", walk.running)?,
        Step::Enroll(e) => {
            needs_running("enroll", walk.running)?;
            walk.expand(src, loc, e.count)?;
            if !walk.profiles.contains(&e.profile) {
                return Err(src.at(
                    loc,
                    format!("Intune has no SCEP profile `{}` at this step", clip(&e.profile, 60)),
                    Some(format!(
                        "declare it in `setup.intune.profiles` or add it with `add_profile`; Intune has: {}",
                        walk.profiles.iter().cloned().collect::<Vec<_>>().join(", ")
                    )),
                ));
            }
            if e.challenge == ChallengeState::Expired && e.concurrency > 1 {
                return Err(src.at(
                    loc,
                    format!(
                        "`challenge: expired` moves scenario time 61 s per device, so its enrollments happen one after another and cannot run with `concurrency: {}`",
                        e.concurrency
                    ),
                    Some("remove `concurrency` from this step (or set it to 1)".into()),
                ));
            }
            if e.challenge == ChallengeState::Expired {
                walk.advance(src, loc, EXPIRED_CHALLENGE_WAIT_MS * i64::from(e.count))?;
            }
        }
        Step::Advance(span) => {
            if span.get().is_zero() {
                return Err(src.at(
                    loc,
                    "`advance` needs a positive duration",
                    Some("write e.g. `- advance: 1h`".into()),
                ));
            }
            walk.advance(src, loc, limits::millis(span.get()))?;
        }
        Step::QueuePkcs(q) => {
            walk.expand(src, loc, q.count)?;
            walk.pkcs_devices.extend(expand(&q.device, q.count));
        }
        Step::QueueRevocation(r) => {
            walk.expand(src, loc, r.count)?;
            if let Some(d) = expand(&r.device, r.count).find(|d| !walk.pkcs_devices.contains(d)) {
                return Err(src.at(
                    loc,
                    format!("revocation of a certificate never issued: no earlier `queue_pkcs` step asks for one for device `{d}`"),
                    Some("queue a PKCS request for the device (and `sync`) before revoking".into()),
                ));
            }
        }
        Step::Fault(f) => {
            let allowed = f.target.kinds();
            if !allowed.contains(&f.kind) {
                return Err(src.at(
                    loc,
                    format!(
                        "fault kind `{}` does not apply to `{}`",
                        f.kind.name(),
                        f.target
                    ),
                    Some(format!(
                        "`{}` accepts: {}",
                        f.target,
                        allowed
                            .iter()
                            .map(|k| k.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ));
            }
            match (f.kind, f.status) {
                (KindName::Status, None) => {
                    return Err(src.at(
                        loc,
                        "fault kind `status` needs `status: <HTTP code>`",
                        Some("e.g. `status: 500`".into()),
                    ))
                }
                (KindName::Status, Some(c)) if !(400..=599).contains(&c) => {
                    return Err(src.at(
                        loc,
                        format!("`status: {c}` is not an HTTP error status"),
                        Some("use a code from 400 to 599".into()),
                    ))
                }
                (k, Some(_)) if k != KindName::Status => {
                    return Err(src.at(loc, "`status` only applies to fault kind `status`", None))
                }
                _ => {}
            }
            match (f.kind, f.code) {
                (KindName::Answer, None) => {
                    return Err(src.at(
                        loc,
                        "fault kind `answer` needs `code: <Intune SCEP error code>`",
                        Some("e.g. `code: KeyUsageMismatch`".into()),
                    ))
                }
                (k, Some(_)) if k != KindName::Answer => {
                    return Err(src.at(loc, "`code` only applies to fault kind `answer`", None))
                }
                _ => {}
            }
            if let Err(bad) = f.kind.check_times(f.times) {
                return Err(src.at(loc, bad.problem, Some(bad.fix.into())));
            }
            walk.faulted.insert(f.target);
        }
        Step::AddProfile(p) => {
            walk.profiles.insert(p.name.clone());
        }
        Step::RemoveProfile(name) => {
            if !walk.profiles.remove(name) {
                return Err(src.at(
                    loc,
                    format!(
                        "Intune has no SCEP profile `{}` to remove here",
                        clip(name, 60)
                    ),
                    None,
                ));
            }
        }
        Step::AddTemplate(_)
        | Step::RemoveTemplate(_)
        | Step::RetireDevice(_)
        | Step::RetireUser(_)
        | Step::Store(_) => {}
        Step::Heal(target) if target == "all" => {
            // `heal: all` repairs faults, not the setup: say so when there is none to repair.
            if std::mem::take(&mut walk.faulted).is_empty() {
                return Err(src.at(
                    loc,
                    "`heal: all` here heals nothing: no `fault` step before it is still in force",
                    Some("`heal` removes faults only; change the setup with `store`, `add_template`, `add_profile` and the like".into()),
                ));
            }
        }
        Step::Heal(target) => {
            let Ok(t) = target.parse::<FaultTarget>() else {
                return Err(src.at(
                    loc,
                    format!("unknown fault target `{}`", clip(target, 60)),
                    Some(format!(
                        "write `all` or one of: {}",
                        FaultTarget::all()
                            .map(|(n, _)| n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ));
            };
            if !walk.faulted.remove(&t) {
                return Err(src.at(
                    loc,
                    format!("`heal: {t}` heals nothing: no `fault` step before it broke `{t}`"),
                    Some("`heal` removes a fault an earlier `fault` step put in force".into()),
                ));
            }
        }
    }
    Ok(())
}

/// The device ids a step with `count` stands for, one at a time.
pub fn expand(device: &str, count: u32) -> impl Iterator<Item = String> + '_ {
    let single = (count <= 1).then(|| device.to_string());
    let many = (count > 1)
        .then(|| (1..=count).map(move |i| format!("{device}-{i:03}")))
        .into_iter()
        .flatten();
    single.into_iter().chain(many)
}

fn line_of(text: &str, key: &str) -> u64 {
    text.lines()
        .position(|l| l.trim_start().starts_with(key))
        .map(|i| i as u64 + 1)
        .unwrap_or(1)
}
