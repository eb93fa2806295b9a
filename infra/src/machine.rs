//! The state machine and its role, one EventBridge Scheduler schedule per feed, and the alarm
//! on failed executions.
//!
//! Schedules use Scheduler's universal target for `sfn:StartExecution`, which lets the
//! schedule set the execution's `Name` in the request. Scheduler replaces its context
//! attributes there: `<aws.scheduler.execution-id>` identifies the invocation, and
//! `<aws.scheduler.attempt-number>` counts that invocation's attempts, so the name is
//! `FEED-<execution-id>`: a retried attempt asks for the same name with the same input, which a
//! STANDARD state machine answers with the execution it already started instead of a second
//! run. `<aws.scheduler.scheduled-time>` (e.g. `2026-11-23T06:00:00Z`) cannot be the name: it
//! holds `:`, which execution names do not allow, and Scheduler cannot rewrite it.

use feed::config::Config;
use serde_json::{json, Map, Value};

use crate::cfn::{allow, arn, get_att, if_, log_group, logical_id, no_value, r, role, sub};
use crate::{Store, SynthError, FLEXIBLE_WINDOW_MINUTES};

/// The universal target that starts a Step Functions execution.
pub const START_EXECUTION_TARGET: &str = "arn:aws:scheduler:::aws-sdk:sfn:startExecution";

pub(crate) fn add_state_machine(
    resources: &mut Map<String, Value>,
    store: &Store,
    definition: &str,
) {
    let mut substitutions = Map::new();
    for name in crate::placeholders(definition) {
        let value = match name.as_str() {
            "JobQueue" => r("JobQueue"),
            "CheckJobDefinition" => r("CheckJobDefinition"),
            "ConsumeJobDefinition" => r("ConsumeJobDefinition"),
            "DiffFunction" => get_att("DiffFunction", "Arn"),
            "ShapeFunction" => get_att("ShapeFunction", "Arn"),
            "EventsTopic" => r("EventsTopic"),
            "ConfigUrl" => store.config_url(),
            // synth() refused unknown placeholders before.
            _ => continue,
        };
        substitutions.insert(name, value);
    }
    resources.insert(
        "StateMachineLogGroup".into(),
        log_group(sub("/aws/vendedlogs/states/${AWS::StackName}")),
    );
    let statements = vec![
        allow(
            "SubmitJobs",
            &["batch:SubmitJob"],
            json!([
                r("JobQueue"),
                r("CheckJobDefinition"),
                r("ConsumeJobDefinition")
            ]),
        ),
        allow(
            "StopJobs",
            &["batch:TerminateJob"],
            json!([arn("batch", "job/*")]),
        ),
        allow("DescribeJobs", &["batch:DescribeJobs"], json!("*")),
        allow(
            "BatchSyncRule",
            &["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            json!([arn("events", "rule/StepFunctionsGetEventsForBatchJobsRule")]),
        ),
        allow(
            "InvokeFunctions",
            &["lambda:InvokeFunction"],
            json!([
                get_att("DiffFunction", "Arn"),
                get_att("ShapeFunction", "Arn")
            ]),
        ),
        allow("PublishEvents", &["sns:Publish"], json!([r("EventsTopic")])),
        if_(
            "HasTopicKey",
            allow(
                "EncryptForTopic",
                &["kms:GenerateDataKey", "kms:Decrypt"],
                json!([r("TopicKmsKeyArn")]),
            ),
            no_value(),
        ),
        allow(
            "LogDelivery",
            &[
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ],
            json!("*"),
        ),
        allow(
            "XRayTraces",
            &[
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
            ],
            json!("*"),
        ),
    ];
    resources.insert(
        "StateMachineRole".into(),
        role("states.amazonaws.com", true, "run-feedpipe", statements),
    );
    resources.insert(
        "StateMachine".into(),
        json!({
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": r("AWS::StackName"),
                "StateMachineType": "STANDARD",
                "RoleArn": get_att("StateMachineRole", "Arn"),
                "DefinitionString": definition,
                "DefinitionSubstitutions": substitutions,
                "LoggingConfiguration": {
                    "Level": "ALL",
                    "IncludeExecutionData": false,
                    "Destinations": [{ "CloudWatchLogsLogGroup": { "LogGroupArn": get_att("StateMachineLogGroup", "Arn") } }],
                },
                "TracingConfiguration": { "Enabled": true },
            },
        }),
    );
}

