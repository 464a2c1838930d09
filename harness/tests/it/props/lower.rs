//! Lowering a random [`World`] to a scenario file, and predicting from the file's own steps
//! what the invariants need to know: how many requests were queued, which enrollments reach
//! NDES's policy module, how often the service starts and stops.
//!
//! The lowering keeps the loader's and the runner's rules: `sync` and `enroll` start the
//! service when it is stopped, a `start` or `stop` that would repeat the service's state is
//! dropped, a revocation names a device that was certainly issued a certificate (a pinned
//! one), `reused` names a device that enrolled with a valid challenge before, and the clock
//! never moves the registration certificate past its expiry. Then, as TigerBeetle's VOPR does,
//! it appends a liveness phase: heal everything, start if stopped, sync until the queues can
//! have drained, and stop.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use harness_runner::contract::fault::{FaultTarget, KindName, NdesOp};
use harness_runner::scenario::model::{ChallengeState, MessageShape};

use super::cost::{Cost, KEEP_SECONDS_PERCENT, KEEP_UNTIMED_HANG_PERCENT, TIMEOUT_MS};
use super::world::{scep_codes, FaultSpec, Op, Template, World};

/// Most scenario time a world's steps move the clock by: less than the shortest registration
/// lifetime drawn (10 days), so a usable registration stays usable.
const MAX_ELAPSED_MS: u64 = 8 * 86_400_000;

/// How far an enrollment with an expired challenge moves the clock (`run::steps`).
const EXPIRED_WAIT_MS: u64 = 61_000;

/// One device's enrollment, in the order the steps make them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolled {
    /// The device id (the CSR's common name).
    pub device: String,
    /// Whether NDES hands the request to its policy module: false when NDES refuses it first
    /// (an NDES operation fault, a missing RA certificate, a malformed message).
    pub reaches_policy: bool,
}

/// A world as a scenario file, with what its steps promise.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenario's name (`props-<seed>`).
    pub name: String,
    /// The scenario file's text (without a header comment).
    pub yaml: String,
    /// PKCS requests queued.
    pub pkcs_requests: usize,
    /// Revocations queued.
    pub revocations: usize,
    /// Every enrollment, in order.
    pub enrollments: Vec<Enrolled>,
    /// `start` steps.
    pub starts: usize,
    /// `stop` steps.
    pub stops: usize,
    /// Whether the registration is usable, so the queues must drain.
    pub usable: bool,
    /// Every fault injected: target, kind, and whether it had `times`.
    pub faults: Vec<(FaultTarget, KindName, bool)>,
}

/// Where the lowering stands after each operation.
struct Lowering<'w> {
    world: &'w World,
    steps: Vec<String>,
    running: bool,
    next_device: u32,
    pins: Vec<String>,
    valid_devices: Vec<String>,
    elapsed_ms: u64,
    /// Faults in force on NDES: kind and calls left (`None`: until healed).
    ndes: BTreeMap<NdesOp, (KindName, Option<u32>)>,
    /// Enrollments held by an NDES `hang` so far (each costs the device's patience).
    held: u32,
    /// Targets a fault step broke and no heal has repaired since (the loader refuses a heal
    /// that heals nothing).
    faulted: BTreeSet<&'static str>,
    plan: Plan,
}

/// Lowers `world` to a scenario file named `name`.
pub fn lower(world: &World, name: &str) -> Plan {
    let mut l = Lowering {
        world,
        steps: Vec::new(),
        running: false,
        next_device: 1,
        pins: Vec::new(),
        valid_devices: Vec::new(),
        elapsed_ms: 0,
        ndes: BTreeMap::new(),
        held: 0,
        faulted: BTreeSet::new(),
        plan: Plan {
            name: name.to_string(),
            yaml: String::new(),
            pkcs_requests: 0,
            revocations: 0,
            enrollments: Vec::new(),
            starts: 0,
            stops: 0,
            usable: world.setup.registration.usable(),
            faults: Vec::new(),
        },
    };
    for op in &world.ops {
        l.op(op);
    }
    l.liveness();
    let yaml = l.file();
    Plan { yaml, ..l.plan }
}

