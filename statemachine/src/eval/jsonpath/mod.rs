//! JSONPath as Step Functions reads it (Jayway semantics): `$` (input), `$$` (context object)
//! and `$name` (variable) roots; `.key`, `['key']`, `[n]`, `[*]`, `..`, slices, unions,
//! filters `[?(@.a > 1)]` and `.length()`. Reference paths (definite: one value) and full
//! paths (indefinite: a list) are told apart as AWS does.

use serde_json::Value;

use super::{not_yet, EvalError, Scope};

/// Evaluates `path` against `scope`: `Ok(None)` when a definite path finds nothing, a list
/// for an indefinite path.
pub fn query(path: &str, scope: &Scope) -> Result<Option<Value>, EvalError> {
    let _ = (path, scope);
    Err(not_yet("JSONPath"))
}
