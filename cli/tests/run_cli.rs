//! `feedpipe run --definition` as a user runs it: results as JSON with exit 0/1, and exit 2 with
//! a message naming the file, state or field for every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};

fn feedpipe(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(args)
        .output()
        .expect("feedpipe runs")
}

/// A file under the build's target directory, unique per test.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("run_cli");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

fn run_json(definition: &Path, input: &str) -> (i32, Value) {
    let out = feedpipe(&[
        "run",
        "--definition",
        definition.to_str().expect("utf-8 path"),
        "--input",
        input,
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

/// Exit code and stderr of a run expected to be refused.
fn refused(args: &[&str]) -> (i32, String) {
    let out = feedpipe(args);
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const FLOW: &str = r#"{"StartAt":"Shape","States":{
  "Shape":{"Type":"Pass","Parameters":{"n.$":"$.n","greeting.$":"States.Format('hi {}', $.who)"},"Next":"Wait"},
  "Wait":{"Type":"Wait","Seconds":0,"Next":"Big?"},
  "Big?":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":10,"Next":"Done"}],"Default":"TooSmall"},
  "Done":{"Type":"Succeed"},
  "TooSmall":{"Type":"Fail","Error":"Small","Cause":"n is 10 or less"}}}"#;

#[test]
fn a_succeeding_definition_prints_its_output_as_json_and_exits_0() {
    let def = temp_file("flow.json", FLOW);
    let (code, v) = run_json(&def, r#"{"n": 42, "who": "feedpipe"}"#);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["output"], json!({"n": 42, "greeting": "hi feedpipe"}));
    assert_eq!(v["error"], Value::Null);
    assert!(v["execution"]
        .as_str()
        .unwrap_or_default()
        .contains(":execution:flow:"));
}

#[test]
fn a_failing_definition_prints_error_and_cause_and_exits_1() {
    let def = temp_file("flow_fail.json", FLOW);
    let input = temp_file("small.json", r#"{"n": 3, "who": "x"}"#);
    let (code, v) = run_json(&def, &format!("@{}", input.display()));
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["status"], "FAILED");
    assert_eq!(v["error"], "Small");
    assert_eq!(v["cause"], "n is 10 or less");
    assert_eq!(v["output"], Value::Null);
}

#[test]
fn a_task_without_local_integration_fails_naming_the_resource() {
    let def = temp_file(
        "task.json",
        r#"{"StartAt":"Job","States":{"Job":{"Type":"Task","Resource":"arn:aws:states:::batch:submitJob.sync","End":true}}}"#,
    );
    let (code, v) = run_json(&def, "{}");
    assert_eq!(code, 1);
    assert_eq!(v["error"], "States.Runtime");
    let cause = v["cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("'Job'") && cause.contains("arn:aws:states:::batch:submitJob.sync"),
        "{cause}"
    );
}

#[test]
fn bad_input_exits_2_naming_file_state_or_field() {
    let unknown = temp_file(
        "unknown.json",
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Nxt":"B","End":true}}}"#,
    );
    let invalid = temp_file(
        "invalid.json",
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#,
    );
    let broken = temp_file("broken.json", r#"{"StartAt": "#);
    let good = temp_file("good.json", FLOW);
    let cases: [(Vec<&str>, &[&str]); 5] = [
        (
            vec!["run", "--definition", unknown.to_str().unwrap_or_default()],
            &["unknown.json", "States.A", "Nxt"],
        ),
        (
            vec!["run", "--definition", invalid.to_str().unwrap_or_default()],
            &["invalid.json", "\"A\"", "Next", "\"B\""],
        ),
        (
            vec!["run", "--definition", broken.to_str().unwrap_or_default()],
            &["broken.json", "line"],
        ),
        (
            vec![
                "run",
                "--definition",
                good.to_str().unwrap_or_default(),
                "--input",
                "{oops",
            ],
            &["--input is not JSON"],
        ),
        (
            vec!["run", "--definition", "/no/such/definition.json"],
            &["/no/such/definition.json"],
        ),
    ];
    for (args, words) in cases {
        let (code, stderr) = refused(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        for w in words {
            assert!(stderr.contains(w), "{args:?}: {w:?} not in {stderr}");
        }
    }
}

#[test]
fn an_input_over_256_kib_is_refused_before_the_run_naming_the_limit() {
    let definition = temp_file(
        "pass-for-big-input.asl.json",
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#,
    );
    let big = temp_file(
        "big-input.json",
        &format!("{{\"a\":\"{}\"}}", "x".repeat(300_000)),
    );
    let (code, err) = refused(&[
        "run",
        "--definition",
        definition.to_str().unwrap(),
        "--input",
        &format!("@{}", big.display()),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("262144 bytes") && err.contains("big-input.json"),
        "{err}"
    );
}

const YEAR_WAIT: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":31536000,"Next":"D"},"D":{"Type":"Succeed"}}}"#;

#[test]
fn a_long_wait_says_where_it_waits_and_until_when() {
    use std::io::BufRead as _;
    let definition = temp_file("year-wait.asl.json", YEAR_WAIT);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(["run", "--definition", definition.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let line = stderr
        .lines()
        .map(Result::unwrap)
        .find(|l| l.contains("→ W"))
        .expect("the wait is announced");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        line.contains("waiting 31536000 s, until 20") && line.contains("--fast-waits"),
        "{line}"
    );
}

#[test]
fn fast_waits_skip_a_year_long_wait() {
    let definition = temp_file("year-wait-fast.asl.json", YEAR_WAIT);
    let started = std::time::Instant::now();
    let out = feedpipe(&[
        "run",
        "--definition",
        definition.to_str().unwrap(),
        "--fast-waits",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(started.elapsed().as_secs() < 30);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "SUCCEEDED");
}
