//! JSONata values: JSON plus functions and regexes, with JSONata's distinction between
//! sequences (results of path steps, which flatten and collapse to one value when single),
//! constructed arrays (`[...]`, kept as written) and plain JSON arrays. "Undefined" is `None`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};

use super::ast::{LambdaDef, TransformDef};

/// What kind of array a [`V::Arr`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An array that came from JSON or a function.
    Plain,
    /// A result sequence: flattens into paths, collapses when single.
    Seq,
    /// A result sequence that stays an array when single (`[]`).
    SeqKeep,
    /// The sequence wrapping an array given as the whole input.
    Outer,
    /// Built by an array constructor `[...]`: never flattened by a path.
    Cons,
}

impl Kind {
    /// Whether it is a result sequence.
    pub fn is_seq(self) -> bool {
        matches!(self, Kind::Seq | Kind::SeqKeep | Kind::Outer)
    }
}

/// A user function: its definition, the scope it closes over and the context it was made in.
pub struct Closure {
    /// The definition.
    pub def: Rc<LambdaDef>,
    /// The scope it closes over.
    pub frame: Frame,
    /// The context (`$`) where it was defined.
    pub input: Option<V>,
}

/// A function value made by the language rather than written as a lambda.
pub enum Made {
    /// `f(a, ?, c)`: the function and its arguments, `None` for a placeholder.
    Partial(V, Vec<Option<Option<V>>>),
    /// `f ~> g`: the composition (`g(f(x))`).
    Chain(V, V),
    /// `|pattern|update, delete|`, with the scope it was made in.
    Transform(Rc<TransformDef>, Frame),
}

/// One tuple of a tuple stream: the context value `@` and the variables bound along the path.
#[derive(Clone)]
pub struct Tuple {
    /// The context value.
    pub at: V,
    /// Focus, index and ancestor bindings.
    pub vars: Vec<(Rc<str>, V)>,
}

impl Tuple {
    /// Sets `name` to `v`, replacing an earlier binding.
    pub fn set(&mut self, name: &str, v: V) {
        match self.vars.iter_mut().find(|(k, _)| &**k == name) {
            Some(slot) => slot.1 = v,
            None => self.vars.push((Rc::from(name), v)),
        }
    }
}

/// A JSONata value.
#[derive(Clone)]
pub enum V {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (JSONata numbers are doubles).
    Num(f64),
    /// A string.
    Str(Rc<str>),
    /// An array of some [`Kind`].
    Arr(Rc<Items>, Kind),
    /// An object, keys in insertion order.
    Obj(Rc<Members>),
    /// A user function with the frame it closes over.
    Lambda(Rc<Closure>),
    /// A partial application, chain or transform.
    Made(Rc<Made>),
    /// A tuple stream (inside path evaluation only).
    Tuples(Rc<Vec<Tuple>>),
    /// A built-in function, by name.
    Native(&'static str),
    /// A regular expression.
    Regex(Rc<regress::Regex>),
}

/// The items of an array value. Dropped without recursion, so a value nested however deep
/// cannot exhaust the stack when it goes away.
#[derive(Clone, Default)]
pub struct Items(pub Vec<V>);

/// The members of an object value, keys in insertion order. Dropped without recursion.
#[derive(Clone, Default)]
pub struct Members(pub IndexMap<String, V>);

impl std::ops::Deref for Items {
    type Target = Vec<V>;
    fn deref(&self) -> &Vec<V> {
        &self.0
    }
}

impl std::ops::DerefMut for Items {
    fn deref_mut(&mut self) -> &mut Vec<V> {
        &mut self.0
    }
}

impl std::ops::Deref for Members {
    type Target = IndexMap<String, V>;
    fn deref(&self) -> &IndexMap<String, V> {
        &self.0
    }
}

impl std::ops::DerefMut for Members {
    fn deref_mut(&mut self) -> &mut IndexMap<String, V> {
        &mut self.0
    }
}

/// Takes apart the values no one else holds, one level at a time, on a heap worklist.
fn drop_iteratively(mut stack: Vec<V>) {
    while let Some(v) = stack.pop() {
        match v {
            V::Arr(rc, _) => {
                if let Ok(mut inner) = Rc::try_unwrap(rc) {
                    stack.append(&mut inner.0);
                }
            }
            V::Obj(rc) => {
                if let Ok(mut inner) = Rc::try_unwrap(rc) {
                    stack.extend(std::mem::take(&mut inner.0).into_values());
                }
            }
            _ => {}
        }
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        if self.0.iter().any(|v| matches!(v, V::Arr(..) | V::Obj(_))) {
            drop_iteratively(std::mem::take(&mut self.0));
        }
    }
}

impl Drop for Members {
    fn drop(&mut self) {
        if self.0.values().any(|v| matches!(v, V::Arr(..) | V::Obj(_))) {
            drop_iteratively(std::mem::take(&mut self.0).into_values().collect());
        }
    }
}

/// A variable scope: local bindings and the scope around it.
#[derive(Clone, Default)]
pub struct Frame(Rc<FrameData>);

#[derive(Default)]
pub struct FrameData {
    vars: RefCell<HashMap<String, Option<V>>>,
    parent: Option<Frame>,
}

impl Frame {
    /// A scope inside `parent`.
    pub fn child(parent: &Frame) -> Frame {
        Frame(Rc::new(FrameData {
            vars: RefCell::new(HashMap::new()),
            parent: Some(parent.clone()),
        }))
    }

