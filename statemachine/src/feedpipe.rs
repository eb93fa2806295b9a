//! The feedpipe state machine (DESIGN.md §1), built with [`crate::builder`].
//!
//! ```text
//! CheckFeed (batch:submitJob.sync) → DiffFeed (lambda) → Updated? ─true→ ConsumeFeed (batch .sync)
//!   → Commit (lambda) → Shape (lambda) → Notify (sns:publish) → Done
//!                                     └─default→ NoChange
//! ```
//!
//! A Task's error, once its Retry gives up, ends the execution FAILED *at that task*: no Catch
//! leads elsewhere, because `RedriveExecution` resumes at the state that did not succeed, and a
//! failure path ending in a Fail state would make every redrive rerun only that Fail state. The
//! failure notification is sent from outside the execution, when it ends unsuccessfully: by an
//! EventBridge rule on Step Functions' "Execution Status Change" events in AWS, and by the
//! local backend (which shapes it with the same `feedpipe-shape` handler) on one machine.
//!
//! The execution input is `{"feed": NAME}`. States carry names, S3 keys and counts only: each
//! task's `ResultSelector` keeps a few small fields, so the state stays far below the 256 KiB
//! payload limit whatever the feed's size. Every value that differs between deployments (job
//! queue, job definitions, functions, topic, config URL) is a `${Name}` placeholder, filled by
//! CloudFormation's `DefinitionSubstitutions` in AWS and by [`substitute`] in the local engine,
//! so both run the same text.

use std::collections::BTreeMap;

use serde_json::json;

use crate::asl::StateMachine;
use crate::builder::{BuildError, Chain, Choice, Condition, Retry, Succeed, Task};

/// The `${...}` placeholders of the definition, in the order CloudFormation lists them.
pub const PLACEHOLDERS: [&str; 7] = [
    "JobQueue",
    "CheckJobDefinition",
    "ConsumeJobDefinition",
    "DiffFunction",
    "ShapeFunction",
    "EventsTopic",
    "ConfigUrl",
];

/// Resource of the Batch `.sync` integration.
pub const BATCH_SUBMIT_JOB_SYNC: &str = "arn:aws:states:::batch:submitJob.sync";
/// Resource of the Lambda integration.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
/// Resource of the SNS integration.
pub const SNS_PUBLISH: &str = "arn:aws:states:::sns:publish";

/// What the definition depends on, taken from `feedpipe.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineOptions {
    /// The configured feed names (listed in the definition's comment).
    pub feeds: Vec<String>,
    /// TimeoutSeconds of CheckFeed.
    pub check_timeout_seconds: u64,
    /// TimeoutSeconds of ConsumeFeed.
    pub consume_timeout_seconds: u64,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            feeds: Vec::new(),
            check_timeout_seconds: 3600,
            consume_timeout_seconds: 4 * 3600,
        }
    }
}

/// Errors of AWS Batch's API that are worth retrying.
const BATCH_TRANSIENT: [&str; 3] = [
    "Batch.AWSBatchException",
    "Batch.ServerException",
    "Batch.TooManyRequestsException",
];
/// Errors of the Lambda service, and the Lambdas' own transient error type.
const LAMBDA_TRANSIENT: [&str; 5] = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Feedpipe.Transient",
];
/// Errors of SNS worth retrying.
const SNS_TRANSIENT: [&str; 3] = [
    "SNS.InternalErrorException",
    "SNS.ThrottledException",
    "SNS.KMSThrottlingException",
];

fn batch_retry() -> Retry {
    Retry::on(BATCH_TRANSIENT)
        .interval(10)
        .max_attempts(5)
        .backoff(2.0)
        .max_delay(300)
        .full_jitter()
}

fn lambda_retry() -> Retry {
    Retry::on(LAMBDA_TRANSIENT)
        .interval(2)
        .max_attempts(6)
        .backoff(2.0)
        .max_delay(60)
        .full_jitter()
}

fn sns_retry() -> Retry {
    Retry::on(SNS_TRANSIENT)
        .interval(2)
        .max_attempts(5)
        .backoff(2.0)
        .max_delay(60)
        .full_jitter()
}

