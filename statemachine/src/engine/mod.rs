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
//! Succeed, Fail), `task`, `map`, `map_run` (a Distributed Map's ItemReader and ResultWriter),
//! `parallel`, `retry` (Retry and Catch), `failure` (errors on their way up), `history`,
//! `record`, `integration`, `clock`, `join` (deterministic concurrency), `test_state` (the
//! TestState API).

mod clock;
mod execution;
mod failure;
pub mod history;
pub mod integration;
mod join;
mod map;
mod map_run;
mod parallel;
mod record;
mod retry;
mod run;
mod shape;
mod states;
mod task;
mod test_state;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_limits;
#[cfg(test)]
mod tests_links;
#[cfg(test)]
mod tests_map_run;

use serde_json::Value;

pub use clock::{BoxFuture, Clock, VirtualClock};
pub use execution::Execution;
pub use history::{EventDetails, EventType, HistoryEvent, JsonText, Observer, HISTORY_LIMIT};
pub use integration::{
    Heartbeat, Integrations, Pattern, Recorded, Replay, Resource, Submission, TaskError,
    TaskIntegration, TaskRequest,
};
pub use record::{ChildResume, ExecutionRecord, ExecutionStatus, ResumePoint};
pub use test_state::{
    InspectionLevel, Mock, TestStateError, TestStateInput, TestStateOutput, TestStatus,
};

pub use crate::eval::{Random, SeededRandom};

use crate::asl::StateMachine;

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
    /// An EXPRESS state machine (ARN `...:express:...`, no `RedriveCount` in the context).
    pub express: bool,
}

/// Why an execution input is refused before the execution starts (as `StartExecution` refuses
/// it, an API error: no execution exists).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// The input's JSON text is longer than Step Functions accepts.
    #[error("the execution input is {bytes} bytes of JSON text, over the limit of {limit} bytes (256 KiB) that Step Functions accepts in StartExecution")]
    InputTooLarge {
        /// Bytes of the input's text (for a value: of its compact text).
        bytes: usize,
        /// The limit, [`crate::eval::PAYLOAD_LIMIT_BYTES`].
        limit: usize,
    },
    /// The input nests arrays and objects deeper than the engine accepts.
    #[error("the execution input nests arrays and objects deeper than {limit} levels, the most the local engine accepts")]
    InputTooDeep {
        /// The limit, [`crate::eval::MAX_PAYLOAD_DEPTH`].
        limit: usize,
    },
}

/// Checks an execution input before starting it, as `StartExecution` does: at most 256 KiB of
/// JSON text (and at most [`crate::eval::MAX_PAYLOAD_DEPTH`] levels deep). Cheap for any
/// input: the depth is measured without recursion and the size by counting the text's bytes
/// as it is written, without keeping it.
pub fn check_start_input(input: &Value) -> Result<(), StartError> {
    let limit = crate::eval::PAYLOAD_LIMIT_BYTES;
    if crate::eval::exceeds_depth(input, crate::eval::MAX_PAYLOAD_DEPTH) {
        return Err(StartError::InputTooDeep {
            limit: crate::eval::MAX_PAYLOAD_DEPTH,
        });
    }
    let bytes = crate::eval::json_len(input);
    if bytes > limit {
        return Err(StartError::InputTooLarge { bytes, limit });
    }
    Ok(())
}

/// [`check_start_input`] for input given as text, before it is parsed: StartExecution limits
/// the text as sent (UTF-8 bytes), whitespace included.
pub fn check_start_input_text(text: &str) -> Result<(), StartError> {
    if text.len() > crate::eval::PAYLOAD_LIMIT_BYTES {
        return Err(StartError::InputTooLarge {
            bytes: text.len(),
            limit: crate::eval::PAYLOAD_LIMIT_BYTES,
        });
    }
    Ok(())
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
    /// Told of every history event and of the resume point as executions run (none: nobody).
    pub observer: Option<&'a dyn Observer>,
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
            observer: None,
        }
    }

    /// Runs a new execution of `definition` to its end.
    pub async fn start(&self, definition: StateMachine, start: StartExecution) -> ExecutionRecord {
        self.execution(definition, start).run().await
    }

    /// Continues a FAILED, TIMED_OUT or ABORTED execution to its (new) end; see
    /// [`Engine::resume`].
    pub async fn redrive(&self, record: ExecutionRecord) -> Result<ExecutionRecord, RedriveError> {
        Ok(self.resume(record)?.run().await)
    }

    /// A new execution of `definition`, ready to [`Execution::run`].
    pub fn execution(&self, definition: StateMachine, start: StartExecution) -> Execution<'_> {
        let now = self.clock.now_ms();
        let o = &self.options;
        let machine = &start.state_machine_name;
        let kind = if start.express {
            "express"
        } else {
            "execution"
        };
        // An express execution's ARN ends with a uuid after the name.
        let suffix = if start.express {
            format!(":{}", crate::eval::uuid_v4(self.random))
        } else {
            String::new()
        };
        let record = ExecutionRecord {
            execution_arn: format!(
                "arn:aws:states:{}:{}:{kind}:{machine}:{}{suffix}",
                o.region, o.account, start.name
            ),
            name: start.name,
            state_machine_arn: format!(
                "arn:aws:states:{}:{}:stateMachine:{machine}",
                o.region, o.account
            ),
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
        let opening = EventDetails {
            input: Some(JsonText::from_text(history::text_of(&record.input))),
            role_arn: Some(o.role_arn.clone()),
            ..EventDetails::default()
        };
        Execution::new(self, record, EventType::ExecutionStarted, opening)
    }

    /// A FAILED, TIMED_OUT or ABORTED execution, ready to continue from the state that did not
    /// finish, with the input and variables it had, rerunning only the Map iterations and
    /// Parallel branches that did not succeed, as `RedriveExecution` does. Its history goes on
    /// with `ExecutionRedriven`.
    pub fn resume(&self, mut record: ExecutionRecord) -> Result<Execution<'_>, RedriveError> {
        if !record.status.is_redrivable() {
            return Err(RedriveError::NotRedrivable(
                record.execution_arn,
                record.status.as_str(),
            ));
        }
        if record.resume.is_none() {
            return Err(RedriveError::NothingToResume(record.execution_arn));
        }
        record.redrive_count += 1;
        record.redrive_date_ms = Some(self.clock.now_ms());
        record.status = ExecutionStatus::Running;
        record.stop_date_ms = None;
        // The attempt that failed is history now: its error is in the events, not the result.
        record.error = None;
        record.cause = None;
        record.output = None;
        let details = EventDetails {
            redrive_count: Some(record.redrive_count),
            ..EventDetails::default()
        };
        Ok(Execution::new(
            self,
            record,
            EventType::ExecutionRedriven,
            details,
        ))
    }
}
