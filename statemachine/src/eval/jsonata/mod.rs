//! JSONata, the `QueryLanguage: JSONata` expressions written as `{% ... %}`: the language of
//! JSONata 2.0.6 as Step Functions runs it, with the `$states` variable (`input`, `context`,
//! `result`, `errorOutput`), workflow variables, the standard function library and Step
//! Functions' additions (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`).
//! `$eval` is not offered (as on AWS).
//!
//! The pipeline: [`lexer`] (tokens), [`parser`] (raw tree by precedence), [`ast`] with
//! [`ancestry`] (paths, stages, focus/index/parent bindings, tail calls), [`eval`] with
//! [`path`] (sequences, tuple streams, predicates, sort, grouping) and [`apply`] (lambdas,
//! built-ins with [`signature`] checks, partial application, chains, transforms), over the
//! values of [`value`]. The library: [`functions`] (strings, numbers), [`regexfns`] (regexes
//! and matcher functions), [`collections`] (arrays, objects, higher-order, time, the AWS
//! additions), [`integer`] (integer pictures), [`datetime`] and [`timeparse`] (date-time
//! pictures), [`numfmt`] (`$formatNumber`, `$formatBase`, URL encoding).
//! [`evaluate_document`] runs an expression over a document as JSONata's own test suite does
//! (`tests/jsonata-suite`, measured by `tests/integration/jsonata_suite.rs`).
//!
//! Deterministic: the clock comes from the context object and randomness from the scope.
//! Evaluation is bounded by a depth and a step budget (`U1001` past either).

mod ancestry;
mod apply;
mod ast;
mod collections;
mod datetime;
mod eval;
mod functions;
mod integer;
mod lexer;
mod numfmt;
mod parser;
mod path;
mod regexfns;
mod signature;
mod timeparse;
mod value;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::Value;

use super::{EvalError, Scope};
use ast::Node;
use value::{from_json, to_json, Frame, V};

/// A JSONata syntax or evaluation error: the JSONata error code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct JsonataError {
    /// JSONata's error code (`S0201`, `T2001`, `D3030`, ...).
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// Byte offset in the expression where it went wrong, when known.
    pub position: Option<usize>,
}

impl JsonataError {
    fn new(code: &str, message: &str) -> JsonataError {
        JsonataError {
            code: code.to_string(),
            message: message.to_string(),
            position: None,
        }
    }

    fn at(code: &str, position: usize, message: &str) -> JsonataError {
        JsonataError {
            code: code.to_string(),
            message: message.to_string(),
            position: Some(position),
        }
    }

    fn lex(code: &str, pos: usize, message: &str) -> JsonataError {
        JsonataError::at(code, pos, &format!("{message} (at position {pos})"))
    }
}

/// The expression inside `{% ... %}`, if `text` is exactly one (no text around it).
pub fn expression(text: &str) -> Option<&str> {
    text.strip_prefix("{%")?.strip_suffix("%}")
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Rc<Node>>> = RefCell::new(HashMap::new());
}

/// Parses `expr`, reusing an earlier parse of the same text on this thread.
fn parsed(expr: &str) -> Result<Rc<Node>, JsonataError> {
    if let Some(n) = CACHE.with(|c| c.borrow().get(expr).cloned()) {
        return Ok(n);
    }
    let node = Rc::new(ast::build(parser::parse(expr)?)?);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 4096 {
            c.clear();
        }
        c.insert(expr.to_string(), node.clone());
    });
    Ok(node)
}

/// Evaluates a JSONata expression to a JSONata value (`None` = undefined).
pub fn evaluate_raw(expr: &str, scope: &Scope) -> Result<Option<Value>, Result<JsonataError, ()>> {
    let node = parsed(expr).map_err(Ok)?;
    let mut states = IndexMap::new();
    states.insert("input".to_string(), from_json(scope.input));
    states.insert("context".to_string(), from_json(scope.context));
    if let Some(r) = scope.result {
        states.insert("result".to_string(), from_json(r));
    }
    if let Some(e) = scope.error_output {
        states.insert("errorOutput".to_string(), from_json(e));
    }
    let frame = Frame::default();
    frame.bind("states", V::obj(states));
    let mut ev = eval::Evaluator::new(scope);
    match ev.eval(&node, None, &frame).map_err(Ok)? {
        None => Ok(None),
        Some(v) => to_json(&v).map(Some).map_err(|_| Err(())),
    }
}

