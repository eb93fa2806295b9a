//! Fields particular to one state type: Wait's time, Map's items and limits, Fail's error and
//! cause, Task's timeouts, each in either query language.

use serde_json::Value;

use super::fields::invalid_path;
use super::intrinsics::compact;
use super::jsonata;
use super::jsonpath;
use super::template::{dollar_field, jsonata_template};
use super::{EvalError, Scope, Timestamp};
use crate::asl::{FailState, MapState, NumberOrExpr, QueryLanguage, TaskState, WaitState};

/// The longest wait AWS accepts, in seconds (`Integer.MAX_VALUE`).
const MAX_WAIT_SECONDS: i64 = i32::MAX as i64;

/// How long a Wait state waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitTarget {
    /// This many seconds from now.
    Seconds(u64),
    /// Until this instant (no wait if it has passed).
    Until(Timestamp),
}

impl WaitTarget {
    /// The instant the wait ends, given the engine's `now`; AWS's "Wait state delay is too
    /// long." error when that is more than `i32::MAX` seconds away.
    pub fn deadline(self, now: Timestamp) -> Result<Timestamp, EvalError> {
        let (end, delay) = match self {
            WaitTarget::Seconds(s) => {
                let s = i64::try_from(s).unwrap_or(i64::MAX);
                let end = Timestamp {
                    unix_seconds: now.unix_seconds.saturating_add(s),
                    nanos: now.nanos,
                };
                (end, s)
            }
            WaitTarget::Until(t) => (t, t.unix_seconds.saturating_sub(now.unix_seconds)),
        };
        if delay > MAX_WAIT_SECONDS {
            return Err(EvalError::runtime("Wait state delay is too long."));
        }
        Ok(end.max(now))
    }
}

/// `Seconds`, `SecondsPath`, `Timestamp` or `TimestampPath` of a Wait state, against
/// `scope.input` (the effective input). Call [`WaitTarget::deadline`] with the clock's time to
/// get the instant (and AWS's error for a wait that is too long).
pub fn wait_target(
    state: &WaitState,
    lang: QueryLanguage,
    scope: &Scope,
) -> Result<WaitTarget, EvalError> {
    let target = if let Some(s) = &state.seconds {
        WaitTarget::Seconds(seconds_value(s, "Seconds", scope)?)
    } else if let Some(p) = &state.seconds_path {
        let v = jsonpath::query(p, scope).map_err(|_| {
            EvalError::runtime(format!(
                "The SecondsPath parameter does not reference an input value: {p}"
            ))
        })?;
        match v.as_i64() {
            Some(n) if n < 0 => {
                return Err(EvalError::runtime(format!(
                    "The SecondsPath parameter references a negative value: {p} == {n}"
                )));
            }
            Some(n) => WaitTarget::Seconds(n as u64),
            None => {
                return Err(EvalError::runtime(format!(
                    "The SecondsPath parameter cannot be parsed as a long value: {p} == {}",
                    text(&v)
                )));
            }
        }
    } else if let Some(t) = &state.timestamp {
        match (lang, jsonata::expression(t)) {
            (QueryLanguage::Jsonata, Some(_)) => {
                let v = jsonata_template(&Value::String(t.clone()), "Timestamp", scope)?;
                let ts = v.as_str().and_then(Timestamp::parse).ok_or_else(|| {
                    EvalError::query(format!(
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                        text(&v)
                    ))
                    .at("Timestamp")
                })?;
                WaitTarget::Until(ts)
            }
            _ => WaitTarget::Until(Timestamp::parse(t).ok_or_else(|| {
                let e = format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {t}"
                );
                match lang {
                    QueryLanguage::Jsonata => EvalError::query(e).at("Timestamp"),
                    QueryLanguage::JsonPath => EvalError::runtime(e),
                }
            })?),
        }
    } else if let Some(p) = &state.timestamp_path {
        let v = jsonpath::query(p, scope).map_err(|_| {
            EvalError::runtime(format!(
                "The TimestampPath parameter does not reference an input value: {p}"
            ))
        })?;
        let ts = v.as_str().and_then(Timestamp::parse).ok_or_else(|| {
            EvalError::runtime(format!(
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {}",
                text(&v)
            ))
        })?;
        WaitTarget::Until(ts)
    } else {
        return Err(EvalError::runtime(
            "A Wait state needs one of Seconds, SecondsPath, Timestamp or TimestampPath",
        ));
    };
    Ok(target)
}

