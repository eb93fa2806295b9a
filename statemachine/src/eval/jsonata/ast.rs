//! The evaluated form of a JSONata expression: the raw tree of [`super::parser`] rewritten as
//! the reference implementation does it: `a.b.c` becomes one path of steps, predicates become
//! a step's stages, `@`/`#` bind the focus and index of a step (making the path a tuple
//! stream), `%` resolves to the step whose context it names (a labelled slot), `^(...)` becomes a
//! sort step, and a call in tail position of a lambda body is marked for tail-call evaluation.
//! Resolving `%` to its step is in [`super::ancestry`].

use std::cell::RefCell;
use std::rc::Rc;

use super::parser::{Raw, RawNode};
use super::signature::Signature;
use super::JsonataError;

/// A parent slot: which ancestor `%` refers to, resolved while paths are built.
#[derive(Debug)]
pub struct Slot {
    /// The variable the ancestor is bound to in a tuple.
    pub label: String,
    /// How many steps up it still has to go while resolving.
    pub level: usize,
    /// Which `%` made it.
    pub index: usize,
}

/// A shared, resolvable parent slot.
pub type SlotRef = Rc<RefCell<Slot>>;

/// A stage applied to a step's results.
#[derive(Debug)]
pub enum Stage {
    /// `[predicate]`.
    Filter(Node),
    /// `#$i` after a predicate.
    Index(String),
}

/// One term of a sort.
#[derive(Debug)]
pub struct SortTerm {
    /// The sort key.
    pub expr: Node,
    /// `>`: descending.
    pub descending: bool,
}

/// A function literal.
#[derive(Debug)]
pub struct LambdaDef {
    /// Parameter names without `$`.
    pub params: Vec<String>,
    /// The signature, if declared.
    pub signature: Option<Signature>,
    /// The body.
    pub body: Node,
}

/// A transform `| pattern | update, delete |`.
#[derive(Debug)]
pub struct TransformDef {
    /// Which objects to change.
    pub pattern: Node,
    /// The object merged into each.
    pub update: Node,
    /// The keys removed from each.
    pub delete: Option<Node>,
}

/// What a node is.
#[derive(Debug)]
pub enum Kind {
    /// A number literal.
    Num(f64),
    /// A string literal.
    Str(Rc<str>),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A regular expression literal.
    Regex(Rc<regress::Regex>),
    /// `$name` (`""` = the context, `"$"` = the root).
    Var(String),
    /// A field name step.
    Name(String),
    /// `*`.
    Wildcard,
    /// `**`.
    Descendants,
    /// `%`.
    Parent(SlotRef),
    /// `?` placeholder of a partial application.
    Placeholder,
    /// Steps evaluated left to right over sequences.
    Path(Vec<Node>),
    /// A sort step.
    Sort(Vec<SortTerm>),
    /// A binary operator.
    Binary(&'static str, Box<Node>, Box<Node>),
    /// `$x := expr`.
    Bind(String, Box<Node>),
    /// `a ~> f`.
    Apply(Box<Node>, Box<Node>),
    /// `-expr`.
    Neg(Box<Node>),
    /// `[...]`.
    Array(Vec<Node>),
    /// `{k: v}` on its own.
    Object(Rc<Group>),
    /// `(a; b)`.
    Block(Vec<Node>),
    /// `c ? a : b`.
    Cond(Box<Node>, Box<Node>, Option<Box<Node>>),
    /// `f(args)`: procedure, arguments, partial application.
    Call(Box<Node>, Vec<Node>, bool),
    /// A function literal.
    Lambda(Rc<LambdaDef>),
    /// A transform.
    Transform(Rc<TransformDef>),
}

/// Key/value pairs of a grouping or object constructor.
#[derive(Debug)]
pub struct Group {
    /// The pairs.
    pub pairs: Vec<(Node, Node)>,
    /// Where it starts.
    pub pos: usize,
}

/// A node of the evaluated tree, with the annotations path evaluation reads.
#[derive(Debug)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Byte offset in the expression.
    pub pos: usize,
    /// Keep singleton arrays (`[]`).
    pub keep_array: bool,
    /// Predicates (and index bindings) applied to this step's result.
    pub stages: Vec<Stage>,
    /// Predicates on a non-path expression.
    pub predicate: Vec<Stage>,
    /// `{...}` grouping applied to the result.
    pub group: Option<Rc<Group>>,
    /// `@$v`: the variable this step binds its value to.
    pub focus: Option<String>,
    /// `#$i`: the variable this step binds its position to.
    pub index: Option<String>,
    /// The step takes part in a tuple stream.
    pub tuple: bool,
    /// An array constructor at the start or end of a path (not flattened).
    pub cons_array: bool,
    /// A path whose result keeps singleton arrays.
    pub keep_singleton_array: bool,
    /// The slot this step's context is bound to for `%`.
    pub ancestor: Option<SlotRef>,
    /// Parent slots not yet resolved inside this node.
    pub seeking_parent: Vec<SlotRef>,
    /// A call in tail position of a lambda body.
    pub tail: bool,
}

