//! `feedpipe serve` driven by aws-sdk-sfn, as a client of Step Functions would drive it: a real
//! `feedpipe serve` process on 127.0.0.1 (port chosen by the system), a project with a file feed
//! and a file sink, its Batch jobs as real `feedpipe-worker` processes.

use std::process::Command;

#[path = "support/serve.rs"]
mod support;

use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_sfn::Client;
use support::serve;

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:feedpipe";

async fn client(endpoint: &str) -> Client {
    support::sfn_client(endpoint).await
}

async fn wait_done(
    sfn: &Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    for _ in 0..600 {
        let d = sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .unwrap();
        if *d.status() != ExecutionStatus::Running {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{arn} did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_sfn_starts_watches_lists_and_reads_local_executions() {
    let s = serve();
    let sfn = client(&s.endpoint).await;

    let machines = sfn.list_state_machines().send().await.unwrap();
    assert_eq!(machines.state_machines()[0].state_machine_arn(), MACHINE);
    let sm = sfn
        .describe_state_machine()
        .state_machine_arn(MACHINE)
        .send()
        .await
        .unwrap();
    assert!(sm.definition().contains("\"CheckFeed\""));

    let started = sfn
        .start_execution()
        .state_machine_arn(MACHINE)
        .name("first")
        .input(r#"{"feed": "jobs"}"#)
        .send()
        .await
        .unwrap();
    assert!(started
        .execution_arn()
        .ends_with(":execution:feedpipe:first"));
    let d = wait_done(&sfn, started.execution_arn()).await;
    assert_eq!(*d.status(), ExecutionStatus::Succeeded, "{:?}", d.cause());
    let output: serde_json::Value = serde_json::from_str(d.output().unwrap()).unwrap();
    assert_eq!(output["diff"]["added"], 200);

    let again = sfn
        .start_execution()
        .state_machine_arn(MACHINE)
        .name("second")
        .input(r#"{"feed": "jobs"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        *wait_done(&sfn, again.execution_arn()).await.status(),
        ExecutionStatus::Succeeded
    );

    // ListExecutions over two pages, newest first.
    let page = sfn
        .list_executions()
        .state_machine_arn(MACHINE)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.executions()[0].name(), "second");
    let next = sfn
        .list_executions()
        .state_machine_arn(MACHINE)
        .max_results(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(next.executions()[0].name(), "first");
    assert!(next.next_token().is_none());
    let failed = sfn
        .list_executions()
        .state_machine_arn(MACHINE)
        .status_filter(ExecutionStatus::Failed)
        .send()
        .await
        .unwrap();
    assert!(failed.executions().is_empty());

    // The history through the SDK's paginator (pages of 5), and in reverse.
    let events: Vec<_> = sfn
        .get_execution_history()
        .execution_arn(started.execution_arn())
        .max_results(5)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert!(events.len() > 20);
    assert_eq!(events[0].r#type().as_str(), "ExecutionStarted");
    assert_eq!(
        events.last().unwrap().r#type().as_str(),
        "ExecutionSucceeded"
    );
    let reversed = sfn
        .get_execution_history()
        .execution_arn(started.execution_arn())
        .reverse_order(true)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(reversed.events()[0].r#type().as_str(), "ExecutionSucceeded");

    // Errors by their AWS names.
    let e = sfn
        .describe_execution()
        .execution_arn("arn:aws:states:us-east-1:123456789012:execution:feedpipe:nope")
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_execution_does_not_exist());
    let e = sfn
        .describe_execution()
        .execution_arn("not-an-arn")
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_invalid_arn());
    let e = sfn
        .start_execution()
        .state_machine_arn(MACHINE)
        .name("first")
        .input(r#"{"feed": "jobs"}"#)
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_execution_already_exists());
    let e = sfn
        .redrive_execution()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_execution_not_redrivable());
    let e = sfn
        .start_execution()
        .state_machine_arn(MACHINE)
        .input("{}")
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_invalid_execution_input());

    // What the protocol says to clients that send something else.
    let http = reqwest::Client::new();
    let unknown = http
        .post(&s.endpoint)
        .header("x-amz-target", "AWSStepFunctions.FlyToTheMoon")
        .header("content-type", "application/x-amz-json-1.0")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&unknown.text().await.unwrap()).unwrap();
    assert_eq!(body["__type"], "UnknownOperationException");
    let malformed = http
        .post(&s.endpoint)
        .header("x-amz-target", "AWSStepFunctions.ListExecutions")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&malformed.text().await.unwrap()).unwrap();
    assert_eq!(body["__type"], "SerializationException");
}

