//! JSONata, the `QueryLanguage: JSONata` expressions in `{% ... %}`, with the `$states`
//! variable and AWS's extra functions.

use serde_json::Value;

use super::{not_yet, EvalError, Scope};

/// The expression inside `{% ... %}`, if `text` is one.
pub fn expression(text: &str) -> Option<&str> {
    let t = text.trim();
    t.strip_prefix("{%")?.strip_suffix("%}")
}

/// Evaluates one JSONata expression (the text between `{%` and `%}`) against `scope`;
/// `Ok(None)` when it yields nothing (undefined).
pub fn evaluate(expr: &str, scope: &Scope) -> Result<Option<Value>, EvalError> {
    let _ = (expr, scope);
    Err(not_yet("JSONata"))
}