    /// Binds `name` in this scope.
    pub fn bind(&self, name: &str, v: V) {
        self.0.vars.borrow_mut().insert(name.to_string(), Some(v));
    }

    /// Binds `name` to `v`; binding undefined hides the name in enclosing scopes.
    pub fn bind_opt(&self, name: &str, v: Option<V>) {
        self.0.vars.borrow_mut().insert(name.to_string(), v);
    }

    /// The nearest binding of `name`: `Some(None)` when it is bound to undefined.
    pub fn entry(&self, name: &str) -> Option<Option<V>> {
        let mut f = Some(self);
        while let Some(frame) = f {
            if let Some(v) = frame.0.vars.borrow().get(name) {
                return Some(v.clone());
            }
            f = frame.0.parent.as_ref();
        }
        None
    }

    /// The value of the nearest binding of `name`.
    pub fn lookup(&self, name: &str) -> Option<V> {
        self.entry(name).flatten()
    }
}

impl V {
    /// A string value.
    pub fn str(s: &str) -> V {
        V::Str(Rc::from(s))
    }

    /// An array of the given kind.
    pub fn arr(items: Vec<V>, kind: Kind) -> V {
        V::Arr(Rc::new(Items(items)), kind)
    }

    /// An object.
    pub fn obj(members: IndexMap<String, V>) -> V {
        V::Obj(Rc::new(Members(members)))
    }

    /// Whether this is a function (user or built-in).
    pub fn is_function(&self) -> bool {
        matches!(
            self,
            V::Lambda(..) | V::Native(_) | V::Made(_) | V::Regex(_)
        )
    }

    /// The type name `$type` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            V::Null => "null",
            V::Bool(_) => "boolean",
            V::Num(_) => "number",
            V::Str(_) => "string",
            V::Arr(..) => "array",
            V::Obj(_) => "object",
            V::Lambda(..) | V::Native(_) | V::Regex(_) | V::Made(_) => "function",
            V::Tuples(_) => "array",
        }
    }

    /// The items of an array, or the value as a one-item list.
    pub fn items(&self) -> Vec<V> {
        match self {
            V::Arr(a, _) => a.to_vec(),
            V::Tuples(t) => t.iter().map(|t| t.at.clone()).collect(),
            other => vec![other.clone()],
        }
    }
}

/// A sequence of results: nothing is undefined, one is that value, more is a sequence.
pub fn collapse(mut items: Vec<V>) -> Option<V> {
    match items.len() {
        0 => None,
        1 => items.pop(),
        _ => Some(V::arr(items, Kind::Seq)),
    }
}

