//! The Step Functions backend: the same executions commands as the local backend, through
//! aws-sdk-sfn against a deployed state machine (the standard AWS configuration chain,
//! `AWS_ENDPOINT_URL` included, so an emulator works too). Descriptions come back as
//! [`Description`]s and histories as `GetExecutionHistory` JSON events, so that the CLI prints
//! both backends alike. Service errors are matched by variant and turned into messages that say
//! what to do.

use std::time::Duration;

use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::types::{ExecutionStatus as Status, HistoryEvent as SdkEvent};
use aws_sdk_sfn::Client;
use serde_json::{json, Map, Value};
use statemachine::engine::ExecutionStatus;

use crate::error::RunsError;
use crate::store::Description;

/// A deployed state machine.
#[derive(Debug, Clone)]
pub struct StepFunctions {
    client: Client,
    state_machine_arn: String,
}

fn ms(t: &aws_sdk_sfn::primitives::DateTime) -> i64 {
    t.to_millis().unwrap_or_default()
}

fn status_of(s: &Status) -> ExecutionStatus {
    match s {
        Status::Running | Status::PendingRedrive => ExecutionStatus::Running,
        Status::Succeeded => ExecutionStatus::Succeeded,
        Status::TimedOut => ExecutionStatus::TimedOut,
        Status::Aborted => ExecutionStatus::Aborted,
        _ => ExecutionStatus::Failed,
    }
}

fn status_filter(s: ExecutionStatus) -> Status {
    match s {
        ExecutionStatus::Running => Status::Running,
        ExecutionStatus::Succeeded => Status::Succeeded,
        ExecutionStatus::Failed => Status::Failed,
        ExecutionStatus::TimedOut => Status::TimedOut,
        ExecutionStatus::Aborted => Status::Aborted,
    }
}

/// A service error as a message that names the call and says what to do.
fn service_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    call: &str,
    e: SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> RunsError {
    let hint = match &e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            " (is the endpoint reachable? check AWS_REGION and AWS_ENDPOINT_URL)"
        }
        SdkError::ConstructionFailure(_) => {
            " (are credentials and a region configured? AWS_PROFILE, AWS_REGION, `aws configure`)"
        }
        _ => "",
    };
    let text = match e.as_service_error() {
        Some(s) => format!(
            "{}: {}",
            s.code().unwrap_or("Error"),
            s.message().unwrap_or_default()
        ),
        None => store::error_chain(&e).to_string(),
    };
    RunsError::Aws(format!("{call}: {text}{hint}"))
}

impl StepFunctions {
    /// A backend for the state machine `arn`, with the standard AWS configuration.
    pub async fn new(state_machine_arn: String) -> StepFunctions {
        let sdk = store::s3::sdk_config(None).await;
        StepFunctions {
            client: Client::new(&sdk),
            state_machine_arn,
        }
    }

    /// A backend over a client made elsewhere (tests use a mocked one).
    pub fn with_client(client: Client, state_machine_arn: String) -> StepFunctions {
        StepFunctions {
            client,
            state_machine_arn,
        }
    }

    /// The state machine.
    pub fn state_machine_arn(&self) -> &str {
        &self.state_machine_arn
    }

    /// The ARN of the execution `name` (or `name` itself when it is an ARN).
    pub fn execution_arn(&self, name: &str) -> String {
        if name.starts_with("arn:") {
            return name.to_string();
        }
        format!(
            "{}:{name}",
            self.state_machine_arn
                .replacen(":stateMachine:", ":execution:", 1)
        )
    }