impl Lowering<'_> {
    fn push(&mut self, step: impl Into<String>) {
        self.steps.push(step.into());
    }

    fn start(&mut self) {
        if !self.running {
            self.push("start");
            self.running = true;
            self.plan.starts += 1;
        }
    }

    fn stop(&mut self) {
        if self.running {
            self.push("stop");
            self.running = false;
            self.plan.stops += 1;
        }
    }

    fn device(&mut self, prefix: &str) -> String {
        let d = format!("{prefix}-{}", self.next_device);
        self.next_device += 1;
        d
    }

    /// Syncs enough for every PKCS request queued so far to be handed out once, oldest first.
    fn syncs_to_drain(&self) -> usize {
        let batch = self.world.setup.batch_size.max(1) as usize;
        let most = self.plan.pkcs_requests.max(self.plan.revocations);
        most.div_ceil(batch)
    }

    fn heal_all(&mut self) {
        if !self.faulted.is_empty() {
            self.push("heal: all");
        }
        self.faulted.clear();
        self.ndes.clear();
    }

    fn op(&mut self, op: &Op) {
        match op {
            Op::Start => self.start(),
            Op::Stop => self.stop(),
            Op::Sync => {
                self.start();
                self.push("sync");
            }
            Op::Advance(secs) => {
                let ms = u64::from(*secs) * 1000;
                if self.elapsed_ms + ms <= MAX_ELAPSED_MS {
                    self.elapsed_ms += ms;
                    self.push(format!("advance: {secs}s"));
                }
            }
            Op::QueuePkcs {
                count,
                template,
                corrupt,
            } => {
                let device = self.device("laptop");
                self.plan.pkcs_requests += *count as usize;
                let corrupt = if *corrupt { ", corrupt: true" } else { "" };
                self.push(format!(
                    "queue_pkcs: {{device: {device}, user: alice@contoso.test, template: {}, count: {count}{corrupt}}}",
                    template.name()
                ));
            }
            Op::Pin => self.pin(),
            Op::Revoke(pick) => {
                if !self.pins.is_empty() {
                    let device = self.pins[pick.index(self.pins.len())].clone();
                    self.plan.revocations += 1;
                    self.push(format!("queue_revocation: {{device: {device}}}"));
                }
            }
            Op::Enroll {
                challenge,
                message,
                count,
                pick,
            } => self.enroll(*challenge, *message, *count, pick),
            Op::Fault(f) => self.fault(f),
            Op::Heal(None) => self.heal_all(),
            Op::Heal(Some(i)) => {
                let (name, target) = target_at(i.index(targets_len()));
                if !self.faulted.remove(name) {
                    return;
                }
                self.push(format!("heal: {name}"));
                if let FaultTarget::Ndes(op) = target {
                    self.ndes.remove(&op);
                }
            }
        }
    }

    /// Heals everything and has one new device issued a certificate, so a later revocation
    /// names a certificate that certainly exists. Skipped where nothing can be issued.
    fn pin(&mut self) {
        let s = &self.world.setup;
        if !s.registration.usable() || s.digicert == Some(false) {
            return;
        }
        self.heal_all();
        self.start();
        let device = self.device("pin");
        self.plan.pkcs_requests += 1;
        self.push(format!(
            "queue_pkcs: {{device: {device}, user: carol@contoso.test, template: {}}}",
            Template::User.name()
        ));
        for _ in 0..self.syncs_to_drain() {
            self.push("sync");
        }
        self.pins.push(device);
    }

    fn enroll(
        &mut self,
        challenge: ChallengeState,
        message: MessageShape,
        count: u32,
        pick: &proptest::sample::Index,
    ) {
        self.start();
        let (devices, challenge, count) = match challenge {
            ChallengeState::Reused if !self.valid_devices.is_empty() => {
                let d = self.valid_devices[pick.index(self.valid_devices.len())].clone();
                (vec![d.clone()], ChallengeState::Reused, 1)
            }
            // Nothing to reuse yet: a fresh device with a valid challenge instead.
            ChallengeState::Reused => (Vec::new(), ChallengeState::Valid, count),
            other => (Vec::new(), other, count),
        };
        let base = match devices.first() {
            Some(d) => d.clone(),
            None => self.device("phone"),
        };
        let expanded: Vec<String> = if count > 1 {
            (1..=count).map(|i| format!("{base}-{i:03}")).collect()
        } else {
            vec![base.clone()]
        };
        if challenge == ChallengeState::Expired {
            let wait = EXPIRED_WAIT_MS * u64::from(count);
            if self.elapsed_ms + wait > MAX_ELAPSED_MS {
                return;
            }
            self.elapsed_ms += wait;
        }
        if challenge == ChallengeState::Valid {
            self.valid_devices.extend(expanded.iter().cloned());
        }
        self.hold_at_most_once(count);
        for device in expanded {
            let reaches_policy = self.reaches_policy(message);
            self.plan.enrollments.push(Enrolled {
                device,
                reaches_policy,
            });
        }
        self.push(format!(
            "enroll: {{device: {base}, user: bob@contoso.test, challenge: {}, message: {}, count: {count}}}",
            challenge_name(challenge),
            message_name(message)
        ));
    }

    /// Heals the NDES hangs a device would wait on before an enroll step that would be held a
    /// second time in this world (or twice by itself): each hold costs the device's patience,
    /// seconds of real time, and one per world is enough to exercise it.
    fn hold_at_most_once(&mut self, count: u32) {
        if self.held == 0 && count == 1 {
            return;
        }
        for op in [NdesOp::GetCaCert, NdesOp::PkiOperation] {
            if self
                .ndes
                .get(&op)
                .is_some_and(|(k, _)| *k == KindName::Hang)
            {
                let name = FaultTarget::Ndes(op).name();
                self.push(format!("heal: {name}"));
                self.faulted.remove(name);
                self.ndes.remove(&op);
            }
        }
    }

    /// Whether one device's enrollment reaches the policy module, counting down the NDES
    /// faults it strikes on the way: GetCACert, then PKIOperation, then NDES's own checks.
    fn reaches_policy(&mut self, message: MessageShape) -> bool {
        if self.strike(NdesOp::GetCaCert) || self.strike(NdesOp::PkiOperation) {
            return false;
        }
        let missing = |op| {
            self.ndes
                .get(&op)
                .is_some_and(|(k, _)| *k == KindName::Missing)
        };
        !(missing(NdesOp::RaSigning)
            || message != MessageShape::Valid
            || missing(NdesOp::RaEncryption))
    }

    /// Whether a call to `op` is struck by a fault (a `hang` or a `status`), counting it.
    fn strike(&mut self, op: NdesOp) -> bool {
        let Some((kind, times)) = self.ndes.get_mut(&op) else {
            return false;
        };
        if *kind == KindName::Hang {
            self.held += 1;
        }
        if let Some(n) = times {
            *n -= 1;
            if *n == 0 {
                self.ndes.remove(&op);
            }
        }
        true
    }

    fn fault(&mut self, f: &FaultSpec) {
        let (name, target) = target_at(f.target.index(targets_len()));
        let kinds = target.kinds();
        let kind = kinds[f.kind.index(kinds.len())];
        // A closed port or a missing certificate counts no calls: the loader takes them only
        // until healed.
        let mut times = if matches!(kind, KindName::Unavailable | KindName::Missing) {
            None
        } else {
            f.times
        };
        match Cost::of(target, kind, times) {
            Cost::Seconds if f.cost_draw >= KEEP_SECONDS_PERCENT => return,
            Cost::TimeoutPerCall if f.cost_draw >= KEEP_UNTIMED_HANG_PERCENT => times = Some(1),
            // One held call shows what a hang does; more only add timeouts.
            Cost::TimeoutPerCall | Cost::Timeout => times = times.map(|_| 1),
            Cost::Cheap | Cost::Seconds => {}
        }
        let mut step = format!("fault: {{target: {name}, kind: {}", kind.name());
        match kind {
            KindName::Status => {
                let _ = write!(step, ", status: {}", f.status);
            }
            KindName::Answer => {
                let codes = scep_codes();
                let _ = write!(step, ", code: {}", codes[f.code.index(codes.len())].name());
            }
            _ => {}
        }
        if let Some(n) = times {
            let _ = write!(step, ", times: {n}");
        }
        step.push('}');
        self.push(step);
        self.faulted.insert(name);
        self.plan.faults.push((target, kind, times.is_some()));
        if let FaultTarget::Ndes(op) = target {
            self.ndes.insert(op, (kind, times));
        }
    }

    fn liveness(&mut self) {
        self.heal_all();
        self.start();
        for _ in 0..self.syncs_to_drain() + 2 {
            self.push("sync");
        }
        self.stop();
    }

    fn file(&self) -> String {
        let s = &self.world.setup;
        let mut y = String::new();
        let _ = writeln!(y, "name: {}", self.plan.name);
        let _ = writeln!(
            y,
            "summary: A random world of the property tests (harness/tests/it/properties.rs), with its liveness phase."
        );
        let _ = writeln!(y, "tags: [proptest]");
        let _ = writeln!(y, "seed: {}", self.world.seed);
        let _ = writeln!(y, "setup:");
        if s.digicert.is_some() {
            let _ = writeln!(y, "  ca: {{kind: digicert}}");
        }
        let mut reg = format!("state: {}", s.registration.name());
        if s.registration.usable() {
            let _ = write!(reg, ", expires_in: {}d", s.expires_days);
        }
        if s.no_signing_certificate {
            reg.push_str(", signing_certificate: missing");
        }
        if s.no_crp_encryption_certificate {
            reg.push_str(", crp_encryption_certificate: missing");
        }
        let _ = writeln!(y, "  registration: {{{reg}}}");
        let ra = match s.digicert {
            Some(ra) => format!(", ra_certificate: {ra}"),
            None => String::new(),
        };
        let _ = writeln!(
            y,
            "  connector: {{timeout: {TIMEOUT_MS}ms, retries: {}, backoff: {}s, batch_size: {}{ra}}}",
            s.retries, s.backoff_secs, s.batch_size
        );
        let _ = writeln!(y, "steps:");
        for step in &self.steps {
            let _ = writeln!(y, "  - {step}");
        }
        if self.plan.usable {
            let _ = writeln!(y, "expect:");
            let _ = writeln!(y, "  drained: true");
        }
        y
    }
}

fn targets_len() -> usize {
    FaultTarget::all().count()
}

fn target_at(i: usize) -> (&'static str, FaultTarget) {
    FaultTarget::all()
        .nth(i)
        .expect("an index drawn below the number of targets")
}

fn challenge_name(c: ChallengeState) -> &'static str {
    match c {
        ChallengeState::Valid => "valid",
        ChallengeState::Expired => "expired",
        ChallengeState::Unknown => "unknown",
        ChallengeState::Garbled => "garbled",
        ChallengeState::Missing => "missing",
        ChallengeState::OtherDevice => "other_device",
        ChallengeState::Reused => "reused",
    }
}

fn message_name(m: MessageShape) -> &'static str {
    match m {
        MessageShape::Valid => "valid",
        MessageShape::Truncated => "truncated",
        MessageShape::WrongContentType => "wrong_content_type",
        MessageShape::BadSignature => "bad_signature",
        MessageShape::OtherRecipient => "other_recipient",
    }
}
