//! The local engine: runs an ASL definition as AWS Step Functions would, purely.
//!
//! Everything outside comes in through arguments: time through a [`Clock`] (tests use
//! [`VirtualClock`], where waits take no time), randomness through [`Random`], task work
//! through [`Integrations`]. Nothing here reads the system clock, the environment or files.
//!
//! [`Engine::start`] runs an execution to its end and returns its [`ExecutionRecord`]: status,
//! output or error and cause, the history as `GetExecutionHistory` shows it, and where a
//! redrive would resume. [`Engine::redrive`] continues a failed, timed-out or aborted record
//! from the state that did not finish, as `RedriveExecution` does.
//!
//! Module map: `run` (state loop, scopes, context object), `states` (Pass, Choice, Wait,
//! Succeed, Fail), `task`, `map`, `parallel`, `retry` (Retry and Catch), `failure` (errors on
//! their way up), `history`, `record`, `integration`, `clock`, `join` (deterministic
//! concurrency), `test_state` (the TestState API).

mod clock;
mod failure;
pub mod history;
pub mod integration;
mod join;
mod map;
mod parallel;
mod record;
mod retry;
mod run;
mod states;
mod task;

use serde_json::Value;

pub use clock::{BoxFuture, Clock, VirtualClock};
pub use history::{EventDetails, EventType, HistoryEvent, HISTORY_LIMIT};
pub use integration::{
    Heartbeat, Integrations, Pattern, Recorded, Replay, Resource, TaskError, TaskIntegration,
    TaskRequest,
};
pub use record::{ChildResume, ExecutionRecord, ExecutionStatus, ResumePoint};

pub use crate::eval::{Random, SeededRandom};

use crate::asl::{QueryLanguage, StateMachine};
use failure::Failure;
use history::Recorder;
use run::{ExecInfo, Frame, Run, Vars};

/// Settings that are the same for every execution of an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Region in ARNs and task events.
    pub region: String,
    /// Account id in ARNs.
    pub account: String,
    /// The execution role (`$$.Execution.RoleArn`).
    pub role_arn: String,
    /// Events per execution before it fails (Step Functions: 25,000).
    pub history_limit: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            role_arn: "arn:aws:iam::123456789012:role/feedpipe-local".into(),
            history_limit: HISTORY_LIMIT,
        }
    }
}

/// What `StartExecution` gets.
#[derive(Debug, Clone, PartialEq)]
pub struct StartExecution {
    /// The state machine's name (in ARNs and `$$.StateMachine.Name`).
    pub state_machine_name: String,
    /// The execution's name.
    pub name: String,
    /// The input.
    pub input: Value,
}

/// Why a record cannot be redriven.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedriveError {
    /// Only FAILED, TIMED_OUT and ABORTED executions can be redriven.
    #[error("execution {0} is {1}; only FAILED, TIMED_OUT or ABORTED executions can be redriven")]
    NotRedrivable(String, &'static str),
    /// The execution ended in a way that leaves no state to resume (e.g. its history is full).
    #[error("execution {0} has no state to resume from (it ended with a full history or before any state ran)")]
    NothingToResume(String),
}

/// The engine: a clock, randomness, task integrations and options.
pub struct Engine<'a> {
    /// Time.
    pub clock: &'a dyn Clock,
    /// Randomness (retry jitter, `States.UUID`, `States.MathRandom`, task tokens).
    pub random: &'a dyn Random,
    /// Where Task states send their work.
    pub integrations: &'a Integrations,
    /// Region, account, role, history limit.
    pub options: Options,
}

