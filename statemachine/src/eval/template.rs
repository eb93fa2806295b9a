//! Payload templates. JSONPath (`Parameters`, `ItemSelector`, `ResultSelector`, `Assign`, ...):
//! keys ending in `.$` are replaced by what their path, intrinsic function, context path or
//! variable gives, in nested objects and arrays too. JSONata (`Arguments`, `Output`, `Assign`):
//! every string that is a whole `{% ... %}` expression is replaced by its value.

use serde_json::{Map, Value};

use super::intrinsics::{self, compact};
use super::jsonata;
use super::jsonpath::{self, QueryError};
use super::{EvalError, Scope};

/// Evaluates a JSONPath payload template with `$` = `scope.input`.
pub fn jsonpath_template(template: &Value, scope: &Scope) -> Result<Value, EvalError> {
    match template {
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                match k.strip_suffix(".$") {
                    Some(name) => {
                        let Value::String(expr) = v else {
                            return Err(EvalError::runtime(format!(
                                "The value of the field '{k}' must be a string path or intrinsic function"
                            )));
                        };
                        out.insert(name.to_string(), dollar_field(expr, k, scope)?);
                    }
                    None => {
                        out.insert(k.clone(), jsonpath_template(v, scope)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|v| jsonpath_template(v, scope))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// The value of one `key.$` field: a path, `$$` path, variable or intrinsic call.
pub fn dollar_field(expr: &str, field: &str, scope: &Scope) -> Result<Value, EvalError> {
    if intrinsics::is_intrinsic(expr) {
        return intrinsics::evaluate(expr, field, scope);
    }
    jsonpath::query(expr, scope).map_err(|e| match e {
        QueryError::Parse(p) => EvalError::runtime(format!(
            "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call: {p}"
        )),
        QueryError::NotFound(_) | QueryError::UnknownVariable(_) => not_found(expr, field, scope),
        QueryError::TooLarge(m) => EvalError::runtime(format!(
            "The JSONPath '{expr}' specified for the field '{field}' cannot be evaluated: {m}"
        )),
    })
}

/// AWS's cause for a path in a template that found nothing.
pub fn not_found(path: &str, field: &str, scope: &Scope) -> EvalError {
    EvalError::runtime(format!(
        "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{}'",
        compact(scope.input)
    ))
}

/// Evaluates a JSONata template: `{% %}` strings anywhere inside `template` are evaluated;
/// `location` is the field's name (`Output`, `Arguments`), extended with keys as AWS does
/// (`Output/result`) for the error of an expression that yields nothing.
pub fn jsonata_template(
    template: &Value,
    location: &str,
    scope: &Scope,
) -> Result<Value, EvalError> {
    match template {
        Value::String(s) => match jsonata::expression(s) {
            Some(expr) => match jsonata::evaluate(expr, location, scope)? {
                Some(v) => Ok(v),
                None => Err(EvalError::query(format!(
                    "The JSONata expression '{}' specified for the field '{location}' returned nothing (undefined).",
                    expr.trim()
                ))
                .at(location)),
            },
            None => Ok(template.clone()),
        },
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                out.insert(k.clone(), jsonata_template(v, &format!("{location}/{k}"), scope)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| jsonata_template(v, &format!("{location}[{i}]"), scope))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::SeededRandom;
    use serde_json::json;

    #[test]
    fn dollar_keys_nested_objects_and_arrays() {
        let input = json!({"a": 1, "list": [1, 2]});
        let ctx = json!({"Execution": {"Id": "arn"}});
        let vars = json!({"v": "var"});
        let Value::Object(vars) = vars else {
            unreachable!()
        };
        let rng = SeededRandom::new(1);
        let scope = Scope::new(&input, &ctx, &vars, &rng);
        let t = json!({
            "x.$": "$.a",
            "lit": "$.a",
            "nested": {"id.$": "$$.Execution.Id", "arr": [{"v.$": "$v"}, "plain"]},
            "n.$": "States.ArrayLength($.list)"
        });
        assert_eq!(
            jsonpath_template(&t, &scope).unwrap(),
            json!({"x": 1, "lit": "$.a", "nested": {"id": "arn", "arr": [{"v": "var"}, "plain"]}, "n": 2})
        );
        let err = jsonpath_template(&json!({"value.$": "$.no_such_jsonpath"}), &scope).unwrap_err();
        assert_eq!(
            err.cause,
            r#"The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{"a":1,"list":[1,2]}'"#
        );
    }
}
