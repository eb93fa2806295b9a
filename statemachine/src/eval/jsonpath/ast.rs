//! The parsed form of a JSONPath: a root, segments with their selectors, filter expressions
//! and an optional trailing function; definiteness and Jayway's rendering of a path.

use serde_json::Value;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `$`: the input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
    /// `@`: the current node (inside filters only).
    Current,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// `.x`, `['x']`, `[0]`, `[*]`, `[?(...)]`, ...: applies to the current nodes.
    Child(Selector),
    /// `..x`, `..[0]`, `..*`: applies to the current nodes and all their descendants.
    Descendant(Selector),
}

/// What a segment picks.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// One property.
    Name(String),
    /// Several properties (`['a','b']`).
    Names(Vec<String>),
    /// One array element (negative counts from the end).
    Index(i64),
    /// Several array elements (`[0,2]`).
    Indices(Vec<i64>),
    /// `*`: every element or property value.
    Wildcard,
    /// `[start:end:step]`.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// `[?(...)]`.
    Filter(Box<Filter>),
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `a && b`.
    And(Box<Filter>, Box<Filter>),
    /// `a || b`.
    Or(Box<Filter>, Box<Filter>),
    /// `!a`.
    Not(Box<Filter>),
    /// `a OP b`.
    Compare(Operand, CmpOp, Operand),
    /// `@.x` alone: true when the path finds something (and, Jayway-like, it is not `false`).
    Exists(Operand),
}

/// A side of a filter comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `@...` or `$...`.
    Path(Path),
    /// A literal value.
    Literal(Value),
}

/// Comparison operators inside filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `nin`
    Nin,
    /// `size`
    Size,
    /// `empty`
    Empty,
    /// `contains`
    Contains,
}

/// Functions that may end a path (`$.items.length()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `length()`
    Length,
    /// `size()`
    Size,
    /// `min()`
    Min,
    /// `max()`
    Max,
    /// `avg()`
    Avg,
    /// `sum()`
    Sum,
    /// `stddev()`
    Stddev,
    /// `keys()`
    Keys,
    /// `first()`
    First,
    /// `last()`
    Last,
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Its root.
    pub root: Root,
    /// Its steps.
    pub segments: Vec<Segment>,
    /// A function applied to the result, if any.
    pub function: Option<Function>,
}

impl Path {
    /// Definite paths name at most one value (no wildcard, slice, filter, union or `..`).
    pub fn is_definite(&self) -> bool {
        self.segments.iter().all(|s| {
            matches!(
                s,
                Segment::Child(Selector::Name(_)) | Segment::Child(Selector::Index(_))
            )
        })
    }

    /// Jayway's rendering of the first `n` segments: `$['a'][0][*]`.
    pub fn render(&self, n: usize) -> String {
        let mut out = match &self.root {
            Root::Input => "$".to_string(),
            Root::Context => "$$".to_string(),
            Root::Variable(v) => format!("${v}"),
            Root::Current => "@".to_string(),
        };
        for seg in &self.segments[..n.min(self.segments.len())] {
            let sel = match seg {
                Segment::Child(s) => s,
                Segment::Descendant(s) => {
                    out.push_str("..");
                    s
                }
            };
            match sel {
                Selector::Name(n) => out.push_str(&format!("['{n}']")),
                Selector::Names(ns) => {
                    let q: Vec<String> = ns.iter().map(|n| format!("'{n}'")).collect();
                    out.push_str(&format!("[{}]", q.join(",")));
                }
                Selector::Index(i) => out.push_str(&format!("[{i}]")),
                Selector::Indices(is) => {
                    let q: Vec<String> = is.iter().map(i64::to_string).collect();
                    out.push_str(&format!("[{}]", q.join(",")));
                }
                Selector::Wildcard => out.push_str("[*]"),
                Selector::Slice(a, b, _) => {
                    let f = |x: &Option<i64>| x.map(|v| v.to_string()).unwrap_or_default();
                    out.push_str(&format!("[{}:{}]", f(a), f(b)));
                }
                Selector::Filter(_) => out.push_str("[?]"),
            }
        }
        out
    }
}
