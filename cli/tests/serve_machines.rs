//! State machines created through `feedpipe serve`'s API and run there: Create, Describe, List,
//! Update and DeleteStateMachine with aws-sdk-sfn, executions of a created machine, callback
//! tasks (`.waitForTaskToken`) completed by SendTaskSuccess / SendTaskFailure / heartbeats, and
//! EXPRESS machines run by StartSyncExecution (over raw HTTP: the SDKs send that action to a
//! `sync-` host prefix, which a local endpoint does not resolve).

use std::time::Duration;

#[path = "support/serve.rs"]
mod support;

use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType, StateMachineType};
use aws_sdk_sfn::Client;
use serde_json::{json, Value};
use support::serve;

const ROLE: &str = "arn:aws:iam::123456789012:role/local";

async fn client(endpoint: &str) -> Client {
    support::sfn_client(endpoint).await
}

fn code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("").to_string()
}

async fn wait_status(sfn: &Client, arn: &str, want: impl Fn(&ExecutionStatus) -> bool) {
    for _ in 0..400 {
        let d = sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .unwrap();
        if want(d.status()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{arn} did not reach the status wanted");
}

async fn create(sfn: &Client, name: &str, definition: Value, kind: StateMachineType) -> String {
    sfn.create_state_machine()
        .name(name)
        .definition(definition.to_string())
        .role_arn(ROLE)
        .r#type(kind)
        .send()
        .await
        .unwrap()
        .state_machine_arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_machines_are_created_described_listed_updated_and_deleted() {
    let s = serve();
    let sfn = client(&s.endpoint).await;
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": true}}});
    let arn = create(&sfn, "hello", pass.clone(), StateMachineType::Standard).await;
    assert_eq!(
        arn,
        "arn:aws:states:us-east-1:123456789012:stateMachine:hello"
    );

    // The same request again answers as the first time; a different one is refused.
    let again = create(&sfn, "hello", pass.clone(), StateMachineType::Standard).await;
    assert_eq!(again, arn);
    let refused = |name: &'static str, definition: String, role: &'static str| {
        let sfn = sfn.clone();
        async move {
            let e = sfn
                .create_state_machine()
                .name(name)
                .definition(definition)
                .role_arn(role)
                .send()
                .await
                .unwrap_err();
            (code(&e), e.message().unwrap_or("").to_string())
        }
    };
    let other = json!({"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}).to_string();
    let (code_of, _) = refused("hello", other, ROLE).await;
    assert_eq!(code_of, "StateMachineAlreadyExists");
    let (code_of, _) = refused("feedpipe", pass.to_string(), ROLE).await;
    assert_eq!(code_of, "StateMachineAlreadyExists");
    // Definitions are checked as `run --definition` checks them, naming the state.
    let dangling =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Nowhere"}}}).to_string();
    let (code_of, message) = refused("broken", dangling, ROLE).await;
    assert_eq!(code_of, "InvalidDefinition");
    assert!(message.contains("Nowhere"), "{message}");
    let (code_of, _) = refused("bad name", pass.to_string(), ROLE).await;
    assert_eq!(code_of, "InvalidName");
    let (code_of, _) = refused("norole", pass.to_string(), "role").await;
    assert_eq!(code_of, "InvalidArn");

    let d = sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!((d.name(), d.role_arn()), ("hello", ROLE));
    assert_eq!(*d.r#type(), StateMachineType::Standard);
    assert_eq!(serde_json::from_str::<Value>(d.definition()).unwrap(), pass);
    let first_revision = d.revision_id().unwrap().to_string();

    let listed = sfn.list_state_machines().send().await.unwrap();
    let names: Vec<&str> = listed.state_machines().iter().map(|m| m.name()).collect();
    assert_eq!(names, ["feedpipe", "hello"]);
    // The feedpipe machine dates from its configuration file.
    let written = std::fs::metadata(s.dir.path().join("feedpipe.toml"))
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(listed.state_machines()[0].creation_date().secs(), written);
    let page = sfn
        .list_state_machines()
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.state_machines().len(), 1);
    let rest = sfn
        .list_state_machines()
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.state_machines()[0].name(), "hello");
    assert!(rest.next_token().is_none());

    let updated_def =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 2, "End": true}}});
    let u = sfn
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(updated_def.to_string())
        .send()
        .await
        .unwrap();
    assert_ne!(u.revision_id().unwrap(), first_revision);
    let d = sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(d.definition()).unwrap(),
        updated_def
    );
    let e = sfn
        .update_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "MissingRequiredParameter");
    let e = sfn
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidDefinition");

    // An execution of the new machine runs the updated definition.
    let started = sfn
        .start_execution()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(started.execution_arn().contains(":execution:hello:"));
    wait_status(&sfn, started.execution_arn(), |s| {
        *s == ExecutionStatus::Succeeded
    })
    .await;
    let d = sfn
        .describe_execution()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(d.output(), Some("2"));
    assert_eq!(d.state_machine_arn(), arn);
    let for_execution = sfn
        .describe_state_machine_for_execution()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(for_execution.definition()).unwrap(),
        updated_def
    );
    assert_eq!(
        (for_execution.name(), for_execution.role_arn()),
        ("hello", ROLE)
    );
    // Without execution data, the history's events carry no input or output.
    let bare = sfn
        .get_execution_history()
        .execution_arn(started.execution_arn())
        .include_execution_data(false)
        .send()
        .await
        .unwrap();
    let first = bare.events()[0].execution_started_event_details().unwrap();
    assert!(first.input().is_none(), "{first:?}");
    let full = sfn
        .get_execution_history()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .unwrap();
    let first = full.events()[0].execution_started_event_details().unwrap();
    assert_eq!(first.input(), Some("{}"));

    sfn.delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let e = sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "StateMachineDoesNotExist");
    let e = sfn
        .describe_execution()
        .execution_arn(started.execution_arn())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ExecutionDoesNotExist");
    // Deleting again succeeds; the feedpipe machine cannot be deleted.
    sfn.delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let e = sfn
        .delete_state_machine()
        .state_machine_arn("arn:aws:states:us-east-1:123456789012:stateMachine:feedpipe")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = sfn
        .describe_state_machine()
        .state_machine_arn("not-an-arn")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidArn");
}

