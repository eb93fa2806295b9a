//! The JSONata evaluator: walks an [`ast::Node`] tree over [`V`] values with JSONata's
//! sequence rules (path steps map over arrays and flatten; single results collapse). Paths,
//! tuple streams, predicates, sorting and grouping are in [`super::path`]; calling functions
//! (lambdas, built-ins, partial applications, chains, transforms) in [`super::apply`].
//!
//! Every evaluation counts against a depth and a step budget: past either it fails with
//! `U1001`, so a runaway expression stops instead of exhausting the stack or running forever.

use std::rc::Rc;

use super::ast::{Kind as N, Node};
use super::functions;
use super::value::{deep_eq, stringify, truthy, Closure, Frame, Kind, Made, V};
use super::JsonataError;
use crate::eval::Scope;

/// Deepest nesting of evaluation before giving up (keeps the stack safe).
pub const MAX_DEPTH: usize = 150;

/// Most evaluation steps one expression may take before it fails as a runaway.
pub const MAX_STEPS: u64 = 20_000_000;

/// Evaluation state: the scope the expression reads (variables, randomness), the recursion
/// depth and the step count.
pub struct Evaluator<'s> {
    /// The state's scope.
    pub scope: &'s Scope<'s>,
    depth: usize,
    max_depth: usize,
    steps: u64,
    max_steps: u64,
}

/// An evaluation result: `None` is undefined.
pub type R = Result<Option<V>, JsonataError>;

