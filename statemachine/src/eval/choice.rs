//! Choice rules: every comparison operator with AWS's type rules (a value of the wrong type
//! makes the comparison false, a missing `Variable` is a `States.Runtime` error), `And`, `Or`,
//! `Not`, and JSONata `Condition`s.

use std::cmp::Ordering;

use serde_json::Value;

use super::intrinsics::compact;
use super::jsonata;
use super::jsonpath::{self, cmp_numbers};
use super::state_fields::json_type;
use super::template::jsonata_template;
use super::{EvalError, Scope, Timestamp};
use crate::asl::{Comparison, Condition, Operand};

/// Whether `condition` holds for `scope.input` (the Choice state's effective input).
pub fn evaluate_rule(condition: &Condition, scope: &Scope) -> Result<bool, EvalError> {
    match condition {
        Condition::And(rules) => {
            for r in rules {
                if !evaluate_rule(&r.condition, scope)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Condition::Or(rules) => {
            for r in rules {
                if evaluate_rule(&r.condition, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Condition::Not(rule) => Ok(!evaluate_rule(&rule.condition, scope)?),
        Condition::Compare {
            variable,
            op,
            operand,
        } => compare(variable, *op, operand, scope),
        Condition::Jsonata(c) => jsonata_condition(c, scope),
    }
}

fn jsonata_condition(c: &Value, scope: &Scope) -> Result<bool, EvalError> {
    let expr = c.as_str().and_then(jsonata::expression);
    match jsonata_template(c, "Condition", scope)? {
        Value::Bool(b) => Ok(b),
        other => Err(EvalError::query(format!(
            "The JSONata expression '{}' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '{}' for value: {}",
            expr.map(str::trim).unwrap_or_default(),
            json_type(&other),
            compact(&other)
        ))
        .at("Condition")),
    }
}

fn missing_variable(variable: &str) -> EvalError {
    EvalError::runtime(format!(
        "Invalid path '{variable}': The choice state's condition path references an invalid value."
    ))
}

fn compare(
    variable: &str,
    op: Comparison,
    operand: &Operand,
    scope: &Scope,
) -> Result<bool, EvalError> {
    let value = match jsonpath::query(variable, scope) {
        Err(jsonpath::QueryError::TooLarge(m)) => {
            return Err(EvalError::runtime(format!(
                "Invalid path '{variable}': {m}"
            )));
        }
        found => found.ok(),
    };
    if op == Comparison::IsPresent {
        let expect = operand_bool(operand);
        return Ok(value.is_some() == expect);
    }
    let Some(value) = value else {
        return Err(missing_variable(variable));
    };
    if op.is_type_test() {
        let holds = match op {
            Comparison::IsNull => value.is_null(),
            Comparison::IsNumeric => value.is_number(),
            Comparison::IsString => value.is_string(),
            Comparison::IsBoolean => value.is_boolean(),
            Comparison::IsTimestamp => value.as_str().and_then(Timestamp::parse).is_some(),
            _ => false,
        };
        return Ok(holds == operand_bool(operand));
    }
    let other = match operand {
        Operand::Value(v) => v.clone(),
        Operand::Path(p) => jsonpath::query(p, scope).map_err(|_| missing_variable(p))?,
    };
    Ok(match op {
        Comparison::StringEquals
        | Comparison::StringLessThan
        | Comparison::StringGreaterThan
        | Comparison::StringLessThanEquals
        | Comparison::StringGreaterThanEquals => match (&value, &other) {
            (Value::String(a), Value::String(b)) => {
                ordered(op, a.encode_utf16().cmp(b.encode_utf16()))
            }
            _ => false,
        },
        Comparison::StringMatches => match (&value, &other) {
            (Value::String(a), Value::String(pattern)) => string_matches(a, pattern),
            _ => false,
        },
        Comparison::NumericEquals
        | Comparison::NumericLessThan
        | Comparison::NumericGreaterThan
        | Comparison::NumericLessThanEquals
        | Comparison::NumericGreaterThanEquals => match (&value, &other) {
            (Value::Number(a), Value::Number(b)) => {
                cmp_numbers(a, b).is_some_and(|o| ordered(op, o))
            }
            _ => false,
        },
        Comparison::BooleanEquals => match (&value, &other) {
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => false,
        },
        Comparison::TimestampEquals
        | Comparison::TimestampLessThan
        | Comparison::TimestampGreaterThan
        | Comparison::TimestampLessThanEquals
        | Comparison::TimestampGreaterThanEquals => {
            let a = value.as_str().and_then(Timestamp::parse);
            let b = other.as_str().and_then(Timestamp::parse);
            match (a, b) {
                (Some(a), Some(b)) => ordered(op, a.cmp(&b)),
                _ => false,
            }
        }
        _ => false,
    })
}

fn operand_bool(operand: &Operand) -> bool {
    matches!(operand, Operand::Value(Value::Bool(true)))
}

/// Whether an ordering satisfies the operator's relation (by its name's suffix).
fn ordered(op: Comparison, o: Ordering) -> bool {
    let name = op.name();
    if name.ends_with("LessThanEquals") {
        o != Ordering::Greater
    } else if name.ends_with("GreaterThanEquals") {
        o != Ordering::Less
    } else if name.ends_with("LessThan") {
        o == Ordering::Less
    } else if name.ends_with("GreaterThan") {
        o == Ordering::Greater
    } else {
        o == Ordering::Equal
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are a literal `*` and `\`.
pub fn string_matches(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => toks.push(Tok::Char(n)),
                None => toks.push(Tok::Char('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let t: Vec<char> = text.chars().collect();
    // Classic wildcard matching with backtracking to the last star.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match toks.get(pi) {
            Some(Tok::Char(c)) if *c == t[ti] => {
                ti += 1;
                pi += 1;
            }
            Some(Tok::Star) => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[pi..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests;
