//! Calling functions: lambdas (with signatures, closures over their scope and context, and
//! tail calls evaluated in a loop so deep tail recursion does not grow the stack), built-ins
//! (arguments checked against their signatures), partial applications, chains `f ~> g`,
//! regexes used as functions, and transforms `|pattern|update, delete|`.

use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;

use super::ast::{Kind as N, Node, TransformDef};
use super::eval::{Evaluator, R};
use super::functions;
use super::value::{Frame, Kind, Made, MAX_NESTING, MAX_WALK, V};
use super::JsonataError;

/// What evaluating a lambda body gave: a value, or a call to make in its place.
enum Tail {
    Value(Option<V>),
    Call(Option<V>, Vec<Option<V>>, String),
}

/// The name a call site gives its procedure (for messages).
fn proc_name(n: &Node) -> String {
    match &n.kind {
        N::Var(v) => v.clone(),
        N::Path(steps) => match steps.first().map(|s| &s.kind) {
            Some(N::Name(n)) => n.clone(),
            Some(N::Var(v)) => v.clone(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// How many arguments a function takes (what `$map` and friends pass it).
pub fn arity(f: &V) -> usize {
    match f {
        V::Lambda(c) => c.def.params.len(),
        V::Native(name) => functions::signature(name).map_or(1, |s| s.required()),
        V::Made(m) => match m.as_ref() {
            Made::Partial(_, slots) => slots.iter().filter(|s| s.is_none()).count(),
            _ => 1,
        },
        _ => 1,
    }
}

impl Evaluator<'_> {
    /// Evaluates a call node; `applied` is the left side of `~>`, passed first.
    pub fn call(
        &mut self,
        node: &Node,
        ctx: Option<&V>,
        frame: &Frame,
        applied: Option<Option<V>>,
    ) -> R {
        let N::Call(procn, args, partial) = &node.kind else {
            return Ok(None);
        };
        if *partial {
            return self.partial(node, procn, args, ctx, frame);
        }
        let (proc, vals) = self.call_parts(procn, args, ctx, frame, applied)?;
        let name = proc_name(procn);
        self.apply_named(proc, vals, ctx, &name).map_err(|mut e| {
            if e.position.is_none() {
                e.position = Some(node.pos);
            }
            e
        })
    }

    fn call_parts(
        &mut self,
        procn: &Node,
        args: &[Node],
        ctx: Option<&V>,
        frame: &Frame,
        applied: Option<Option<V>>,
    ) -> Result<(Option<V>, Vec<Option<V>>), JsonataError> {
        let proc = self.eval(procn, ctx, frame)?;
        if proc.is_none() {
            if let N::Path(steps) = &procn.kind {
                if let Some(N::Name(n)) = steps.first().map(|s| &s.kind) {
                    if frame.lookup(n).is_some() || functions::native(n).is_some() {
                        return Err(JsonataError::at(
                            "T1005",
                            procn.pos,
                            &format!("Attempted to invoke a non-function. Did you mean ${n}?"),
                        ));
                    }
                }
            }
        }
        let mut vals = Vec::with_capacity(args.len() + 1);
        if let Some(a) = applied {
            vals.push(a);
        }
        for a in args {
            vals.push(self.eval(a, ctx, frame)?);
        }
        Ok((proc, vals))
    }

    /// Calls a function value with arguments (`ctx` fills a missing context argument).
    pub fn apply(&mut self, callee: Option<V>, args: Vec<Option<V>>, ctx: Option<&V>) -> R {
        self.apply_named(callee, args, ctx, "")
    }

    fn apply_named(
        &mut self,
        callee: Option<V>,
        args: Vec<Option<V>>,
        ctx: Option<&V>,
        name: &str,
    ) -> R {
        let mut proc = callee;
        let mut args = args;
        let mut name = name.to_string();
        loop {
            let Some(V::Lambda(c)) = &proc else {
                return self.apply_other(proc, args, ctx, &name);
            };
            let c = c.clone();
            let args_ok = match &c.def.signature {
                Some(sig) => sig.validate(&args, ctx, &name)?,
                None => args,
            };
            let env = Frame::child(&c.frame);
            for (i, p) in c.def.params.iter().enumerate() {
                env.bind_opt(p, args_ok.get(i).cloned().flatten());
            }
            self.tick()?;
            match self.eval_tail(&c.def.body, c.input.as_ref(), &env)? {
                Tail::Value(v) => return Ok(v),
                Tail::Call(p, a, n) => {
                    proc = p;
                    args = a;
                    name = n;
                }
            }
        }
    }

    /// Evaluates a lambda body, handing back a call in tail position instead of making it.
    fn eval_tail(
        &mut self,
        node: &Node,
        ctx: Option<&V>,
        frame: &Frame,
    ) -> Result<Tail, JsonataError> {
        if matches!(node.kind, N::Cond(..) | N::Block(_)) {
            self.enter(node.pos)?;
            let r = self.eval_tail_inner(node, ctx, frame);
            self.leave();
            return r;
        }
        self.eval_tail_inner(node, ctx, frame)
    }

    fn eval_tail_inner(
        &mut self,
        node: &Node,
        ctx: Option<&V>,
        frame: &Frame,
    ) -> Result<Tail, JsonataError> {
        match &node.kind {
            N::Call(procn, args, false) if node.tail => {
                let (proc, vals) = self.call_parts(procn, args, ctx, frame, None)?;
                Ok(Tail::Call(proc, vals, proc_name(procn)))
            }
            N::Cond(c, then, otherwise)
                if node.predicate.is_empty() && node.group.is_none() && !node.keep_array =>
            {
                let v = self.eval(c, ctx, frame)?;
                if super::value::truthy(v.as_ref()) {
                    self.eval_tail(then, ctx, frame)
                } else {
                    match otherwise {
                        Some(e) => self.eval_tail(e, ctx, frame),
                        None => Ok(Tail::Value(None)),
                    }
                }
            }
            N::Block(items)
                if node.predicate.is_empty() && node.group.is_none() && !node.keep_array =>
            {
                let inner = Frame::child(frame);
                let Some((last, init)) = items.split_last() else {
                    return Ok(Tail::Value(None));
                };
                for e in init {
                    self.eval(e, ctx, &inner)?;
                }
                self.eval_tail(last, ctx, &inner)
            }
            _ => Ok(Tail::Value(self.eval(node, ctx, frame)?)),
        }
    }

    fn apply_other(
        &mut self,
        proc: Option<V>,
        args: Vec<Option<V>>,
        ctx: Option<&V>,
        name: &str,
    ) -> R {
        match proc {
            Some(V::Native(fname)) => {
                // The whole input given as an array is wrapped; a context argument is the array.
                let ctx = match ctx {
                    Some(V::Arr(a, Kind::Outer)) => a.first(),
                    other => other,
                };
                let args = match functions::signature(fname) {
                    Some(sig) => sig.validate(&args, ctx, fname)?,
                    None => args,
                };
                functions::call(self, fname, args, ctx)
            }
            Some(V::Made(m)) => match m.as_ref() {
                Made::Partial(f, slots) => {
                    let mut it = args.into_iter();
                    let full: Vec<Option<V>> = slots
                        .iter()
                        .map(|s| match s {
                            Some(v) => v.clone(),
                            None => it.next().flatten(),
                        })
                        .collect();
                    self.apply_named(Some(f.clone()), full, ctx, name)
                }
                Made::Chain(f, g) => {
                    let x = args.into_iter().next().flatten();
                    let r = self.apply(Some(f.clone()), vec![x], ctx)?;
                    self.apply(Some(g.clone()), vec![r], ctx)
                }
                Made::Transform(t, frame) => {
                    let obj = args.into_iter().next().flatten();
                    self.transform(t, frame, obj)
                }
            },
            Some(V::Regex(re)) => {
                let Some(V::Str(s)) = args.into_iter().next().flatten() else {
                    return Ok(None);
                };
                Ok(super::regexfns::regex_match_object(&re, &s, 0))
            }
            _ => Err(JsonataError::new(
                "T1006",
                &format!(
                    "Attempted to invoke a non-function{}",
                    if name.is_empty() {
                        String::new()
                    } else {
                        format!(": {name}")
                    }
                ),
            )),
        }
    }

    fn partial(
        &mut self,
        node: &Node,
        procn: &Node,
        args: &[Node],
        ctx: Option<&V>,
        frame: &Frame,
    ) -> R {
        let mut slots = Vec::with_capacity(args.len());
        for a in args {
            if matches!(a.kind, N::Placeholder) {
                slots.push(None);
            } else {
                slots.push(Some(self.eval(a, ctx, frame)?));
            }
        }
        let proc = self.eval(procn, ctx, frame)?;
        match proc {
            Some(f) if f.is_function() => Ok(Some(V::Made(Rc::new(Made::Partial(f, slots))))),
            None if matches!(&procn.kind, N::Path(s) if matches!(s.first().map(|x| &x.kind), Some(N::Name(n)) if frame.lookup(n).is_some() || functions::native(n).is_some())) => {
                Err(JsonataError::at(
                    "T1007",
                    node.pos,
                    "Attempted to partially apply a non-function. Did you mean to use a $ prefix?",
                ))
            }
            _ => Err(JsonataError::at(
                "T1008",
                node.pos,
                "Attempted to partially apply a non-function",
            )),
        }
    }

    /// `lhs ~> rhs`.
    pub fn apply_expr(
        &mut self,
        node: &Node,
        l: &Node,
        r: &Node,
        ctx: Option<&V>,
        frame: &Frame,
    ) -> R {
        let lhs = self.eval(l, ctx, frame)?;
        if matches!(r.kind, N::Call(_, _, false)) {
            return self.call(r, ctx, frame, Some(lhs));
        }
        let func = self.eval(r, ctx, frame)?;
        let Some(func) = func.filter(V::is_function) else {
            return Err(JsonataError::at(
                "T2006",
                node.pos,
                "The right side of the function application operator ~> must be a function",
            ));
        };
        match lhs {
            Some(f) if f.is_function() => Ok(Some(V::Made(Rc::new(Made::Chain(f, func))))),
            other => self.apply(Some(func), vec![other], None),
        }
    }

    /// Applies a transform to `obj`: a deep copy with every object the pattern selects merged
    /// with the update and stripped of the deleted keys.
    fn transform(&mut self, t: &Rc<TransformDef>, frame: &Frame, obj: Option<V>) -> R {
        let Some(obj) = obj else { return Ok(None) };
        if !matches!(obj, V::Obj(_) | V::Arr(..)) {
            return Err(JsonataError::new(
                "T0410",
                "Argument 1 of function \"transform\" does not match function signature",
            ));
        }
        let copy = deep_copy(&obj, 0, &mut 0);
        let matches = self.eval(&t.pattern, Some(&copy), frame)?;
        let mut edits: Edits = HashMap::new();
        for m in matches.map(|v| v.items()).unwrap_or_default() {
            let update = self.eval(&t.update, Some(&m), frame)?;
            let upd = match update {
                None => None,
                Some(V::Obj(u)) => Some(u),
                Some(_) => {
                    return Err(JsonataError::at(
                        "T2011",
                        t.update.pos,
                        "The insert/update clause of the transform expression must evaluate to an object",
                    ))
                }
            };
            let mut dels = Vec::new();
            if let Some(d) = &t.delete {
                if let Some(v) = self.eval(d, Some(&m), frame)? {
                    for x in v.items() {
                        match x {
                            V::Str(s) => dels.push(s.to_string()),
                            _ => {
                                return Err(JsonataError::at(
                                    "T2012",
                                    d.pos,
                                    "The delete clause of the transform expression must evaluate to a string or array of strings",
                                ))
                            }
                        }
                    }
                }
            }
            if let V::Obj(o) = &m {
                let entry = edits
                    .entry(Rc::as_ptr(o) as usize)
                    .or_insert_with(|| (IndexMap::new(), Vec::new()));
                if let Some(u) = upd {
                    for (k, v) in u.iter() {
                        entry.0.insert(k.clone(), v.clone());
                    }
                }
                entry.1.extend(dels);
            }
        }
        Ok(Some(rebuild(&copy, &edits, 0)))
    }
}

/// A copy of `v` in which every object is a fresh allocation (so identity picks out one place);
/// below [`MAX_NESTING`] levels, or past [`MAX_WALK`] nodes, values are shared rather than
/// copied.
fn deep_copy(v: &V, depth: usize, seen: &mut usize) -> V {
    *seen += 1;
    if depth > MAX_NESTING || *seen > MAX_WALK {
        return v.clone();
    }
    match v {
        V::Obj(m) => V::obj(
            m.iter()
                .filter(|(_, x)| !x.is_function())
                .map(|(k, x)| (k.clone(), deep_copy(x, depth + 1, seen)))
                .collect(),
        ),
        V::Arr(a, _) => V::arr(
            a.iter().map(|x| deep_copy(x, depth + 1, seen)).collect(),
            Kind::Plain,
        ),
        other => other.clone(),
    }
}

type Edits = HashMap<usize, (IndexMap<String, V>, Vec<String>)>;

fn rebuild(v: &V, edits: &Edits, depth: usize) -> V {
    if depth > MAX_NESTING {
        return v.clone();
    }
    match v {
        V::Obj(m) => {
            let mut out: IndexMap<String, V> = m
                .iter()
                .map(|(k, x)| (k.clone(), rebuild(x, edits, depth + 1)))
                .collect();
            if let Some((upd, dels)) = edits.get(&(Rc::as_ptr(m) as usize)) {
                for (k, x) in upd {
                    out.insert(k.clone(), x.clone());
                }
                for d in dels {
                    out.shift_remove(d);
                }
            }
            V::obj(out)
        }
        V::Arr(a, k) => V::arr(a.iter().map(|x| rebuild(x, edits, depth + 1)).collect(), *k),
        other => other.clone(),
    }
}
