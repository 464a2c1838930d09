//! `docs/vendor-contract.md` and `docs/vendor-contract.schema.json` against the protocol: the
//! committed schema is the one the code generates; every example in the page is a message of
//! its direction and valid under the schema; every message a real session carries is valid
//! under the schema too (what a vendor validating with the published schema would see).

use std::path::{Path, PathBuf};
use std::process::Command;

use harness_runner::catalog::Detail;
use harness_runner::contract::process::{self, FromConnector, ToConnector};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn schemas() -> Value {
    serde_json::from_str(&read("docs/vendor-contract.schema.json")).expect("schema is JSON")
}

/// One direction's schema, compiled by an independent validator (boon, draft 2020-12).
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    /// What the schema says is wrong with `value`, or `None` when it is valid.
    fn problem(&self, value: &Value) -> Option<String> {
        self.schemas
            .validate(value, self.index)
            .err()
            .map(|e| format!("{e}"))
    }

    fn is_valid(&self, value: &Value) -> bool {
        self.problem(value).is_none()
    }
}

fn validator(direction: &str) -> Validator {
    let url = format!("https://connector-harness.invalid/vendor-contract/{direction}.json");
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource(&url, schemas()[direction].clone())
        .expect("the schema is a resource");
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile(&url, &mut schemas)
        .expect("the schema compiles");
    Validator { schemas, index }
}

/// Problems of one message of `direction` ("to_connector" or "from_connector").
fn problems(direction: &str, v: &Validator, json: &str) -> Vec<String> {
    let value: Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => return vec![format!("not JSON: {e}: {json}")],
    };
    let mut out: Vec<String> = v
        .problem(&value)
        .map(|e| format!("schema: {e}: {json}"))
        .into_iter()
        .collect();
    let typed = match direction {
        "to_connector" => serde_json::from_str::<ToConnector>(json).map(|_| ()),
        _ => serde_json::from_str::<FromConnector>(json).map(|_| ()),
    };
    if let Err(e) = typed {
        out.push(format!("{direction}: {e}: {json}"));
    }
    out
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    assert_eq!(
        read("docs/vendor-contract.schema.json"),
        process::schemas(),
        "regenerate: connector-harness connector --schemas > docs/vendor-contract.schema.json"
    );
}

#[test]
fn every_example_in_the_page_is_a_valid_message() {
    let text = read("docs/vendor-contract.md");
    let (to, from) = (validator("to_connector"), validator("from_connector"));
    let mut found = 0;
    let mut bad = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("<!-- message: ") {
        rest = &rest[i + "<!-- message: ".len()..];
        let end = rest.find(" -->").unwrap();
        let direction = rest[..end].to_string();
        let start = rest.find("```json\n").unwrap() + "```json\n".len();
        let stop = start + rest[start..].find("```").unwrap();
        let v = match direction.as_str() {
            "to_connector" => &to,
            "from_connector" => &from,
            other => panic!("unknown direction `{other}`"),
        };
        bad.extend(problems(&direction, v, &rest[start..stop]));
        found += 1;
        rest = &rest[stop..];
    }
    assert!(found >= 9, "only {found} examples");
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_schema_refuses_what_the_harness_refuses() {
    let from = validator("from_connector");
    for wrong in [
        r#"{"type": "sync_ok"}"#,
        r#"{"type": "sync_ok", "in_reply_to": 1, "extra": 1}"#,
        r#"{"type": "event", "event_id": 20100}"#,
        r#"{"type": "verify_ok", "in_reply_to": 1, "decision": {"allow": true}}"#,
        r#"{"type": "hello"}"#,
    ] {
        assert!(
            !problems("from_connector", &from, wrong).is_empty(),
            "accepted: {wrong}"
        );
        let value: Value = serde_json::from_str(wrong).unwrap();
        assert!(!from.is_valid(&value), "the schema accepts {wrong}");
    }
}

#[test]
fn the_page_names_every_message_config_field_and_detail() {
    let text = read("docs/vendor-contract.md");
    let s = schemas();
    let mut missing = Vec::new();
    for direction in ["to_connector", "from_connector"] {
        for variant in s[direction]["oneOf"].as_array().unwrap() {
            let name = variant["properties"]["type"]["const"].as_str().unwrap();
            if !text.contains(&format!("`{name}`")) {
                missing.push(name.to_string());
            }
        }
    }
    let config = &s["to_connector"]["$defs"]["Config"]["properties"];
    for field in config.as_object().unwrap().keys() {
        if !text.contains(&format!("`{field}`")) {
            missing.push(format!("config.{field}"));
        }
    }
    for d in Detail::ALL {
        if !text.contains(&format!("`{}`", d.key())) {
            missing.push(format!("detail {}", d.key()));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/vendor-contract.md does not name {missing:?}"
    );
}

/// Real sessions, both directions recorded by `tee`, every line valid under the schema.
#[test]
fn real_sessions_are_valid_under_the_published_schema() {
    let bin = env!("CARGO_BIN_EXE_connector-harness");
    let tmp = tempfile::tempdir().unwrap();
    let (to_log, from_log) = (tmp.path().join("to.jsonl"), tmp.path().join("from.jsonl"));
    let command = format!(
        "tee -a {} | {bin} connector | tee -a {}",
        to_log.display(),
        from_log.display()
    );
    let out = Command::new(bin)
        .args(["run", "--no-coverage-gate", "--connector-cmd", &command])
        .args(["--exact", "scep-enroll", "--exact", "pkcs-issue-ca-retried"])
        .args(["--exact", "registration-renewal", "--exact", "revoke"])
        .arg("--scenarios")
        .arg(root().join("scenarios"))
        .arg("--snapshots")
        .arg(root().join("snapshots"))
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bad = Vec::new();
    let mut types = std::collections::BTreeSet::new();
    for (direction, log) in [("to_connector", &to_log), ("from_connector", &from_log)] {
        let v = validator(direction);
        for line in std::fs::read_to_string(log).unwrap().lines() {
            bad.extend(problems(direction, &v, line));
            if let Ok(m) = serde_json::from_str::<Value>(line) {
                types.insert(m["type"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
    for t in [
        "init", "start", "sync", "verify", "notify", "sleep", "sleep_ok", "event", "clock",
    ] {
        assert!(types.contains(t), "no `{t}` in the sessions: {types:?}");
    }
}