#[test]
fn a_non_loopback_listener_needs_a_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("FEEDPIPE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_is_redriven_to_success_through_the_api() {
    let s = serve();
    let feed = s.dir.path().join("feed.xml");
    let xml = std::fs::read(&feed).unwrap();
    std::fs::remove_file(&feed).unwrap();
    let sfn = client(&s.endpoint).await;
    let started = sfn
        .start_execution()
        .state_machine_arn(MACHINE)
        .name("broken")
        .input(r#"{"feed": "jobs"}"#)
        .send()
        .await
        .unwrap();
    let d = wait_done(&sfn, started.execution_arn()).await;
    assert_eq!(*d.status(), ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.TaskFailed"));
    assert!(d.cause().unwrap().contains("feed.xml"), "{:?}", d.cause());

    std::fs::write(&feed, xml).unwrap();
    sfn.redrive_execution()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .unwrap();
    let d = wait_done(&sfn, started.execution_arn()).await;
    assert_eq!(*d.status(), ExecutionStatus::Succeeded, "{:?}", d.cause());
    assert_eq!(d.redrive_count(), Some(1));
    let redriven = sfn
        .list_executions()
        .state_machine_arn(MACHINE)
        .redrive_filter(aws_sdk_sfn::types::ExecutionRedriveFilter::Redriven)
        .send()
        .await
        .unwrap();
    assert_eq!(redriven.executions()[0].name(), "broken");
}

/// Runs the AWS CLI (`FEEDPIPE_AWS_CLI`, installed by the test script) against `endpoint`.
fn aws_cli(endpoint: &str, args: &[&str]) -> (i32, serde_json::Value, String) {
    let program = std::env::var("FEEDPIPE_AWS_CLI").unwrap_or_else(|_| {
        panic!("FEEDPIPE_AWS_CLI is not set: run this test with ./scripts/test")
    });
    let out = Command::new(program)
        .args([
            "--endpoint-url",
            endpoint,
            "--region",
            "us-east-1",
            "--output",
            "json",
        ])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let v = if stdout.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    };
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Polls `describe-execution` until the execution is no longer RUNNING.
fn cli_wait(endpoint: &str, arn: &str) -> serde_json::Value {
    for _ in 0..300 {
        let (_, d, _) = aws_cli(
            endpoint,
            &[
                "stepfunctions",
                "describe-execution",
                "--execution-arn",
                arn,
            ],
        );
        if d["status"] != "RUNNING" {
            return d;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{arn} did not end");
}

#[test]
fn the_aws_cli_starts_describes_lists_reads_and_redrives_local_executions() {
    let s = serve();
    let ep = s.endpoint.as_str();
    let feed = s.dir.path().join("feed.xml");
    let xml = std::fs::read(&feed).unwrap();
    std::fs::remove_file(&feed).unwrap();
    let (code, started, err) = aws_cli(
        ep,
        &[
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            MACHINE,
            "--name",
            "cli-run",
            "--input",
            r#"{"feed": "jobs"}"#,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let arn = started["executionArn"].as_str().unwrap().to_string();
    assert_eq!(cli_wait(ep, &arn)["status"], "FAILED");

    std::fs::write(&feed, xml).unwrap();
    let (code, redriven, err) = aws_cli(
        ep,
        &[
            "stepfunctions",
            "redrive-execution",
            "--execution-arn",
            &arn,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(redriven["redriveDate"].is_string() || redriven["redriveDate"].is_number());
    let d = cli_wait(ep, &arn);
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["redriveCount"], 1);

    let (code, list, err) = aws_cli(
        ep,
        &[
            "stepfunctions",
            "list-executions",
            "--state-machine-arn",
            MACHINE,
            "--status-filter",
            "SUCCEEDED",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(list["executions"][0]["name"], "cli-run");
    let (code, history, err) = aws_cli(
        ep,
        &[
            "stepfunctions",
            "get-execution-history",
            "--execution-arn",
            &arn,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let types: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"ExecutionRedriven") && types.last() == Some(&"ExecutionSucceeded"),
        "{types:?}"
    );

    let (code, _, err) = aws_cli(
        ep,
        &[
            "stepfunctions",
            "describe-execution",
            "--execution-arn",
            "arn:aws:states:us-east-1:123456789012:execution:feedpipe:missing",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("ExecutionDoesNotExist"), "{err}");
}

#[test]
fn the_aws_commands_of_feedpipe_work_against_feedpipe_serve() {
    let s = serve();
    let feedpipe = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--aws", "--state-machine", MACHINE]);
        Command::new(env!("CARGO_BIN_EXE_feedpipe"))
            .args(&all)
            .env("AWS_ENDPOINT_URL", &s.endpoint)
            .env("AWS_ACCESS_KEY_ID", "local")
            .env("AWS_SECRET_ACCESS_KEY", "local")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap()
    };
    let out = feedpipe(&["start", "--feed", "jobs", "--name", "via-aws"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = feedpipe(&["watch", "via-aws"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("→ ConsumeFeed"));
    let out = feedpipe(&["describe", "via-aws", "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"]["diff"]["added"], 200);
    let out = feedpipe(&["executions", "--status", "SUCCEEDED", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["executions"][0]["name"], "via-aws");
    let out = feedpipe(&["history", "via-aws", "--json"]);
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["events"][0]["type"], "ExecutionStarted");
    let out = feedpipe(&["redrive", "via-aws"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a SUCCEEDED execution is not redrivable"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be redriven"));

    // Redrive, which moto lacks: a run that fails at CheckFeed (the feed is gone) is redriven
    // with `--aws` once the feed is back, and resumes there to success.
    let feed = s.dir.path().join("feed.xml");
    let xml = std::fs::read(&feed).unwrap();
    std::fs::remove_file(&feed).unwrap();
    let out = feedpipe(&["start", "--feed", "jobs", "--name", "broken"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = feedpipe(&["watch", "broken"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&feed, xml).unwrap();
    let out = feedpipe(&["redrive", "broken"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = feedpipe(&["watch", "broken"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = feedpipe(&["describe", "broken", "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let out = feedpipe(&["history", "broken", "--json"]);
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let types: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    let redriven = types
        .iter()
        .position(|t| *t == "ExecutionRedriven")
        .expect("redriven");
    assert_eq!(types[redriven - 1], "ExecutionFailed", "{types:?}");
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definitions_are_validated_and_single_states_tested_through_the_api() {
    let s = serve();
    let sfn = client(&s.endpoint).await;
    let ok = sfn
        .validate_state_machine_definition()
        .definition(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.result().as_str(), "OK");
    let bad = sfn
        .validate_state_machine_definition()
        .definition(r#"{"StartAt":"B","States":{"A":{"Type":"Pass","End":true}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.result().as_str(), "FAIL");
    assert!(!bad.diagnostics().is_empty());

    // TestState over the wire: SDKs send it to a `sync-` host prefix of the endpoint, which a
    // local endpoint does not resolve (botocore: `inject_host_prefix=False` turns that off).
    let test_state = |body: serde_json::Value| {
        let endpoint = s.endpoint.clone();
        async move {
            let r = reqwest::Client::new()
                .post(&endpoint)
                .header("x-amz-target", "AWSStepFunctions.TestState")
                .header("content-type", "application/x-amz-json-1.0")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let text = r.text().await.unwrap();
            serde_json::from_str::<serde_json::Value>(&text).unwrap()
        }
    };
    let pass = test_state(serde_json::json!({
        "definition": r#"{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.a, 2)"},"Next":"X"}"#,
        "roleArn": "arn:aws:iam::123456789012:role/test",
        "input": r#"{"a": 40}"#,
    }))
    .await;
    assert_eq!(pass["status"], "SUCCEEDED", "{pass}");
    assert_eq!(pass["output"], r#"{"sum":42}"#);
    assert_eq!(pass["nextState"], "X");
    let task = test_state(serde_json::json!({
        "definition": r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}"#,
        "roleArn": "arn:aws:iam::123456789012:role/test",
        "mock": {"errorOutput": {"error": "Feedpipe.Transient", "cause": "flaky"}},
    }))
    .await;
    assert_eq!(task["status"], "FAILED", "{task}");
    assert_eq!(task["error"], "Feedpipe.Transient");
}