impl<'s> Evaluator<'s> {
    /// An evaluator over `scope` with the engine's limits.
    pub fn new(scope: &'s Scope<'s>) -> Evaluator<'s> {
        Evaluator::with_limits(scope, MAX_DEPTH, MAX_STEPS)
    }

    /// An evaluator over `scope` that fails (`U1001`) past `max_depth` nested evaluations or
    /// `max_steps` evaluation steps.
    pub fn with_limits(scope: &'s Scope<'s>, max_depth: usize, max_steps: u64) -> Evaluator<'s> {
        Evaluator {
            scope,
            depth: 0,
            max_depth,
            steps: 0,
            max_steps,
        }
    }

    /// Counts one step against the budget (for loops inside built-in functions).
    pub fn tick(&mut self) -> Result<(), JsonataError> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(JsonataError::new(
                "U1001",
                &format!(
                    "Expression evaluation timeout: more than {} steps; check for an infinite loop",
                    self.max_steps
                ),
            ));
        }
        Ok(())
    }

    /// Evaluates `node` with context `ctx` in `frame`.
    pub fn eval(&mut self, node: &Node, ctx: Option<&V>, frame: &Frame) -> R {
        self.enter(node.pos)?;
        let r = self.eval_node(node, ctx, frame);
        self.leave();
        r
    }

    /// Enters one level of evaluation: fails past the depth or step budget.
    pub fn enter(&mut self, pos: usize) -> Result<(), JsonataError> {
        if self.depth >= self.max_depth {
            return Err(JsonataError::at(
                "U1001",
                pos,
                "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.",
            ));
        }
        self.tick()?;
        self.depth += 1;
        Ok(())
    }

    /// Leaves a level entered with [`Evaluator::enter`].
    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    fn eval_node(&mut self, node: &Node, ctx: Option<&V>, frame: &Frame) -> R {
        let mut result = self.eval_kind(node, ctx, frame)?;
        for stage in &node.predicate {
            if let super::ast::Stage::Filter(pred) = stage {
                result = Some(self.filter(pred, result, frame)?);
            }
        }
        if !matches!(node.kind, N::Path(_)) {
            if let Some(g) = &node.group {
                result = self.group(g, result, frame)?;
            }
        }
        Ok(finish(result, node.keep_array))
    }

    // The recursion runs through here, so this dispatcher keeps its own frame small (debug
    // builds give every temporary of every arm a slot): the work is in the helpers below.
    fn eval_kind(&mut self, node: &Node, ctx: Option<&V>, frame: &Frame) -> R {
        match &node.kind {
            N::Num(n) => Ok(Some(V::Num(*n))),
            N::Str(s) => Ok(Some(V::Str(s.clone()))),
            N::Bool(b) => Ok(Some(V::Bool(*b))),
            N::Null => Ok(Some(V::Null)),
            N::Regex(re) => Ok(Some(V::Regex(re.clone()))),
            N::Var(name) => Ok(self.variable(name, ctx, frame)),
            N::Name(n) => Ok(ctx.and_then(|c| lookup(c, n))),
            N::Wildcard => Ok(Some(wildcard(ctx))),
            N::Descendants => descendants(ctx),
            N::Parent(slot) => Ok(frame.lookup(&slot.borrow().label)),
            N::Placeholder => Ok(None),
            N::Path(_) => self.path(node, ctx, frame),
            N::Sort(_) => self.eval_sort(node, ctx, frame),
            N::Neg(e) => self.eval_neg(node, e, ctx, frame),
            N::Binary(op, l, r) => self.binary(node.pos, op, l, r, ctx, frame),
            N::Cond(c, then, otherwise) => {
                self.eval_cond(c, then, otherwise.as_deref(), ctx, frame)
            }
            N::Bind(name, e) => self.eval_bind(name, e, ctx, frame),
            N::Block(items) => self.eval_block(items, ctx, frame),
            N::Array(items) => self.eval_array(node, items, ctx, frame),
            N::Object(g) => self.group(g, ctx.cloned(), frame),
            N::Call(..) => self.call(node, ctx, frame, None),
            N::Lambda(_) | N::Transform(_) => Ok(Some(make_function(node, ctx, frame))),
            N::Apply(l, r) => self.apply_expr(node, l, r, ctx, frame),
        }
    }

    #[inline(never)]
    fn eval_sort(&mut self, node: &Node, ctx: Option<&V>, frame: &Frame) -> R {
        let input = ctx.map(V::items).unwrap_or_default();
        Ok(Some(self.sort(node, input, frame)?))
    }

    #[inline(never)]
    fn eval_neg(&mut self, node: &Node, e: &Node, ctx: Option<&V>, frame: &Frame) -> R {
        match self.eval(e, ctx, frame)? {
            None => Ok(None),
            Some(V::Num(n)) => Ok(Some(V::Num(-n))),
            Some(_) => Err(JsonataError::at(
                "D1002",
                node.pos,
                "Cannot negate a non-numeric value",
            )),
        }
    }

    #[inline(never)]
    fn eval_cond(
        &mut self,
        c: &Node,
        then: &Node,
        otherwise: Option<&Node>,
        ctx: Option<&V>,
        frame: &Frame,
    ) -> R {
        let v = self.eval(c, ctx, frame)?;
        if truthy(v.as_ref()) {
            self.eval(then, ctx, frame)
        } else {
            match otherwise {
                Some(e) => self.eval(e, ctx, frame),
                None => Ok(None),
            }
        }
    }

    #[inline(never)]
    fn eval_bind(&mut self, name: &str, e: &Node, ctx: Option<&V>, frame: &Frame) -> R {
        let v = self.eval(e, ctx, frame)?;
        frame.bind_opt(name, v.clone());
        Ok(v)
    }

    #[inline(never)]
    fn eval_block(&mut self, items: &[Node], ctx: Option<&V>, frame: &Frame) -> R {
        let inner = Frame::child(frame);
        let mut last = None;
        for e in items {
            last = self.eval(e, ctx, &inner)?;
        }
        Ok(last)
    }

    #[inline(never)]
    fn eval_array(&mut self, node: &Node, items: &[Node], ctx: Option<&V>, frame: &Frame) -> R {
        let mut out: Vec<V> = Vec::new();
        for item in items {
            let v = self.eval(item, ctx, frame)?;
            let Some(v) = v else { continue };
            if matches!(item.kind, N::Array(_)) {
                out.push(v);
            } else {
                match v {
                    // The first array spliced in is taken over whole when no one else holds
                    // it (a range of millions is not copied).
                    V::Arr(a, _) if out.is_empty() => match Rc::try_unwrap(a) {
                        Ok(mut owned) => out = std::mem::take(&mut owned.0),
                        Err(shared) => out.extend(shared.iter().cloned()),
                    },
                    V::Arr(a, _) => out.extend(a.iter().cloned()),
                    V::Tuples(_) => out.extend(v.items()),
                    v => out.push(v),
                }
            }
        }
        let kind = if node.cons_array {
            Kind::Cons
        } else {
            Kind::Plain
        };
        Ok(Some(V::arr(out, kind)))
    }

    fn variable(&mut self, name: &str, ctx: Option<&V>, frame: &Frame) -> Option<V> {
        if name.is_empty() {
            return match ctx {
                Some(V::Arr(a, Kind::Outer)) => a.first().cloned(),
                other => other.cloned(),
            };
        }
        if let Some(v) = frame.entry(name) {
            return v;
        }
        if let Some(v) = self.scope.var(name) {
            return Some(super::value::from_json(v));
        }
        functions::native(name).map(V::Native)
    }

    fn binary(
        &mut self,
        pos: usize,
        op: &'static str,
        l: &Node,
        r: &Node,
        ctx: Option<&V>,
        frame: &Frame,
    ) -> R {
        let a = self.eval(l, ctx, frame)?;
        if op == "and" || op == "or" {
            let left = truthy(a.as_ref());
            let result = if op == "and" {
                left && truthy(self.eval(r, ctx, frame)?.as_ref())
            } else {
                left || truthy(self.eval(r, ctx, frame)?.as_ref())
            };
            return Ok(Some(V::Bool(result)));
        }
        let b = self.eval(r, ctx, frame)?;
        binary(op, a, b).map_err(|mut e| {
            if e.position.is_none() {
                e.position = Some(pos);
            }
            e
        })
    }
}

