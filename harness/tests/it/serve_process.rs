//! `connector-harness serve` as a real process: SIGTERM, SIGINT and `POST /shutdown` each stop
//! the connector and flush the event file; the clock starts now by default and a start
//! outside scenario time is refused; `--bind` applies to every port.

use crate::serve_support;

use std::time::Duration;

use crate::serve_support::{event_ids, runtime, Admin, Process};

/// Started (10010) and stopped (10020) both in the file: the last events, written while
/// stopping, were flushed.
fn assert_complete(ids: &[u16]) {
    assert_eq!(ids.first(), Some(&10010), "{ids:?}");
    assert_eq!(ids.last(), Some(&10020), "{ids:?}");
}

fn stops_on_signal_with_its_events(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let mut serve = Process::spawn(&["--events", events.to_str().unwrap()]);
    serve.urls_json();
    serve.signal(signal);
    let (code, err) = serve.wait();
    assert_eq!(code, Some(0), "serve exits cleanly on SIG{signal}: {err}");
    assert!(err.contains(&format!("stopping (SIG{signal})")), "{err}");
    assert_complete(&event_ids(&events));
}

#[test]
fn sigterm_flushes_the_event_file() {
    stops_on_signal_with_its_events("TERM");
}

#[test]
fn sigint_flushes_the_event_file() {
    stops_on_signal_with_its_events("INT");
}

#[test]
fn post_shutdown_flushes_the_event_file() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let mut serve = Process::spawn(&["--events", events.to_str().unwrap()]);
    let admin = Admin::new(&serve.urls());
    let (status, body) = runtime().block_on(admin.post("/shutdown", serde_json::json!({})));
    assert_eq!(status, 202, "{body}");
    let (code, err) = serve.wait();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("stopping (POST /shutdown)"), "{err}");
    assert_complete(&event_ids(&events));
}

#[test]
fn the_clock_starts_now_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let before = time::OffsetDateTime::now_utc();
    let mut serve = Process::spawn(&["--events", events.to_str().unwrap()]);
    serve.urls_json();
    let after = time::OffsetDateTime::now_utc();
    serve.signal("INT");
    serve.wait();
    let text = std::fs::read_to_string(&events).unwrap();
    let first = harness_runner::event::from_jsonl(&text).unwrap()[0].time;
    // The connector starts at the clock's start; the clock keeps milliseconds.
    assert!(
        first >= before - Duration::from_millis(1) && first <= after,
        "the first event is at {first}, not between {before} and {after}"
    );
}

#[test]
fn a_start_outside_scenario_time_is_refused() {
    for (start, says) in [
        ("1969-12-31T23:59:59Z", "outside scenario time"),
        ("9900-01-01T00:00:00Z", "outside scenario time"),
        ("tomorrow", "RFC 3339"),
    ] {
        let mut serve = Process::spawn(&["--start-time", start]);
        let (code, err) = serve.wait();
        assert_eq!(code, Some(2), "--start-time {start}: {err}");
        assert!(err.contains(says), "--start-time {start}: {err}");
        if says.contains("outside") {
            assert!(
                err.contains("1970-01-01T00:00:00.000Z")
                    && err.contains("9899-12-31T23:59:59.999Z"),
                "{err}"
            );
        }
    }
}