/// A value as AWS quotes it after `==` in causes: strings bare, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    }
}

/// A non-negative whole number from a literal or a JSONata expression.
fn seconds_value(n: &NumberOrExpr, field: &str, scope: &Scope) -> Result<u64, EvalError> {
    let v = number_or_expr(n, field, scope)?;
    v.as_u64().ok_or_else(|| {
        EvalError::query(format!(
            "The {field} field must be a non-negative integer but was: {}",
            compact(&v)
        ))
        .at(field)
    })
}

fn number_or_expr(n: &NumberOrExpr, field: &str, scope: &Scope) -> Result<Value, EvalError> {
    match n {
        NumberOrExpr::Number(num) => Ok(Value::Number(num.clone())),
        NumberOrExpr::Expr(e) => jsonata_template(&Value::String(e.clone()), field, scope),
    }
}

/// The items a Map state iterates: `ItemsPath` (JSONPath, default `$`) or `Items` (JSONata,
/// default `$states.input`) against `scope.input`; an error unless it is an array.
pub fn map_items(
    state: &MapState,
    lang: QueryLanguage,
    scope: &Scope,
) -> Result<Vec<Value>, EvalError> {
    match lang {
        QueryLanguage::JsonPath => {
            let p = state.items_path.as_deref().unwrap_or("$");
            match jsonpath::query(p, scope).map_err(|e| invalid_path(p, &e))? {
                Value::Array(items) => Ok(items),
                // AWS prints a context path with one `$` here, and the cause without the
                // "An error occurred while executing the state ..." prefix.
                _ => Err(EvalError::runtime(format!(
                    "Reference path \"{}\" must point to array.",
                    p.strip_prefix('$')
                        .filter(|r| r.starts_with('$'))
                        .unwrap_or(p)
                ))
                .unprefixed()),
            }
        }
        QueryLanguage::Jsonata => match &state.items {
            None => match scope.input {
                Value::Array(items) => Ok(items.clone()),
                other => Err(EvalError::query(format!(
                    "Map state input must be an array but was: {}",
                    compact(other)
                ))),
            },
            Some(items) => {
                let expr = items.as_str().and_then(jsonata::expression);
                match jsonata_template(items, "Items", scope)? {
                    Value::Array(a) => Ok(a),
                    other => Err(EvalError::query(format!(
                        "The JSONata expression '{}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {}",
                        expr.map(str::trim).unwrap_or_default(),
                        json_type(&other),
                        compact(&other)
                    ))
                    .at("Items")),
                }
            }
        },
    }
}

/// The JSON type name AWS uses in messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Concurrency and failure tolerance of a Map state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MapLimits {
    /// Iterations at once; 0 = no limit.
    pub max_concurrency: u64,
    /// Failed items tolerated (`None` when not set).
    pub tolerated_failure_count: Option<u64>,
    /// Percentage of failed items tolerated (`None` when not set).
    pub tolerated_failure_percentage: Option<f64>,
}

