//! The TestState API: one state run alone, as `states:TestState` does, with an optional mock
//! of its work (`mock.result` / `mock.errorOutput`), given variables and context object,
//! `stateConfiguration` (retries already made, Map iterations that failed, the Map's item data)
//! and, at DEBUG/TRACE, the `inspectionData` of every processing step.
//!
//! It reuses the engine's state code: a [`TestMode`] in the run makes the tested state take its
//! result from the mock, report RETRIABLE instead of waiting to retry, report CAUGHT_ERROR when
//! a catcher takes the error, and record what it computed.

use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::clock::lock;
use super::failure::Failure;
use super::history::EventType;
use super::history::Recorder;
use super::retry::{Handlers, Retries};
use super::run::{ExecInfo, Frame, Here, Run, Step, Vars};
use super::Engine;
use crate::asl::{Catcher, QueryLanguage, Retrier, State, StateMachine};
use crate::eval::Timestamp;

/// How much `TestState` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InspectionLevel {
    /// Output, error, next state.
    Info,
    /// Plus `inspectionData` (the value after each processing step).
    Debug,
    /// Plus HTTP request/response data for HTTP tasks (same as DEBUG here).
    Trace,
}

/// The mocked outcome of the tested state's work.
#[derive(Debug, Clone, PartialEq)]
pub enum Mock {
    /// The task (or the Map's iterations, or the Parallel's branches) returned this.
    Result(Value),
    /// It failed with this error and cause.
    Error {
        /// Error name.
        error: String,
        /// Cause.
        cause: Option<String>,
    },
}

/// A `TestState` request.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateInput {
    /// One state, or a whole state machine with [`TestStateInput::state_name`] naming the state.
    pub definition: Value,
    /// The state to test in a whole-machine definition.
    pub state_name: Option<String>,
    /// The state's input.
    pub input: Value,
    /// How much to report.
    pub inspection_level: InspectionLevel,
    /// Variables in scope.
    pub variables: Map<String, Value>,
    /// The context object to use instead of the default one.
    pub context: Option<Value>,
    /// The mocked work.
    pub mock: Option<Mock>,
    /// Retries already made (`stateConfiguration.retrierRetryCount`).
    pub retrier_retry_count: Option<u32>,
    /// Map iterations that failed (`stateConfiguration.mapIterationFailureCount`).
    pub map_iteration_failure_count: Option<u32>,
    /// The item data an ItemReader would have read (`stateConfiguration.mapItemReaderData`).
    pub map_item_reader_data: Option<Value>,
}

/// The status `TestState` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    /// The state finished.
    Succeeded,
    /// The state failed and no catcher took the error.
    Failed,
    /// A retrier would retry.
    Retriable,
    /// A catcher took the error.
    CaughtError,
}

impl TestStatus {
    /// The name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Succeeded => "SUCCEEDED",
            TestStatus::Failed => "FAILED",
            TestStatus::Retriable => "RETRIABLE",
            TestStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// A `TestState` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateOutput {
    /// What happened.
    pub status: TestStatus,
    /// The state's output (also after a catcher).
    pub output: Option<Value>,
    /// Error name.
    pub error: Option<String>,
    /// Error cause.
    pub cause: Option<String>,
    /// Where the state would go next.
    pub next_state: Option<String>,
    /// The processing steps (DEBUG and TRACE).
    pub inspection_data: Option<Map<String, Value>>,
}

/// A request `TestState` refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestStateError {
    /// The definition is not a state or a state machine.
    #[error("invalid definition: {0}")]
    InvalidDefinition(String),
    /// `stateName` names no state of the machine.
    #[error("the state machine has no state named {0:?}")]
    NoSuchState(String),
}

/// What a run in test mode knows and collects.
pub(crate) struct TestMode {
    state: String,
    level: InspectionLevel,
    mock: Option<Mock>,
    context: Option<Value>,
    retrier_retry_count: u32,
    pub(crate) map_iteration_failure_count: u32,
    pub(crate) item_reader_data: Option<Value>,
    inspection: Mutex<Map<String, Value>>,
    caught: Mutex<Option<Failure>>,
}

