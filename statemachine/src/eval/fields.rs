//! Input/output processing and `Assign`: the fields every state shares, choosing JSONPath or
//! JSONata by the state's query language where both exist.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::jsonpath::{self, QueryError, Root, Segment, Selector};
use super::template::{jsonata_template, jsonpath_template};
use super::{EvalError, Scope};
use crate::asl::{NullablePath, QueryLanguage};

/// `InputPath` of a JSONPath state, applied to `scope.input`: absent = the whole input,
/// `null` = `{}`, a path = what it selects (a `States.Runtime` error if nothing).
pub fn apply_input_path(path: &NullablePath, scope: &Scope) -> Result<Value, EvalError> {
    select_path(path, scope)
}

/// `OutputPath` of a JSONPath state, applied to the state's output so far: absent = all of
/// it, `null` = `{}`, a path = what it selects (variables and `$$` as in `scope`).
pub fn apply_output_path(
    path: &NullablePath,
    output: &Value,
    scope: &Scope,
) -> Result<Value, EvalError> {
    select_path(path, &scope.with_input(output))
}

/// [`apply_input_path`] without a copy where there is no `InputPath`: the input, borrowed.
pub fn input_path_ref<'a>(
    path: &NullablePath,
    scope: &Scope<'a>,
) -> Result<Cow<'a, Value>, EvalError> {
    match path {
        None => Ok(Cow::Borrowed(scope.input)),
        _ => select_path(path, scope).map(Cow::Owned),
    }
}

/// [`apply_output_path`] taking the output: without an `OutputPath` it is returned as it is,
/// not copied.
pub fn output_path_owned(
    path: &NullablePath,
    output: Value,
    scope: &Scope,
) -> Result<Value, EvalError> {
    match path {
        None => Ok(output),
        _ => apply_output_path(path, &output, scope),
    }
}

fn select_path(path: &NullablePath, scope: &Scope) -> Result<Value, EvalError> {
    match path {
        None => Ok(scope.input.clone()),
        Some(None) => Ok(Value::Object(Map::new())),
        Some(Some(p)) => jsonpath::query(p, scope).map_err(|e| invalid_path(p, &e)),
    }
}

/// AWS's cause for a path field (InputPath, OutputPath, ItemsPath) that found nothing:
/// `Invalid path '$.x' : No results for path: $['x']`.
pub(crate) fn invalid_path(path: &str, e: &QueryError) -> EvalError {
    EvalError::runtime(format!("Invalid path '{path}' : {e}"))
}

/// `ResultPath` (of a state or a catcher): absent = the result replaces the input, `null` =
/// the input unchanged, a path = the input with `result` written there (objects created on the
/// way; a `States.Runtime` error where the path crosses a value that is not an object).
pub fn apply_result_path(
    path: &NullablePath,
    input: &Value,
    result: Value,
) -> Result<Value, EvalError> {
    let p = match path {
        None => return Ok(result),
        Some(None) => return Ok(input.clone()),
        Some(Some(p)) => p,
    };
    let parsed = jsonpath::parse(p).map_err(|e| invalid_path(p, &QueryError::Parse(e)))?;
    if parsed.root != Root::Input || parsed.function.is_some() || !parsed.is_definite() {
        return Err(EvalError::runtime(format!(
            "Invalid path '{p}' : ResultPath must be a reference path into the input"
        )));
    }
    let mut out = input.clone();
    let mut cur = &mut out;
    for (i, seg) in parsed.segments.iter().enumerate() {
        let crossed = || {
            EvalError::runtime(format!(
                "Invalid path '{p}' : Unable to write the result at {}: the value there is not an object",
                parsed.render(i)
            ))
        };
        cur = match seg {
            Segment::Child(Selector::Name(name)) => match cur {
                Value::Object(m) => m.entry(name.clone()).or_insert(Value::Object(Map::new())),
                _ => return Err(crossed()),
            },
            Segment::Child(Selector::Index(idx)) => match cur {
                Value::Array(items) => {
                    let len = items.len() as i64;
                    let k = if *idx < 0 { len + idx } else { *idx };
                    if k < 0 || k >= len {
                        return Err(EvalError::runtime(format!(
                            "Invalid path '{p}' : Index {idx} is out of bounds at {}",
                            parsed.render(i)
                        )));
                    }
                    &mut items[k as usize]
                }
                _ => return Err(crossed()),
            },
            _ => return Err(crossed()),
        };
    }
    *cur = result;
    Ok(out)
}

