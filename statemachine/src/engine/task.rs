//! The Task state: effective parameters, the call through the integration routed by the
//! resource ARN (raced against `TimeoutSeconds`, `HeartbeatSeconds` and the execution's own
//! timeout), the task events (`TaskScheduled`/`Started`/`Submitted`/`Succeeded`/`Failed`/`TimedOut`, or
//! `LambdaFunction*` for a bare function ARN), then ResultSelector → ResultPath → OutputPath
//! (JSONPath) or Output (JSONata), with Retry and Catch around it all.

use serde_json::{Map, Value};

use super::failure::Failure;
use super::history::{EventDetails, EventType};
use super::integration::{Heartbeat, Pattern, Resource, Submission, TaskError, TaskRequest};
use super::join::{race, Either};
use super::run::{next_of, ContextExtra, Frame, Here, Run, Step};
use super::states::{assign, jsonata_output};
use super::test_state::Mock;
use crate::asl::{QueryLanguage, TaskState};
use crate::eval::{
    apply_input_path, apply_result_path, check_payload_size, evaluate_payload, output_path_owned,
    task_timeouts, uuid_v4, EvalError, TaskTimeouts,
};

impl Run<'_> {
    pub(crate) async fn task_attempt(
        &self,
        here: &Here<'_>,
        s: &TaskState,
        resource: &Resource,
        input: &Value,
        frame: &mut Frame<'_>,
        retry_count: u32,
    ) -> Result<Step, Failure> {
        let token =
            (resource.pattern == Pattern::WaitForTaskToken).then(|| uuid_v4(self.engine.random));
        let ctx = self.context(
            here,
            ContextExtra {
                retry_count: Some(retry_count),
                task_token: token.as_deref(),
            },
        );
        let prepared: Result<(Value, Value, TaskTimeouts), EvalError> = (|| {
            let scope = self.scope(input, &ctx, frame);
            Ok(match here.lang {
                QueryLanguage::JsonPath => {
                    let effective = apply_input_path(&s.input_path, &scope)?;
                    self.inspect(here, "afterInputPath", || effective.clone());
                    let in_scope = scope.with_input(&effective);
                    let params = match &s.parameters {
                        Some(p) => {
                            evaluate_payload(QueryLanguage::JsonPath, "Parameters", p, &in_scope)?
                        }
                        None => effective.clone(),
                    };
                    self.inspect(here, "afterParameters", || params.clone());
                    let timeouts = task_timeouts(s, here.lang, &in_scope)?;
                    (effective, params, timeouts)
                }
                QueryLanguage::Jsonata => {
                    let params = match &s.arguments {
                        Some(a) => {
                            evaluate_payload(QueryLanguage::Jsonata, "Arguments", a, &scope)?
                        }
                        None => input.clone(),
                    };
                    self.inspect(here, "afterArguments", || params.clone());
                    (input.clone(), params, task_timeouts(s, here.lang, &scope)?)
                }
            })
        })();
        let (effective, params, timeouts) = match prepared {
            Ok(p) => p,
            Err(e) => return Err(self.eval_failure(e, here, frame)),
        };
        let mock = self.tested(here).and_then(|t| t.mock());
        let integration = self.engine.integrations.find(&resource.arn);
        if integration.is_none() && mock.is_none() {
            return Err(Failure::runtime(
                EvalError::runtime(format!(
                    "No local integration serves the resource '{}'.",
                    resource.arn
                ))
                .cause_in_state(here.name, here.entered_id),
            ));
        }
        self.task_event(frame, resource, Phase::Scheduled(&params, timeouts))?;
        self.task_event(frame, resource, Phase::Started)?;
        let heartbeat = Heartbeat::new(self.engine.clock);
        let submission = Submission::default();
        let request = TaskRequest {
            state_name: here.name,
            resource,
            parameters: params,
            timeout_seconds: timeouts.timeout_seconds,
            heartbeat_seconds: timeouts.heartbeat_seconds,
            task_token: token.as_deref(),
            execution_name: &self.exec.name,
            heartbeat: &heartbeat,
            submission: &submission,
        };
        let started = self.engine.clock.now_ms();
        let outcome = match (mock, integration) {
            (Some(Mock::Result(v)), _) => Ok(v.clone()),
            (Some(Mock::Error { error, cause }), _) => Err(TaskError {
                error: error.clone(),
                cause: cause.clone(),
            }),
            (None, integration) => {
                let call = race(
                    async {
                        match integration {
                            Some(i) => i.call(request).await,
                            None => Err(TaskError::new("States.Runtime", "no integration")),
                        }
                    },
                    self.watchdog(started, timeouts, &heartbeat),
                );
                let mut call = std::pin::pin!(self.guard(call));
                let outcome = loop {
                    match race(submission.next(), call.as_mut()).await {
                        Either::Left(response) => {
                            self.task_event(frame, resource, Phase::Submitted(&response))?;
                        }
                        Either::Right(outcome) => break outcome?,
                    }
                };
                if let Some(response) = submission.take() {
                    self.task_event(frame, resource, Phase::Submitted(&response))?;
                }
                match outcome {
                    Either::Left(r) => r,
                    Either::Right(timeout) => Err(timeout),
                }
            }
        };
        let result = match outcome.and_then(|r| {
            check_payload_size(&r, &resource.arn)
                .map(|()| r)
                .map_err(|e| TaskError::new(e.error(), e.cause))
        }) {
            Ok(r) => r,
            Err(e) => {
                self.task_event(frame, resource, Phase::Failed(&e))?;
                let mut f = Failure::new(Some(e.error), e.cause);
                f.from_task = true;
                return Err(f);
            }
        };
        self.task_event(frame, resource, Phase::Succeeded(&result))?;
        self.inspect(here, "result", || result.clone());
        let shaped: Result<(Value, Option<Map<String, Value>>), EvalError> = (|| {
            let scope = self.scope(input, &ctx, frame);
            match here.lang {
                QueryLanguage::JsonPath => {
                    let selected = match &s.result_selector {
                        Some(rs) => evaluate_payload(
                            QueryLanguage::JsonPath,
                            "ResultSelector",
                            rs,
                            &scope.with_input(&result),
                        )?,
                        None => result.clone(),
                    };
                    self.inspect(here, "afterResultSelector", || selected.clone());
                    let assigned = assign(
                        here.lang,
                        &s.assign,
                        &scope.with_input(&effective).with_result(&selected),
                    )?;
                    let after = apply_result_path(&s.result_path, input, selected)?;
                    self.inspect(here, "afterResultPath", || after.clone());
                    Ok((output_path_owned(&s.output_path, after, &scope)?, assigned))
                }
                QueryLanguage::Jsonata => {
                    let scope = scope.with_result(&result);
                    let assigned = assign(here.lang, &s.assign, &scope)?;
                    Ok((jsonata_output(&s.output, &scope, &result)?, assigned))
                }
            }
        })();
        match shaped {
            Ok((output, assigned)) => self.exit(here, frame, output, assigned, next_of(here.state)),
            Err(e) => Err(self.eval_failure(e, here, frame)),
        }
    }

    /// Completes with `States.Timeout` when the task runs past `TimeoutSeconds` or goes
    /// `HeartbeatSeconds` without a heartbeat; never completes when neither is set.
    async fn watchdog(
        &self,
        started: i64,
        t: TaskTimeouts,
        heartbeat: &Heartbeat<'_>,
    ) -> TaskError {
        let secs = |s: u64| {
            i64::try_from(s)
                .unwrap_or(i64::MAX / 2)
                .saturating_mul(1000)
        };
        let timeout_at = t.timeout_seconds.map(|s| started.saturating_add(secs(s)));
        loop {
            let beat_at = t
                .heartbeat_seconds
                .map(|s| heartbeat.last_ms().saturating_add(secs(s)));
            let Some(at) = [timeout_at, beat_at].into_iter().flatten().min() else {
                return std::future::pending().await;
            };
            self.engine.clock.sleep_until(at).await;
            let now = self.engine.clock.now_ms();
            let beat_due = t
                .heartbeat_seconds
                .is_some_and(|s| now >= heartbeat.last_ms().saturating_add(secs(s)));
            if timeout_at.is_some_and(|d| now >= d) || beat_due {
                return TaskError {
                    error: "States.Timeout".into(),
                    cause: None,
                };
            }
        }
    }

    fn task_event(
        &self,
        frame: &mut Frame<'_>,
        r: &Resource,
        phase: Phase<'_>,
    ) -> Result<u64, Failure> {
        let lambda = r.is_lambda_function;
        let mut d = EventDetails::default();
        if !lambda {
            d.resource_type = Some(r.resource_type.clone());
            d.resource = Some(r.resource.clone());
        }
        let kind = match phase {
            Phase::Scheduled(params, t) => {
                d.timeout_in_seconds = t.timeout_seconds;
                if lambda {
                    d.resource = Some(r.arn.clone());
                    d.input = Some(frame.history.text(params));
                    EventType::LambdaFunctionScheduled
                } else {
                    d.region = Some(self.engine.options.region.clone());
                    d.parameters = Some(frame.history.text(params));
                    d.heartbeat_in_seconds = t.heartbeat_seconds;
                    EventType::TaskScheduled
                }
            }
            Phase::Started if lambda => EventType::LambdaFunctionStarted,
            Phase::Started => EventType::TaskStarted,
            Phase::Submitted(response) => {
                d.output = Some(frame.history.text(response));
                EventType::TaskSubmitted
            }
            Phase::Succeeded(out) => {
                d.output = Some(frame.history.text(out));
                if lambda {
                    EventType::LambdaFunctionSucceeded
                } else {
                    EventType::TaskSucceeded
                }
            }
            Phase::Failed(e) => {
                d.error = Some(e.error.clone());
                d.cause = e.cause.clone();
                match (e.error == "States.Timeout", lambda) {
                    (true, true) => EventType::LambdaFunctionTimedOut,
                    (true, false) => EventType::TaskTimedOut,
                    (false, true) => EventType::LambdaFunctionFailed,
                    (false, false) => EventType::TaskFailed,
                }
            }
        };
        self.event(frame, kind, d)
    }
}

enum Phase<'a> {
    Scheduled(&'a Value, TaskTimeouts),
    Started,
    Submitted(&'a Value),
    Succeeded(&'a Value),
    Failed(&'a TaskError),
}
