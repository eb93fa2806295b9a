//! Placeholder-aware comparison of a run's result with a recorded AWS result, the rule of
//! `tests/asl-conformance/compare.py`: a token the recording replaced (an ARN part, a uuid, a
//! date, ...) matches any run of one or more characters inside an expected string; numbers
//! compare by value; a cause recorded as a JSON object matches a cause string that parses to it.

use serde_json::Value;

/// Whether `got` matches `exp`, where `placeholders` stand for any text. One extension of
/// `compare.py`: an expected string that is nothing but a placeholder stands for a whole value
/// the recording replaced (`"RandomNumberGenerated"` for a number), so it matches any scalar.
pub fn same(exp: &Value, got: &Value, placeholders: &[String]) -> bool {
    if let Value::String(e) = exp {
        if placeholders.iter().any(|p| p == e)
            && matches!(got, Value::Number(_) | Value::String(_) | Value::Bool(_))
        {
            return true;
        }
    }
    match (exp, got) {
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Bool(_), _) | (_, Value::Bool(_)) => false,
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        (Value::String(e), Value::String(g)) => e == g || pattern_matches(e, g, placeholders),
        (Value::Array(e), Value::Array(g)) => {
            e.len() == g.len() && e.iter().zip(g).all(|(a, b)| same(a, b, placeholders))
        }
        (Value::Object(e), Value::Object(g)) => {
            e.len() == g.len()
                && e.iter()
                    .all(|(k, v)| g.get(k).is_some_and(|w| same(v, w, placeholders)))
        }
        _ => exp == got,
    }
}

/// `expected` split at its placeholder tokens, each token matching one or more characters.
fn pattern_matches(expected: &str, got: &str, placeholders: &[String]) -> bool {
    let mut tokens: Vec<&str> = placeholders
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty() && expected.contains(p))
        .collect();
    if tokens.is_empty() {
        return false;
    }
    tokens.sort_by_key(|t| std::cmp::Reverse(t.len()));
    tokens.dedup();
    let mut parts: Vec<Part<'_>> = Vec::new();
    let mut rest = expected;
    while !rest.is_empty() {
        let hit = tokens
            .iter()
            .filter_map(|t| rest.find(t).map(|at| (at, *t)))
            .min_by_key(|&(at, t)| (at, std::cmp::Reverse(t.len())));
        match hit {
            Some((at, t)) => {
                if at > 0 {
                    parts.push(Part::Text(&rest[..at]));
                }
                parts.push(Part::Any);
                rest = &rest[at + t.len()..];
            }
            None => {
                parts.push(Part::Text(rest));
                rest = "";
            }
        }
    }
    glob(&parts, got)
}

#[derive(Clone, Copy)]
enum Part<'a> {
    Text(&'a str),
    Any,
}

/// Whether `s` is exactly `parts`, `Any` standing for one or more characters.
fn glob(parts: &[Part<'_>], s: &str) -> bool {
    match parts.split_first() {
        None => s.is_empty(),
        Some((Part::Text(t), rest)) => s.strip_prefix(t).is_some_and(|s| glob(rest, s)),
        Some((Part::Any, rest)) => s
            .char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .filter(|&i| i > 0)
            .any(|i| glob(rest, &s[i..])),
    }
}

/// The outcome of a run, as compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Actual {
    /// `SUCCEEDED`, `FAILED`, ... (TestState: `CAUGHT_ERROR`, `RETRIABLE`).
    pub status: String,
    /// The output.
    pub output: Option<Value>,
    /// The error name.
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
}

impl Actual {
    /// An outcome from its parts.
    pub fn of(
        status: &str,
        output: &Option<Value>,
        error: &Option<String>,
        cause: &Option<String>,
    ) -> Actual {
        Actual {
            status: status.to_string(),
            output: output.clone(),
            error: error.clone(),
            cause: cause.clone(),
        }
    }
}

/// `None` if `actual` matches the case's `expected`; otherwise what differs.
pub fn mismatch(expected: &Value, placeholders: &[String], actual: &Actual) -> Option<String> {
    let status = expected["status"].as_str().unwrap_or_default();
    let status_ok = actual.status == status || (status == "UNKNOWN" && actual.status == "RUNNING");
    if !status_ok {
        return Some(format!(
            "status {} (expected {status}); error {:?}; cause {:?}",
            actual.status, actual.error, actual.cause
        ));
    }
    if status == "SUCCEEDED" {
        let got = actual.output.clone().unwrap_or(Value::Null);
        let exp = expected.get("output").cloned().unwrap_or(Value::Null);
        return (!same(&exp, &got, placeholders))
            .then(|| format!("output {got}\n      expected {exp}"));
    }
    let has_output = expected.get("output").is_some();
    if has_output && !matches!(status, "FAILED" | "UNKNOWN" | "TIMED_OUT" | "ABORTED") {
        let got = actual.output.clone().unwrap_or(Value::Null);
        if !same(&expected["output"], &got, placeholders) {
            return Some(format!(
                "output {got}\n      expected {}",
                expected["output"]
            ));
        }
    }
    let text = |s: &Option<String>| s.clone().map(Value::String).unwrap_or(Value::Null);
    let exp_error = expected.get("error").cloned().unwrap_or(Value::Null);
    if !same(&exp_error, &text(&actual.error), placeholders) {
        return Some(format!("error {:?} (expected {exp_error})", actual.error));
    }
    let exp_cause = expected.get("cause").cloned().unwrap_or(Value::Null);
    let got_cause = match (&exp_cause, &actual.cause) {
        (Value::Object(_) | Value::Array(_), Some(c)) => match serde_json::from_str(c) {
            Ok(v) => v,
            Err(_) => return Some(format!("cause {c:?} is not the JSON {exp_cause}")),
        },
        _ => text(&actual.cause),
    };
    (!same(&exp_cause, &got_cause, placeholders))
        .then(|| format!("cause {got_cause}\n      expected {exp_cause}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ph(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn placeholders_match_any_text_and_the_rest_must_be_equal() {
        let p = ph(&["<ArnPart_0idx>", "date"]);
        assert!(same(
            &json!("arn:x:<ArnPart_0idx>:y"),
            &json!("arn:x:Machine:y"),
            &p
        ));
        assert!(!same(
            &json!("arn:x:<ArnPart_0idx>:y"),
            &json!("arn:x::y"),
            &p
        ));
        assert!(!same(
            &json!("arn:x:<ArnPart_0idx>:y"),
            &json!("arn:z:M:y"),
            &p
        ));
        assert!(same(&json!({"t": "date"}), &json!({"t": "2024-01-01"}), &p));
        assert!(!same(&json!("plain"), &json!("other"), &p));
    }

    #[test]
    fn numbers_compare_by_value_and_booleans_only_with_booleans() {
        assert!(same(&json!(1), &json!(1.0), &[]));
        assert!(!same(&json!(true), &json!(1), &[]));
        assert!(!same(&json!({"a": 1}), &json!({"a": 1, "b": 2}), &[]));
    }

    #[test]
    fn a_json_cause_matches_its_text() {
        let exp = json!({"status": "FAILED", "error": "E", "cause": {"a": 1}});
        let actual = Actual {
            status: "FAILED".into(),
            output: None,
            error: Some("E".into()),
            cause: Some("{\"a\": 1}".into()),
        };
        assert_eq!(mismatch(&exp, &[], &actual), None);
    }
}