/// A payload template: `Parameters`, `ItemSelector`, `ResultSelector`, `Credentials` (JSONPath:
/// keys ending in `.$` take a path, an intrinsic function, a `$$` context path or a variable),
/// or `Arguments` / `Output` (JSONata: `{% ... %}` strings anywhere in the value). `field` is
/// the field's name as AWS names it in errors (`Arguments`, `Output`, ...).
/// In JSONPath, `$` is `scope.input`, so the engine passes the right input for the field
/// (the effective input for Parameters, the task result for ResultSelector).
pub fn evaluate_payload(
    lang: QueryLanguage,
    field: &str,
    template: &Value,
    scope: &Scope,
) -> Result<Value, EvalError> {
    match lang {
        QueryLanguage::JsonPath => jsonpath_template(template, scope),
        QueryLanguage::Jsonata => jsonata_template(template, field, scope),
    }
}

/// `Assign`: the variables to bind once the state is done (all evaluated against the old
/// variables). JSONPath: `$` is `scope.error_output` in a catcher, else `scope.result` if
/// given (the state's result after ResultSelector; for Pass, its Result or Parameters output),
/// else `scope.input`. JSONata: `$states.*` as in `scope`.
pub fn evaluate_assign(
    lang: QueryLanguage,
    assign: &Value,
    scope: &Scope,
) -> Result<Map<String, Value>, EvalError> {
    let Value::Object(_) = assign else {
        return Err(EvalError::runtime(
            "The field 'Assign' must be a JSON object",
        ));
    };
    let value = match lang {
        QueryLanguage::JsonPath => {
            let dollar = scope.error_output.or(scope.result).unwrap_or(scope.input);
            jsonpath_template(assign, &scope.with_input(dollar))?
        }
        QueryLanguage::Jsonata => jsonata_template(assign, "Assign", scope)?,
    };
    match value {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::SeededRandom;
    use serde_json::json;

    fn with_scope<T>(input: Value, f: impl FnOnce(&Scope) -> T) -> T {
        let ctx = json!({});
        let vars = Map::new();
        let rng = SeededRandom::new(1);
        f(&Scope::new(&input, &ctx, &vars, &rng))
    }

    #[test]
    fn input_and_output_paths() {
        with_scope(json!({"a": {"b": 1}}), |s| {
            assert_eq!(apply_input_path(&None, s).unwrap(), json!({"a": {"b": 1}}));
            assert_eq!(apply_input_path(&Some(None), s).unwrap(), json!({}));
            assert_eq!(
                apply_input_path(&Some(Some("$.a.b".into())), s).unwrap(),
                json!(1)
            );
            let err = apply_input_path(&Some(Some("$.NoSuchInputPath".into())), s).unwrap_err();
            assert_eq!(
                err.cause,
                "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
            );
            let err = apply_output_path(&Some(Some("$.no.such.result.path".into())), &json!({}), s)
                .unwrap_err();
            assert_eq!(
                err.cause,
                "Invalid path '$.no.such.result.path' : Missing property in path $['no']"
            );
        });
    }

    #[test]
    fn result_path_merges_and_creates() {
        let input = json!({"a": 1, "b": {"c": 2}});
        let p = |s: &str| Some(Some(s.to_string()));
        assert_eq!(
            apply_result_path(&None, &input, json!(5)).unwrap(),
            json!(5)
        );
        assert_eq!(
            apply_result_path(&Some(None), &input, json!(5)).unwrap(),
            input
        );
        assert_eq!(
            apply_result_path(&p("$"), &input, json!(5)).unwrap(),
            json!(5)
        );
        assert_eq!(
            apply_result_path(&p("$.b.d.e"), &input, json!(5)).unwrap(),
            json!({"a": 1, "b": {"c": 2, "d": {"e": 5}}})
        );
        assert!(apply_result_path(&p("$.a.x"), &input, json!(5)).is_err());
        assert!(apply_result_path(&p("$.x"), &json!("text"), json!(5)).is_err());
    }

    #[test]
    fn jsonpath_assign_reads_the_result_as_dollar() {
        let input = json!({"in": 1});
        let result = json!({"answer": 42});
        let ctx = json!({});
        let vars = Map::new();
        let rng = SeededRandom::new(1);
        let scope = Scope::new(&input, &ctx, &vars, &rng).with_result(&result);
        let got = evaluate_assign(
            QueryLanguage::JsonPath,
            &json!({"x.$": "$.answer", "lit": "$.in"}),
            &scope,
        )
        .unwrap();
        assert_eq!(Value::Object(got), json!({"x": 42, "lit": "$.in"}));
    }
}
