//! The HTML reports (`run --html`, `check --html`, `serve`'s `GET /ui`): the page of a real
//! run says what its JSON report says, escapes what it shows, and — in headless Chromium, when
//! it is installed (`.ci/run` installs it; `HARNESS_REQUIRE_PEERS=1` makes it required) —
//! loads without a script error, draws the 48 covered cells, every scenario's timeline and a
//! failing scenario's diff, and leaves screenshots in `target/ci/html/`. The last test measures
//! the page for 1,000 scenarios and for a 100,000-event log.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use harness_runner::html;
use harness_runner::run::verdict::{Gate, Summary};
use harness_runner::run::{Outcome, Status};
use harness_test_support::peer;
use serde_json::Value;

use crate::common::{self, root};

/// The scenario whose snapshot the library run's copy changes, so it fails with a diff.
const BROKEN: &str = "pkcs-issue";

fn harness(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .args(args)
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("the harness binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Where screenshots and measured pages go (CI keeps `target/ci/`).
fn artifacts() -> PathBuf {
    let dir = root().join("target/ci/html");
    std::fs::create_dir_all(&dir).expect("target/ci/html");
    dir
}

/// The whole library, run once through the binary with `--json` and `--html`, from a copy
/// whose snapshot of [`BROKEN`] differs: every pair is reached and one scenario fails.
struct LibraryRun {
    _tmp: tempfile::TempDir,
    json: Value,
    html_path: PathBuf,
    html: String,
}

fn library_run() -> &'static LibraryRun {
    static RUN: OnceLock<LibraryRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let sc = tmp.path().join("scenarios");
        let sn = tmp.path().join("snapshots");
        copy_tree(&root().join("scenarios"), &sc);
        copy_tree(&root().join("snapshots"), &sn);
        let snap = sn.join(format!("{BROKEN}.snap"));
        let text = std::fs::read_to_string(&snap)
            .expect("snapshot")
            .replace("laptop-1", "laptop-2");
        std::fs::write(&snap, text).expect("write the changed copy");
        let json_path = tmp.path().join("report.json");
        let html_path = tmp.path().join("report.html");
        let (code, out, err) = harness(&[
            "run",
            "--scenarios",
            sc.to_str().expect("utf-8"),
            "--snapshots",
            sn.to_str().expect("utf-8"),
            "--json",
            json_path.to_str().expect("utf-8"),
            "--html",
            html_path.to_str().expect("utf-8"),
        ]);
        assert_eq!(code, 1, "one scenario fails:\n{out}\n{err}");
        let json = serde_json::from_str(&std::fs::read_to_string(&json_path).expect("json"))
            .expect("the JSON report parses");
        let html = std::fs::read_to_string(&html_path).expect("the HTML report is written");
        LibraryRun {
            _tmp: tmp,
            json,
            html_path,
            html,
        }
    })
}

/// Copies the folder `from` (with its subfolders) to `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("library folder") {
        let path = e.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// Values of `attr="…"` on elements whose start tag contains `marker` (begins with it, when