/// `MaxConcurrency[Path]`, `ToleratedFailureCount[Path]`, `ToleratedFailurePercentage[Path]`.
pub fn map_limits(
    state: &MapState,
    lang: QueryLanguage,
    scope: &Scope,
) -> Result<MapLimits, EvalError> {
    let _ = lang;
    let mut limits = MapLimits::default();
    if let Some(v) = field_value(
        &state.max_concurrency,
        &state.max_concurrency_path,
        "MaxConcurrency",
        scope,
    )? {
        let n = integer(&v).ok_or_else(|| {
            not_number("MaxConcurrency", &state.max_concurrency_path, &v, "integer")
        })?;
        if n < 0 {
            return Err(EvalError::runtime("MaxConcurrency cannot be negative."));
        }
        limits.max_concurrency = n as u64;
    }
    if let Some(v) = field_value(
        &state.tolerated_failure_count,
        &state.tolerated_failure_count_path,
        "ToleratedFailureCount",
        scope,
    )? {
        let n = integer(&v).ok_or_else(|| {
            not_number(
                "ToleratedFailureCount",
                &state.tolerated_failure_count_path,
                &v,
                "integer",
            )
        })?;
        if n < 0 {
            return Err(EvalError::runtime(
                "ToleratedFailureCount cannot be negative.",
            ));
        }
        limits.tolerated_failure_count = Some(n as u64);
    }
    if let Some(v) = field_value(
        &state.tolerated_failure_percentage,
        &state.tolerated_failure_percentage_path,
        "ToleratedFailurePercentage",
        scope,
    )? {
        let f = float(&v).ok_or_else(|| {
            not_number(
                "ToleratedFailurePercentage",
                &state.tolerated_failure_percentage_path,
                &v,
                "float",
            )
        })?;
        if !(0.0..=100.0).contains(&f) {
            return Err(EvalError::runtime(
                "ToleratedFailurePercentage must be between 0 and 100.",
            ));
        }
        limits.tolerated_failure_percentage = Some(f);
    }
    Ok(limits)
}

/// The value of `Field` (literal or JSONata) or `FieldPath` (JSONPath), if either is set.
fn field_value(
    literal: &Option<NumberOrExpr>,
    path: &Option<String>,
    field: &str,
    scope: &Scope,
) -> Result<Option<Value>, EvalError> {
    if let Some(n) = literal {
        return number_or_expr(n, field, scope).map(Some);
    }
    match path {
        None => Ok(None),
        Some(p) => jsonpath::query(p, scope)
            .map(Some)
            .map_err(|e| invalid_path(p, &e)),
    }
}

fn not_number(field: &str, path: &Option<String>, v: &Value, kind: &str) -> EvalError {
    match path {
        Some(p) => EvalError::runtime(format!(
            "The {field}Path field refers to value \"{}\" which is not a valid {kind}: {p}",
            text(v)
        )),
        None => EvalError::query(format!(
            "The {field} field must be a valid {kind} but was: {}",
            compact(v)
        ))
        .at(field),
    }
}

/// A whole number from a JSON integer or a string holding one.
pub(crate) fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A number from a JSON number or a string holding one.
fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
        _ => None,
    }
}

/// Error and cause of a Fail state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FailFields {
    /// `Error` / `ErrorPath`.
    pub error: Option<String>,
    /// `Cause` / `CausePath`.
    pub cause: Option<String>,
}

