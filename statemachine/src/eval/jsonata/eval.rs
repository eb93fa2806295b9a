//! The JSONata evaluator: walks a [`Node`] tree over [`V`] values with JSONata's sequence
//! rules (path steps map over arrays and flatten; single results collapse).

use std::rc::Rc;

use indexmap::IndexMap;

use super::functions;
use super::parser::Node;
use super::value::{collapse, deep_eq, stringify, truthy, Frame, Kind, V};
use super::JsonataError;
use crate::eval::Scope;

/// Deepest nesting of evaluation before giving up (keeps the stack safe).
pub const MAX_DEPTH: usize = 150;

/// Most evaluation steps one expression may take before it fails as a runaway.
pub const MAX_STEPS: u64 = 20_000_000;

/// Evaluation state: the scope the expression reads (variables, randomness), the root frame
/// and the recursion depth.
pub struct Evaluator<'s> {
    /// The state's scope.
    pub scope: &'s Scope<'s>,
    depth: usize,
    max_depth: usize,
    steps: u64,
    max_steps: u64,
}

type R = Result<Option<V>, JsonataError>;

impl<'s> Evaluator<'s> {
    /// An evaluator over `scope`.
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

    /// Evaluates `node` with context `ctx` in `frame`.
    pub fn eval(&mut self, node: &Node, ctx: Option<&V>, frame: &Frame) -> R {
        self.depth += 1;
        self.steps += 1;
        if self.depth > self.max_depth {
            self.depth -= 1;
            return Err(JsonataError::new(
                "U1001",
                "Stack overflow error: the expression nests too deeply; consider rewriting a recursive function as tail-recursive",
            ));
        }
        if self.steps > self.max_steps {
            self.depth -= 1;
            return Err(JsonataError::new(
                "U1001",
                &format!(
                    "Expression evaluation timeout: more than {} steps; check for an infinite loop",
                    self.max_steps
                ),
            ));
        }
        let r = self.eval_inner(node, ctx, frame);
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, node: &Node, ctx: Option<&V>, frame: &Frame) -> R {
        Ok(match node {
            Node::Num(n) => Some(V::Num(*n)),
            Node::Str(s) => Some(V::str(s)),
            Node::Bool(b) => Some(V::Bool(*b)),
            Node::Null => Some(V::Null),
            Node::Regex(p, f) => {
                let re = regress::Regex::with_flags(p, f.as_str()).map_err(|e| {
                    JsonataError::new("S0302", &format!("invalid regular expression /{p}/: {e}"))
                })?;
                Some(V::Regex(Rc::new(re)))
            }
            Node::Var(name) => self.variable(name, ctx, frame)?,
            Node::Name(n) => ctx.and_then(|c| lookup(c, n)),
            Node::Wildcard => ctx.and_then(wildcard),
            Node::Descendants => ctx.and_then(|c| {
                let mut out = Vec::new();
                descendants(c, &mut out);
                collapse(out)
            }),
            Node::Path(steps, keep) => self.path(steps, *keep, ctx, frame)?,
            Node::Filter(base, pred) => {
                let v = self.eval(base, ctx, frame)?;
                match v {
                    None => None,
                    Some(v) => self.filter(&v, pred, frame)?,
                }
            }
            Node::Neg(e) => match self.eval(e, ctx, frame)? {
                None => None,
                Some(V::Num(n)) => Some(V::Num(-n)),
                Some(_) => {
                    return Err(JsonataError::new(
                        "D1002",
                        "Cannot negate a non-numeric value",
                    ));
                }
            },
            Node::Binary(op, l, r) => {
                let a = self.eval(l, ctx, frame)?;
                let b = self.eval(r, ctx, frame)?;
                binary(op, a, b)?
            }
            Node::And(l, r) => {
                let a = self.eval(l, ctx, frame)?;
                if !truthy(a.as_ref()) {
                    Some(V::Bool(false))
                } else {
                    let b = self.eval(r, ctx, frame)?;
                    Some(V::Bool(truthy(b.as_ref())))
                }
            }
            Node::Or(l, r) => {
                let a = self.eval(l, ctx, frame)?;
                if truthy(a.as_ref()) {
                    Some(V::Bool(true))
                } else {
                    let b = self.eval(r, ctx, frame)?;
                    Some(V::Bool(truthy(b.as_ref())))
                }
            }
            Node::Cond(c, then, otherwise) => {
                let v = self.eval(c, ctx, frame)?;
                if truthy(v.as_ref()) {
                    self.eval(then, ctx, frame)?
                } else {
                    match otherwise {
                        Some(e) => self.eval(e, ctx, frame)?,
                        None => None,
                    }
                }
            }
            Node::Bind(name, e) => {
                let v = self.eval(e, ctx, frame)?;
                if let Some(v) = &v {
                    frame.bind(name, v.clone());
                }
                v
            }
            Node::Block(items) => {
                let inner = Frame::child(frame);
                let mut last = None;
                for e in items {
                    last = self.eval(e, ctx, &inner)?;
                }
                last
            }
            Node::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Node::Range(a, b) => {
                            let a = self.eval(a, ctx, frame)?;
                            let b = self.eval(b, ctx, frame)?;
                            out.extend(range(a, b)?);
                        }
                        Node::Array(_) => out.extend(self.eval(item, ctx, frame)?),
                        _ => match self.eval(item, ctx, frame)? {
                            Some(V::Arr(a, _)) => out.extend(a.iter().cloned()),
                            Some(v) => out.push(v),
                            None => {}
                        },
                    }
                }
                Some(V::arr(out, Kind::Cons))
            }
            Node::Range(..) => {
                return Err(JsonataError::new(
                    "S0211",
                    "'..' is only allowed inside [...]",
                ));
            }
            Node::Object(pairs) => {
                let mut m = IndexMap::new();
                for (k, v) in pairs {
                    let key = match self.eval(k, ctx, frame)? {
                        Some(V::Str(s)) => s.to_string(),
                        other => {
                            return Err(JsonataError::new(
                                "T1003",
                                &format!(
                                    "Key in object structure must evaluate to a string; got: {}",
                                    other.as_ref().map_or("undefined".into(), stringify)
                                ),
                            ));
                        }
                    };
                    if let Some(val) = self.eval(v, ctx, frame)? {
                        m.insert(key, val);
                    }
                }
                Some(V::Obj(Rc::new(m)))
            }
            Node::Call(f, args) => {
                let callee = self.eval(f, ctx, frame)?;
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a, ctx, frame)?);
                }
                self.apply(callee, vals, ctx, f)?
            }
            Node::Lambda(l) => Some(V::Lambda(l.clone(), frame.clone())),
            Node::Chain(l, r) => {
                let a = self.eval(l, ctx, frame)?;
                match r.as_ref() {
                    Node::Call(f, args) => {
                        let callee = self.eval(f, ctx, frame)?;
                        let mut vals = vec![a];
                        for x in args {
                            vals.push(self.eval(x, ctx, frame)?);
                        }
                        self.apply(callee, vals, ctx, f)?
                    }
                    other => {
                        let callee = self.eval(other, ctx, frame)?;
                        self.apply(callee, vec![a], ctx, other)?
                    }
                }
            }
        })
    }

    fn variable(&mut self, name: &str, ctx: Option<&V>, frame: &Frame) -> R {
        if name.is_empty() {
            return Ok(ctx.cloned());
        }
        if let Some(v) = frame.lookup(name) {
            return Ok(Some(v));
        }
        if let Some(v) = self.scope.var(name) {
            return Ok(Some(super::value::from_json(v)));
        }
        Ok(functions::native(name).map(V::Native))
    }

    /// Calls a function value with arguments.
    pub fn apply(
        &mut self,
        callee: Option<V>,
        args: Vec<Option<V>>,
        ctx: Option<&V>,
        what: &Node,
    ) -> R {
        match callee {
            Some(V::Lambda(l, env)) => {
                let inner = Frame::child(&env);
                for (i, p) in l.params.iter().enumerate() {
                    if let Some(Some(v)) = args.get(i) {
                        inner.bind(p, v.clone());
                    }
                }
                self.eval(&l.body, ctx, &inner)
            }
            Some(V::Native(name)) => functions::call(self, name, args, ctx),
            _ => Err(JsonataError::new(
                "T1006",
                &format!("Attempted to invoke a non-function{}", describe(what)),
            )),
        }
    }

    fn path(&mut self, steps: &[Node], keep: bool, ctx: Option<&V>, frame: &Frame) -> R {
        let Some((first, rest)) = steps.split_first() else {
            return Ok(None);
        };
        // The first step sees the context; a variable or literal is evaluated once.
        let mut inputs: Vec<V> = if !on_context(first) {
            match self.eval(first, ctx, frame)? {
                None => return Ok(None),
                Some(v) => vec![v],
            }
        } else {
            let Some(c) = ctx else {
                return Ok(None);
            };
            let mut out = Vec::new();
            for item in &c.items() {
                if let Some(v) = self.eval(first, Some(item), frame)? {
                    out.push(v);
                }
            }
            flatten(out)
        };
        if let (true, [single]) = (rest.is_empty(), inputs.as_slice()) {
            return Ok(Some(finish(single.clone(), keep)));
        }
        for (i, step) in rest.iter().enumerate() {
            let last = i + 1 == rest.len();
            let mut results = Vec::new();
            let items: Vec<V> = if i == 0 && !on_context(first) {
                // A variable's (or call's) array value is iterated by the next step.
                inputs.iter().flat_map(V::items).collect()
            } else {
                inputs
            };
            for item in &items {
                if let Some(v) = self.eval(step, Some(item), frame)? {
                    results.push(v);
                }
            }
            if last
                && results.len() == 1
                && matches!(results[0], V::Arr(_, Kind::Plain | Kind::Cons))
            {
                return Ok(Some(finish(results.remove(0), keep)));
            }
            inputs = flatten(results);
            if inputs.is_empty() {
                return Ok(None);
            }
        }
        if keep {
            return Ok(Some(V::arr(inputs, Kind::Seq)));
        }
        Ok(collapse(inputs))
    }

    fn filter(&mut self, v: &V, pred: &Node, frame: &Frame) -> R {
        let items = v.items();
        if let Node::Num(n) = pred {
            let len = items.len() as i64;
            let mut i = n.floor() as i64;
            if i < 0 {
                i = i.saturating_add(len);
            }
            return Ok(usize::try_from(i).ok().and_then(|i| items.get(i).cloned()));
        }
        let len = items.len() as i64;
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let r = self.eval(pred, Some(item), frame)?;
            let keep = match &r {
                Some(V::Num(n)) => index_matches(*n, index, len),
                Some(V::Arr(a, _)) if !a.is_empty() && a.iter().all(|x| matches!(x, V::Num(_))) => {
                    a.iter()
                        .any(|x| matches!(x, V::Num(n) if index_matches(*n, index, len)))
                }
                other => truthy(other.as_ref()),
            };
            if keep {
                out.push(item.clone());
            }
        }
        Ok(collapse(out))
    }
}