fn env(name: &str, path: &str) -> serde_json::Value {
    json!({"Name": name, "Value.$": path})
}

fn batch_job(
    name: &str,
    definition: &str,
    job: &str,
    extra_env: &[(&str, &str)],
    timeout: u64,
) -> Task {
    let mut environment = vec![
        json!({"Name": "FEEDPIPE_CONFIG", "Value": "${ConfigUrl}"}),
        env("FEEDPIPE_FEED", "$.feed"),
        env("FEEDPIPE_EXECUTION", "$$.Execution.Name"),
    ];
    environment.extend(extra_env.iter().map(|(n, p)| env(n, p)));
    Task::new(name, BATCH_SUBMIT_JOB_SYNC)
        .parameters(json!({
            "JobName.$": format!("States.Format('feedpipe-{job}-{{}}', $.feed)"),
            "JobQueue": "${JobQueue}",
            "JobDefinition": format!("${{{definition}}}"),
            "ContainerOverrides": {
                "Command": [job],
                "Environment": environment,
            },
        }))
        .result_selector(json!({"job_id.$": "$.JobId", "status.$": "$.Status"}))
        .timeout(timeout)
        .retry(batch_retry())
}

fn lambda(name: &str, function: &str, payload: serde_json::Value) -> Task {
    Task::new(name, LAMBDA_INVOKE)
        .parameters(json!({"FunctionName": format!("${{{function}}}"), "Payload": payload}))
        .retry(lambda_retry())
}

fn shape_selector() -> serde_json::Value {
    json!({
        "subject.$": "$.Payload.subject",
        "message.$": "$.Payload.message",
        "attributes.$": "$.Payload.attributes",
    })
}

fn notify(name: &str) -> Task {
    Task::new(name, SNS_PUBLISH)
        .parameters(json!({
            "TopicArn": "${EventsTopic}",
            "Subject.$": "$.notification.subject",
            "Message.$": "$.notification.message",
            "MessageAttributes.$": "$.notification.attributes",
        }))
        .result_selector(json!({"message_id.$": "$.MessageId"}))
        .result_path("$.notify")
        .retry(sns_retry())
}

/// Builds the feedpipe definition.
pub fn definition(options: &PipelineOptions) -> Result<StateMachine, BuildError> {
    let check = batch_job(
        "CheckFeed",
        "CheckJobDefinition",
        "check",
        &[],
        options.check_timeout_seconds,
    )
    .comment("Fetches the feed (conditional GET), stores the snapshot and builds its record index.")
    .result_path("$.check");
    let diff = lambda(
        "DiffFeed",
        "DiffFunction",
        json!({"op": "diff", "feed.$": "$.feed", "execution.$": "$$.Execution.Name"}),
    )
    .comment("Compares the new index with the last delivered one and writes the manifest.")
    .result_selector(json!({
        "updated.$": "$.Payload.updated",
        "added.$": "$.Payload.added",
        "changed.$": "$.Payload.changed",
        "removed.$": "$.Payload.removed",
        "manifest.$": "$.Payload.manifest",
        "snapshot.$": "$.Payload.snapshot",
        "parallelism.$": "$.Payload.parallelism",
        "batch_size.$": "$.Payload.batch_size",
    }))
    .result_path("$.diff");
    let consume = batch_job(
        "ConsumeFeed",
        "ConsumeJobDefinition",
        "consume",
        &[
            ("FEEDPIPE_MANIFEST", "$.diff.manifest"),
            ("PARALLELISM", "$.diff.parallelism"),
            ("BATCH_SIZE", "$.diff.batch_size"),
        ],
        options.consume_timeout_seconds,
    )
    .comment(
        "Delivers the added, changed and removed records to the sink, checkpointing as it goes.",
    )
    .result_path("$.consume")
    .retry(
        // A failed consume is tried once more; it resumes from its checkpoint.
        Retry::on(["States.TaskFailed"])
            .interval(60)
            .max_attempts(1),
    );
    let commit = lambda(
        "Commit",
        "DiffFunction",
        json!({"op": "commit", "feed.$": "$.feed", "execution.$": "$$.Execution.Name", "manifest.$": "$.diff.manifest"}),
    )
    .comment("Advances feeds/NAME/current.json to the delivered snapshot; only after a successful consume.")
    .result_selector(json!({"current.$": "$.Payload.current"}))
    .result_path("$.commit");
    let shape = lambda(
        "Shape",
        "ShapeFunction",
        json!({
            "status": "SUCCEEDED",
            "feed.$": "$.feed",
            "execution.$": "$$.Execution.Name",
            "execution_arn.$": "$$.Execution.Id",
            "diff.$": "$.diff",
        }),
    )
    .comment("Shapes the success notification.")
    .result_selector(shape_selector())
    .result_path("$.notification");
    let delivered = Chain::start(consume)
        .next(commit)
        .next(shape)
        .next(notify("Notify"))
        .next(Succeed::new("Done"));

    let feeds = if options.feeds.is_empty() {
        "none configured".to_string()
    } else {
        options.feeds.join(", ")
    };
    Chain::start(check)
        .next(diff)
        .next(
            Choice::new("Updated?")
                .when(Condition::boolean_equals("$.diff.updated", true), delivered)
                .otherwise(Succeed::new("NoChange").comment("The feed has no added, changed or removed records.")),
        )
        .build_with(
            Some(&format!(
                "feedpipe: check a feed, diff it against the last delivered snapshot, deliver the changes, \
                 commit, notify. Input: {{\"feed\": NAME}}. Feeds: {feeds}."
            )),
            None,
        )
}