#[test]
fn bind_applies_to_every_port() {
    let mut serve = Process::spawn(&["--bind", "127.0.0.2"]);
    let urls = serve.urls_json();
    let listed: Vec<(String, String)> = urls
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .filter(|(_, v)| v.starts_with("http"))
        .collect();
    assert!(listed.len() >= 5, "{urls}");
    for (name, url) in &listed {
        let rest = url
            .strip_prefix("http://127.0.0.2:")
            .unwrap_or_else(|| panic!("{name} is at {url}, not on 127.0.0.2"));
        let port: u16 = rest.split('/').next().unwrap().parse().unwrap();
        assert!(
            std::net::TcpStream::connect(("127.0.0.2", port)).is_ok(),
            "{name} answers on 127.0.0.2:{port}"
        );
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "{name} listens on 127.0.0.1:{port} too"
        );
    }
    // Discovery names Intune's services at the address it listens on.
    let discovery = urls["intune_discovery"].as_str().unwrap().to_string();
    let discovered: serde_json::Value = runtime().block_on(async {
        serve_support::http()
            .get(&discovery)
            .bearer_auth("TEST-ONLY")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let uris: Vec<&str> = discovered["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    assert!(
        !uris.is_empty() && uris.iter().all(|u| u.starts_with("http://127.0.0.2:")),
        "{uris:?}"
    );
}

/// `--connector-cmd`: an outside connector process answers NDES, runs `POST /sync`, hears the
/// clock, and writes the event file with serve; the transcript shows each of those messages.
#[test]
fn an_outside_connector_serves_as_the_policy_module() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let transcript = dir.path().join("to-connector.jsonl");
    let command = format!(
        "tee {} | {} connector",
        transcript.display(),
        env!("CARGO_BIN_EXE_connector-harness")
    );
    let mut serve = Process::spawn(&[
        "--events",
        events.to_str().unwrap(),
        "--connector-cmd",
        &command,
    ]);
    let urls = serve.urls();
    let admin = Admin::new(&urls);
    let rt = runtime();
    rt.block_on(async {
        let challenge = admin.mint("device-1", 600).await;
        let mut rng = harness_runner::sim::Rng::new(7);
        let devices = harness_runner::serve::device::ScepDevices::new(
            serve_support::http(),
            &urls.ndes,
            &mut rng,
        )
        .await
        .expect("GetCACert");
        devices
            .enroll(0, "device-1", Some(&challenge), &mut rng)
            .await
            .expect("device-1 enrolls through the outside connector");
        let (status, body) = admin.post("/sync", serde_json::json!({})).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = admin
            .post("/clock/advance", serde_json::json!({"by": "1h"}))
            .await;
        assert_eq!(status, 200, "{body}");
    });
    serve.signal("TERM");
    let (code, err) = serve.wait();
    assert_eq!(code, Some(0), "{err}");
    let ids = event_ids(&events);
    assert_complete(&ids);
    assert!(ids.contains(&20500) && ids.contains(&20600), "{ids:?}");
    let sent = std::fs::read_to_string(&transcript).unwrap();
    for t in [
        "init", "start", "verify", "notify", "sync", "clock", "stop", "shutdown",
    ] {
        assert!(
            sent.contains(&format!(r#""type":"{t}""#)),
            "no `{t}` sent to the connector:\n{sent}"
        );
    }
}

/// A connector command that dies at once stops serve with its stderr, not a hang.
#[test]
fn an_outside_connector_that_cannot_start_stops_serve_with_its_stderr() {
    let mut serve = Process::spawn(&[
        "--connector-cmd",
        "echo 'contoso connector: no licence' >&2; exit 3",
    ]);
    let (code, err) = serve.wait();
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no licence"), "{err}");
}

/// `--capabilities`: GetCACaps answers as a Windows NDES by default, RFC 8894's modern answer
/// with `rfc8894`; anything else is refused with the choices.
#[test]
fn capabilities_choose_what_getcacaps_answers() {
    let rt = runtime();
    for (flag, has, lacks) in [
        (None, "DES3", "SCEPStandard"),
        (Some("rfc8894"), "SCEPStandard", "DES3"),
    ] {
        let mut args = vec![];
        if let Some(f) = flag {
            args.extend(["--capabilities", f]);
        }
        let mut serve = Process::spawn(&args);
        let urls = serve.urls();
        let caps = rt.block_on(async {
            serve_support::http()
                .get(format!("{}?operation=GetCACaps", urls.ndes))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        assert!(
            caps.contains(has) && !caps.contains(lacks),
            "{flag:?}: {caps}"
        );
        serve.signal("TERM");
        serve.wait();
    }
    let mut serve = Process::spawn(&["--capabilities", "modern"]);
    let (code, err) = serve.wait();
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("rfc8894"), "{err}");
}
