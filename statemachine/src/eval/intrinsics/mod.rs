//! Intrinsic functions (`States.Format(...)`, `States.Array(...)`, ...): the call syntax
//! ([`parse`]) and the functions, with AWS's argument rules and error causes.

mod functions;
pub mod parse;

use serde_json::Value;

pub use functions::json_eq;
use functions::{call, Evaluated};
use parse::{Arg, Call};

use super::jsonpath::{self, QueryError};
use super::{ErrorKind, EvalError, Scope};

/// Calls the intrinsic `name` (`States.ArrayRange`, ...) with already evaluated arguments, as
/// the JSONata twins of the intrinsics (`$range`, `$partition`, `$hash`, ...) do.
pub fn call_function(
    name: &str,
    args: Vec<Value>,
    random: &dyn super::Random,
) -> Result<Value, EvalError> {
    let args = args
        .into_iter()
        .map(|value| Evaluated { value, raw: None })
        .collect();
    call(name, args, random)
}

/// Whether `text` is an intrinsic function call (starts with `States.`).
pub fn is_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

/// Evaluates the intrinsic call `text` against `scope`. `field` names the template field it
/// came from (`value.$`), for the error when a path argument finds nothing.
pub fn evaluate(text: &str, field: &str, scope: &Scope) -> Result<Value, EvalError> {
    let call = parse::parse(text).map_err(|e| {
        EvalError::new(
            ErrorKind::IntrinsicFailure,
            format!("The value of the field '{field}' is not a valid intrinsic function: {e}"),
        )
    })?;
    evaluate_call(&call, field, scope)
}

fn evaluate_call(c: &Call, field: &str, scope: &Scope) -> Result<Value, EvalError> {
    let mut args = Vec::with_capacity(c.args.len());
    for a in &c.args {
        args.push(match a {
            Arg::Literal(v) => Evaluated {
                value: v.clone(),
                raw: None,
            },
            Arg::Template(raw, v) => Evaluated {
                value: v.clone(),
                raw: Some(raw.clone()),
            },
            Arg::Path(p) => Evaluated {
                value: path_argument(p, field, scope)?,
                raw: None,
            },
            Arg::Call(inner) => Evaluated {
                value: evaluate_call(inner, field, scope)?,
                raw: None,
            },
        });
    }
    call(&c.name, args, scope.random)
}

fn path_argument(path: &str, field: &str, scope: &Scope) -> Result<Value, EvalError> {
    jsonpath::query(path, scope).map_err(|e| match e {
        QueryError::Parse(p) => EvalError::new(
            ErrorKind::IntrinsicFailure,
            format!("The value of the field '{field}' has an invalid path argument: {p}"),
        ),
        QueryError::NotFound(_) | QueryError::UnknownVariable(_) => EvalError::runtime(format!(
            "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{}'",
            compact(scope.input)
        )),

        QueryError::TooLarge(m) => EvalError::runtime(format!(
            "The JSONPath '{path}' specified for the field '{field}' cannot be evaluated: {m}"
        )),
    })
}

/// JSON text without spaces, as AWS quotes inputs in causes.
pub(crate) fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::SeededRandom;
    use serde_json::json;

    #[test]
    fn evaluates_nested_calls_with_paths_and_context() {
        let input = json!({"FunctionInput": {"fst": "a-b-c"}});
        let ctx = json!({"StateMachine": {"Name": "first-second"}});
        let vars = serde_json::Map::new();
        let rng = SeededRandom::new(1);
        let scope = Scope::new(&input, &ctx, &vars, &rng);
        let v = evaluate(
            "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
            "r.$",
            &scope,
        )
        .unwrap();
        assert_eq!(v, json!("second"));
        let v = evaluate(
            r"States.Format('\{{}\}', $.FunctionInput.fst)",
            "r.$",
            &scope,
        )
        .unwrap();
        assert_eq!(v, json!("{a-b-c}"));
        let err = evaluate("States.Format('{}', $.nope)", "r.$", &scope).unwrap_err();
        assert_eq!(
            err.cause,
            r#"The JSONPath '$.nope' specified for the field 'r.$' could not be found in the input '{"FunctionInput":{"fst":"a-b-c"}}'"#
        );
    }
}
