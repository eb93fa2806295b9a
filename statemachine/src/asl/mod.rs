//! The Amazon States Language as Rust types.
//!
//! These are boundary types: they (de)serialize to exactly the JSON a Step Functions definition
//! is written in, so parsing a definition and printing it again gives equal JSON. Fields that the
//! language lets be *absent* or explicitly `null` (`InputPath`, `OutputPath`, `ResultPath`) are
//! [`NullablePath`]s; payload templates (`Parameters`, `ResultSelector`, `Arguments`, `Output`,
//! `Assign`, ...) stay `serde_json::Value`s, because their shape is the user's. Unknown fields are
//! rejected, naming the field, so a typo never silently changes what a state does.
//!
//! Use [`StateMachine::from_json`] to parse with errors that carry the JSON path of the mistake.

mod choice;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

pub use choice::{ChoiceRule, Comparison, Condition, Operand};

/// A whole state machine (or a `Branches` entry / `ItemProcessor`, which share its shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StateMachine {
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The query language of every state that does not set its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    /// Name of the first state.
    pub start_at: String,
    /// The definition's version string (`"1.0"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Execution timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// The states, in definition order.
    pub states: IndexMap<String, State>,
}

/// `Branches[i]` of a Parallel state: a state machine without a timeout of its own.
pub type Branch = StateMachine;

/// `ItemProcessor` (or the older `Iterator`) of a Map state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ItemProcessor {
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The query language of the states inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_language: Option<QueryLanguage>,
    /// `Mode` (`INLINE` | `DISTRIBUTED`) and `ExecutionType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_config: Option<ProcessorConfig>,
    /// Name of the first state.
    pub start_at: String,
    /// The states, in definition order.
    pub states: IndexMap<String, State>,
}

/// `ItemProcessor.ProcessorConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ProcessorConfig {
    /// `INLINE` or `DISTRIBUTED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `STANDARD` or `EXPRESS` (distributed mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_type: Option<String>,
}

/// `QueryLanguage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryLanguage {
    /// The classic language: paths, `.$` fields and intrinsic functions.
    #[serde(rename = "JSONPath")]
    JsonPath,
    /// `{% ... %}` expressions.
    #[serde(rename = "JSONata")]
    Jsonata,
}

/// One state, by its `Type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Type")]
pub enum State {
    /// Does work through a service integration or activity.
    Task(Box<TaskState>),
    /// Passes (and optionally shapes) its input.
    Pass(Box<PassState>),
    /// Branches on rules.
    Choice(Box<ChoiceState>),
    /// Waits for a time or a timestamp.
    Wait(Box<WaitState>),
    /// Ends the execution successfully.
    Succeed(Box<SucceedState>),
    /// Ends the execution with an error.
    Fail(Box<FailState>),
    /// Runs branches side by side.
    Parallel(Box<ParallelState>),
    /// Runs a processor for each item of an array.
    Map(Box<MapState>),
}

/// A path field that can be absent (default behaviour) or explicitly `null` (discard / keep).
///
/// `None` = absent, `Some(None)` = `null`, `Some(Some(path))` = a path.
pub type NullablePath = Option<Option<String>>;

/// A number, or a JSONata expression string where the query language allows one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NumberOrExpr {
    /// A JSON number, kept as written.
    Number(Number),
    /// A `{% ... %}` expression.
    Expr(String),
}

/// `Retry` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Retrier {
    /// Error names this retrier handles; `States.ALL` matches any.
    pub error_equals: Vec<String>,
    /// Seconds before the first retry (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u64>,
    /// Retries before giving up (default 3; 0 = never retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    /// Multiplier of the interval per attempt (default 2.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_rate: Option<Number>,
    /// Upper bound of the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_seconds: Option<u64>,
    /// `FULL` or `NONE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_strategy: Option<JitterStrategy>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `JitterStrategy` of a retrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JitterStrategy {
    /// Random delay between 0 and the computed interval.
    Full,
    /// The computed interval exactly.
    None,
}

/// `Catch` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Catcher {
    /// Error names this catcher handles; `States.ALL` matches any.
    pub error_equals: Vec<String>,
    /// State to go to.
    pub next: String,
    /// Where the error output goes in the input (JSONPath).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub result_path: NullablePath,
    /// JSONata output.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
    pub output: Option<Value>,
    /// Variables to assign.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
    pub assign: Option<Value>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

