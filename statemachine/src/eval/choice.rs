//! Choice rules: every comparison operator with AWS's type rules (a value of the wrong type
//! makes the comparison false, a missing `Variable` is a `States.Runtime` error), `And`, `Or`,
//! `Not`, and JSONata `Condition`s.

use super::{not_yet, EvalError, Scope};
use crate::asl::Condition;

/// Whether `condition` holds for `scope.input` (the Choice state's effective input).
pub fn evaluate_rule(condition: &Condition, scope: &Scope) -> Result<bool, EvalError> {
    let _ = (condition, scope);
    Err(not_yet("Choice rules"))
}