/// What a standalone evaluation ([`evaluate_document`]) sees besides its input document.
pub struct DocumentOptions<'a> {
    /// Variables bound before evaluation (`$name`).
    pub bindings: &'a serde_json::Map<String, Value>,
    /// The current time for `$now()` and `$millis()`, as an ISO 8601 timestamp.
    pub now: &'a str,
    /// Randomness for `$random()`, `$shuffle()`, `$uuid()`.
    pub random: &'a dyn crate::eval::Random,
    /// Deepest nesting of evaluation (`U1001` past it).
    pub max_depth: usize,
    /// Most evaluation steps (`U1001` past it).
    pub max_steps: u64,
}

impl DocumentOptions<'_> {
    /// The engine's own limits on nesting and steps.
    pub const DEFAULT_MAX_DEPTH: usize = eval::MAX_DEPTH;
    /// The engine's own limit on evaluation steps.
    pub const DEFAULT_MAX_STEPS: u64 = eval::MAX_STEPS;
}

/// Evaluates a JSONata expression over a JSON document (`$`; `None` = undefined) outside any
/// state machine: how JSONata's own test suite runs an expression. `Ok(None)` is undefined.
/// A result JSON cannot hold (a function) is an error `T0001`.
pub fn evaluate_document(
    expr: &str,
    input: Option<&Value>,
    options: &DocumentOptions<'_>,
) -> Result<Option<Value>, JsonataError> {
    evaluate_prepared(expr, &Prepared::new(input), options)
}

/// A document converted once into the evaluator's values, for evaluating many expressions
/// over it with [`evaluate_prepared`].
#[derive(Clone)]
pub struct Prepared(Option<V>);

impl Prepared {
    /// Converts `input` (`None` = undefined). An array is wrapped in a sequence, as the
    /// reference implementation wraps an array input.
    pub fn new(input: Option<&Value>) -> Prepared {
        Prepared(input.map(|v| match from_json(v) {
            a @ V::Arr(..) => V::arr(vec![a], value::Kind::Outer),
            other => other,
        }))
    }
}

/// [`evaluate_document`] over a document already converted.
pub fn evaluate_prepared(
    expr: &str,
    input: &Prepared,
    options: &DocumentOptions<'_>,
) -> Result<Option<Value>, JsonataError> {
    let node = parsed(expr)?;
    let context = serde_json::json!({ "State": { "EnteredTime": options.now } });
    let null = Value::Null;
    let scope = Scope::new(&null, &context, options.bindings, options.random);
    let frame = Frame::default();
    let mut ev = eval::Evaluator::with_limits(&scope, options.max_depth, options.max_steps);
    if let Some(c) = &input.0 {
        frame.bind("$", c.clone());
    }
    match ev.eval(&node, input.0.as_ref(), &frame)? {
        None => Ok(None),
        Some(v) => to_json(&v).map(Some).map_err(|what| {
            JsonataError::new(
                "T0001",
                &format!("the result holds a {what}, which JSON cannot hold"),
            )
        }),
    }
}

/// Evaluates the JSONata expression `expr` (the text between `{%` and `%}`) of the field
/// `field` (`Output`, `Arguments/FunctionName`, `Assign/x`, ...): `Ok(None)` when it yields
/// nothing (undefined). Errors are `States.QueryEvaluationError`s located at `field`.
pub fn evaluate(expr: &str, field: &str, scope: &Scope) -> Result<Option<Value>, EvalError> {
    let shown = expr.trim();
    evaluate_raw(expr, scope).map_err(|e| {
        match e {
            Ok(err) => EvalError::query(format!(
                "The JSONata expression '{shown}' specified for the field '{field}' threw an error during evaluation: {err}"
            )),
            Err(()) => EvalError::query(format!(
                "The JSONata expression '{shown}' specified for the field '{field}' returned an unsupported result type."
            )),
        }
        .at(field)
    })
}

#[cfg(test)]
mod tests;