/// `Error`/`ErrorPath` and `Cause`/`CausePath` of a Fail state (paths may be intrinsics;
/// in JSONata, `Error` and `Cause` may be expressions).
pub fn fail_fields(
    state: &FailState,
    lang: QueryLanguage,
    scope: &Scope,
) -> Result<FailFields, EvalError> {
    let one = |literal: &Option<String>, path: &Option<String>, field: &str| {
        if let Some(l) = literal {
            return match lang {
                QueryLanguage::Jsonata => jsonata_template(&Value::String(l.clone()), field, scope)
                    .map(|v| Some(text(&v))),
                QueryLanguage::JsonPath => Ok(Some(l.clone())),
            };
        }
        match path {
            None => Ok(None),
            Some(p) => dollar_field(p, &format!("{field}Path"), scope).map(|v| Some(text(&v))),
        }
    };
    Ok(FailFields {
        error: one(&state.error, &state.error_path, "Error")?,
        cause: one(&state.cause, &state.cause_path, "Cause")?,
    })
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
    let _ = lang;
    let one = |literal: &Option<NumberOrExpr>, path: &Option<String>, field: &str| {
        match field_value(literal, path, field, scope)? {
            None => Ok(None),
            Some(v) => match integer(&v) {
                Some(n) if n > 0 => Ok(Some(n as u64)),
                _ => Err(match path {
                    Some(p) => EvalError::runtime(format!(
                        "The {field}Path field refers to value \"{}\" which is not a valid positive integer: {p}",
                        text(&v)
                    )),
                    None => EvalError::query(format!(
                        "The {field} field must be a positive integer but was: {}",
                        compact(&v)
                    ))
                    .at(field),
                }),
            },
        }
    };
    Ok(TaskTimeouts {
        timeout_seconds: one(
            &state.timeout_seconds,
            &state.timeout_seconds_path,
            "TimeoutSeconds",
        )?,
        heartbeat_seconds: one(
            &state.heartbeat_seconds,
            &state.heartbeat_seconds_path,
            "HeartbeatSeconds",
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::SeededRandom;
    use serde_json::{json, Map};

    fn scope_run<T>(input: Value, f: impl FnOnce(&Scope) -> T) -> T {
        let ctx = json!({});
        let vars = Map::new();
        let rng = SeededRandom::new(1);
        f(&Scope::new(&input, &ctx, &vars, &rng))
    }

    fn wait(fields: Value) -> WaitState {
        let mut v = json!({"End": true});
        v.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn wait_fields_give_aws_causes() {
        let now = Timestamp::parse("2026-11-23T20:07:34Z").unwrap();
        let cause = |state: WaitState, input: Value| {
            scope_run(input, |s| {
                wait_target(&state, QueryLanguage::JsonPath, s)
                    .and_then(|t| t.deadline(now))
                    .unwrap_err()
                    .cause
            })
        };
        let sp = || wait(json!({"SecondsPath": "$.w"}));
        assert_eq!(
            cause(sp(), json!({"w": 1.5})),
            "The SecondsPath parameter cannot be parsed as a long value: $.w == 1.5"
        );
        assert_eq!(
            cause(sp(), json!({"w": -1})),
            "The SecondsPath parameter references a negative value: $.w == -1"
        );
        assert_eq!(
            cause(sp(), json!({})),
            "The SecondsPath parameter does not reference an input value: $.w"
        );
        let tp = || wait(json!({"TimestampPath": "$.t"}));
        assert_eq!(
            cause(tp(), json!({"t": "2016-12-05T21:29:29"})),
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == 2016-12-05T21:29:29"
        );
        assert_eq!(
            cause(tp(), json!({"t": "2094-12-12T20:07:34.000Z"})),
            "Wait state delay is too long."
        );
        let ok = scope_run(json!({"t": "2094-12-11T20:07:34.000Z"}), |s| {
            wait_target(&tp(), QueryLanguage::JsonPath, s).and_then(|t| t.deadline(now))
        });
        assert!(ok.is_ok());
    }

    #[test]
    fn map_fields_give_aws_causes() {
        let map = |fields: Value| -> MapState {
            let mut v = json!({"ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true});
            v.as_object_mut()
                .unwrap()
                .extend(fields.as_object().unwrap().clone());
            serde_json::from_value(v).unwrap()
        };
        let limits = |state: MapState, input: Value| {
            scope_run(input, |s| map_limits(&state, QueryLanguage::JsonPath, s))
        };
        let m = map(json!({"MaxConcurrencyPath": "$.m"}));
        assert_eq!(
            limits(m.clone(), json!({"m": "NoNumber"})).unwrap_err().cause,
            "The MaxConcurrencyPath field refers to value \"NoNumber\" which is not a valid integer: $.m"
        );
        assert_eq!(limits(m, json!({"m": "2"})).unwrap().max_concurrency, 2);
        let p = map(json!({"ToleratedFailurePercentagePath": "$.p"}));
        assert_eq!(
            limits(p, json!({"p": 100.1})).unwrap_err().cause,
            "ToleratedFailurePercentage must be between 0 and 100."
        );
        let items = |state: MapState, lang, input: Value| {
            scope_run(input, |s| map_items(&state, lang, s).map_err(|e| e.cause))
        };
        assert_eq!(
            items(map(json!({})), QueryLanguage::Jsonata, json!(1)).unwrap_err(),
            "Map state input must be an array but was: 1"
        );
        assert_eq!(
            items(map(json!({"Items": "{% $states.input.x %}"})), QueryLanguage::Jsonata, json!({"x": {"foo": "bar"}}))
                .unwrap_err(),
            "The JSONata expression '$states.input.x' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}"
        );
        assert_eq!(
            items(
                map(json!({"ItemsPath": "$.a"})),
                QueryLanguage::JsonPath,
                json!({"a": [1, 2]})
            )
            .unwrap(),
            vec![json!(1), json!(2)]
        );
    }
}
