//! `scenarios/README.md` shows the whole scenario language by example. Its setup and steps
//! examples, put together as one scenario, load (every field and value is real) and run to a
//! pass (the example is a scenario, not pseudo-code).

use std::path::Path;

use harness_runner::run::{run_scenario, RunOptions, Status};
use harness_runner::scenario;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/README.md"))
        .expect("scenarios/README.md")
}

/// The first ```yaml block after `heading`.
fn block_after(text: &str, heading: &str) -> String {
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("no `{heading}`"));
    let start = at + text[at..].find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + text[start..].find("```").expect("the block ends");
    text[start..end].to_string()
}

fn example() -> String {
    let text = readme();
    format!(
        "name: readme-example\nsummary: The README's examples.\n{}{}",
        block_after(&text, "\n## Setup\n"),
        block_after(&text, "\n## Steps\n")
    )
}

#[test]
fn the_readme_examples_load_and_run() {
    let text = example();
    let path = Path::new("readme-example.yaml");
    let loaded = scenario::load_str(path, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(loaded.steps.len() >= 20, "{} steps", loaded.steps.len());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(run_scenario(
        &loaded,
        path,
        &RunOptions {
            ci: true,
            ..RunOptions::default()
        },
    ));
    assert_eq!(
        outcome.status,
        Status::Passed,
        "{:?}\n{}",
        outcome.problems,
        harness_runner::event::to_yaml(&outcome.events)
    );
}

#[test]
fn a_broken_example_would_be_caught() {
    let text = example().replace("challenge: valid", "challenge: fresh");
    assert!(scenario::load_str(Path::new("readme-example.yaml"), &text).is_err());
}