impl Node {
    fn new(kind: Kind, pos: usize) -> Node {
        Node {
            kind,
            pos,
            keep_array: false,
            stages: Vec::new(),
            predicate: Vec::new(),
            group: None,
            focus: None,
            index: None,
            tuple: false,
            cons_array: false,
            keep_singleton_array: false,
            ancestor: None,
            seeking_parent: Vec::new(),
            tail: false,
        }
    }

    /// A null literal (a stand-in where a node is needed).
    pub fn null() -> Node {
        Node::new(Kind::Null, 0)
    }

    fn is_cons(&self) -> bool {
        matches!(self.kind, Kind::Array(_))
    }
}

/// Turns the raw tree into the evaluated one.
pub fn build(raw: RawNode) -> Result<Node, JsonataError> {
    let mut b = Builder {
        ancestry: Vec::new(),
        label: 0,
    };
    let n = b.process(raw)?;
    if let Some(slot) = n.seeking_parent.first() {
        let _ = slot;
        return Err(JsonataError::at(
            "S0217",
            n.pos,
            "The object representing the 'parent' cannot be derived from this expression",
        ));
    }
    if matches!(n.kind, Kind::Parent(_)) {
        return Err(JsonataError::at(
            "S0217",
            n.pos,
            "The object representing the 'parent' cannot be derived from this expression",
        ));
    }
    Ok(n)
}

pub(super) struct Builder {
    pub(super) ancestry: Vec<SlotRef>,
    label: usize,
}

fn push_ancestry(result: &mut Node, value: &Node) {
    result
        .seeking_parent
        .extend(value.seeking_parent.iter().cloned());
    if let Kind::Parent(slot) = &value.kind {
        result.seeking_parent.push(slot.clone());
    }
}