/// A lambda or transform node as a function value closing over `frame` (and the context).
#[inline(never)]
fn make_function(node: &Node, ctx: Option<&V>, frame: &Frame) -> V {
    match &node.kind {
        N::Lambda(def) => V::Lambda(Rc::new(Closure {
            def: def.clone(),
            frame: frame.clone(),
            input: ctx.cloned(),
        })),
        N::Transform(t) => V::Made(Rc::new(Made::Transform(t.clone(), frame.clone()))),
        _ => V::Null,
    }
}

/// The end of every evaluation: a sequence collapses (empty to undefined, one item to the
/// item) unless it keeps singletons.
pub fn finish(result: Option<V>, keep: bool) -> Option<V> {
    match result {
        Some(V::Arr(a, k)) if k.is_seq() => {
            let k = if keep { Kind::SeqKeep } else { k };
            match a.len() {
                0 => None,
                1 if k != Kind::SeqKeep => a.first().cloned(),
                _ => Some(V::Arr(a, k)),
            }
        }
        other => other,
    }
}

/// A field of an object, or of every object in an array (flattened).
pub fn lookup(v: &V, name: &str) -> Option<V> {
    lookup_at(v, name, 0)
}

fn lookup_at(v: &V, name: &str, depth: usize) -> Option<V> {
    match v {
        V::Obj(m) => m.get(name).cloned(),
        V::Arr(_, _) if depth > super::value::MAX_NESTING => None,
        V::Arr(a, _) => {
            let mut out = Vec::new();
            for item in a.iter() {
                match lookup_at(item, name, depth + 1) {
                    Some(V::Arr(inner, _)) => out.extend(inner.iter().cloned()),
                    Some(x) => out.push(x),
                    None => {}
                }
            }
            Some(V::arr(out, Kind::Seq))
        }
        _ => None,
    }
}

fn wildcard(ctx: Option<&V>) -> V {
    let mut out = Vec::new();
    let input = match ctx {
        Some(V::Arr(a, Kind::Outer)) => a.first(),
        other => other,
    };
    match input {
        Some(V::Obj(m)) => {
            for x in m.values() {
                match x {
                    V::Arr(..) => flatten_into(x, &mut out),
                    other => out.push(other.clone()),
                }
            }
        }
        Some(a @ V::Arr(..)) => flatten_into(a, &mut out),
        _ => {}
    }
    V::arr(out, Kind::Seq)
}

fn flatten_into(v: &V, out: &mut Vec<V>) {
    // Iterative, so a deeply nested array cannot exhaust the stack.
    let mut stack = vec![v.clone()];
    while let Some(x) = stack.pop() {
        match x {
            V::Arr(a, _) => stack.extend(a.iter().rev().cloned()),
            other => out.push(other),
        }
    }
}

/// Every value below `ctx` (itself included), depth first, without recursion.
/// Fails (`U1001`) past [`super::value::MAX_WALK`] values: a value sharing its parts can hold
/// exponentially many descendants.
fn descendants(ctx: Option<&V>) -> R {
    let Some(c) = ctx else { return Ok(None) };
    let mut out = Vec::new();
    let mut stack = vec![c.clone()];
    while let Some(x) = stack.pop() {
        if out.len() + stack.len() > super::value::MAX_WALK {
            return Err(JsonataError::new(
                "U1001",
                "The descendants of the value are too many to list",
            ));
        }
        match &x {
            V::Arr(a, _) => stack.extend(a.iter().rev().cloned()),
            V::Obj(m) => {
                out.push(x.clone());
                stack.extend(m.values().rev().cloned());
            }
            _ => out.push(x.clone()),
        }
    }
    if out.len() == 1 {
        return Ok(out.pop());
    }
    Ok(Some(V::arr(out, Kind::Seq)))
}

/// Whether a value is a number (a finite double).
fn num(v: &V) -> Option<f64> {
    match v {
        V::Num(n) => Some(*n),
        _ => None,
    }
}