fn index_matches(n: f64, index: usize, len: i64) -> bool {
    let mut i = n.floor() as i64;
    if i < 0 {
        i = i.saturating_add(len);
    }
    i == index as i64
}

/// A path's final value: with `[]` kept as an array even when single.
fn finish(v: V, keep: bool) -> V {
    match (keep, v) {
        (true, V::Arr(a, _)) => V::Arr(a, Kind::Seq),
        (true, other) => V::arr(vec![other], Kind::Seq),
        (false, v) => v,
    }
}

/// Flattens step results: plain arrays and sequences spill their items, constructed arrays
/// stay whole.
fn flatten(results: Vec<V>) -> Vec<V> {
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        match r {
            V::Arr(a, Kind::Plain | Kind::Seq) => out.extend(a.iter().cloned()),
            other => out.push(other),
        }
    }
    out
}

/// Whether a first path step maps over the context items (names, wildcards) rather than being
/// evaluated once (variables, literals, calls).
fn on_context(n: &Node) -> bool {
    match n {
        Node::Name(_) | Node::Wildcard | Node::Descendants => true,
        Node::Filter(base, _) => on_context(base),
        _ => false,
    }
}

fn describe(node: &Node) -> String {
    match node {
        Node::Var(n) => format!(": ${n}"),
        Node::Name(n) => format!(": {n}"),
        _ => String::new(),
    }
}