/// Replaces `${Name}` placeholders in a definition's text, as CloudFormation's
/// `DefinitionSubstitutions` does. Placeholders without a value are left as they are.
pub fn substitute(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if values.contains_key(&after[..end]) => {
                out.push_str(&values[&after[..end]]);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::State;
    use crate::validate::validate;

    #[test]
    fn the_definition_is_valid_and_drawn_as_designed() {
        let sm = definition(&PipelineOptions::default()).unwrap();
        let findings = validate(&sm);
        assert!(findings.is_empty(), "{findings:?}");
        let order: Vec<&str> = sm.states.keys().map(String::as_str).collect();
        for name in [
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
            assert!(order.contains(&name), "{name} missing from {order:?}");
        }
        assert_eq!(sm.start_at, "CheckFeed");
        for (name, state) in &sm.states {
            if let State::Task(t) = state {
                let (retry, catch) = state.error_handling();
                assert!(!retry.is_empty(), "{name} has no Retry");
                // A caught error would move the execution away from the failing task, and a
                // redrive would then resume elsewhere.
                assert!(catch.is_empty(), "{name} catches errors");
                assert!(
                    t.result_selector.is_some(),
                    "{name} lets the whole task result into the state"
                );
            }
        }
    }

    #[test]
    fn consume_gets_its_settings_as_strings_from_the_diff() {
        let v = definition(&PipelineOptions::default()).unwrap().to_value();
        let env = v["States"]["ConsumeFeed"]["Parameters"]["ContainerOverrides"]["Environment"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            env.contains(&json!({"Name": "PARALLELISM", "Value.$": "$.diff.parallelism"})),
            "{env:?}"
        );
        assert!(
            env.contains(&json!({"Name": "BATCH_SIZE", "Value.$": "$.diff.batch_size"})),
            "{env:?}"
        );
        assert!(
            env.contains(&json!({"Name": "FEEDPIPE_CONFIG", "Value": "${ConfigUrl}"})),
            "{env:?}"
        );
    }

    #[test]
    fn every_placeholder_is_used_and_substituted() {
        let text = definition(&PipelineOptions::default())
            .unwrap()
            .to_json_pretty();
        let values: BTreeMap<String, String> = PLACEHOLDERS
            .iter()
            .map(|p| (p.to_string(), format!("<{p}>")))
            .collect();
        for p in PLACEHOLDERS {
            assert!(text.contains(&format!("${{{p}}}")), "{p} unused");
        }
        let done = substitute(&text, &values);
        assert!(!done.contains("${"), "{done}");
        assert_eq!(
            substitute("a ${X} ${Y", &BTreeMap::from([("X".into(), "1".into())])),
            "a 1 ${Y"
        );
    }
}
