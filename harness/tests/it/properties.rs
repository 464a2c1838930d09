//! Property tests over random worlds (issue 8, item 7): every world proptest draws — requests,
//! revocations, enrollments with random challenges, clock moves, syncs, start and stop, with
//! faults on all three fakes, then a liveness phase — keeps the invariants in
//! `props/invariants.rs`. A failing world is shrunk and written to
//! `target/proptest-scenarios/<name>.yaml` with the command that reruns it.
//!
//! `PROPTEST_CASES` sets the number of worlds (12 by default; `.ci/run` asks for 1,000),
//! `PROPS_LANES` how many generators draw them at once (4), `PROPTEST_RNG_SEED` with the same
//! lane count repeats a generation, and `PROPS_FORCE_FAILURE=1` adds an invariant no
//! world keeps, to see the failure path; `PROPS_TRACE=1` prints each world's time. Run with `--nocapture` to see the case count and the
//! faults the worlds injected.

use crate::props;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use harness_runner::catalog::{DiagnosticCode, EventId};
use harness_runner::contract::intune::admin::Queue;
use harness_runner::scenario::model::{ChallengeState, MessageShape};
use proptest::sample::Index;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::props::invariants::{self, Invariant, Runs};
use crate::props::world::{Op, Registration, Setup, Template, World};
use crate::props::{Lab, FORCE_ENV};

#[test]
fn random_worlds_keep_their_invariants() {
    let lab = Lab::new(std::env::var_os(FORCE_ENV).is_some());
    let cases = props::cases();
    let seed = props::rng_seed();
    let started = Instant::now();
    let lanes = props::lanes();
    let result = props::explore_lanes(
        &lab,
        &props::Search::new(cases, seed),
        lanes,
        &props::default_out_dir(),
    );
    let elapsed = started.elapsed();
    let stats = lab.stats.lock().expect("stats");
    println!("{}", props::summary(&stats, elapsed));
    println!("generator seed: PROPTEST_RNG_SEED={seed} PROPS_LANES={lanes}");
    if let Err(failure) = result {
        panic!("{}", failure.message);
    }
    println!("property tests: {cases} cases passed, every invariant held");
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The failure path end to end: a forced invariant fails every world, proptest shrinks it, the
/// file and its snapshot are written, and the printed command — run through the real binary
/// from the workspace root — reruns the world and fails it for the same reason.
#[test]
fn a_failing_world_is_written_as_a_scenario_the_cli_reruns() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("props-forced");
    let _ = std::fs::remove_dir_all(&out);
    let lab = Lab::new(true);
    // A few shrink steps are enough to prove the path (each runs a world twice).
    let search = props::Search {
        shrink_iters: 40,
        ..props::Search::new(4, 42)
    };
    let failure = props::explore(&lab, &search, &out).expect_err("an impossible invariant fails");
    println!("{}", failure.message);
    assert!(failure.message.contains("[forced]"), "{}", failure.message);
    let text = std::fs::read_to_string(&failure.file).expect("the scenario file is written");
    assert!(text.contains(&format!("name: {}", failure.name)), "{text}");
    assert!(
        text.contains("[forced]"),
        "the file says what broke:\n{text}"
    );
    assert!(
        out.join(format!("{}.snap", failure.name)).is_file(),
        "its snapshot is written"
    );

    let prefix = "cargo run -p connector-harness -- ";
    let args = failure
        .command
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("the command starts with `{prefix}`: {}", failure.command));
    let run = Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .args(args.split_whitespace())
        .current_dir(root())
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("the harness binary runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        run.status.code(),
        Some(1),
        "the rerun fails:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("must not appear") && stderr.contains("10010 StartedConnectorService"),
        "the rerun fails for the forced invariant:\n{stderr}"
    );
    assert!(
        !stderr.contains("differs from") && !stderr.contains("no snapshot"),
        "the rerun writes the stream the property saw:\n{stderr}"
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
}

fn index(n: u64) -> Index {
    let mut runner = TestRunner::deterministic();
    let mut tree = proptest::arbitrary::any::<Index>()
        .new_tree(&mut runner)
        .expect("an index");
    for _ in 0..n {
        tree.simplify();
    }
    tree.current()
}