    /// Starts an execution of `feed` (input `{"feed": NAME}`) named `name`.
    pub async fn start(&self, feed: &str, name: &str) -> Result<Description, RunsError> {
        self.client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(json!({ "feed": feed }).to_string())
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(s) if s.is_execution_already_exists() => {
                    RunsError::AlreadyExists(name.to_string())
                }
                _ => service_error("StartExecution", e),
            })?;
        self.describe(name).await
    }

    /// DescribeExecution, as a [`Description`].
    pub async fn describe(&self, name: &str) -> Result<Description, RunsError> {
        let out = self
            .client
            .describe_execution()
            .execution_arn(self.execution_arn(name))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(s) if s.is_execution_does_not_exist() => {
                    RunsError::NoSuchExecution(name.to_string())
                }
                _ => service_error("DescribeExecution", e),
            })?;
        let input: Value = out
            .input()
            .and_then(|i| serde_json::from_str(i).ok())
            .unwrap_or(Value::Null);
        let status = status_of(out.status());
        let redrivable = matches!(
            out.redrive_status(),
            Some(aws_sdk_sfn::types::ExecutionRedriveStatus::Redrivable)
        );
        Ok(Description {
            execution_arn: out.execution_arn().to_string(),
            name: out.name().unwrap_or(name).to_string(),
            state_machine_arn: out.state_machine_arn().to_string(),
            feed: crate::local::input_feed(&input).map(str::to_string),
            input,
            status,
            start_date_ms: ms(out.start_date()),
            stop_date_ms: out.stop_date().map(ms),
            output: out.output().and_then(|o| serde_json::from_str(o).ok()),
            error: out.error().map(str::to_string),
            cause: out.cause().map(str::to_string),
            redrive_count: out.redrive_count().unwrap_or(0).max(0) as u32,
            redrive_date_ms: out.redrive_date().map(ms),
            // Step Functions keeps where to resume; a marker says that it can.
            resume: (redrivable && status.is_redrivable()).then(|| {
                statemachine::engine::ResumePoint {
                    state: "(the state that did not succeed)".into(),
                    input: Value::Null,
                    variables: Map::new(),
                    children: None,
                }
            }),
            pid: None,
            fast_waits: false,
        })
    }

    /// ListExecutions (all pages), newest first, optionally of one status and of executions
    /// whose name starts with `FEED-` (feedpipe names every execution after its feed).
    pub async fn list(
        &self,
        status: Option<ExecutionStatus>,
        feed: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Description>, RunsError> {
        let mut pages = self
            .client
            .list_executions()
            .state_machine_arn(&self.state_machine_arn)
            .set_status_filter(status.map(status_filter))
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| service_error("ListExecutions", e))?;
            if let Some(f) = feed {
                if !item.name().starts_with(&format!("{f}-")) {
                    continue;
                }
            }
            out.push(Description {
                execution_arn: item.execution_arn().to_string(),
                name: item.name().to_string(),
                state_machine_arn: item.state_machine_arn().to_string(),
                feed: feed.map(str::to_string),
                input: Value::Null,
                status: status_of(item.status()),
                start_date_ms: ms(item.start_date()),
                stop_date_ms: item.stop_date().map(ms),
                output: None,
                error: None,
                cause: None,
                redrive_count: item.redrive_count().unwrap_or(0).max(0) as u32,
                redrive_date_ms: item.redrive_date().map(ms),
                resume: None,
                pid: None,
                fast_waits: false,
            });
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// GetExecutionHistory (all pages), as `GetExecutionHistory` JSON events.
    pub async fn history(&self, name: &str) -> Result<Vec<Value>, RunsError> {
        let mut pages = self
            .client
            .get_execution_history()
            .execution_arn(self.execution_arn(name))
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(event) = pages.next().await {
            let event = event.map_err(|e| match e.as_service_error() {
                Some(s) if s.is_execution_does_not_exist() => {
                    RunsError::NoSuchExecution(name.to_string())
                }
                _ => service_error("GetExecutionHistory", e),
            })?;
            out.push(event_json(&event));
        }
        Ok(out)
    }

    /// StopExecution, then the description.
    pub async fn stop(
        &self,
        name: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<Description, RunsError> {
        self.client
            .stop_execution()
            .execution_arn(self.execution_arn(name))
            .set_error(error.map(str::to_string))
            .set_cause(cause.map(str::to_string))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(s) if s.is_execution_does_not_exist() => {
                    RunsError::NoSuchExecution(name.to_string())
                }
                _ => service_error("StopExecution", e),
            })?;
        self.describe(name).await
    }

    /// RedriveExecution, then the description (the redriven run goes on in AWS).
    pub async fn redrive(&self, name: &str) -> Result<Description, RunsError> {
        use aws_sdk_sfn::operation::redrive_execution::RedriveExecutionError as R;
        self.client
            .redrive_execution()
            .execution_arn(self.execution_arn(name))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(R::ExecutionNotRedrivable(n)) => RunsError::NotRedrivable(format!(
                    "execution {name:?} cannot be redriven: {} (only FAILED, TIMED_OUT or ABORTED executions of STANDARD state machines that ended less than 14 days ago, whose definition has not been deleted, can be)",
                    n.message().unwrap_or("not redrivable")
                )),
                Some(R::ExecutionDoesNotExist(_)) => RunsError::NoSuchExecution(name.to_string()),
                _ => service_error("RedriveExecution", e),
            })?;
        self.describe(name).await
    }

    /// Follows an execution: calls `each` with each new history event (JSON) until it is no
    /// longer RUNNING; returns its description then.
    pub async fn follow(
        &self,
        name: &str,
        mut each: impl FnMut(&Value),
    ) -> Result<Description, RunsError> {
        let mut seen = 0usize;
        loop {
            let d = self.describe(name).await?;
            let events = self.history(name).await?;
            for e in events.iter().skip(seen) {
                each(e);
            }
            let new = events.len() > seen;
            seen = seen.max(events.len());
            if d.status != ExecutionStatus::Running && !new {
                return Ok(d);
            }
            tokio::time::sleep(Duration::from_millis(if new { 100 } else { 1000 })).await;
        }
    }
}