/// Converts JSON into a JSONata value.
pub fn from_json(v: &Value) -> V {
    match v {
        Value::Null => V::Null,
        Value::Bool(b) => V::Bool(*b),
        Value::Number(n) => V::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => V::str(s),
        Value::Array(a) => V::arr(a.iter().map(from_json).collect(), Kind::Plain),
        Value::Object(m) => V::obj(m.iter().map(|(k, x)| (k.clone(), from_json(x))).collect()),
    }
}

/// A double as a JSON number: whole numbers within 2^53 as integers.
pub fn number(f: f64) -> Option<Number> {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        Some(Number::from(f as i64))
    } else {
        Number::from_f64(f)
    }
}

/// Deepest nesting of arrays and objects that the recursive walks over values (conversion to
/// JSON and text, equality, truthiness, copies) follow; past it they stop with an error or a
/// conservative answer instead of exhausting the stack.
pub const MAX_NESTING: usize = 1000;

/// Most array and object nodes one walk visits: a value that shares parts can be exponentially
/// larger as a tree than in memory, and a walk past this gives up instead of running on.
pub const MAX_WALK: usize = 5_000_000;

/// Longest JSON text `$string` writes (bytes).
pub const MAX_TEXT: usize = 32 << 20;

/// Converts a JSONata value to JSON; `Err` names the first value JSON cannot hold (a function,
/// a regex, a non-finite number, nesting deeper than [`MAX_NESTING`]).
pub fn to_json(v: &V) -> Result<Value, &'static str> {
    to_json_at(v, 0, &mut 0)
}

fn to_json_at(v: &V, depth: usize, seen: &mut usize) -> Result<Value, &'static str> {
    if depth > MAX_NESTING {
        return Err("value nested too deeply");
    }
    *seen += 1;
    if *seen > MAX_WALK {
        return Err("value too large");
    }
    Ok(match v {
        V::Null => Value::Null,
        V::Bool(b) => Value::Bool(*b),
        V::Num(f) => Value::Number(number(*f).ok_or("number")?),
        V::Str(s) => Value::String(s.to_string()),
        V::Arr(a, _) => Value::Array(
            a.iter()
                .map(|x| to_json_at(x, depth + 1, seen))
                .collect::<Result<_, _>>()?,
        ),
        V::Obj(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, x) in m.iter() {
                if x.is_function() {
                    continue;
                }
                out.insert(k.clone(), to_json_at(x, depth + 1, seen)?);
            }
            Value::Object(out)
        }
        V::Tuples(t) => Value::Array(
            t.iter()
                .map(|x| to_json_at(&x.at, depth + 1, seen))
                .collect::<Result<_, _>>()?,
        ),
        V::Lambda(..) | V::Native(_) | V::Regex(_) | V::Made(_) => return Err("function"),
    })
}

/// JSONata's truthiness (`$boolean`).
pub fn truthy(v: Option<&V>) -> bool {
    truthy_at(v, 0, &mut 0)
}

fn truthy_at(v: Option<&V>, depth: usize, seen: &mut usize) -> bool {
    *seen += 1;
    if *seen > MAX_WALK {
        return false;
    }
    match v {
        None | Some(V::Null) => false,
        Some(V::Bool(b)) => *b,
        Some(V::Num(n)) => *n != 0.0,
        Some(V::Str(s)) => !s.is_empty(),
        Some(V::Arr(a, _)) => {
            depth < MAX_NESTING && a.iter().any(|x| truthy_at(Some(x), depth + 1, seen))
        }
        Some(V::Obj(m)) => !m.is_empty(),
        Some(V::Tuples(t)) => t.iter().any(|x| truthy_at(Some(&x.at), depth + 1, seen)),
        Some(V::Lambda(..) | V::Native(_) | V::Regex(_) | V::Made(_)) => false,
    }
}

/// Deep equality as JSONata's `=` defines it (values nested deeper than [`MAX_NESTING`] are
/// equal only when they are the same value; past [`MAX_WALK`] nodes unequal unless the same).
pub fn deep_eq(a: &V, b: &V) -> bool {
    deep_eq_at(a, b, 0, &mut 0)
}