/// A small world that exercises every invariant's subject: a PKCS request, a pinned device
/// and its revocation, a valid and a reused enrollment.
fn small_world() -> World {
    World {
        seed: 7,
        setup: Setup {
            registration: Registration::Present,
            expires_days: 365,
            no_signing_certificate: false,
            no_crp_encryption_certificate: false,
            digicert: None,
            retries: 0,
            backoff_secs: 30,
            batch_size: 2,
        },
        ops: vec![
            Op::QueuePkcs {
                count: 1,
                template: Template::User,
                corrupt: false,
            },
            Op::Sync,
            Op::Pin,
            Op::Revoke(index(0)),
            Op::Enroll {
                challenge: ChallengeState::Valid,
                message: MessageShape::Valid,
                count: 1,
                pick: index(0),
            },
            Op::Enroll {
                challenge: ChallengeState::Reused,
                message: MessageShape::Valid,
                count: 1,
                pick: index(0),
            },
        ],
    }
}

/// Every invariant can fail: a clean run of a small world passes, and each damage done to its
/// stream or to what the fakes recorded is caught by the invariant it breaks.
#[test]
fn each_invariant_fails_on_its_own_damage() {
    let lab = Lab::new(false);
    let judged = lab.judge(&small_world());
    assert!(
        judged.violations.is_empty(),
        "{:#?}\n{}",
        judged.violations,
        judged.plan.yaml
    );
    let outcome = judged.outcome.expect("ran");
    let recorded = judged.recorded.expect("recorded");
    assert_eq!(judged.plan.enrollments.len(), 2);

    let caught = |outcome: &harness_runner::run::Outcome,
                  recorded: &harness_runner::run::Recorded,
                  second: Option<&str>|
     -> Vec<Invariant> {
        let runs = Runs {
            outcome,
            recorded: Some(recorded),
            yaml: &judged.yaml,
            second_yaml: second.unwrap_or(&judged.yaml),
        };
        let mut found: Vec<Invariant> = invariants::check(&judged.plan, &runs, false)
            .into_iter()
            .map(|v| v.invariant)
            .collect();
        found.dedup();
        found
    };
    let position = |e: EventId| {
        outcome
            .events
            .iter()
            .position(|r| r.event == e)
            .unwrap_or_else(|| panic!("{e:?} in the stream"))
    };
    let renumbered = |mut events: Vec<harness_runner::event::EventRecord>| {
        for (i, r) in events.iter_mut().enumerate() {
            r.sequence = i as u64 + 1;
        }
        events
    };
    let with_events = |events| harness_runner::run::Outcome {
        events,
        ..outcome.clone()
    };

    // Catalog: 10010 never carries 0x400.
    let mut events = outcome.events.clone();
    events[0].code = DiagnosticCode::PkcsIssueCaUnavailable;
    assert!(caught(&with_events(events), &recorded, None).contains(&Invariant::CatalogPairs));

    // Sequence: a gap.
    let mut events = outcome.events.clone();
    events[3].sequence += 1;
    assert_eq!(
        caught(&with_events(events), &recorded, None),
        [Invariant::Sequence]
    );

    // Lifecycle: the first start lost.
    let events = renumbered(outcome.events[1..].to_vec());
    assert_eq!(
        caught(&with_events(events), &recorded, None),
        [Invariant::Lifecycle]
    );

    // Verify: the first enrollment's verify event twice, or gone.
    let at = position(EventId::CrpVerifyMetricSuccess);
    let mut events = outcome.events.clone();
    events.insert(at, events[at].clone());
    assert!(caught(&with_events(renumbered(events)), &recorded, None).contains(&Invariant::Verify));
    let mut events = outcome.events.clone();
    events.remove(at);
    assert!(caught(&with_events(renumbered(events)), &recorded, None).contains(&Invariant::Verify));

    // Notify: two after one verification.
    let at = position(EventId::CrpNotifyMetricSuccess);
    let mut events = outcome.events.clone();
    events.insert(at, events[at].clone());
    assert_eq!(
        caught(&with_events(renumbered(events)), &recorded, None),
        [Invariant::Notify]
    );

    // Exactly once: lost, duplicated, unexpected, contradictory, issued twice — each apart.
    let ledger = |f: &dyn Fn(&mut harness_runner::contract::intune::admin::LedgerEntry)| {
        let mut r = recorded.clone();
        let e = r
            .world
            .intune
            .ledger
            .iter_mut()
            .find(|e| e.queue == Queue::Pkcs)
            .expect("a PKCS request in the ledger");
        f(e);
        r
    };
    let cases: [(&str, harness_runner::run::Recorded, Invariant); 4] = [
        ("lost", ledger(&|e| e.recorded = 0), Invariant::Lost),
        (
            "recorded twice",
            ledger(&|e| e.recorded = 2),
            Invariant::Duplicated,
        ),
        (
            "uploaded again",
            ledger(&|e| e.duplicates = 1),
            Invariant::Duplicated,
        ),
        (
            "contradictory",
            ledger(&|e| e.contradictory = 1),
            Invariant::Contradictory,
        ),
    ];
    // (A changed ledger also disagrees with the stream's upload events: `terminal` too.)
    for (what, r, want) in cases {
        let found = caught(&outcome, &r, None);
        assert!(found.contains(&want), "{what}: {found:?}");
    }
    let mut r = recorded.clone();
    r.world.intune.unknown_uploads = 1;
    assert_eq!(caught(&outcome, &r, None), [Invariant::Unexpected]);
    let mut r = recorded.clone();
    r.world
        .intune
        .ledger
        .retain(|e| e.queue != Queue::Revocation);
    assert!(caught(&outcome, &r, None).contains(&Invariant::Lost));
    let mut r = recorded.clone();
    let twice = r.issued[0].clone();
    r.issued.push(twice);
    assert_eq!(caught(&outcome, &r, None), [Invariant::IssuedTwice]);

    // Terminal: an upload event twice, a success event twice.
    let at = position(EventId::UploadSuccess);
    let mut events = outcome.events.clone();
    events.insert(at, events[at].clone());
    assert_eq!(
        caught(&with_events(renumbered(events)), &recorded, None),
        [Invariant::Terminal]
    );
    let at = position(EventId::PkcsCertIssueSuccess);
    let mut events = outcome.events.clone();
    events.insert(at, events[at].clone());
    assert_eq!(
        caught(&with_events(renumbered(events)), &recorded, None),
        [Invariant::Terminal]
    );

    // The CA: a success it never saw, an enrolled device it issued to twice.
    let mut r = recorded.clone();
    r.issued.retain(|c| c.revoked);
    assert!(caught(&outcome, &r, None).contains(&Invariant::CaAgrees));
    let mut r = recorded.clone();
    let phone = r
        .issued
        .iter()
        .find(|c| c.subject_cn.as_deref() == Some(judged.plan.enrollments[0].device.as_str()))
        .expect("the enrolled device's certificate")
        .clone();
    r.issued.push(harness_runner::fakes::ca::IssuedCert {
        request_digest: "another request".into(),
        ..phone
    });
    assert_eq!(caught(&outcome, &r, None), [Invariant::CaAgrees]);
    let mut r = recorded.clone();
    r.issued.iter_mut().for_each(|c| c.revoked = false);
    assert_eq!(caught(&outcome, &r, None), [Invariant::CaAgrees]);

    // Determinism: a second stream that differs.
    let other = judged.yaml.replacen("seq: 2", "seq: 20", 1);
    assert_eq!(
        caught(&outcome, &recorded, Some(&other)),
        [Invariant::Determinism]
    );

    // The harness's own checks: a problem it reported.
    let failed = harness_runner::run::Outcome {
        problems: vec![harness_runner::run::Problem::Harness(
            "something broke".into(),
        )],
        ..outcome.clone()
    };
    assert_eq!(caught(&failed, &recorded, None), [Invariant::HarnessChecks]);
}