impl Builder {
    // `process` recurses once per level of the tree. Each non-trivial arm runs in a closure
    // called on the spot so that its temporaries live in a frame of their own: as one frame
    // (debug builds give every arm's temporaries a slot) a level took tens of KiB of stack.
    #[allow(clippy::redundant_closure_call)]
    fn process(&mut self, raw: RawNode) -> Result<Node, JsonataError> {
        let pos = raw.pos;
        let keep = raw.keep_array;
        let mut result = match raw.raw {
            Raw::Num(n) => Node::new(Kind::Num(n), pos),
            Raw::Str(s) => Node::new(Kind::Str(Rc::from(s.as_str())), pos),
            Raw::Bool(b) => Node::new(Kind::Bool(b), pos),
            Raw::Null => Node::new(Kind::Null, pos),
            Raw::Regex(p, f) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let re = regress::Regex::with_flags(&p, f.as_str()).map_err(|e| {
                        JsonataError::at(
                            "S0302",
                            pos,
                            &format!("Invalid regular expression /{p}/: {e}"),
                        )
                    })?;
                    Node::new(Kind::Regex(Rc::new(re)), pos)
                })
            })()?,
            Raw::Var(v) => Node::new(Kind::Var(v), pos),
            Raw::Name(n) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut step = Node::new(Kind::Name(n), pos);
                    step.keep_array = keep;
                    let mut path = Node::new(Kind::Path(vec![step]), pos);
                    path.keep_singleton_array = keep;
                    path
                })
            })()?,
            Raw::Wildcard => Node::new(Kind::Wildcard, pos),
            Raw::Descendants => Node::new(Kind::Descendants, pos),
            Raw::Parent => (|| -> Result<Node, JsonataError> {
                Ok({
                    let slot = Rc::new(RefCell::new(Slot {
                        label: format!("!{}", self.label),
                        level: 1,
                        index: self.ancestry.len(),
                    }));
                    self.label += 1;
                    self.ancestry.push(slot.clone());
                    Node::new(Kind::Parent(slot), pos)
                })
            })()?,
            Raw::Placeholder => Node::new(Kind::Placeholder, pos),
            Raw::Binary(".", l, r) => self.dot(*l, *r, pos)?,
            Raw::Binary(op, l, r) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let l = self.process(*l)?;
                    let r = self.process(*r)?;
                    let mut n = Node::new(Kind::Binary(op, Box::new(l), Box::new(r)), pos);
                    if let Kind::Binary(_, l, r) = &n.kind {
                        let mut seeking = Vec::new();
                        for side in [l, r] {
                            seeking.extend(side.seeking_parent.iter().cloned());
                            if let Kind::Parent(s) = &side.kind {
                                seeking.push(s.clone());
                            }
                        }
                        n.seeking_parent = seeking;
                    }
                    n
                })
            })()?,
            Raw::Filter(l, r) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut result = self.process(*l)?;
                    let pred = self.process(*r)?;
                    let is_path = matches!(result.kind, Kind::Path(_));
                    {
                        let step = last_step(&mut result);
                        if step.group.is_some() {
                            return Err(JsonataError::at(
                                "S0209",
                                pos,
                                "A predicate cannot follow a grouping expression in a step",
                            ));
                        }
                        let mut seeking = pred.seeking_parent.clone();
                        if let Kind::Parent(s) = &pred.kind {
                            seeking.push(s.clone());
                        }
                        if !seeking.is_empty() {
                            for slot in &seeking {
                                let level = slot.borrow().level;
                                if level == 1 {
                                    self.seek_parent(step, slot.clone())?;
                                } else {
                                    slot.borrow_mut().level -= 1;
                                }
                            }
                            step.seeking_parent.extend(seeking);
                        }
                        let stage = Stage::Filter(pred);
                        if is_path {
                            step.stages.push(stage);
                        } else {
                            step.predicate.push(stage);
                        }
                    }
                    result
                })
            })()?,
            Raw::Group(l, pairs) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut result = self.process(*l)?;
                    if result.group.is_some() {
                        return Err(JsonataError::at(
                            "S0210",
                            pos,
                            "Each step can only have one grouping expression",
                        ));
                    }
                    let mut ps = Vec::new();
                    for (k, v) in pairs {
                        ps.push((self.process(k)?, self.process(v)?));
                    }
                    result.group = Some(Rc::new(Group { pairs: ps, pos }));
                    result
                })
            })()?,
            Raw::Sort(l, terms) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut result = self.process(*l)?;
                    if !matches!(result.kind, Kind::Path(_)) {
                        result = Node::new(Kind::Path(vec![result]), pos);
                    }
                    let mut sort = Node::new(Kind::Sort(Vec::new()), pos);
                    let mut ts = Vec::new();
                    for (t, descending) in terms {
                        let e = self.process(t)?;
                        push_ancestry(&mut sort, &e);
                        ts.push(SortTerm {
                            expr: e,
                            descending,
                        });
                    }
                    sort.kind = Kind::Sort(ts);
                    if let Kind::Path(steps) = &mut result.kind {
                        steps.push(sort);
                    }
                    self.resolve_ancestry(&mut result)?;
                    result
                })
            })()?,
            Raw::Focus(l, name) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut result = self.process(*l)?;
                    let step = last_step(&mut result);
                    if !step.stages.is_empty() || !step.predicate.is_empty() {
                        return Err(JsonataError::at(
                            "S0215",
                            pos,
                            "A context variable binding must precede any predicates on a step",
                        ));
                    }
                    if matches!(step.kind, Kind::Sort(_)) {
                        return Err(JsonataError::at(
                            "S0216",
                            pos,
                            "A context variable binding must precede the 'order-by' clause on a step",
                        ));
                    }
                    if keep {
                        step.keep_array = true;
                    }
                    step.focus = Some(name);
                    step.tuple = true;
                    result
                })
            })()?,
            Raw::Index(l, name) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut result = self.process(*l)?;
                    if !matches!(result.kind, Kind::Path(_)) {
                        let mut step = result;
                        if !step.predicate.is_empty() {
                            step.stages = std::mem::take(&mut step.predicate);
                        }
                        let p = step.pos;
                        result = Node::new(Kind::Path(vec![step]), p);
                    }
                    let step = last_step(&mut result);
                    if step.stages.is_empty() {
                        step.index = Some(name);
                    } else {
                        step.stages.push(Stage::Index(name));
                    }
                    step.tuple = true;
                    result
                })
            })()?,
            Raw::Bind(name, r) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let r = self.process(*r)?;
                    let mut n = Node::new(Kind::Bind(name, Box::new(Node::null())), pos);
                    push_ancestry(&mut n, &r);
                    n.kind = match n.kind {
                        Kind::Bind(name, _) => Kind::Bind(name, Box::new(r)),
                        k => k,
                    };
                    n
                })
            })()?,
            Raw::Apply(l, r) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let l = self.process(*l)?;
                    let r = self.process(*r)?;
                    let keep = l.keep_array || r.keep_array;
                    let mut n = Node::new(Kind::Apply(Box::new(l), Box::new(r)), pos);
                    n.keep_array = keep;
                    n
                })
            })()?,
            Raw::Neg(e) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let e = self.process(*e)?;
                    if let Kind::Num(x) = e.kind {
                        Node::new(Kind::Num(-x), pos)
                    } else {
                        let mut n = Node::new(Kind::Null, pos);
                        push_ancestry(&mut n, &e);
                        n.kind = Kind::Neg(Box::new(e));
                        n
                    }
                })
            })()?,
            Raw::Array(items) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut n = Node::new(Kind::Null, pos);
                    let mut out = Vec::new();
                    for i in items {
                        let v = self.process(i)?;
                        push_ancestry(&mut n, &v);
                        out.push(v);
                    }
                    n.kind = Kind::Array(out);
                    n
                })
            })()?,
            Raw::Object(pairs) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut n = Node::new(Kind::Null, pos);
                    let mut ps = Vec::new();
                    for (k, v) in pairs {
                        let k = self.process(k)?;
                        push_ancestry(&mut n, &k);
                        let v = self.process(v)?;
                        push_ancestry(&mut n, &v);
                        ps.push((k, v));
                    }
                    n.kind = Kind::Object(Rc::new(Group { pairs: ps, pos }));
                    n
                })
            })()?,
            Raw::Block(items) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut n = Node::new(Kind::Null, pos);
                    let mut out = Vec::new();
                    for i in items {
                        let part = self.process(i)?;
                        push_ancestry(&mut n, &part);
                        let cons = part.cons_array
                            || matches!(&part.kind, Kind::Path(s) if s.first().is_some_and(|f| f.cons_array));
                        if cons {
                            n.cons_array = true;
                        }
                        out.push(part);
                    }
                    n.kind = Kind::Block(out);
                    n
                })
            })()?,
            Raw::Cond(c, t, e) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut n = Node::new(Kind::Null, pos);
                    let c = self.process(*c)?;
                    push_ancestry(&mut n, &c);
                    let t = self.process(*t)?;
                    push_ancestry(&mut n, &t);
                    let e = match e {
                        Some(e) => {
                            let e = self.process(*e)?;
                            push_ancestry(&mut n, &e);
                            Some(Box::new(e))
                        }
                        None => None,
                    };
                    n.kind = Kind::Cond(Box::new(c), Box::new(t), e);
                    n
                })
            })()?,
            Raw::Call(f, args, partial) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let mut n = Node::new(Kind::Null, pos);
                    let mut out = Vec::new();
                    for a in args {
                        let a = self.process(a)?;
                        push_ancestry(&mut n, &a);
                        out.push(a);
                    }
                    let f = self.process(*f)?;
                    n.kind = Kind::Call(Box::new(f), out, partial);
                    n
                })
            })()?,
            Raw::Lambda(params, sig, body) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let signature = match sig {
                        Some(s) => Some(Signature::parse(&s).map_err(|mut e| {
                            e.position = Some(pos);
                            e
                        })?),
                        None => None,
                    };
                    let mut body = self.process(*body)?;
                    mark_tail(&mut body);
                    Node::new(
                        Kind::Lambda(Rc::new(LambdaDef {
                            params,
                            signature,
                            body,
                        })),
                        pos,
                    )
                })
            })()?,
            Raw::Transform(p, u, d) => (|| -> Result<Node, JsonataError> {
                Ok({
                    let pattern = self.process(*p)?;
                    let update = self.process(*u)?;
                    let delete = match d {
                        Some(d) => Some(self.process(*d)?),
                        None => None,
                    };
                    Node::new(
                        Kind::Transform(Rc::new(TransformDef {
                            pattern,
                            update,
                            delete,
                        })),
                        pos,
                    )
                })
            })()?,
        };
        if keep {
            result.keep_array = true;
        }
        Ok(result)
    }

    fn dot(&mut self, l: RawNode, r: RawNode, pos: usize) -> Result<Node, JsonataError> {
        let lstep = self.process(l)?;
        let mut result = if matches!(lstep.kind, Kind::Path(_)) {
            lstep
        } else {
            let is_parent = if let Kind::Parent(s) = &lstep.kind {
                Some(s.clone())
            } else {
                None
            };
            let mut p = Node::new(Kind::Path(vec![lstep]), pos);
            if let Some(s) = is_parent {
                p.seeking_parent = vec![s];
            }
            p
        };
        let mut rest = self.process(r)?;
        let Kind::Path(steps) = &mut result.kind else {
            unreachable!("result is a path");
        };
        match rest.kind {
            Kind::Path(more) => {
                steps.extend(more);
            }
            _ => {
                if !rest.predicate.is_empty() {
                    rest.stages = std::mem::take(&mut rest.predicate);
                }
                steps.push(rest);
            }
        }
        for step in steps.iter_mut() {
            match &step.kind {
                Kind::Num(_) | Kind::Bool(_) | Kind::Null => {
                    return Err(JsonataError::at(
                        "S0213",
                        step.pos,
                        "The literal value cannot be used as a step within a path expression",
                    ));
                }
                Kind::Str(s) => {
                    let s = s.to_string();
                    step.kind = Kind::Name(s);
                }
                _ => {}
            }
        }
        if steps.iter().any(|s| s.keep_array) {
            result.keep_singleton_array = true;
        }
        if let Kind::Path(steps) = &mut result.kind {
            if let Some(first) = steps.first_mut() {
                if first.is_cons() {
                    first.cons_array = true;
                }
            }
            if let Some(last) = steps.last_mut() {
                if last.is_cons() {
                    last.cons_array = true;
                }
            }
        }
        self.resolve_ancestry(&mut result)?;
        Ok(result)
    }
}

/// The step a predicate, focus or index applies to: the last step of a path, or the node.
fn last_step(n: &mut Node) -> &mut Node {
    if matches!(n.kind, Kind::Path(_)) {
        if let Kind::Path(steps) = &mut n.kind {
            if !steps.is_empty() {
                let i = steps.len() - 1;
                return &mut steps[i];
            }
        }
        unreachable!("paths have steps");
    }
    n
}

/// Marks calls in tail position (the body itself, both branches of a condition, the last
/// expression of a block).
fn mark_tail(n: &mut Node) {
    match &mut n.kind {
        Kind::Call(_, _, false) if n.predicate.is_empty() && n.group.is_none() => n.tail = true,
        Kind::Cond(_, t, e) => {
            mark_tail(t);
            if let Some(e) = e {
                mark_tail(e);
            }
        }
        Kind::Block(items) => {
            if let Some(last) = items.last_mut() {
                mark_tail(last);
            }
        }
        _ => {}
    }
}
