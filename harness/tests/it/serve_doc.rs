//! `docs/serve.md` documents every admin endpoint with a curl example and every `serve` flag
//! with its default; the README summarises the endpoints.

use std::path::Path;

use harness_runner::serve::admin::ENDPOINTS;

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_endpoint_has_a_curl_example() {
    let doc = read("docs/serve.md");
    let curls: Vec<&str> = doc
        .lines()
        .filter(|l| l.trim_start().starts_with("curl "))
        .collect();
    for (method, path, _) in ENDPOINTS {
        let shown = path.replace("{target}", "");
        let found = curls.iter().any(|l| {
            let url = l
                .split_whitespace()
                .find(|w| w.contains("$ADMIN"))
                .unwrap_or("");
            let at = url.trim_matches('"').trim_start_matches("$ADMIN");
            let at = at.split('?').next().unwrap_or(at);
            let same_path = if shown.ends_with('/') && shown.len() > 1 {
                at.starts_with(&shown) && at.len() > shown.len()
            } else {
                at == shown || (shown == "/" && at.is_empty())
            };
            let same_method = match *method {
                "GET" => !l.contains(" -X "),
                m => l.contains(&format!("-X {m}")),
            };
            same_path && same_method
        });
        assert!(
            found,
            "docs/serve.md has no curl example for {method} {path}"
        );
    }
}

#[test]
fn every_flag_is_documented_with_its_default() {
    let doc = read("docs/serve.md");
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_connector-harness"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let flags: Vec<&str> = help
        .split_whitespace()
        .filter(|w| w.starts_with("--") && *w != "--help")
        .map(|w| w.trim_end_matches(','))
        .collect();
    assert!(flags.len() >= 10, "{help}");
    for flag in flags {
        assert!(
            doc.lines().any(|l| l.starts_with(&format!("| `{flag}"))),
            "docs/serve.md has no row for {flag}"
        );
    }
}

#[test]
fn the_readme_summarises_the_admin_api() {
    let readme = read("README.md");
    for (_, path, _) in ENDPOINTS.iter().filter(|(_, p, _)| *p != "/") {
        let head = path.split('{').next().unwrap().trim_end_matches('/');
        assert!(readme.contains(head), "README does not mention {path}");
    }
    assert!(readme.contains("docs/serve.md"));
}