macro_rules! state_struct {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase", deny_unknown_fields)]
        pub struct $name {
            /// Free text.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub comment: Option<String>,
            /// Overrides the machine's query language for this state.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub query_language: Option<QueryLanguage>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }
    };
}

state_struct!(
    /// `"Type": "Task"`.
    TaskState {
        /// The integration or activity ARN.
        resource: String,
        /// JSONPath: selects the part of the input the state works on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        input_path: NullablePath,
        /// JSONPath payload template for the task.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        parameters: Option<Value>,
        /// JSONata payload for the task.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        arguments: Option<Value>,
        /// Cross-account role for the task.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        credentials: Option<Value>,
        /// Template applied to the task result.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        result_selector: Option<Value>,
        /// Where the result goes in the input.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        result_path: NullablePath,
        /// Selects the part of the result passed on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        output_path: NullablePath,
        /// JSONata output.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        output: Option<Value>,
        /// Variables to assign.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        assign: Option<Value>,
        /// Retry policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry: Option<Vec<Retrier>>,
        /// Error handlers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        catch: Option<Vec<Catcher>>,
        /// Task timeout.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_seconds: Option<NumberOrExpr>,
        /// Task timeout from the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_seconds_path: Option<String>,
        /// Heartbeat interval.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heartbeat_seconds: Option<NumberOrExpr>,
        /// Heartbeat interval from the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heartbeat_seconds_path: Option<String>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end: Option<bool>,
    }
);

state_struct!(
    /// `"Type": "Pass"`.
    PassState {
        /// Selects the part of the input the state works on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        input_path: NullablePath,
        /// Payload template.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        parameters: Option<Value>,
        /// Fixed result.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        result: Option<Value>,
        /// Where the result goes in the input.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        result_path: NullablePath,
        /// Selects the part of the result passed on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        output_path: NullablePath,
        /// JSONata output.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        output: Option<Value>,
        /// Variables to assign.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        assign: Option<Value>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end: Option<bool>,
    }
);

state_struct!(
    /// `"Type": "Choice"`.
    ChoiceState {
        /// Selects the part of the input the state works on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        input_path: NullablePath,
        /// Selects the part of the input passed on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        output_path: NullablePath,
        /// The rules, tried in order.
        choices: Vec<ChoiceRule>,
        /// Where to go when no rule matches.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        /// JSONata output.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        output: Option<Value>,
        /// Variables to assign.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        assign: Option<Value>,
    }
);

state_struct!(
    /// `"Type": "Wait"`.
    WaitState {
        /// Selects the part of the input the state works on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        input_path: NullablePath,
        /// Selects the part of the input passed on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        output_path: NullablePath,
        /// Seconds to wait.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds: Option<NumberOrExpr>,
        /// Seconds to wait, from the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds_path: Option<String>,
        /// Wait until this time (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp: Option<String>,
        /// Wait until the time found in the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp_path: Option<String>,
        /// JSONata output.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        output: Option<Value>,
        /// Variables to assign.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        assign: Option<Value>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end: Option<bool>,
    }
);

state_struct!(
    /// `"Type": "Succeed"`.
    SucceedState {
        /// Selects the part of the input the state works on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        input_path: NullablePath,
        /// Selects the part of the input passed on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        output_path: NullablePath,
        /// JSONata output.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        output: Option<Value>,
    }
);

state_struct!(
    /// `"Type": "Fail"`.
    FailState {
        /// Error name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// Error name from the input (path or intrinsic).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_path: Option<String>,
        /// Human-readable cause.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
        /// Cause from the input (path or intrinsic).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause_path: Option<String>,
    }
);

state_struct!(
    /// `"Type": "Parallel"`.
    ParallelState {
        /// The branches, run side by side.
        branches: Vec<Branch>,
        /// Selects the part of the input the state works on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        input_path: NullablePath,
        /// Payload template given to every branch.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        parameters: Option<Value>,
        /// JSONata payload given to every branch.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        arguments: Option<Value>,
        /// Template applied to the array of branch results.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        result_selector: Option<Value>,
        /// Where the result goes in the input.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        result_path: NullablePath,
        /// Selects the part of the result passed on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        output_path: NullablePath,
        /// JSONata output.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        output: Option<Value>,
        /// Variables to assign.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        assign: Option<Value>,
        /// Retry policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry: Option<Vec<Retrier>>,
        /// Error handlers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        catch: Option<Vec<Catcher>>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end: Option<bool>,
    }
);