pub(crate) fn add_schedules(
    resources: &mut Map<String, Value>,
    config: &Config,
) -> Result<(), SynthError> {
    resources.insert(
        "ScheduleDeadLetterQueue".into(),
        json!({
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "MessageRetentionPeriod": 1_209_600,
                "SqsManagedSseEnabled": true,
            },
        }),
    );
    resources.insert(
        "SchedulerRole".into(),
        role(
            "scheduler.amazonaws.com",
            true,
            "start-feedpipe",
            vec![
                allow(
                    "StartExecutions",
                    &["states:StartExecution"],
                    json!([r("StateMachine")]),
                ),
                allow(
                    "DeadLetters",
                    &["sqs:SendMessage"],
                    json!([get_att("ScheduleDeadLetterQueue", "Arn")]),
                ),
            ],
        ),
    );
    let mut ids: Vec<(String, &str)> = Vec::new();
    for f in &config.feeds {
        let id = logical_id("Schedule", &f.name);
        if let Some((_, other)) = ids.iter().find(|(i, _)| *i == id) {
            return Err(SynthError::FeedNameClash(other.to_string(), f.name.clone()));
        }
        ids.push((id.clone(), &f.name));
        let input = serde_json::to_string(&json!({ "feed": f.name })).expect("serializes");
        // Fn::Sub text: `${StateMachine}` is the state machine's ARN; `$` appears nowhere else.
        let request = serde_json::to_string(&json!({
            "StateMachineArn": "${StateMachine}",
            "Name": format!("{}-<aws.scheduler.execution-id>", f.name),
            "Input": input,
        }))
        .expect("serializes");
        let mut properties = json!({
            "Description": format!("Starts feedpipe for feed {}", f.name),
            "ScheduleExpression": f.schedule,
            "State": "ENABLED",
            "FlexibleTimeWindow": { "Mode": "FLEXIBLE", "MaximumWindowInMinutes": FLEXIBLE_WINDOW_MINUTES },
            "Target": {
                "Arn": START_EXECUTION_TARGET,
                "RoleArn": get_att("SchedulerRole", "Arn"),
                "Input": sub(&request),
                "RetryPolicy": { "MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10 },
                "DeadLetterConfig": { "Arn": get_att("ScheduleDeadLetterQueue", "Arn") },
            },
        });
        if let Some(tz) = &f.schedule_timezone {
            properties["ScheduleExpressionTimezone"] = json!(tz);
        }
        resources.insert(
            id,
            json!({ "Type": "AWS::Scheduler::Schedule", "Properties": properties }),
        );
    }
    Ok(())
}

pub(crate) fn add_alarm(resources: &mut Map<String, Value>) {
    resources.insert(
        "ExecutionsFailedAlarm".into(),
        json!({
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": "A feedpipe execution failed: see the events topic's failure notification and the Step Functions console.",
                "Namespace": "AWS/States",
                "MetricName": "ExecutionsFailed",
                "Dimensions": [{ "Name": "StateMachineArn", "Value": r("StateMachine") }],
                "Statistic": "Sum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [r("EventsTopic")],
            },
        }),
    );
}

/// The failure notification: the definition catches no Task errors (a redrive resumes at the
/// state that failed), so an EventBridge rule on Step Functions' "Execution Status Change"
/// events publishes to the events topic when an execution of this state machine ends FAILED,
/// TIMED_OUT or ABORTED, as the local backend does on one machine.
pub(crate) fn add_failure_rule(resources: &mut Map<String, Value>) {
    resources.insert(
        "FailureNotificationRule".into(),
        json!({
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": "Announces a feedpipe execution that ended FAILED, TIMED_OUT or ABORTED on the events topic.",
                "State": "ENABLED",
                "EventPattern": {
                    "source": ["aws.states"],
                    "detail-type": ["Step Functions Execution Status Change"],
                    "detail": {
                        "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                        "stateMachineArn": [r("StateMachine")],
                    },
                },
                "Targets": [{
                    "Id": "EventsTopic",
                    "Arn": r("EventsTopic"),
                    "InputTransformer": {
                        "InputPathsMap": {
                            "status": "$.detail.status",
                            "execution": "$.detail.name",
                            "execution_arn": "$.detail.executionArn",
                            "input": "$.detail.input",
                            "error": "$.detail.error",
                            "cause": "$.detail.cause",
                        },
                        "InputTemplate": "{\"status\": <status>, \"execution\": <execution>, \"execution_arn\": <execution_arn>, \"input\": <input>, \"error\": <error>, \"cause\": <cause>}",
                    },
                }],
            },
        }),
    );
}