/// The task tokens of an outbox's messages, oldest first.
fn tokens_in_outbox(outbox: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(outbox.join("messages.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|m| {
            let message: Value = serde_json::from_str(m["Message"].as_str()?).ok()?;
            message["token"].as_str().map(str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_tasks_wait_for_send_task_success_failure_and_heartbeats() {
    let s = serve();
    let sfn = client(&s.endpoint).await;
    let outbox = s.dir.path().join("approvals");
    // An SNS message carries the token out; the answer comes back through the API.
    let definition = json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "HeartbeatSeconds": 30,
                "Parameters": {"TopicArn": format!("file://{}", outbox.display()),
                               "Message": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
                "ResultPath": "$.approval", "Next": "Done"},
        "Done": {"Type": "Succeed"}}});
    let arn = create(&sfn, "approve", definition, StateMachineType::Standard).await;

    let run = sfn
        .start_execution()
        .state_machine_arn(&arn)
        .name("order-1")
        .input(r#"{"order": 7}"#)
        .send()
        .await
        .unwrap();
    let mut token = None;
    for _ in 0..200 {
        if let Some(t) = tokens_in_outbox(&outbox).pop() {
            token = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let token = token.expect("the callback task published its token");
    // While it waits, the execution runs and its history shows the task submitted.
    let d = sfn
        .describe_execution()
        .execution_arn(run.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(*d.status(), ExecutionStatus::Running);
    sfn.send_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .unwrap();
    let e = sfn
        .send_task_success()
        .task_token(&token)
        .output("not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidOutput");
    let e = sfn
        .send_task_success()
        .task_token("no-such-token")
        .output("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidToken");
    sfn.send_task_success()
        .task_token(&token)
        .output(r#"{"approved": true}"#)
        .send()
        .await
        .unwrap();
    wait_status(&sfn, run.execution_arn(), |s| {
        *s != ExecutionStatus::Running
    })
    .await;
    let d = sfn
        .describe_execution()
        .execution_arn(run.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(*d.status(), ExecutionStatus::Succeeded, "{:?}", d.cause());
    let output: Value = serde_json::from_str(d.output().unwrap()).unwrap();
    assert_eq!(output, json!({"order": 7, "approval": {"approved": true}}));
    let history = sfn
        .get_execution_history()
        .execution_arn(run.execution_arn())
        .send()
        .await
        .unwrap();
    let types: Vec<&HistoryEventType> = history.events().iter().map(|e| e.r#type()).collect();
    assert!(
        types.contains(&&HistoryEventType::TaskSubmitted),
        "{types:?}"
    );
    assert!(
        types.contains(&&HistoryEventType::TaskSucceeded),
        "{types:?}"
    );
    // The task has ended: its token answers TaskTimedOut.
    let e = sfn
        .send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "TaskTimedOut");

    // A service with no local integration: the token is in the task's parameters; a failure
    // sent back fails the task with the error given, which Catch handles.
    let queue = json!({"StartAt": "Send", "States": {
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                 "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                                "MessageBody": {"token.$": "$$.Task.Token"}},
                 "Catch": [{"ErrorEquals": ["Rejected"], "Next": "Rejected"}], "End": true},
        "Rejected": {"Type": "Fail", "Error": "Rejected.Final", "Cause": "rejected"}}});
    let queue_arn = create(&sfn, "queue", queue, StateMachineType::Standard).await;
    let run = sfn
        .start_execution()
        .state_machine_arn(&queue_arn)
        .send()
        .await
        .unwrap();
    let mut token = None;
    for _ in 0..200 {
        let history = sfn
            .get_execution_history()
            .execution_arn(run.execution_arn())
            .send()
            .await
            .unwrap();
        token = history
            .events()
            .iter()
            .filter_map(|e| e.task_scheduled_event_details())
            .filter_map(|d| serde_json::from_str::<Value>(d.parameters()).ok())
            .find_map(|p| p["MessageBody"]["token"].as_str().map(str::to_string));
        if token.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let token = token.expect("the token is in the TaskScheduled parameters");
    // Until the task has started waiting, the token may not be registered yet.
    let mut sent = false;
    for _ in 0..100 {
        match sfn
            .send_task_failure()
            .task_token(&token)
            .error("Rejected")
            .cause("no stock")
            .send()
            .await
        {
            Ok(_) => {
                sent = true;
                break;
            }
            Err(e) if code(&e) == "InvalidToken" => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(sent);
    wait_status(&sfn, run.execution_arn(), |s| {
        *s != ExecutionStatus::Running
    })
    .await;
    let d = sfn
        .describe_execution()
        .execution_arn(run.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(*d.status(), ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("Rejected.Final"));
}

/// One API call over raw HTTP: (status, body).
async fn call(endpoint: &str, action: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(endpoint)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("AWSStepFunctions.{action}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_machines_run_to_their_answer_with_start_sync_execution() {
    let s = serve();
    let sfn = client(&s.endpoint).await;
    let express = create(
        &sfn,
        "double",
        json!({"QueryLanguage": "JSONata", "StartAt": "D", "States": {
            "D": {"Type": "Pass", "Output": "{% {'twice': $states.input.n * 2} %}", "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.twice > 100 %}", "Next": "TooBig"}],
                      "Default": "Ok"},
            "TooBig": {"Type": "Fail", "Error": "TooBig", "Cause": "over 100"},
            "Ok": {"Type": "Succeed"}}}),
        StateMachineType::Express,
    )
    .await;
    let (status, v) = call(
        &s.endpoint,
        "StartSyncExecution",
        json!({"stateMachineArn": express, "name": "d1", "input": "{\"n\": 21}"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["output"], "{\"twice\":42}");
    assert!(
        v["executionArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:states:us-east-1:123456789012:express:double:d1:"),
        "{v}"
    );
    assert!(v["stopDate"].as_f64().unwrap() >= v["startDate"].as_f64().unwrap());
    let (_, v) = call(
        &s.endpoint,
        "StartSyncExecution",
        json!({"stateMachineArn": express, "input": "{\"n\": 51}"}),
    )
    .await;
    assert_eq!(
        (v["status"].as_str(), v["error"].as_str()),
        (Some("FAILED"), Some("TooBig"))
    );
    assert!(v.get("output").is_none());

    // Only EXPRESS machines run synchronously; express executions are not listed.
    let (status, v) = call(
        &s.endpoint,
        "StartSyncExecution",
        json!({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:feedpipe", "input": "{}"}),
    )
    .await;
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("StateMachineTypeNotSupported"))
    );
    let e = sfn
        .list_executions()
        .state_machine_arn(&express)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "StateMachineTypeNotSupported");
    // StartExecution of an EXPRESS machine starts it in the background and answers its ARN.
    let started = sfn
        .start_execution()
        .state_machine_arn(&express)
        .input(r#"{"n": 1}"#)
        .send()
        .await
        .unwrap();
    assert!(started.execution_arn().contains(":express:double:"));
    let (_, v) = call(
        &s.endpoint,
        "StartSyncExecution",
        json!({"stateMachineArn": express, "input": "not json"}),
    )
    .await;
    assert_eq!(v["__type"], "InvalidExecutionInput");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_serve_and_the_next_one_recovers_its_running_execution_for_redrive() {
    let mut s = serve();
    let sfn = client(&s.endpoint).await;
    let arn = create(
        &sfn,
        "slow",
        json!({"StartAt": "First", "States": {
            "First": {"Type": "Pass", "Next": "Pause"},
            "Pause": {"Type": "Wait", "SecondsPath": "$.wait", "End": true}}}),
        StateMachineType::Standard,
    )
    .await;
    let run = sfn
        .start_execution()
        .state_machine_arn(&arn)
        .name("interrupted")
        .input(r#"{"wait": 600}"#)
        .send()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let status = s.terminate();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(15));

    // The next server finds the execution without its process: FAILED, resumable in Pause.
    let s = s.again();
    let sfn = client(&s.endpoint).await;
    let d = sfn
        .describe_execution()
        .execution_arn(run.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(*d.status(), ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.Runtime"));
    assert!(
        d.cause().unwrap_or("").contains("'Pause'"),
        "{:?}",
        d.cause()
    );
    assert_eq!(
        d.redrive_status(),
        Some(&aws_sdk_sfn::types::ExecutionRedriveStatus::Redrivable)
    );
    // Redriven, it waits in Pause again (the wait restarts) and can be stopped.
    sfn.redrive_execution()
        .execution_arn(run.execution_arn())
        .send()
        .await
        .unwrap();
    wait_status(&sfn, run.execution_arn(), |s| {
        *s == ExecutionStatus::Running
    })
    .await;
    sfn.stop_execution()
        .execution_arn(run.execution_arn())
        .send()
        .await
        .unwrap();
    let d = sfn
        .describe_execution()
        .execution_arn(run.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(*d.status(), ExecutionStatus::Aborted);
    assert_eq!(d.redrive_count(), Some(1));
}