impl TestMode {
    /// Records a processing step (DEBUG and TRACE).
    pub(crate) fn inspect(&self, key: &str, value: impl FnOnce() -> Value) {
        if self.level >= InspectionLevel::Debug {
            lock(&self.inspection).insert(key.to_string(), value());
        }
    }

    /// A catcher took this failure.
    pub(crate) fn caught(&self, failure: &Failure) {
        *lock(&self.caught) = Some(failure.clone());
    }

    /// The mock, if any.
    pub(crate) fn mock(&self) -> Option<&Mock> {
        self.mock.as_ref()
    }
}

impl Run<'_> {
    /// The test mode, when `here` is the state under test.
    pub(crate) fn tested(&self, here: &Here<'_>) -> Option<&TestMode> {
        self.test.as_ref().filter(|t| t.state == here.name)
    }

    /// Records a processing step of `here` when it is under test.
    pub(crate) fn inspect(&self, here: &Here<'_>, key: &str, value: impl FnOnce() -> Value) {
        if let Some(t) = self.tested(here) {
            t.inspect(key, value);
        }
    }

    /// The error handling of `here` (its retriers, catchers and give-up event).
    pub(crate) fn handlers<'s>(
        &self,
        here: &Here<'_>,
        retry: &'s Option<Vec<Retrier>>,
        catch: &'s Option<Vec<Catcher>>,
        failed_event: Option<EventType>,
    ) -> Handlers<'s> {
        let retries = Retries::new(retry.as_deref().unwrap_or(&[]));
        let retries = match self.tested(here) {
            Some(t) => retries.already(t.retrier_retry_count),
            None => retries,
        };
        Handlers {
            retries,
            catchers: catch.as_deref().unwrap_or(&[]),
            failed_event,
        }
    }

    /// The context object TestState shows: the one given, or its default.
    pub(crate) fn test_context(&self, here: &Here<'_>, retry_count: Option<u32>) -> Option<Value> {
        let t = self.test.as_ref()?;
        if let Some(c) = &t.context {
            return Some(c.clone());
        }
        let time = Timestamp::from_unix_millis(here.entered_ms).to_string();
        let mut state = json!({"Name": "StateName", "EnteredTime": time});
        if let Some(n) = retry_count {
            state["RetryCount"] = json!(n);
        }
        Some(json!({
            "Execution": {
                "Id": self.exec.arn,
                "Input": self.exec.input,
                "Name": self.exec.name,
                "RoleArn": self.exec.role_arn,
                "StartTime": Timestamp::from_unix_millis(self.exec.start_ms).to_string(),
            },
            "StateMachine": {
                "Id": self.exec.state_machine_arn,
                "Name": self.exec.state_machine_name,
            },
            "State": state,
        }))
    }
}

