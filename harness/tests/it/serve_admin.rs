//! `serve`'s admin API over real sockets against the serve library: every endpoint, its
//! errors, and that what it changes is what the fakes then do.

use std::time::Duration;

use crate::serve_support::{http, start, Admin};
use harness_runner::serve::admin::ENDPOINTS;
use harness_runner::serve::device::{Enrolled, ScepDevices};
use harness_runner::sim::Rng;
use serde_json::json;

async fn devices(urls: &harness_runner::serve::Urls) -> ScepDevices {
    ScepDevices::new(http(), &urls.ndes, &mut Rng::new(7))
        .await
        .expect("GetCACert")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_urls_and_unknown_paths() {
    let serve = start(|_| {}).await;
    let admin = Admin::new(&serve.urls());
    let (status, index) = admin.get("/").await;
    assert_eq!(status, 200);
    assert_eq!(
        index["endpoints"].as_array().unwrap().len(),
        ENDPOINTS.len()
    );
    let (status, urls) = admin.get("/urls").await;
    assert_eq!(status, 200);
    assert_eq!(urls, serde_json::to_value(serve.urls()).unwrap());
    let (status, e) = admin.get("/nope").await;
    assert_eq!((status, e["error"].as_str()), (404, Some("not_found")));
    assert!(e["valid"]
        .as_array()
        .unwrap()
        .contains(&json!("POST /faults")));
    let (status, e) = admin.delete("/clock").await;
    assert_eq!(
        (status, e["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
    let (status, e) = admin.get("/incidents").await;
    assert_eq!(status, 200);
    assert_eq!(e, json!({"ca": [], "intune": [], "ndes": [], "admin": []}));
    serve.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_injected_listed_struck_and_healed() {
    let serve = start(|_| {}).await;
    let urls = serve.urls();
    let admin = Admin::new(&urls);
    let client = http();
    let caps = format!("{}?operation=GetCACaps", urls.ndes);

    let (status, f) = admin
        .post(
            "/faults",
            json!({"target": "ca.issue", "kind": "status", "status": 503, "times": 1}),
        )
        .await;
    assert_eq!(status, 200, "{f}");
    assert_eq!(
        f,
        json!({"target": "ca.issue", "kind": "status", "status": 503, "times": 1})
    );
    let (_, listed) = admin.get("/faults").await;
    assert_eq!(listed, json!([f]));
    let issue = client
        .post(format!("{}/ca/issue", urls.ca))
        .json(&json!({"template": "IntuneUser", "csr": "AA=="}))
        .send()
        .await
        .unwrap();
    assert_eq!(issue.status().as_u16(), 503, "the fault struck the CA");
    assert_eq!(
        admin.get("/faults").await.1,
        json!([]),
        "times: 1 is used up"
    );

    admin
        .post(
            "/faults",
            json!({"target": "ndes.get_ca_caps", "kind": "status", "status": 500}),
        )
        .await;
    admin
        .post(
            "/faults",
            json!({"target": "intune.validate", "kind": "answer", "code": "KeyUsageMismatch"}),
        )
        .await;
    assert_eq!(
        client.get(&caps).send().await.unwrap().status().as_u16(),
        500
    );
    let (status, healed) = admin.delete("/faults/ndes.get_ca_caps").await;
    assert_eq!(status, 200);
    assert_eq!(healed["healed"][0]["target"], "ndes.get_ca_caps");
    assert_eq!(
        client.get(&caps).send().await.unwrap().status().as_u16(),
        200
    );
    let (_, healed) = admin.delete("/faults").await;
    assert_eq!(
        healed,
        json!({"healed": [{"target": "intune.validate", "kind": "answer", "code": "KeyUsageMismatch"}]}),
        "heal all says what it healed"
    );

    // An unavailable CA refuses connections until healed.
    admin
        .post(
            "/faults",
            json!({"target": "ca.crl", "kind": "unavailable"}),
        )
        .await;
    assert!(client
        .get(format!("{}/ca/crl", urls.ca))
        .send()
        .await
        .is_err());
    admin.delete("/faults/all").await;
    assert_eq!(
        client
            .get(format!("{}/ca/chain", urls.ca))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    for (body, valid) in [
        (
            json!({"target": "ca.explode", "kind": "hang"}),
            json!("ca.issue"),
        ),
        (
            json!({"target": "ndes.get_ca_caps", "kind": "explode"}),
            json!("hang"),
        ),
        (
            json!({"target": "ndes.get_ca_caps", "kind": "deny"}),
            json!("status"),
        ),
    ] {
        let (status, e) = admin.post("/faults", body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            e["valid"].as_array().unwrap().contains(&valid),
            "{body}: {e}"
        );
    }
    let (status, e) = admin.post("/faults", json!({"target": "ca.issue"})).await;
    assert_eq!(status, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("\"target\", \"kind\""),
        "{e}"
    );
    let (status, e) = admin.delete("/faults/ca.explode").await;
    assert_eq!(status, 400);
    assert!(
        e["valid"].as_array().unwrap().contains(&json!("all")),
        "{e}"
    );
    serve.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_advances_and_sets_but_never_runs_backwards() {
    let serve = start(|_| {}).await;
    let admin = Admin::new(&serve.urls());
    let (_, c) = admin.get("/clock").await;
    assert_eq!(
        c,
        json!({"now": "2030-01-01T00:00:00.000Z", "start": "2030-01-01T00:00:00.000Z", "mode": "frozen"})
    );
    let (status, c) = admin.post("/clock/advance", json!({"by": "1h30m"})).await;
    assert_eq!(
        (status, c["now"].as_str()),
        (200, Some("2030-01-01T01:30:00.000Z"))
    );
    let (status, c) = admin
        .put("/clock", json!({"time": "2030-02-01T00:00:00Z"}))
        .await;
    assert_eq!(
        (status, c["now"].as_str()),
        (200, Some("2030-02-01T00:00:00.000Z"))
    );
    let (status, e) = admin
        .put("/clock", json!({"time": "2030-01-15T00:00:00Z"}))
        .await;
    assert_eq!((status, e["error"].as_str()), (409, Some("conflict")));
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("does not run backwards"),
        "{e}"
    );
    for (path, body, says) in [
        (
            "/clock/advance",
            json!({"by": "3000000d"}),
            "end of scenario time",
        ),
        ("/clock/advance", json!({"by": "soon"}), "not a duration"),
        (
            "/clock",
            json!({"time": "9900-01-01T00:00:00Z"}),
            "outside scenario time",
        ),
        ("/clock", json!({"time": "tomorrow"}), "RFC 3339"),
    ] {
        let (status, e) = if path == "/clock" {
            admin.put(path, body.clone()).await
        } else {
            admin.post(path, body.clone()).await
        };
        assert_eq!(status, 400, "{body}");
        assert!(e["message"].as_str().unwrap().contains(says), "{body}: {e}");
    }
    assert_eq!(
        admin.get("/clock").await.1["now"],
        "2030-02-01T00:00:00.000Z",
        "refusals move nothing"
    );
    assert_eq!(
        serve.clock().now(),
        time::macros::datetime!(2030-02-01 00:00:00 UTC)
    );
    serve.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minted_challenges_expire_in_scenario_time() {
    let serve = start(|_| {}).await;
    let urls = serve.urls();
    let admin = Admin::new(&urls);
    let scep = devices(&urls).await;
    let mut rng = Rng::new(3);
    let (status, m) = admin
        .post(
            "/challenges",
            json!({"deviceId": "device-1", "userId": "user-1", "validitySeconds": 600}),
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["expiresAt"], "2030-01-01T00:10:00.000Z");
    let expired = m["challenge"].as_str().unwrap().to_string();
    admin.post("/clock/advance", json!({"by": "11m"})).await;
    let refused = scep
        .enroll(0, "device-1", Some(&expired), &mut rng)
        .await
        .unwrap();
    assert!(matches!(refused, Enrolled::Rejected(_)), "{refused:?}");
    let fresh = admin.mint("device-1", 600).await;
    let issued = scep
        .enroll(0, "device-1", Some(&fresh), &mut rng)
        .await
        .unwrap();
    assert!(matches!(issued, Enrolled::Issued(_)), "{issued:?}");
    let (status, e) = admin.post("/challenges", json!({"device": "d"})).await;
    assert_eq!(status, 400);
    assert!(e["message"].as_str().unwrap().contains("deviceId"), "{e}");
    serve.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_requests_are_served_by_a_sync_and_show_in_the_histories() {
    let serve = start(|_| {}).await;
    let urls = serve.urls();
    let admin = Admin::new(&urls);
    let key = harness_runner::fixtures::device_key(1).unwrap();
    let csr = harness_runner::pki::build_csr(&key, "device-9", None).unwrap();
    let (status, q) = admin
        .post(
            "/pkcs-requests",
            json!({"deviceId": "device-9", "userId": "user-9", "templateName": "IntuneUser",
                   "caName": "TEST-ISSUING-CA", "certificateRequest": harness_runner::pki::b64(&csr)}),
        )
        .await;
    assert_eq!(status, 200, "{q}");
    let request_id = q["requestId"].as_str().unwrap().to_string();
    let (status, synced) = admin.post("/sync", json!({})).await;
    assert_eq!(status, 200, "{synced}");
    assert!(synced["events"].as_u64().unwrap() >= 1, "{synced}");
    let (_, intune) = admin.get("/history/intune").await;
    let entry = intune["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["requestId"] == request_id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{intune}"));
    assert_eq!(
        (entry["recorded"].as_u64(), entry["pending"].as_bool()),
        (Some(1), Some(false))
    );
    let (_, ca) = admin.get("/history/ca").await;
    let serial = ca["issued"][0]["serial"].as_str().unwrap().to_string();
    assert_eq!(ca["issued"][0]["subjectCn"], "device-9");
    assert_eq!(ca["journal"][0]["op"], "issue");

    let (status, r) = admin
        .post(
            "/revocation-requests",
            json!({"serialNumber": serial, "issuerName": "TEST-ISSUING-CA"}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    admin.post("/sync", json!({})).await;
    let (_, ca) = admin.get("/history/ca").await;
    assert_eq!(ca["issued"][0]["revoked"], true, "{ca}");
    let (status, e) = admin.post("/pkcs-requests", json!({"deviceId": "d"})).await;
    assert_eq!(status, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("certificateRequest"),
        "{e}"
    );
    let (status, _) = admin.post("/revocation-requests", json!({})).await;
    assert_eq!(status, 400);
    serve.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histories_are_bounded_and_say_what_they_forgot() {
    let serve = start(|o| o.history = 3).await;
    let urls = serve.urls();
    let admin = Admin::new(&urls);
    let client = http();
    for _ in 0..5 {
        let r = client
            .get(format!("{}?operation=GetCACaps", urls.ndes))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let (_, ndes) = admin.get("/history/ndes").await;
    assert_eq!(ndes["requests"].as_array().unwrap().len(), 3, "{ndes}");
    assert_eq!(ndes["dropped"], 2);
    assert_eq!(ndes["requests"][0]["operation"], "GetCACaps");
    assert_eq!(ndes["requests"][0]["outcome"], "answered");

    let scep = devices(&urls).await;
    let mut rng = Rng::new(5);
    let mut serials = Vec::new();
    for n in 0..5 {
        let device = format!("device-{n}");
        let challenge = admin.mint(&device, 3600).await;
        match scep
            .enroll(n, &device, Some(&challenge), &mut rng)
            .await
            .unwrap()
        {
            Enrolled::Issued(serial) => serials.push(serial),
            other => panic!("enrollment {n}: {other:?}"),
        }
    }
    let (_, ca) = admin.get("/history/ca").await;
    let kept: Vec<&str> = ca["issued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["serial"].as_str().unwrap())
        .collect();
    assert_eq!(
        kept,
        serials[2..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(
        (
            ca["issuedDropped"].as_u64(),
            ca["journal"].as_array().unwrap().len()
        ),
        (Some(2), 3)
    );
    assert_eq!(ca["journalDropped"], 2);
    // A forgotten certificate is unknown to the CA.
    let status = client
        .get(format!("{}/ca/status/{}", urls.ca, serials[0]))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 404);
    let (_, ndes) = admin.get("/history/ndes").await;
    assert_eq!(ndes["requests"][2]["operation"], "PKIOperation");
    assert_eq!(ndes["requests"][2]["outcome"], "success");
    assert_eq!(ndes["requests"][2]["messageType"], "PKCSReq");
    let (_, intune) = admin.get("/history/intune").await;
    assert!(intune["calls"].as_array().unwrap().len() <= 3, "{intune}");
    assert!(intune["callsDropped"].as_u64().unwrap() > 0, "{intune}");
    serve.shutdown().await.unwrap();
}

/// A challenge minted and not yet used is live state, not history: a client that mints more
/// challenges than `--history` before enrolling (as `load scep` does) still enrolls with each.
/// Used challenges are what the history forgets, and one used twice is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_challenges_outlive_the_history() {
    let serve = start(|o| o.history = 3).await;
    let urls = serve.urls();
    let admin = Admin::new(&urls);
    let scep = devices(&urls).await;
    let mut rng = Rng::new(6);
    let mut minted = Vec::new();
    for n in 0..8 {
        let device = format!("early-{n}");
        minted.push((device.clone(), admin.mint(&device, 3600).await));
    }
    for (n, (device, challenge)) in minted.iter().enumerate() {
        let got = scep
            .enroll(n, device, Some(challenge), &mut rng)
            .await
            .unwrap();
        assert!(
            matches!(got, Enrolled::Issued(_)),
            "challenge {n} of 8, minted before any was used: {got:?}"
        );
    }
    for n in [0, 7] {
        let (device, challenge) = &minted[n];
        let again = scep
            .enroll(n, device, Some(challenge), &mut rng)
            .await
            .unwrap();
        assert!(
            matches!(again, Enrolled::Rejected(_)),
            "challenge {n} used twice: {again:?}"
        );
    }
    serve.shutdown().await.unwrap();
}

async fn read_stream(resp: reqwest::Response) -> String {
    let bytes = tokio::time::timeout(Duration::from_secs(30), resp.bytes())
        .await
        .expect("the stream ends when serve stops")
        .expect("stream body");
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_gives_everything_once_in_order_then_the_live_tail() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let serve = start(|o| o.events = Some(file.clone())).await;
    let urls = serve.urls();
    let admin = Admin::new(&urls);
    let client = http();
    let early = client.get(&urls.events).send().await.unwrap();
    assert_eq!(early.status().as_u16(), 200);
    assert_eq!(early.headers()["content-type"], "application/x-ndjson");
    let scep = devices(&urls).await;
    let mut rng = Rng::new(9);
    let challenge = admin.mint("device-1", 3600).await;
    scep.enroll(0, "device-1", Some(&challenge), &mut rng)
        .await
        .unwrap();
    // Reused: refused, another event.
    scep.enroll(0, "device-1", Some(&challenge), &mut rng)
        .await
        .unwrap();
    let late = client.get(&urls.events).send().await.unwrap();
    let snapshot = client
        .get(format!("{}?follow=false", urls.events))
        .send()
        .await
        .unwrap();
    let snapshot = read_stream(snapshot).await;
    let challenge = admin.mint("device-2", 3600).await;
    scep.enroll(1, "device-2", Some(&challenge), &mut rng)
        .await
        .unwrap();
    let (status, e) = admin.get("/events?follow=maybe").await;
    assert_eq!(status, 400, "{e}");
    let (status, _) = admin.post("/shutdown", json!({})).await;
    assert_eq!(status, 202);
    tokio::time::timeout(Duration::from_secs(10), serve.stopped())
        .await
        .expect("POST /shutdown asks serve to stop");
    let stopped = serve.shutdown().await.unwrap();
    let (early, late) = (read_stream(early).await, read_stream(late).await);
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        early, written,
        "an early follower gets every record once, in order"
    );
    assert_eq!(
        late, written,
        "a late follower gets everything from the start, then the tail"
    );
    let records = harness_runner::event::from_jsonl(&written).unwrap();
    let seqs: Vec<u64> = records.iter().map(|r| r.sequence).collect();
    assert_eq!(seqs, (1..=records.len() as u64).collect::<Vec<_>>());
    assert_eq!(stopped.records, records.len() as u64);
    let ids: Vec<u16> = records.iter().map(|r| r.event.id()).collect();
    for id in [10010, 20500, 20600, 20501, 10020] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert!(written.starts_with(&snapshot) && snapshot.len() < written.len());
    assert!(harness_runner::event::from_jsonl(&snapshot).unwrap().len() >= 4);
}

/// A follower sends nothing after its request; by default the admin port never cuts it off
/// (with an idle limit, as the fakes have, it would be gone after that long).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_outlives_silence_longer_than_an_idle_limit() {
    for (idle, survives) in [(None, true), (Some(Duration::from_millis(500)), false)] {
        let serve = start(|o| o.admin_idle = idle).await;
        let urls = serve.urls();
        let admin = Admin::new(&urls);
        let mut follower = http().get(&urls.events).send().await.unwrap();
        let first = follower.chunk().await.unwrap().expect("the start event");
        assert!(String::from_utf8_lossy(&first).contains("StartedConnectorService"));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let challenge = admin.mint("device-1", 3600).await;
        let scep = devices(&urls).await;
        scep.enroll(0, "device-1", Some(&challenge), &mut Rng::new(1))
            .await
            .unwrap();
        let next = tokio::time::timeout(Duration::from_secs(30), follower.chunk())
            .await
            .expect("an answer within 30 s");
        match next {
            Ok(Some(c)) => assert!(
                survives && String::from_utf8_lossy(&c).contains("\"event_id\":205"),
                "idle {idle:?}: {}",
                String::from_utf8_lossy(&c)
            ),
            other => assert!(
                !survives,
                "idle {idle:?}: the follower was cut off: {other:?}"
            ),
        }
        serve.shutdown().await.unwrap();
    }
}
