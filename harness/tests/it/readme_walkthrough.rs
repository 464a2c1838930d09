//! The README's vendor walkthrough, run exactly as written: the lines of the block after the
//! `<!-- walkthrough` marker, as one bash script from the workspace root. It must end with a
//! checked log, and each step must have done what the README says it does.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness_test_support::peer;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

fn walkthrough() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let at = readme
        .find("<!-- walkthrough")
        .expect("the README marks its walkthrough");
    let start = at + readme[at..].find("```sh\n").expect("a sh block") + "```sh\n".len();
    let end = start + readme[start..].find("```").expect("the block ends");
    readme[start..end].to_string()
}

#[test]
fn the_vendor_walkthrough_runs_as_written() {
    let script = walkthrough();
    let commands = script.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(commands < 10, "the walkthrough has {commands} commands");
    let (Some(_), Some(_)) = (peer("jq"), peer("curl")) else {
        return;
    };
    let mut child = Command::new("bash")
        .args(["-e", "-c", &script])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("bash runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!("the walkthrough did not finish within 300 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown = format!("{stdout}\n--- stderr ---\n{stderr}");
    assert!(out.status.success(), "{shown}");

    // 2: the whole library passed through the outside connector, in a JUnit report.
    let dir = root().join("target/walkthrough");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    assert!(junit.contains(r#"failures="0""#), "{junit}");
    let library = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        })
        .count();
    assert!(
        junit.contains(&format!(r#"tests="{library}""#)),
        "{library} scenarios: {junit}"
    );
    // 3: the faulty connector failed, and the verdict names the duplicate.
    assert!(stderr.contains("duplicated: PKCS request"), "{shown}");
    assert!(stdout.contains("(failed, as it should)"), "{shown}");
    // 6: three devices enrolled and verified.
    assert!(stdout.contains("verified enrollments  3 / 3"), "{shown}");
    // 8: the log was checked and passed, with the policy module's events in it.
    assert!(stdout.contains("PASSED: no findings"), "{shown}");
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert_eq!(events.matches(r#""event_id":20500"#).count(), 3, "{events}");
    assert_eq!(events.matches(r#""event_id":20600"#).count(), 3, "{events}");
}