/// A field of an object, or of every object in an array (flattened).
pub fn lookup(v: &V, name: &str) -> Option<V> {
    match v {
        V::Obj(m) => m.get(name).cloned(),
        V::Arr(a, _) => {
            let mut out = Vec::new();
            for item in a.iter() {
                match lookup(item, name) {
                    Some(V::Arr(inner, Kind::Plain | Kind::Seq)) => {
                        out.extend(inner.iter().cloned())
                    }
                    Some(x) => out.push(x),
                    None => {}
                }
            }
            collapse(out)
        }
        _ => None,
    }
}

fn wildcard(v: &V) -> Option<V> {
    let mut out = Vec::new();
    match v {
        V::Obj(m) => {
            for x in m.values() {
                match x {
                    V::Arr(a, _) => out.extend(a.iter().cloned()),
                    other => out.push(other.clone()),
                }
            }
        }
        V::Arr(a, _) => {
            for item in a.iter() {
                out.extend(wildcard(item));
            }
        }
        _ => {}
    }
    collapse(out)
}

fn descendants(v: &V, out: &mut Vec<V>) {
    match v {
        V::Obj(m) => {
            for x in m.values() {
                if !matches!(x, V::Arr(..)) {
                    out.push(x.clone());
                }
                descendants(x, out);
            }
        }
        V::Arr(a, _) => {
            for x in a.iter() {
                if !matches!(x, V::Arr(..)) {
                    out.push(x.clone());
                }
                descendants(x, out);
            }
        }
        _ => {}
    }
}