impl<'a> Engine<'a> {
    /// An engine with default options.
    pub fn new(
        clock: &'a dyn Clock,
        random: &'a dyn Random,
        integrations: &'a Integrations,
    ) -> Engine<'a> {
        Engine {
            clock,
            random,
            integrations,
            options: Options::default(),
        }
    }

    /// Runs a new execution of `definition` to its end.
    pub async fn start(&self, definition: StateMachine, start: StartExecution) -> ExecutionRecord {
        let now = self.clock.now_ms();
        let sm_arn = format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            self.options.region, self.options.account, start.state_machine_name
        );
        let arn = format!(
            "arn:aws:states:{}:{}:execution:{}:{}",
            self.options.region, self.options.account, start.state_machine_name, start.name
        );
        let record = ExecutionRecord {
            execution_arn: arn,
            name: start.name,
            state_machine_arn: sm_arn,
            definition,
            input: start.input,
            status: ExecutionStatus::Running,
            start_date_ms: now,
            stop_date_ms: None,
            output: None,
            error: None,
            cause: None,
            redrive_count: 0,
            redrive_date_ms: None,
            history: Vec::new(),
            resume: None,
        };
        let started = EventDetails {
            input: Some(record.input.clone()),
            role_arn: Some(self.options.role_arn.clone()),
            state_machine_arn: Some(record.state_machine_arn.clone()),
            ..EventDetails::default()
        };
        self.attempt(record, EventType::ExecutionStarted, started)
            .await
    }

    /// Continues a FAILED, TIMED_OUT or ABORTED execution from the state that did not finish,
    /// with the input and variables it had, rerunning only the Map iterations and Parallel
    /// branches that did not succeed. The history continues with `ExecutionRedriven`.
    pub async fn redrive(&self, record: ExecutionRecord) -> Result<ExecutionRecord, RedriveError> {
        if !record.status.is_redrivable() {
            return Err(RedriveError::NotRedrivable(
                record.execution_arn,
                record.status.as_str(),
            ));
        }
        if record.resume.is_none() {
            return Err(RedriveError::NothingToResume(record.execution_arn));
        }
        let mut record = record;
        record.redrive_count += 1;
        record.redrive_date_ms = Some(self.clock.now_ms());
        record.status = ExecutionStatus::Running;
        let details = EventDetails {
            redrive_count: Some(record.redrive_count),
            ..EventDetails::default()
        };
        Ok(self
            .attempt(record, EventType::ExecutionRedriven, details)
            .await)
    }

    /// One attempt: the opening event, the states, the closing event.
    async fn attempt(
        &self,
        mut record: ExecutionRecord,
        opening: EventType,
        details: EventDetails,
    ) -> ExecutionRecord {
        let history = Recorder::new(
            self.clock,
            self.options.history_limit,
            std::mem::take(&mut record.history),
        );
        let resume = record.resume.take();
        let machine_name = record
            .state_machine_arn
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let exec = ExecInfo {
            arn: record.execution_arn.clone(),
            name: record.name.clone(),
            state_machine_arn: record.state_machine_arn.clone(),
            state_machine_name: machine_name,
            role_arn: self.options.role_arn.clone(),
            start_ms: record.start_date_ms,
            redrive_count: record.redrive_count,
            input: record.input.clone(),
        };
        let deadline = record
            .definition
            .timeout_seconds
            .map(|t| self.clock.now_ms().saturating_add(t.saturating_mul(1000) as i64));
        let run = Run::new(self, exec, deadline);
        let mut frame = Frame {
            vars: Vars {
                own: resume
                    .as_ref()
                    .map(|r| r.variables.clone())
                    .unwrap_or_default(),
                outer: None,
            },
            prev: 0,
            lang: record
                .definition
                .query_language
                .unwrap_or(QueryLanguage::JsonPath),
            history: &history,
        };
        let outcome = match history.push(0, opening, details) {
            Err(_) => Err(Failure::history_full()),
            Ok(_) => {
                let (start, input) = match &resume {
                    Some(r) => (r.state.clone(), r.input.clone()),
                    None => (record.definition.start_at.clone(), record.input.clone()),
                };
                let def = &record.definition;
                run.run_graph(&def.states, &start, input, &mut frame, resume.as_ref())
                    .await
            }
        };
        let prev = frame.prev;
        self.finish(&mut record, &history, prev, outcome);
        drop(run);
        record.history = history.into_events();
        record.stop_date_ms = Some(self.clock.now_ms());
        record
    }

    /// Writes the closing event and sets status, output, error and cause.
    fn finish(
        &self,
        record: &mut ExecutionRecord,
        history: &Recorder<'_>,
        prev: u64,
        outcome: Result<Value, Failure>,
    ) {
        let outcome = outcome.and_then(|out| match crate::eval::check_payload_size(&out, "") {
            Ok(()) => Ok(out),
            Err(e) => Err(Failure::new(Some(e.error().into()), Some(e.cause))),
        });
        match outcome {
            Ok(output) => {
                let d = EventDetails {
                    output: Some(output.clone()),
                    ..EventDetails::default()
                };
                match history.push(prev, EventType::ExecutionSucceeded, d) {
                    Ok(_) => {
                        record.status = ExecutionStatus::Succeeded;
                        record.output = Some(output);
                    }
                    Err(_) => {
                        let f = Failure::history_full();
                        self.fail_record(record, &f, ExecutionStatus::Failed);
                    }
                }
            }
            Err(f) if f.history_full => self.fail_record(record, &f, ExecutionStatus::Failed),
            Err(f) => {
                let (kind, status) = if f.timed_out {
                    (EventType::ExecutionTimedOut, ExecutionStatus::TimedOut)
                } else {
                    (EventType::ExecutionFailed, ExecutionStatus::Failed)
                };
                let d = EventDetails {
                    error: f.error.clone(),
                    cause: f.cause.clone(),
                    ..EventDetails::default()
                };
                let _ = history.push(prev, kind, d);
                self.fail_record(record, &f, status);
            }
        }
    }

    fn fail_record(&self, record: &mut ExecutionRecord, f: &Failure, status: ExecutionStatus) {
        record.status = status;
        record.error = f.error.clone();
        record.cause = f.cause.clone();
        record.output = None;
        record.resume = if f.history_full { None } else { f.resume.clone() };
    }
}
