//! The execution commands with `--aws`, against moto server's Step Functions (over HTTP; the
//! test script starts it) and, the same test, against `feedpipe serve`: start, watch to the end,
//! describe, history, executions with a status filter, stop. Moto runs Pass, Wait and Succeed states once told to execute state machines;
//! it has no RedriveExecution and fails Batch `.sync` tasks, so the definition has neither
//! (redrive is tested against `aws-smithy-mocks` in `runs`). Telling moto to execute state
//! machines is a setting of the whole server, which changes how it treats the state machines of
//! other tests' stacks: this test runs a moto server of its own (`FEEDPIPE_MOTO_SERVER`, set by
//! the test script), on a free loopback port.

use std::process::{Child, Output};
use std::time::Duration;

use serde_json::{json, Value};

/// This test's own moto server, stopped when dropped.
struct Moto {
    endpoint: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto on port 0 and reads the port it bound from its "Running on" line, so no
    /// other process can take the port between picking and binding it.
    fn start() -> Moto {
        use std::io::BufRead;
        let program = std::env::var("FEEDPIPE_MOTO_SERVER").unwrap_or_else(|_| {
            panic!("FEEDPIPE_MOTO_SERVER is not set: run this test with ./scripts/test")
        });
        let mut child = std::process::Command::new(program)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("moto server starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads every line moto prints, so its pipe never fills; the first address goes back.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("http://127.0.0.1:") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(line[at..].trim().to_string());
                    }
                }
            }
        });
        let mut moto = Moto {
            endpoint: String::new(),
            child,
        };
        moto.endpoint = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("moto server printed the address it listens on");
        ENDPOINT.with(|e| *e.borrow_mut() = moto.endpoint.clone());
        MOTO.with(|m| m.set(true));
        moto
    }
}

thread_local! {
    static ENDPOINT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    /// Whether the endpoint is moto (which must be told to execute state machines).
    static MOTO: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[path = "support/serve.rs"]
mod support;

fn endpoint() -> String {
    ENDPOINT.with(|e| e.borrow().clone())
}

fn feedpipe(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint())
        .env_remove("FEEDPIPE_STATE_MACHINE_ARN")
        .output()
        .unwrap()
}

fn json_of(out: Output) -> (i32, Value) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

/// A state machine on moto, executing for real.
fn state_machine(name: &str, definition: Value) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if MOTO.with(|m| m.get()) {
            let http = reqwest::Client::new();
            let r = http
                .post(format!("{}/moto-api/config", endpoint()))
                .header("content-type", "application/json")
                .body(json!({"stepfunctions": {"execute_state_machine": true}}).to_string())
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
        let sdk = store::s3::sdk_config(Some(&endpoint())).await;
        let sfn = aws_sdk_sfn::Client::new(&sdk);
        sfn.create_state_machine()
            .name(format!("{name}-{}", std::process::id()))
            .definition(definition.to_string())
            .role_arn("arn:aws:iam::123456789012:role/feedpipe-states")
            .send()
            .await
            .unwrap()
            .state_machine_arn
    })
}

/// `args` with `--aws --state-machine ARN`.
fn aws_args(args: &[&str], arn: &str) -> Vec<String> {
    let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    v.extend(["--aws".into(), "--state-machine".into(), arn.to_string()]);
    v
}

fn run(args: Vec<String>) -> Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    feedpipe(&refs)
}

#[test]
fn start_watch_describe_history_executions_and_stop_work_against_step_functions() {
    let _moto = Moto::start();
    the_execution_commands_work_with_aws();
}

/// The same commands against `feedpipe serve`, whose CreateStateMachine makes the same two
/// machines (its redrive is tested in `serve_api`, with the feedpipe machine).
#[test]
fn the_same_commands_work_against_feedpipe_serve() {
    let s = support::serve();
    ENDPOINT.with(|e| *e.borrow_mut() = s.endpoint.clone());
    MOTO.with(|m| m.set(false));
    the_execution_commands_work_with_aws();
    // The machines and their executions are kept in the project's state folder.
    let machines = s.dir.path().join(".feedpipe/machines");
    let kept: Vec<_> = std::fs::read_dir(&machines)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("executions").is_dir())
        .collect();
    assert_eq!(kept.len(), 2, "{}", machines.display());
}

fn the_execution_commands_work_with_aws() {
    let quick = state_machine(
        "feedpipe-quick",
        json!({"StartAt": "Check", "States": {
            "Check": {"Type": "Pass", "Result": "checked", "ResultPath": "$.check", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
            "Done": {"Type": "Succeed"}}}),
    );
    let with = |args: &[&str]| aws_args(args, &quick);

    let (code, started) = json_of(run(with(&[
        "start",
        "--feed",
        "jobs",
        "--name",
        "jobs-aws-1",
        "--json",
    ])));
    assert_eq!(code, 0, "{started}");
    assert_eq!(started["execution"], "jobs-aws-1");

    let out = run(with(&["watch", "jobs-aws-1"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stderr);
    assert!(
        shown.contains("→ Check") && shown.contains("succeeded"),
        "{shown}"
    );

    let (code, d) = json_of(run(with(&["describe", "jobs-aws-1", "--json"])));
    assert_eq!(code, 0);
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"]["check"], "checked");
    assert_eq!(d["output"]["feed"], "jobs");

    let (code, h) = json_of(run(with(&["history", "jobs-aws-1", "--json"])));
    assert_eq!(code, 0);
    let types: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.first(), Some(&"ExecutionStarted"), "{types:?}");
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"), "{types:?}");
    assert!(types.contains(&"WaitStateEntered"), "{types:?}");

    let slow = state_machine(
        "feedpipe-slow",
        json!({"StartAt": "Pause", "States": {
            "Pause": {"Type": "Wait", "Seconds": 600, "End": true}}}),
    );
    let slow_with = |args: &[&str]| aws_args(args, &slow);
    let out = run(slow_with(&[
        "start",
        "--feed",
        "jobs",
        "--name",
        "jobs-aws-2",
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, running) = json_of(run(slow_with(&[
        "executions",
        "--status",
        "RUNNING",
        "--json",
    ])));
    assert_eq!(running["executions"][0]["name"], "jobs-aws-2");
    let out = run(slow_with(&[
        "stop",
        "jobs-aws-2",
        "--error",
        "Manual",
        "--cause",
        "test",
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, d) = json_of(run(slow_with(&["describe", "jobs-aws-2", "--json"])));
    assert_eq!(d["status"], "ABORTED");
    let (_, aborted) = json_of(run(slow_with(&[
        "executions",
        "--status",
        "ABORTED",
        "--json",
    ])));
    assert_eq!(aborted["executions"].as_array().unwrap().len(), 1);
    let (_, none) = json_of(run(slow_with(&[
        "executions",
        "--status",
        "SUCCEEDED",
        "--json",
    ])));
    assert_eq!(none["executions"].as_array().unwrap().len(), 0);

    let out = run(with(&["describe", "no-such-run"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let out = feedpipe(&["executions", "--aws"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--state-machine"));
}