/// A binary operator other than `and`/`or` over evaluated operands.
#[inline(never)]
pub fn binary(op: &str, a: Option<V>, b: Option<V>) -> R {
    match op {
        "+" | "-" | "*" | "/" | "%" => {
            if let Some(v) = &a {
                if num(v).is_none() {
                    return Err(JsonataError::new(
                        "T2001",
                        &format!(
                            "The left side of the \"{op}\" operator must evaluate to a number"
                        ),
                    ));
                }
            }
            if let Some(v) = &b {
                if num(v).is_none() {
                    return Err(JsonataError::new(
                        "T2002",
                        &format!(
                            "The right side of the \"{op}\" operator must evaluate to a number"
                        ),
                    ));
                }
            }
            let (Some(V::Num(x)), Some(V::Num(y))) = (&a, &b) else {
                return Ok(None);
            };
            let (x, y) = (*x, *y);
            if !x.is_finite() || !y.is_finite() {
                return Err(JsonataError::new("D1001", "Number out of range"));
            }
            let r = match op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "/" => x / y,
                _ => x % y,
            };
            Ok(Some(V::Num(r)))
        }
        "&" => {
            let s = |v: &Option<V>| v.as_ref().map(stringify).unwrap_or_default();
            Ok(Some(V::str(&(s(&a) + &s(&b)))))
        }
        "=" | "!=" => {
            let eq = match (&a, &b) {
                (Some(x), Some(y)) => deep_eq(x, y),
                _ => return Ok(Some(V::Bool(false))),
            };
            Ok(Some(V::Bool(if op == "=" { eq } else { !eq })))
        }
        "<" | "<=" | ">" | ">=" => {
            let comparable = |v: &Option<V>| matches!(v, None | Some(V::Num(_) | V::Str(_)));
            if !comparable(&a) || !comparable(&b) {
                return Err(JsonataError::new(
                    "T2010",
                    &format!("The expressions either side of operator \"{op}\" must evaluate to numeric or string values"),
                ));
            }
            let ord = match (&a, &b) {
                (None, _) | (_, None) => return Ok(None),
                (Some(V::Num(x)), Some(V::Num(y))) => x.partial_cmp(y),
                (Some(V::Str(x)), Some(V::Str(y))) => Some(x.encode_utf16().cmp(y.encode_utf16())),
                _ => {
                    return Err(JsonataError::new(
                        "T2009",
                        &format!("The values either side of operator \"{op}\" must be of the same data type"),
                    ));
                }
            };
            let Some(o) = ord else {
                return Ok(Some(V::Bool(false)));
            };
            use std::cmp::Ordering::*;
            Ok(Some(V::Bool(match op {
                "<" => o == Less,
                "<=" => o != Greater,
                ">" => o == Greater,
                _ => o != Less,
            })))
        }
        "in" => {
            let (Some(x), Some(y)) = (&a, &b) else {
                return Ok(Some(V::Bool(false)));
            };
            Ok(Some(V::Bool(y.items().iter().any(|i| strict_eq(x, i)))))
        }
        ".." => range(a, b),
        _ => Err(JsonataError::new(
            "S0201",
            &format!("Syntax error: unknown operator {op}"),
        )),
    }
}

/// JavaScript's `===`: values by value, objects and arrays by identity.
fn strict_eq(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Obj(x), V::Obj(y)) => Rc::ptr_eq(x, y),
        (V::Arr(x, _), V::Arr(y, _)) => Rc::ptr_eq(x, y),
        (V::Arr(..) | V::Obj(_), _) | (_, V::Arr(..) | V::Obj(_)) => false,
        _ => deep_eq(a, b),
    }
}

fn range(a: Option<V>, b: Option<V>) -> R {
    let int = |v: &Option<V>| match v {
        None => Some(true),
        Some(V::Num(n)) => Some(n.fract() == 0.0),
        _ => None,
    };
    if int(&a) != Some(true) {
        return Err(JsonataError::new(
            "T2003",
            "The left side of the range operator (..) must evaluate to an integer",
        ));
    }
    if int(&b) != Some(true) {
        return Err(JsonataError::new(
            "T2004",
            "The right side of the range operator (..) must evaluate to an integer",
        ));
    }
    let (Some(V::Num(x)), Some(V::Num(y))) = (a, b) else {
        return Ok(None);
    };
    if x > y {
        return Ok(None);
    }
    if y - x + 1.0 > 1e7 {
        return Err(JsonataError::new(
            "D2014",
            &format!(
                "The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {}.",
                y - x + 1.0
            ),
        ));
    }
    let (x, y) = (x as i64, y as i64);
    Ok(Some(V::arr(
        (x..=y).map(|i| V::Num(i as f64)).collect(),
        Kind::Seq,
    )))
}