state_struct!(
    /// `"Type": "Map"`.
    MapState {
        /// The processor run for each item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item_processor: Option<ItemProcessor>,
        /// The older name of `ItemProcessor`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        iterator: Option<ItemProcessor>,
        /// Selects the part of the input the state works on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        input_path: NullablePath,
        /// Where the items array is in the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        items_path: Option<String>,
        /// JSONata: the items array.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        items: Option<Value>,
        /// Template for each item's input.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        item_selector: Option<Value>,
        /// The older name of `ItemSelector`.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        parameters: Option<Value>,
        /// Reads items from a data source (distributed mode).
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        item_reader: Option<Value>,
        /// Groups items into batches.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        item_batcher: Option<Value>,
        /// Writes results to a data store (distributed mode).
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        result_writer: Option<Value>,
        /// Items processed at once (0 = as many as possible).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_concurrency: Option<NumberOrExpr>,
        /// Concurrency from the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_concurrency_path: Option<String>,
        /// Failed items tolerated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tolerated_failure_count: Option<NumberOrExpr>,
        /// Failed items tolerated, from the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tolerated_failure_count_path: Option<String>,
        /// Percentage of failed items tolerated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tolerated_failure_percentage: Option<NumberOrExpr>,
        /// Percentage tolerated, from the input.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tolerated_failure_percentage_path: Option<String>,
        /// Label of the map run (distributed mode).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        /// Template applied to the array of results.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        result_selector: Option<Value>,
        /// Where the result goes in the input.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        result_path: NullablePath,
        /// Selects the part of the result passed on.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        output_path: NullablePath,
        /// JSONata output.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        output: Option<Value>,
        /// Variables to assign.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
        assign: Option<Value>,
        /// Retry policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry: Option<Vec<Retrier>>,
        /// Error handlers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        catch: Option<Vec<Catcher>>,
        /// Next state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
        /// Terminal state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end: Option<bool>,
    }
);

impl MapState {
    /// `ItemProcessor`, or the older `Iterator`.
    pub fn processor(&self) -> Option<&ItemProcessor> {
        self.item_processor.as_ref().or(self.iterator.as_ref())
    }
}

/// How a state leaves: to `Next`, or the end. Choice, Succeed and Fail have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition<'a> {
    /// `"Next": name`.
    Next(&'a str),
    /// `"End": true`.
    End,
    /// Neither, or both (a validation error for states that need one).
    Invalid,
    /// The state type has no Next/End (Choice, Succeed, Fail).
    None,
}