fn deep_eq_at(a: &V, b: &V, depth: usize, seen: &mut usize) -> bool {
    *seen += 1;
    match (a, b) {
        (V::Arr(x, _), V::Arr(y, _)) if Rc::ptr_eq(x, y) => true,
        (V::Obj(x), V::Obj(y)) if Rc::ptr_eq(x, y) => true,
        (V::Arr(..) | V::Obj(_), _) if *seen > MAX_WALK => false,
        (V::Null, V::Null) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Num(x), V::Num(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        (V::Arr(x, _), V::Arr(y, _)) if depth >= MAX_NESTING => Rc::ptr_eq(x, y),
        (V::Obj(x), V::Obj(y)) if depth >= MAX_NESTING => Rc::ptr_eq(x, y),
        (V::Arr(x, _), V::Arr(y, _)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| deep_eq_at(p, q, depth + 1, seen))
        }
        (V::Obj(x), V::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_eq_at(v, w, depth + 1, seen)))
        }
        _ => false,
    }
}

/// A number as JavaScript prints it (what `$string` gives).
pub fn js_number(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{}", f as i128);
    }
    // JSONata rounds to 15 significant digits before printing.
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    let abs = rounded.abs();
    if !(1e-6..1e21).contains(&abs) {
        let s = format!("{rounded:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else {
        format!("{rounded}")
    }
}

/// `$string` of a value: strings as they are, everything else as JSON text.
pub fn stringify(v: &V) -> String {
    match v {
        V::Str(s) => s.to_string(),
        V::Num(f) => js_number(*f),
        other if other.is_function() => String::new(),
        other => to_json_text(other),
    }
}

fn to_json_text(v: &V) -> String {
    let mut out = String::new();
    // A non-finite number inside cannot happen through `stringify`'s callers that check first;
    // here it prints as null, as JSON.stringify would.
    let _ = write_json(v, None, 0, &mut out);
    out
}

/// `$string(v, pretty)`: strings as they are, everything else as JSON text (functions as
/// `""`, numbers at 15 significant digits, two-space indentation when `pretty`). A non-finite
/// number is `D3001` on its own and `D1001` inside a structure.
pub fn string_of(v: &V, pretty: bool) -> Result<String, super::JsonataError> {
    match v {
        V::Str(s) => Ok(s.to_string()),
        V::Num(f) if !f.is_finite() => Err(super::JsonataError::new(
            "D3001",
            "Attempting to invoke string function on Infinity or NaN",
        )),
        V::Num(f) => Ok(js_number(*f)),
        other if other.is_function() => Ok(String::new()),
        other => {
            let mut out = String::new();
            write_json(other, pretty.then_some(2), 0, &mut out)?;
            Ok(out)
        }
    }
}

fn write_json(
    v: &V,
    indent: Option<usize>,
    level: usize,
    out: &mut String,
) -> Result<(), super::JsonataError> {
    // The text itself bounds the walk: past this size a shared-parts value is refused.
    if out.len() > MAX_TEXT {
        return Err(super::JsonataError::new(
            "U1001",
            "The value is too large to be written as JSON text",
        ));
    }
    let newline = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
    };
    if level > MAX_NESTING {
        return Err(super::JsonataError::new(
            "U1001",
            "The value is nested too deeply to be written as JSON text",
        ));
    }
    match v {
        V::Num(f) if !f.is_finite() => {
            return Err(super::JsonataError::new("D1001", "Number out of range"));
        }
        V::Num(f) => out.push_str(&js_number(*f)),
        V::Arr(..) | V::Tuples(_) => {
            let items = v.items();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, level + 1);
                write_json(x, indent, level + 1, out)?;
            }
            newline(out, level);
            out.push(']');
        }
        V::Obj(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, level + 1);
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(x, indent, level + 1, out)?;
            }
            newline(out, level);
            out.push('}');
        }
        V::Str(s) => out.push_str(&Value::String(s.to_string()).to_string()),
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Lambda(..) | V::Native(_) | V::Regex(_) | V::Made(_) => out.push_str("\"\""),
    }
    Ok(())
}
