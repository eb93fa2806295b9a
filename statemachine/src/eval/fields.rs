//! The state fields the engine evaluates, one function per kind of field, each choosing
//! JSONPath or JSONata by the state's query language where both exist.

use serde_json::{Map, Value};

use super::{not_yet, EvalError, Scope, Timestamp};
use crate::asl::{FailState, MapState, NullablePath, QueryLanguage, TaskState, WaitState};

/// `InputPath` of a JSONPath state, applied to `scope.input`: absent = the whole input,
/// `null` = `{}`, a path = what it selects (a `States.Runtime` error if nothing).
pub fn apply_input_path(path: &NullablePath, scope: &Scope) -> Result<Value, EvalError> {
    let _ = (path, scope);
    Err(not_yet("InputPath"))
}

/// `OutputPath` of a JSONPath state, applied to the state's output so far: absent = all of
/// it, `null` = `{}`, a path = what it selects.
pub fn apply_output_path(
    path: &NullablePath,
    output: &Value,
    scope: &Scope,
) -> Result<Value, EvalError> {
    let _ = (path, output, scope);
    Err(not_yet("OutputPath"))
}

/// `ResultPath` (of a state or a catcher): absent = the result replaces the input, `null` =
/// the input unchanged, a path = the input with `result` written there (objects created on the
/// way; a `States.Runtime` error where the path crosses a value that is not an object).
pub fn apply_result_path(
    path: &NullablePath,
    input: &Value,
    result: Value,
) -> Result<Value, EvalError> {
    let _ = (path, input, result);
    Err(not_yet("ResultPath"))
}

/// A payload template: `Parameters`, `ItemSelector`, `ResultSelector`, `Credentials` (JSONPath:
/// keys ending in `.$` take a path, an intrinsic function, a `$$` context path or a variable),
/// or `Arguments` / `Output` (JSONata: `{% ... %}` strings anywhere in the value). `field` is
/// the field's name as AWS names it in errors (`Parameters`, `Arguments`, `Output`, ...).
/// In JSONPath, `$` is `scope.input`, so the engine passes the right input for the field
/// (the effective input for Parameters, the task result for ResultSelector).
pub fn evaluate_payload(
    lang: QueryLanguage,
    field: &str,
    template: &Value,
    scope: &Scope,
) -> Result<Value, EvalError> {
    let _ = (lang, field, template, scope);
    Err(not_yet("payload templates"))
}

/// `Assign`: the variables to bind once the state is done (all evaluated against the old
/// variables). JSONPath: `$` is `scope.error_output` in a catcher, else `scope.result` if
/// given, else `scope.input`. JSONata: `$states.*` as in `scope`.
pub fn evaluate_assign(
    lang: QueryLanguage,
    assign: &Value,
    scope: &Scope,
) -> Result<Map<String, Value>, EvalError> {
    let _ = (lang, assign, scope);
    Err(not_yet("Assign"))
}

/// How long a Wait state waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitTarget {
    /// This many seconds from now.
    Seconds(u64),
    /// Until this instant (no wait if it has passed).
    Until(Timestamp),
}

/// `Seconds`, `SecondsPath`, `Timestamp` or `TimestampPath` of a Wait state, against
/// `scope.input` (the effective input).
pub fn wait_target(
    state: &WaitState,
    lang: QueryLanguage,
    scope: &Scope,
) -> Result<WaitTarget, EvalError> {
    let _ = (state, lang, scope);
    Err(not_yet("Wait"))
}

/// The items a Map state iterates: `ItemsPath` (JSONPath, default `$`) or `Items` (JSONata,
/// default `$states.input`) against `scope.input`; an error unless it is an array.
pub fn map_items(
    state: &MapState,
    lang: QueryLanguage,
    scope: &Scope,
) -> Result<Vec<Value>, EvalError> {
    let _ = (state, lang, scope);
    Err(not_yet("Map items"))
}

/// Concurrency and failure tolerance of a Map state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MapLimits {
    /// Iterations at once; 0 = no limit.
    pub max_concurrency: u64,
    /// Failed items tolerated (`None` = none tolerated unless a percentage is set).
    pub tolerated_failure_count: Option<u64>,
    /// Percentage of failed items tolerated.
    pub tolerated_failure_percentage: Option<f64>,
}

/// `MaxConcurrency[Path]`, `ToleratedFailureCount[Path]`, `ToleratedFailurePercentage[Path]`.
pub fn map_limits(
    state: &MapState,
    lang: QueryLanguage,
    scope: &Scope,
) -> Result<MapLimits, EvalError> {
    let _ = (state, lang, scope);
    Err(not_yet("Map limits"))
}

/// Error and cause of a Fail state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FailFields {
    /// `Error` / `ErrorPath`.
    pub error: Option<String>,
    /// `Cause` / `CausePath`.
    pub cause: Option<String>,
}

/// `Error`/`ErrorPath` and `Cause`/`CausePath` of a Fail state (paths may be intrinsics).
pub fn fail_fields(
    state: &FailState,
    lang: QueryLanguage,
    scope: &Scope,
) -> Result<FailFields, EvalError> {
    let _ = (state, lang, scope);
    Err(not_yet("Fail fields"))
}

/// Timeout and heartbeat of a Task state, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskTimeouts {
    /// `TimeoutSeconds[Path]`.
    pub timeout_seconds: Option<u64>,
    /// `HeartbeatSeconds[Path]`.
    pub heartbeat_seconds: Option<u64>,
}

/// `TimeoutSeconds[Path]` and `HeartbeatSeconds[Path]` of a Task state.
pub fn task_timeouts(
    state: &TaskState,
    lang: QueryLanguage,
    scope: &Scope,
) -> Result<TaskTimeouts, EvalError> {
    let _ = (state, lang, scope);
    Err(not_yet("Task timeouts"))
}
