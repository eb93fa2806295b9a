//! The local integrations as the engine calls them: SNS to a real topic on moto server (SNS →
//! SQS, over HTTP), to a `file://` outbox, and Lambda errors as Step Functions reports them.

use runs::integrations::{sns::outbox_file, LocalLambdas, Publisher};
use serde_json::{json, Value};
use statemachine::engine::{Resource, Submission, TaskIntegration, TaskRequest};

/// Calls `integration` as a Task state named `state` would.
async fn call(
    integration: &dyn TaskIntegration,
    resource: &str,
    state: &str,
    parameters: Value,
) -> Result<Value, statemachine::engine::TaskError> {
    let resource = Resource::parse(resource);
    let clock = runs::clock::SystemClock;
    let heartbeat = statemachine::engine::Heartbeat::new(&clock);
    let submission = Submission::default();
    integration
        .call(TaskRequest {
            state_name: state,
            resource: &resource,
            parameters,
            timeout_seconds: None,
            heartbeat_seconds: None,
            task_token: None,
            execution_name: "e1",
            heartbeat: &heartbeat,
            submission: &submission,
        })
        .await
}

#[tokio::test]
async fn sns_publish_to_a_topic_arn_reaches_a_subscribed_queue_on_moto() {
    let endpoint = store::testing::moto_endpoint();
    let sdk = store::s3::sdk_config(Some(&endpoint)).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let suffix = std::process::id();
    let topic = sns
        .create_topic()
        .name(format!("feedpipe-events-{suffix}"))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue = sqs
        .create_queue()
        .queue_name(format!("feedpipe-events-{suffix}"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("RawMessageDelivery", "false")
        .send()
        .await
        .unwrap();

    let out = call(
        &Publisher::new(),
        "arn:aws:states:::sns:publish",
        "Notify",
        json!({
            "TopicArn": topic,
            "Subject": "feedpipe jobs: 1 added",
            "Message": "{\"added\":1}",
            "MessageAttributes": {"feed": {"DataType": "String", "StringValue": "jobs"}},
        }),
    )
    .await
    .unwrap();
    let id = out["MessageId"].as_str().unwrap().to_string();

    let received = sqs
        .receive_message()
        .queue_url(&queue)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1);
    let envelope: Value = serde_json::from_str(received[0].body().unwrap()).unwrap();
    assert_eq!(envelope["MessageId"], id);
    assert_eq!(envelope["Subject"], "feedpipe jobs: 1 added");
    assert_eq!(envelope["Message"], "{\"added\":1}");
    assert_eq!(envelope["MessageAttributes"]["feed"]["Value"], "jobs");

    let missing = call(
        &Publisher::new(),
        "arn:aws:states:::sns:publish",
        "Notify",
        json!({"TopicArn": format!("{topic}-gone"), "Message": "x"}),
    )
    .await
    .unwrap_err();
    assert!(missing.error.starts_with("SNS."), "{missing:?}");
}

#[tokio::test]
async fn sns_publish_to_a_file_topic_appends_one_line_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let topic = format!("file://{}", dir.path().join("outbox").display());
    let publisher = Publisher::new();
    for n in 0..3 {
        call(
            &publisher,
            "arn:aws:states:::sns:publish",
            "Notify",
            json!({"TopicArn": topic, "Message": {"n": n}, "Subject": "s"}),
        )
        .await
        .unwrap();
    }
    let text = std::fs::read_to_string(outbox_file(&topic).unwrap()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["Message"], "{\"n\":2}");
    for field in [
        "MessageId",
        "TopicArn",
        "Subject",
        "MessageAttributes",
        "Timestamp",
    ] {
        assert!(lines[0].get(field).is_some(), "{field}");
    }
}

