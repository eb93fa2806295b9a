//! `feedpipe asl` and `feedpipe graph` as a user runs them: the generated definition matches the
//! committed golden file and passes the three external validators (asl-validator, statelint,
//! cfn-lint E3601 on a minimal template); bad configuration exits 2 naming key and line.
//!
//! The validators are installed by `scripts/test` (which exports their paths); run through it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn feedpipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(args)
        .current_dir(root())
        .env_remove("FEEDPIPE_CONFIG")
        .output()
        .expect("feedpipe runs")
}

fn generated() -> String {
    let out = feedpipe(&["asl", "--config", "examples/feedpipe.toml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A validator installed by scripts/test: from its environment variable, else from `.cache/`.
fn tool(env: &str, fallback: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(fallback));
    assert!(
        path.exists(),
        "{} not found: run the suite with ./scripts/test, which installs it",
        path.display()
    );
    path
}

/// A file under the build's target directory (cleaned with it), unique per test name.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("asl_cli");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

fn run_tool(mut cmd: Command) -> Output {
    let out = cmd.output().expect("validator runs");
    assert!(
        out.status.success(),
        "{cmd:?} rejected the definition:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn generated_definition_matches_the_committed_golden_file() {
    let golden_path = root().join("examples/feedpipe.asl.json");
    let text = generated();
    let golden = std::fs::read_to_string(&golden_path).unwrap_or_default();
    if text != golden && std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden_path, &text).expect("update golden");
        return;
    }
    assert!(
        text == golden,
        "the generated ASL differs from {}: if the change is intended, rerun with UPDATE_GOLDEN=1 and commit the file",
        golden_path.display()
    );
}

#[test]
fn asl_validator_accepts_the_definition() {
    let file = temp_file("asl-validator.json", &generated());
    let mut cmd = Command::new(tool(
        "FEEDPIPE_ASL_VALIDATOR",
        ".cache/node/node_modules/.bin/asl-validator",
    ));
    cmd.arg("--json-path").arg(&file);
    run_tool(cmd);
}

#[test]
fn asl_validator_rejects_a_broken_definition() {
    // The same check on a definition with a dangling Next: proves the validator really validates.
    let broken = generated().replace("\"Next\": \"DiffFeed\"", "\"Next\": \"NoSuchState\"");
    let file = temp_file("asl-validator-broken.json", &broken);
    let out = Command::new(tool(
        "FEEDPIPE_ASL_VALIDATOR",
        ".cache/node/node_modules/.bin/asl-validator",
    ))
    .arg("--json-path")
    .arg(&file)
    .output()
    .expect("validator runs");
    assert!(
        !out.status.success(),
        "asl-validator accepted a dangling Next"
    );
}

#[test]
fn statelint_accepts_the_definition() {
    let file = temp_file("statelint.json", &generated());
    let mut cmd = Command::new(tool(
        "FEEDPIPE_STATELINT",
        ".cache/node/node_modules/.bin/statelint",
    ));
    cmd.arg(&file);
    run_tool(cmd);
}

fn template_with(definition: &str) -> String {
    let subs: serde_json::Map<String, serde_json::Value> = statemachine::feedpipe::PLACEHOLDERS
        .iter()
        .map(|p| {
            (
                p.to_string(),
                serde_json::Value::String(format!("arn:aws:example:us-east-1:123456789012:{p}")),
            )
        })
        .collect();
    let template = serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "StateMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/feedpipe",
                    "DefinitionString": definition,
                    "DefinitionSubstitutions": subs
                }
            }
        }
    });
    serde_json::to_string_pretty(&template).expect("serializes")
}

#[test]
fn cfn_lint_accepts_the_definition_in_a_template() {
    let file = temp_file("template.json", &template_with(&generated()));
    let mut cmd = Command::new(tool("FEEDPIPE_CFN_LINT", ".cache/venv/bin/cfn-lint"));
    cmd.arg(&file);
    run_tool(cmd);
}

#[test]
fn cfn_lint_reports_e3601_for_a_broken_definition() {
    let broken = generated().replace("\"StartAt\": \"CheckFeed\"", "\"StartAt\": \"Nowhere\"");
    let file = temp_file("template-broken.json", &template_with(&broken));
    let out = Command::new(tool("FEEDPIPE_CFN_LINT", ".cache/venv/bin/cfn-lint"))
        .arg(&file)
        .output()
        .expect("cfn-lint runs");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("E3601"),
        "{out:?}"
    );
}

#[test]
fn graph_draws_every_state_and_explains_a_missing_graphviz() {
    let out = feedpipe(&["graph", "--config", "examples/feedpipe.toml"]);
    assert!(out.status.success());
    let dot = String::from_utf8(out.stdout).expect("utf-8");
    assert!(dot.starts_with("digraph feedpipe {"), "{dot}");
    for state in [
        "CheckFeed",
        "DiffFeed",
        "Updated?",
        "ConsumeFeed",
        "Commit",
        "Shape",
        "Notify",
        "Done",
        "NoChange",
    ] {
        assert!(
            dot.contains(&format!("\"{state}\" [label=")),
            "{state} missing"
        );
    }
    let out = feedpipe(&["graph", "--format", "svg", "--dot", "/nonexistent/dot"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SVG needs Graphviz") && err.contains("--format dot"),
        "{err}"
    );
}

#[test]
fn bad_configuration_exits_2_naming_key_and_line() {
    let text = std::fs::read_to_string(root().join("examples/feedpipe.toml"))
        .expect("example config")
        .replace("parallelism = 4", "parallelism = -1");
    let file = temp_file("bad.toml", &text);
    let out = feedpipe(&["asl", "--config", file.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("feed[0].sink.parallelism") && err.contains("bad.toml:18"),
        "{err}"
    );
    let out = feedpipe(&["asl", "--config", "/nonexistent/feedpipe.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("cannot read the configuration /nonexistent/feedpipe.toml"));
}

#[test]
fn usage_errors_exit_2_and_help_is_useful() {
    let out = feedpipe(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    let out = feedpipe(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["asl", "graph", "feed"] {
        assert!(help.contains(word), "{help}");
    }
}