/// `marker` begins with `<`), in document order.
fn attrs(doc: &str, marker: &str, attr: &str) -> Vec<String> {
    let key = format!("{attr}=\"");
    doc.split('<')
        .filter(|tag| match marker.strip_prefix('<') {
            Some(start) => tag.starts_with(start) && tag[start.len()..].starts_with([' ', '>']),
            None => tag.contains(marker),
        })
        .filter_map(|tag| {
            let at = tag.find(&key)? + key.len();
            let rest = &tag[at..];
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// The text of the element whose start tag carries `data-count="key"`.
fn count(doc: &str, key: &str) -> String {
    let marker = format!("data-count=\"{key}\">");
    let at = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("no count {key}"))
        + marker.len();
    doc[at..doc[at..].find('<').map_or(doc.len(), |e| at + e)].to_string()
}

/// The covered pairs of the JSON report's matrix, as the page's `data-pair` writes them.
fn json_covered(report: &Value) -> BTreeSet<String> {
    report["coverage"]["matrix"]
        .as_array()
        .expect("matrix")
        .iter()
        .filter(|c| !c["scenarios"].as_array().expect("scenarios").is_empty())
        .map(|c| format!("{} {}", c["event_id"], c["code"].as_str().expect("code")))
        .collect()
}

/// The page's verdict, counts and covered cells equal the JSON report's. Read from the
/// server-rendered page here; the browser test reads the same from the DOM.
fn assert_agrees(doc: &str, report: &Value) {
    assert_eq!(
        attrs(doc, "id=\"verdict\"", "data-verdict"),
        [report["verdict"].as_str().expect("verdict")]
    );
    for key in ["selected", "passed", "failed"] {
        assert_eq!(count(doc, key), report[key].to_string(), "{key}");
    }
    assert_eq!(
        count(doc, "reasons"),
        report["reasons"]
            .as_array()
            .expect("reasons")
            .len()
            .to_string()
    );
    let kinds: Vec<String> = report["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["kind"].as_str().expect("kind").to_string())
        .collect();
    assert_eq!(attrs(doc, "li data-kind", "data-kind"), kinds);
    let c = &report["coverage"];
    assert_eq!(
        count(doc, "coverage"),
        format!("{}/{}", c["reached"], c["total"])
    );
    let covered: BTreeSet<String> = attrs(doc, "data-state=\"covered\"", "data-pair")
        .into_iter()
        .collect();
    assert_eq!(covered, json_covered(report));
    let names: Vec<String> = report["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .map(|s| s["name"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(attrs(doc, "details class=\"scenario\"", "data-name"), names);
}

#[test]
fn the_page_says_what_the_json_report_says() {
    let run = library_run();
    assert_eq!(run.json["verdict"], "failed");
    assert_eq!(run.json["failed"], 1);
    assert_eq!(
        json_covered(&run.json).len(),
        48,
        "the library reaches every pair"
    );
    assert_agrees(&run.html, &run.json);
    let failed = attrs(&run.html, "data-status=\"failed\"", "data-name");
    assert_eq!(failed, [BROKEN]);
    assert!(
        run.html.contains("<pre class=\"diff\">"),
        "the failing scenario's diff is shown"
    );
    assert!(
        run.html.contains("laptop-2"),
        "the diff names the changed line"
    );
    assert!(
        run.html.contains(&format!("--exact {BROKEN}")),
        "and its rerun command"
    );
    assert!(
        !run.html.contains("http://") && !run.html.contains("https://"),
        "nothing to fetch"
    );
    assert!(
        !run.html.contains("duration_ms"),
        "no wall-clock time in the page"
    );
}

#[test]
fn the_page_is_deterministic() {
    let outcomes = || {
        vec![
            outcome("a", Status::Passed, "x"),
            outcome("b", Status::Failed, "y"),
        ]
    };
    let a = html::run_page::render(&Summary::of(2, outcomes(), Gate::Partial, vec![]));
    let b = html::run_page::render(&Summary::of(2, outcomes(), Gate::Partial, vec![]));
    assert_eq!(a, b);
}

fn outcome(name: &str, status: Status, problem: &str) -> Outcome {
    Outcome {
        name: name.into(),
        file: format!("{name}.yaml").into(),
        seed: 7,
        status,
        problems: match status {
            Status::Passed => vec![],
            Status::Failed => vec![harness_runner::run::Problem::Step(problem.into())],
        },
        findings: Vec::new(),
        level: Default::default(),
        diff: (status == Status::Failed).then(|| format!("-{problem}\n+{problem}!\n")),
        duration: Duration::from_millis(1234),
        events: common::stream().clone(),
        snapshot_written: false,
        causes: Vec::new(),
        rerun: Default::default(),
        steps: Vec::new(),
    }
}

#[test]
fn what_a_run_says_is_escaped() {
    let evil = "<script>alert('x')</script> & <!-- \u{2028}";
    let mut o = outcome("evil<b>", Status::Failed, evil);
    o.findings
        .push(harness_runner::check::conformance::Violation::new(
            harness_runner::check::conformance::Rule::PkcsValues,
            Some(1),
            evil,
            "</script>",
        ));
    let page = html::run_page::render(&Summary::of(1, vec![o], Gate::Partial, vec![]));
    // The findings per rule (the view of a --connector-cmd run): every rule has its row.
    let rows = attrs(&page, "tr data-rule", "data-findings");
    let rules = harness_runner::check::conformance::Rule::ALL;
    assert_eq!(rows.len(), rules.len());
    assert_eq!(
        attrs(&page, "tr data-rule=\"pkcs.values\"", "data-findings"),
        ["1"]
    );
    assert_eq!(
        page.matches("<script").count(),
        3,
        "only the page's own scripts"
    );
    assert_eq!(page.matches("</script>").count(), 3);
    assert!(!page.contains("<b>") && !page.contains("<!--"));
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp;"));
    let at = page.find("id=\"page-data\">").expect("data") + "id=\"page-data\">".len();
    let blob = &page[at..at + page[at..].find("</script>").expect("end")];
    let data: Value = serde_json::from_str(blob).expect("the data parses");
    assert_eq!(data["report"]["scenarios"][0]["problems"][0], evil);
}

/// Headless Chromium (`chromium`), or `None` with a notice (a failure when peers are required).
fn chromium() -> Option<PathBuf> {
    peer("chromium")
}

/// Runs chromium headless on `url` with `args`, at most `limit`; returns stdout and the time.
fn browse(browser: &Path, url: &str, args: &[&str], limit: Duration) -> (String, Duration) {
    let profile = tempfile::tempdir().expect("profile dir");
    let started = Instant::now();
    let mut child = Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium took longer than {limit:?} on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let elapsed = started.elapsed();
    let out = reader.join().expect("stdout reader");
    let err = err_reader.join().expect("stderr reader");
    assert!(!err.contains("Uncaught"), "a script error in {url}:\n{err}");
    (out, elapsed)
}

fn file_url(path: &Path, hash: &str) -> String {
    format!("file://{}{hash}", path.display())
}

fn assert_no_script_error(dom: &str) {
    assert_eq!(
        attrs(dom, "<body", "data-errors")
            .first()
            .map(String::as_str),
        Some("0"),
        "script errors: {:?}",
        attrs(dom, "<body", "data-error-text")
    );
    assert_eq!(
        attrs(dom, "<body", "data-ready")
            .first()
            .map(String::as_str),
        Some("1"),
        "the script ran to its end"
    );
}

fn screenshot(browser: &Path, url: &str, name: &str, size: &str) -> PathBuf {
    let path = artifacts().join(name);
    let _ = std::fs::remove_file(&path);
    browse(
        browser,
        url,
        &[
            &format!("--screenshot={}", path.display()),
            &format!("--window-size={size}"),
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ],
        Duration::from_secs(120),
    );
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    assert!(len > 10_000, "{name}: a screenshot of {len} bytes");
    path
}

#[test]
fn a_browser_draws_the_run_page() {
    let Some(browser) = chromium() else { return };
    let run = library_run();
    let (dom, took) = browse(
        &browser,
        &file_url(&run.html_path, "#open-all"),
        &["--dump-dom", "--enable-logging=stderr", "--v=0"],
        Duration::from_secs(180),
    );
    assert_no_script_error(&dom);
    assert_agrees(&dom, &run.json);
    assert_eq!(
        attrs(&dom, "data-state=\"covered\"", "data-pair").len(),
        48,
        "the 48 covered cells"
    );
    for s in run.json["scenarios"].as_array().expect("scenarios") {
        let name = s["name"].as_str().expect("name");
        let tag = dom
            .split('<')
            .find(|t| {
                t.starts_with("div class=\"timeline\"")
                    && t.contains(&format!("data-scenario=\"{name}\""))
            })
            .unwrap_or_else(|| panic!("no timeline for {name}"));
        assert!(
            tag.contains("data-rendered=\"1\""),
            "{name}'s timeline is drawn: {tag}"
        );
        assert!(
            tag.contains(&format!("data-events=\"{}\"", s["event_count"])),
            "{name}: {tag}"
        );
    }
    // Faults and clock advances are drawn where they ran, in words as well as symbols.
    let drawn = |class: &str, words: &str| {
        dom.split('<').any(|t| {
            t.starts_with(&format!("div class=\"tl-step {class}\""))
                && t.split_once('>')
                    .is_some_and(|(_, text)| text.starts_with(words))
        })
    };
    assert!(drawn("tl-fault", "⚡ fault "), "a fault on a timeline");
    assert!(drawn("tl-advance", "⏩ advance +"), "a clock advance");
    let at = dom
        .find(&format!("id=\"scenario-{BROKEN}\""))
        .expect("the failing scenario");
    let section = &dom[at..at + dom[at..].find("</details>").expect("its end")];
    assert!(
        section.contains("<pre class=\"diff\">") && section.contains("laptop-2"),
        "its diff"
    );
    assert!(section.contains("class=\"tl-ev"), "its timeline's events");
    let size = run.html.len();
    let (_, plain) = browse(
        &browser,
        &file_url(&run.html_path, ""),
        &["--dump-dom"],
        Duration::from_secs(120),
    );
    println!("figure: library page ({} scenarios): {size} bytes, loaded (dump-dom) in {} ms, all timelines drawn in {} ms", run.json["selected"], plain.as_millis(), took.as_millis());

    let url = file_url(&run.html_path, "");
    screenshot(&browser, &url, "run-desktop.png", "1280,900");
    screenshot(&browser, &url, "run-narrow.png", "390,844");
    screenshot(
        &browser,
        &file_url(&run.html_path, &format!("#only-{BROKEN}")),
        "run-failing-scenario.png",
        "1280,1800",
    );
}

/// A log with a pair outside the catalog, as a JSON Lines file.
fn broken_log(dir: &Path) -> PathBuf {
    let mut events = common::stream().clone();
    events[1].code = harness_runner::catalog::DiagnosticCode::PkcsIssueCaUnavailable;
    let path = dir.join("log.jsonl");
    std::fs::write(&path, harness_runner::event::to_jsonl(&events)).expect("write the log");
    path
}

#[test]
fn the_check_page_says_what_check_says() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = broken_log(tmp.path());
    let page_path = tmp.path().join("check.html");
    let (code, out, err) = harness(&[
        "check",
        "--events",
        log.to_str().expect("utf-8"),
        "--json",
        "--html",
        page_path.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).expect("check --json");
    let page = std::fs::read_to_string(&page_path).expect("the page is written");
    assert_eq!(attrs(&page, "id=\"verdict\"", "data-verdict"), ["failed"]);
    assert_eq!(
        count(&page, "events"),
        report["verdict"]["events"].to_string()
    );
    let findings = report["verdict"]["findings"].as_array().expect("findings");
    assert_eq!(count(&page, "findings"), findings.len().to_string());
    assert_eq!(
        attrs(&page, "li class=\"finding\"", "data-label").len(),
        findings.len()
    );
    assert!(
        page.contains("id=\"areas\"") && page.contains("data-area=\"PKCS\""),
        "the per-area summary"
    );

    let Some(browser) = chromium() else { return };
    let (dom, _) = browse(
        &browser,
        &file_url(&page_path, ""),
        &["--dump-dom"],
        Duration::from_secs(120),
    );
    assert_no_script_error(&dom);
    let drawn = attrs(&dom, "div class=\"timeline\"", "data-events");
    assert_eq!(
        drawn,
        [common::stream().len().to_string()],
        "the log's timeline is drawn"
    );
    assert!(
        dom.contains("tl-ev fail bad"),
        "the pair outside the catalog is marked on it"
    );
    screenshot(
        &browser,
        &file_url(&page_path, ""),
        "check-desktop.png",
        "1280,900",
    );
}

#[test]
fn serve_answers_its_live_page() {
    let runtime = crate::serve_support::runtime();
    runtime.block_on(async {
        let serve = crate::serve_support::start(|_| {}).await;
        let urls = serve.urls();
        let admin = crate::serve_support::Admin::new(&urls);
        let resp = admin
            .http
            .get(format!("{}/ui", urls.admin))
            .send()
            .await
            .expect("GET /ui");
        assert_eq!(resp.status().as_u16(), 200);
        let kind = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(kind.starts_with("text/html"), "{kind}");
        let page = resp.text().await.expect("the page");
        for path in [
            "\"/events\"",
            "\"/faults\"",
            "\"/clock\"",
            "\"/clock/advance\"",
        ] {
            assert!(page.contains(path), "the page asks {path}");
        }
        assert!(
            page.contains("connect-src 'self'"),
            "and nothing but its own origin"
        );
        let (status, _) = admin
            .post(
                "/faults",
                serde_json::json!({"target": "ca.issue", "kind": "status", "status": 503}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = admin.post("/sync", serde_json::json!({})).await;
        assert_eq!(status, 200);

        if let Some(browser) = chromium() {
            let url = format!("{}/ui", urls.admin);
            let dom = tokio::task::spawn_blocking(move || {
                let (dom, _) = browse(
                    &browser,
                    &url,
                    &["--dump-dom", "--virtual-time-budget=5000"],
                    Duration::from_secs(90),
                );
                screenshot(&browser, &url, "serve-live.png", "1280,900");
                dom
            })
            .await
            .expect("chromium");
            assert_eq!(
                attrs(&dom, "<body", "data-errors")
                    .first()
                    .map(String::as_str),
                Some("0")
            );
            assert_eq!(
                attrs(&dom, "id=\"status\"", "data-state"),
                ["live"],
                "the stream is read"
            );
            assert!(
                count(&dom, "events").parse::<u64>().unwrap_or(0) > 0,
                "events are drawn"
            );
            assert!(
                dom.contains("<td>ca.issue</td>"),
                "the fault in force is shown"
            );
            assert!(
                count(&dom, "clock").starts_with("2030-01-01"),
                "and the clock"
            );
        }
        serve.shutdown().await.expect("serve stops");
    });
}

/// The page for 1,000 scenarios and for a 100,000-event log: size and load time (figures),
/// within bounds that keep it usable.
#[test]
fn the_page_stays_usable_at_scale() {
    let story = common::stream();
    let outcomes: Vec<Outcome> = (0..1000)
        .map(|i| {
            let mut o = outcome(
                &format!("generated-{i:04}"),
                if i % 50 == 0 {
                    Status::Failed
                } else {
                    Status::Passed
                },
                "generated failure",
            );
            o.events = story.clone();
            o
        })
        .collect();
    let summary = Summary::of(1000, outcomes, Gate::Applied, vec![]);
    let big = artifacts().join("scale-1000-scenarios.html");
    html::write(&big, &html::run_page::render(&summary)).expect("write");

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut events = Vec::with_capacity(100_000);
    let span = story
        .last()
        .map(|r| r.time - story[0].time)
        .unwrap_or_default()
        + time::Duration::seconds(1);
    for k in 0..(100_000 / story.len() + 1) {
        for r in story {
            let mut r = r.clone();
            r.time += span * (k as i32);
            r.sequence = events.len() as u64 + 1;
            events.push(r);
        }
    }
    events.truncate(100_000);
    let log = tmp.path().join("100k.jsonl");
    std::fs::write(&log, harness_runner::event::to_jsonl(&events)).expect("write the log");
    let stream_page = artifacts().join("scale-100k-events.html");
    let (code, out, err) = harness(&[
        "check",
        "--events",
        log.to_str().expect("utf-8"),
        "--html",
        stream_page.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");

    for page in [&big, &stream_page] {
        let size = std::fs::metadata(page).expect("page").len();
        assert!(size < 40 << 20, "{}: {size} bytes", page.display());
        let Some(browser) = chromium() else {
            println!(
                "figure: {}: {size} bytes (no browser to time it)",
                page.display()
            );
            continue;
        };
        let (dom, took) = browse(
            &browser,
            &file_url(page, ""),
            &["--dump-dom"],
            Duration::from_secs(300),
        );
        assert_no_script_error(&dom);
        assert!(
            took < Duration::from_secs(120),
            "{}: {took:?}",
            page.display()
        );
        println!(
            "figure: {}: {size} bytes, loaded (dump-dom) in {} ms",
            page.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default(),
            took.as_millis()
        );
    }
}