fn range(a: Option<V>, b: Option<V>) -> Result<Vec<V>, JsonataError> {
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(Vec::new());
    };
    let (V::Num(x), V::Num(y)) = (&a, &b) else {
        return Err(JsonataError::new(
            "T2003",
            "The bounds of a range must be integers",
        ));
    };
    if x.fract() != 0.0 || y.fract() != 0.0 {
        return Err(JsonataError::new(
            "T2003",
            "The bounds of a range must be integers",
        ));
    }
    if y - x > 1e7 {
        return Err(JsonataError::new(
            "D2014",
            "The size of the range is too large",
        ));
    }
    let (x, y) = (*x as i64, *y as i64);
    Ok((x..=y).map(|i| V::Num(i as f64)).collect())
}

fn binary(op: &str, a: Option<V>, b: Option<V>) -> R {
    match op {
        "+" | "-" | "*" | "/" | "%" => {
            let (x, y) = match (&a, &b) {
                (Some(V::Num(x)), Some(V::Num(y))) => (*x, *y),
                (Some(v), _) if !matches!(v, V::Num(_)) => {
                    return Err(JsonataError::new(
                        "T2001",
                        &format!(
                            "The left side of the \"{op}\" operator must evaluate to a number"
                        ),
                    ));
                }
                (_, Some(v)) if !matches!(v, V::Num(_)) => {
                    return Err(JsonataError::new(
                        "T2002",
                        &format!(
                            "The right side of the \"{op}\" operator must evaluate to a number"
                        ),
                    ));
                }
                _ => return Ok(None),
            };
            let r = match op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "/" => x / y,
                _ => x % y,
            };
            if !r.is_finite() {
                return Err(JsonataError::new("D1001", "Number out of range"));
            }
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
            let ord = match (&a, &b) {
                (Some(V::Num(x)), Some(V::Num(y))) => x.partial_cmp(y),
                (Some(V::Str(x)), Some(V::Str(y))) => Some(x.encode_utf16().cmp(y.encode_utf16())),
                (None, _) | (_, None) => return Ok(Some(V::Bool(false))),
                _ => {
                    return Err(JsonataError::new(
                        "T2010",
                        &format!("The expressions either side of operator \"{op}\" must be of the same data type (number or string)"),
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
            Ok(Some(V::Bool(y.items().iter().any(|i| deep_eq(x, i)))))
        }
        _ => Err(JsonataError::new(
            "S0201",
            &format!("unknown operator {op}"),
        )),
    }
}