/// An error parsing a definition, with the JSON path of the mistake.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ParseError {
    /// JSON path like `States.Fetch.Retry[0].MaxAttempts` (`.` for the whole document).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl StateMachine {
    /// Parses a definition from JSON text. It must be a JSON object: serde would otherwise read
    /// an array as the fields in order.
    pub fn from_json(text: &str) -> Result<StateMachine, ParseError> {
        if !text.trim_start().starts_with('{') {
            if let Ok(v) = serde_json::from_str::<Value>(text) {
                return Err(not_an_object(&v));
            }
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| ParseError {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }

    /// Parses a definition from a JSON value, which must be an object.
    pub fn from_value(value: Value) -> Result<StateMachine, ParseError> {
        if !value.is_object() {
            return Err(not_an_object(&value));
        }
        serde_path_to_error::deserialize(value).map_err(|e| ParseError {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }

    /// The definition as pretty JSON (two-space indent, fields in ASL order).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a definition always serializes")
    }

    /// The definition as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a definition always serializes")
    }
}

/// The error of a definition that is valid JSON but no object.
fn not_an_object(v: &Value) -> ParseError {
    let kind = match v {
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "an object",
    };
    ParseError {
        path: ".".into(),
        message: format!(
            "the definition must be a JSON object (with StartAt and States), not {kind}"
        ),
    }
}

impl State {
    /// The state's `Type` as written in ASL.
    pub fn type_name(&self) -> &'static str {
        match self {
            State::Task(_) => "Task",
            State::Pass(_) => "Pass",
            State::Choice(_) => "Choice",
            State::Wait(_) => "Wait",
            State::Succeed(_) => "Succeed",
            State::Fail(_) => "Fail",
            State::Parallel(_) => "Parallel",
            State::Map(_) => "Map",
        }
    }

    /// How the state leaves.
    pub fn transition(&self) -> Transition<'_> {
        let (next, end) = match self {
            State::Task(s) => (&s.next, s.end),
            State::Pass(s) => (&s.next, s.end),
            State::Wait(s) => (&s.next, s.end),
            State::Parallel(s) => (&s.next, s.end),
            State::Map(s) => (&s.next, s.end),
            State::Choice(_) | State::Succeed(_) | State::Fail(_) => return Transition::None,
        };
        match (next, end) {
            (Some(n), None | Some(false)) => Transition::Next(n),
            (None, Some(true)) => Transition::End,
            _ => Transition::Invalid,
        }
    }

    /// The state's own `QueryLanguage`, if set.
    pub fn query_language(&self) -> Option<QueryLanguage> {
        match self {
            State::Task(s) => s.query_language,
            State::Pass(s) => s.query_language,
            State::Choice(s) => s.query_language,
            State::Wait(s) => s.query_language,
            State::Succeed(s) => s.query_language,
            State::Fail(s) => s.query_language,
            State::Parallel(s) => s.query_language,
            State::Map(s) => s.query_language,
        }
    }

    /// `Retry` and `Catch` of the states that have them.
    pub fn error_handling(&self) -> (&[Retrier], &[Catcher]) {
        let (r, c) = match self {
            State::Task(s) => (&s.retry, &s.catch),
            State::Parallel(s) => (&s.retry, &s.catch),
            State::Map(s) => (&s.retry, &s.catch),
            _ => return (&[], &[]),
        };
        (r.as_deref().unwrap_or(&[]), c.as_deref().unwrap_or(&[]))
    }

    /// Every state name this state can go to directly: Next, Default, Choices' Next, Catch Next.
    pub fn successors(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Transition::Next(n) = self.transition() {
            out.push(n);
        }
        if let State::Choice(c) = self {
            out.extend(c.choices.iter().filter_map(|r| r.next.as_deref()));
            out.extend(c.default.as_deref());
        }
        out.extend(self.error_handling().1.iter().map(|c| c.next.as_str()));
        out
    }
}

/// Serde support for optional JSON values where an explicit `null` is meaningful:
/// absent → `None`, `null` → `Some(Value::Null)`.
mod present {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(v: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        Value::deserialize(d).map(Some)
    }
}

/// Serde support for [`NullablePath`]: absent → `None`, `null` → `Some(None)`.
mod nullable {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Option<String>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_paths_survive_a_round_trip() {
        let text = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":null,"OutputPath":"$.x","End":true}}}"#;
        let sm = StateMachine::from_json(text).unwrap();
        let State::Pass(p) = &sm.states["A"] else {
            panic!("not a Pass")
        };
        assert_eq!(p.result_path, Some(None));
        assert_eq!(p.input_path, None);
        assert_eq!(sm.to_value(), serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn a_definition_that_is_no_object_is_refused_as_such() {
        for (text, kind) in [
            ("[\"StartAt\", {}]", "not an array"),
            ("  [1, 2]", "not an array"),
            ("\"x\"", "not a string"),
            ("7", "not a number"),
            ("null", "not null"),
        ] {
            let e = StateMachine::from_json(text).unwrap_err();
            assert_eq!(e.path, ".", "{text}");
            assert!(
                e.message.contains("the definition must be a JSON object")
                    && e.message.contains(kind),
                "{text}: {e}"
            );
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(StateMachine::from_value(v).unwrap_err().message, e.message);
        }
        // Text that is no JSON keeps serde's message with its line and column.
        let e = StateMachine::from_json("[1,").unwrap_err();
        assert!(e.message.contains("line 1"), "{e}");
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let text = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Nxt":"B","End":true}}}"#;
        let err = StateMachine::from_json(text).unwrap_err();
        assert!(err.to_string().contains("States.A"), "{err}");
        assert!(err.to_string().contains("Nxt"), "{err}");
    }
}
