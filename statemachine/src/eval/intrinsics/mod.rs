//! Intrinsic functions (`States.Format(...)`, `States.Array(...)`, ...): parsing of the call
//! syntax and the functions themselves, with AWS's argument rules and error causes.

use serde_json::Value;

use super::{not_yet, EvalError, Scope};

/// Whether `text` is an intrinsic function call (starts with `States.` and a name).
pub fn is_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

/// Evaluates the intrinsic call `text` against `scope`.
pub fn evaluate(text: &str, scope: &Scope) -> Result<Value, EvalError> {
    let _ = (text, scope);
    Err(not_yet("intrinsic functions"))
}