impl Engine<'_> {
    /// Runs one state alone, as the TestState API does.
    pub async fn test_state(&self, req: TestStateInput) -> Result<TestStateOutput, TestStateError> {
        let (machine, name) = match &req.state_name {
            Some(name) => {
                let m = StateMachine::from_value(req.definition.clone())
                    .map_err(|e| TestStateError::InvalidDefinition(e.to_string()))?;
                let top = m.query_language.unwrap_or(QueryLanguage::JsonPath);
                let Some((state, lang)) = find_state(&m.states, name, top) else {
                    return Err(TestStateError::NoSuchState(name.clone()));
                };
                let mut states = indexmap::IndexMap::new();
                states.insert(name.clone(), state.clone());
                let m = StateMachine {
                    query_language: Some(lang),
                    start_at: name.clone(),
                    states,
                    ..m
                };
                (m, name.clone())
            }
            None => {
                let state: State = serde_json::from_value(req.definition.clone())
                    .map_err(|e| TestStateError::InvalidDefinition(e.to_string()))?;
                let name = "StateName".to_string();
                let mut states = indexmap::IndexMap::new();
                states.insert(name.clone(), state);
                let m = StateMachine {
                    comment: None,
                    query_language: None,
                    start_at: name.clone(),
                    version: None,
                    timeout_seconds: None,
                    states,
                };
                (m, name)
            }
        };
        let o = &self.options;
        let now = self.clock.now_ms();
        let exec = ExecInfo {
            arn: format!(
                "arn:aws:states:{}:{}:express:TestStateMachine:test-state",
                o.region, o.account
            ),
            name: "test-state".into(),
            state_machine_arn: format!(
                "arn:aws:states:{}:{}:stateMachine:TestStateMachine",
                o.region, o.account
            ),
            state_machine_name: "TestStateMachine".into(),
            role_arn: o.role_arn.clone(),
            start_ms: now,
            redrive_count: 0,
            input: req.input.clone(),
            express: true,
        };
        let test = TestMode {
            state: name.clone(),
            level: req.inspection_level,
            mock: req.mock.clone(),
            context: req.context.clone(),
            retrier_retry_count: req.retrier_retry_count.unwrap_or(0),
            map_iteration_failure_count: req.map_iteration_failure_count.unwrap_or(0),
            item_reader_data: req.map_item_reader_data.clone(),
            inspection: Mutex::new(Map::new()),
            caught: Mutex::new(None),
        };
        let mut run = Run::new(self, exec, None);
        run.test = Some(test);
        let history = Recorder::new(self.clock, usize::MAX, Vec::new());
        let mut frame = Frame {
            vars: Vars {
                own: req.variables.clone(),
                outer: None,
            },
            prev: 0,
            lang: machine.query_language.unwrap_or(QueryLanguage::JsonPath),
            history: &history,
            progress: None,
            current: None,
        };
        let state = &machine.states[&name];
        if req.inspection_level >= InspectionLevel::Debug {
            run.inspect_raw("input", req.input.clone());
            if !req.variables.is_empty() {
                run.inspect_raw("variables", Value::Object(req.variables.clone()));
            }
        }
        let step = run
            .run_state(&name, state, &req.input, &mut frame, None)
            .await;
        let test = run.test.take().expect("set above");
        let inspection = test
            .inspection
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        let caught = test.caught.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut out = TestStateOutput {
            status: TestStatus::Succeeded,
            output: None,
            error: None,
            cause: None,
            next_state: None,
            inspection_data: (req.inspection_level >= InspectionLevel::Debug).then_some(inspection),
        };
        match step {
            Ok(Step::Next(next, output)) => {
                out.output = Some(output);
                out.next_state = Some(next);
            }
            Ok(Step::End(output)) => out.output = Some(output),
            Err(f) => {
                out.status = if f.retriable {
                    TestStatus::Retriable
                } else {
                    TestStatus::Failed
                };
                out.error = f.error;
                out.cause = f.cause;
            }
        }
        if let Some(f) = caught {
            out.status = TestStatus::CaughtError;
            out.error = f.error;
            out.cause = f.cause;
        }
        Ok(out)
    }
}

/// The state named `name` anywhere in `states` (inside Map processors and Parallel branches
/// too), with the query language its scope gives it.
fn find_state<'a>(
    states: &'a indexmap::IndexMap<String, State>,
    name: &str,
    lang: QueryLanguage,
) -> Option<(&'a State, QueryLanguage)> {
    if let Some(s) = states.get(name) {
        return Some((s, lang));
    }
    states.values().find_map(|s| {
        let lang = s.query_language().unwrap_or(lang);
        match s {
            State::Map(m) => m
                .processor()
                .and_then(|p| find_state(&p.states, name, p.query_language.unwrap_or(lang))),
            State::Parallel(p) => p
                .branches
                .iter()
                .find_map(|b| find_state(&b.states, name, b.query_language.unwrap_or(lang))),
            _ => None,
        }
    })
}

impl Run<'_> {
    fn inspect_raw(&self, key: &str, value: Value) {
        if let Some(t) = &self.test {
            t.inspect(key, || value);
        }
    }
}