#[tokio::test]
async fn lambda_errors_are_reported_as_step_functions_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = feed::config::Config::load(
        "store = \"file://store\"\n[[feed]]\nname = \"jobs\"\nurl = \"file://f.xml\"\nrecord_tag = \"job\"\nid = \"reference\"\n[feed.sink]\nurl = \"file://sink\"\n",
        "test.toml",
        Some(dir.path()),
    )
    .unwrap();
    let lambdas = LocalLambdas::new(lambdas::Context::new(config).await.unwrap());
    let invoke = "arn:aws:states:::lambda:invoke";

    // The diff of an execution whose check never ran: the handler's own error type.
    let e = call(
        &lambdas,
        invoke,
        "DiffFeed",
        json!({"FunctionName": "feedpipe-diff", "Payload": {"op": "diff", "feed": "jobs", "execution": "e1"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error, "Feedpipe.NotFound");
    let cause: Value = serde_json::from_str(e.cause.as_deref().unwrap()).unwrap();
    assert_eq!(cause["errorType"], "Feedpipe.NotFound");
    assert!(
        cause["errorMessage"]
            .as_str()
            .unwrap()
            .contains("check.json"),
        "{cause}"
    );

    let e = call(
        &lambdas,
        invoke,
        "DiffFeed",
        json!({"FunctionName": "feedpipe-diff", "Payload": {"op": "dance"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error, "Feedpipe.BadRequest");

    let e = call(
        &lambdas,
        invoke,
        "X",
        json!({"FunctionName": "arn:aws:lambda:us-east-1:1:function:nope", "Payload": {}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error, "Lambda.ResourceNotFoundException");

    let ok = call(
        &lambdas,
        invoke,
        "Shape",
        json!({"FunctionName": "feedpipe-shape", "Payload": {
            "status": "FAILED", "feed": "jobs", "execution": "e1",
            "execution_arn": "arn:aws:states:us-east-1:1:execution:feedpipe:e1",
            "error": "States.TaskFailed", "cause": "boom"}}),
    )
    .await
    .unwrap();
    assert_eq!(ok["StatusCode"], 200);
    assert_eq!(ok["ExecutedVersion"], "$LATEST");
    assert!(ok["Payload"]["subject"].as_str().unwrap().contains("jobs"));
}

/// A Batch service whose worker program is the shell script `body` (a real child process).
fn batch_with(dir: &std::path::Path, body: &str, timeout_ms: u64) -> runs::integrations::BatchJobs {
    use std::os::unix::fs::PermissionsExt as _;
    let script = dir.join("worker.sh");
    std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let definitions = std::collections::HashMap::from([(
        "feedpipe-check".to_string(),
        runs::integrations::JobDefinition {
            attempts: 3,
            attempt_timeout: Some(std::time::Duration::from_millis(timeout_ms)),
        },
    )]);
    runs::integrations::BatchJobs::new(
        runs::integrations::WorkerProgram {
            program: script,
            arg0: None,
        },
        dir.join("logs"),
        definitions,
        None,
    )
}

fn job_params() -> Value {
    json!({
        "JobName": "feedpipe-check-jobs",
        "JobQueue": "feedpipe-local",
        "JobDefinition": "feedpipe-check",
        "ContainerOverrides": {"Command": ["check"], "Environment": [{"Name": "FEEDPIPE_FEED", "Value": "jobs"}]},
    })
}

#[tokio::test]
async fn a_job_with_a_lot_of_stderr_does_not_block_and_its_log_keeps_it_all() {
    let dir = tempfile::tempdir().unwrap();
    // 400 KB on stderr before anything on stdout: more than a pipe holds.
    let batch = batch_with(
        dir.path(),
        "i=0; while [ $i -lt 4000 ]; do printf '%0100d\\n' $i >&2; i=$((i+1)); done\necho '{\"status\":\"SUCCEEDED\"}'",
        20_000,
    );
    let job = call(
        &batch,
        "arn:aws:states:::batch:submitJob.sync",
        "CheckFeed",
        job_params(),
    )
    .await
    .unwrap();
    assert_eq!(job["Status"], "SUCCEEDED");
    let log = job["Container"]["LogStreamName"].as_str().unwrap();
    let text = std::fs::read_to_string(log).unwrap();
    assert_eq!(
        text.lines().count(),
        4001,
        "every line of both streams is in the log"
    );
}

#[tokio::test]
async fn job_attempts_retry_exit_1_but_not_2_and_a_timeout_kills_the_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let retried = batch_with(
        dir.path(),
        "echo '{\"error\":\"Feedpipe.Transient\",\"cause\":\"flaky\"}'; exit 1",
        20_000,
    );
    let e = call(
        &retried,
        "arn:aws:states:::batch:submitJob.sync",
        "CheckFeed",
        job_params(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error, "States.TaskFailed");
    let job: Value = serde_json::from_str(e.cause.as_deref().unwrap()).unwrap();
    assert_eq!(job["Attempts"].as_array().unwrap().len(), 3);
    assert_eq!(job["Container"]["Reason"], "Feedpipe.Transient: flaky");

    let dir = tempfile::tempdir().unwrap();
    let bad = batch_with(dir.path(), "exit 2", 20_000);
    let e = call(
        &bad,
        "arn:aws:states:::batch:submitJob.sync",
        "CheckFeed",
        job_params(),
    )
    .await
    .unwrap_err();
    let job: Value = serde_json::from_str(e.cause.as_deref().unwrap()).unwrap();
    assert_eq!(
        job["Attempts"].as_array().unwrap().len(),
        1,
        "exit 2 is final"
    );
    assert_eq!(job["Container"]["ExitCode"], 2);

    let dir = tempfile::tempdir().unwrap();
    let slow = batch_with(dir.path(), "sleep 30", 300);
    let started = std::time::Instant::now();
    let e = call(
        &slow,
        "arn:aws:states:::batch:submitJob.sync",
        "CheckFeed",
        job_params(),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed().as_secs() < 10, "the attempts were killed");
    let job: Value = serde_json::from_str(e.cause.as_deref().unwrap()).unwrap();
    assert!(
        job["StatusReason"]
            .as_str()
            .unwrap()
            .contains("exceeded timeout"),
        "{job}"
    );
}