/// One history event as `GetExecutionHistory` writes it in JSON.
pub fn event_json(e: &SdkEvent) -> Value {
    let mut v = json!({
        "timestamp": ms(e.timestamp()) as f64 / 1000.0,
        "type": e.r#type().as_str(),
        "id": e.id(),
        "previousEventId": e.previous_event_id(),
    });
    let mut put = |key: &str, fields: Value| {
        let fields: Map<String, Value> = fields
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v[key] = Value::Object(fields);
    };
    if let Some(d) = e.execution_started_event_details() {
        put(
            "executionStartedEventDetails",
            json!({"input": d.input(), "roleArn": d.role_arn()}),
        );
    }
    if let Some(d) = e.execution_succeeded_event_details() {
        put(
            "executionSucceededEventDetails",
            json!({"output": d.output()}),
        );
    }
    if let Some(d) = e.execution_failed_event_details() {
        put(
            "executionFailedEventDetails",
            json!({"error": d.error(), "cause": d.cause()}),
        );
    }
    if let Some(d) = e.execution_aborted_event_details() {
        put(
            "executionAbortedEventDetails",
            json!({"error": d.error(), "cause": d.cause()}),
        );
    }
    if let Some(d) = e.execution_timed_out_event_details() {
        put(
            "executionTimedOutEventDetails",
            json!({"error": d.error(), "cause": d.cause()}),
        );
    }
    if let Some(d) = e.execution_redriven_event_details() {
        put(
            "executionRedrivenEventDetails",
            json!({"redriveCount": d.redrive_count()}),
        );
    }
    if let Some(d) = e.state_entered_event_details() {
        put(
            "stateEnteredEventDetails",
            json!({"name": d.name(), "input": d.input()}),
        );
    }
    if let Some(d) = e.state_exited_event_details() {
        put(
            "stateExitedEventDetails",
            json!({"name": d.name(), "output": d.output()}),
        );
    }
    if let Some(d) = e.task_scheduled_event_details() {
        put(
            "taskScheduledEventDetails",
            json!({"resourceType": d.resource_type(), "resource": d.resource(), "region": d.region(),
                   "parameters": d.parameters(), "timeoutInSeconds": d.timeout_in_seconds()}),
        );
    }
    if let Some(d) = e.task_started_event_details() {
        put(
            "taskStartedEventDetails",
            json!({"resourceType": d.resource_type(), "resource": d.resource()}),
        );
    }
    if let Some(d) = e.task_submitted_event_details() {
        put(
            "taskSubmittedEventDetails",
            json!({"resourceType": d.resource_type(), "resource": d.resource(), "output": d.output()}),
        );
    }
    if let Some(d) = e.task_succeeded_event_details() {
        put(
            "taskSucceededEventDetails",
            json!({"resourceType": d.resource_type(), "resource": d.resource(), "output": d.output()}),
        );
    }
    if let Some(d) = e.task_failed_event_details() {
        put(
            "taskFailedEventDetails",
            json!({"resourceType": d.resource_type(), "resource": d.resource(), "error": d.error(), "cause": d.cause()}),
        );
    }
    if let Some(d) = e.task_timed_out_event_details() {
        put(
            "taskTimedOutEventDetails",
            json!({"resourceType": d.resource_type(), "resource": d.resource(), "error": d.error(), "cause": d.cause()}),
        );
    }
    if let Some(d) = e.lambda_function_failed_event_details() {
        put(
            "lambdaFunctionFailedEventDetails",
            json!({"error": d.error(), "cause": d.cause()}),
        );
    }
    if let Some(d) = e.lambda_function_succeeded_event_details() {
        put(
            "lambdaFunctionSucceededEventDetails",
            json!({"output": d.output()}),
        );
    }
    if let Some(d) = e.map_state_started_event_details() {
        put("mapStateStartedEventDetails", json!({"length": d.length()}));
    }
    if let Some(d) = e.evaluation_failed_event_details() {
        put(
            "evaluationFailedEventDetails",
            json!({"error": d.error(), "cause": d.cause(), "location": d.location(), "state": d.state()}),
        );
    }
    v
}
