//! The JSONPath evaluator, Jayway-style: definite paths give one value or fail with Jayway's
//! message (`No results for path: $['a']`, `Missing property in path $['a']`); indefinite paths
//! give the list of every match (possibly empty) and never fail.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::parse::{CmpOp, Filter, Function, Operand, Path, Root, Segment, Selector};
use crate::eval::Scope;

/// The most values (counting every array, object and scalar inside them) an indefinite path
/// may select in all: a selection is copied, and `..` over a deeply nested value selects each
/// level together with everything below it, so its copy grows with the square of the depth.
pub const MAX_SELECTED_VALUES: usize = 1 << 20;

/// The most values one path evaluation may visit (`..` segments after `..` segments visit the
/// same values again).
pub const MAX_VISITS: usize = 1 << 24;

/// Why a path gave no value.
#[derive(Debug)]
pub(super) enum Unselected {
    /// Jayway's message for a definite path that found nothing.
    NotFound(String),
    /// The selection would exceed [`MAX_SELECTED_VALUES`] or [`MAX_VISITS`].
    TooLarge(String),
}

/// Evaluates `path` with `root` as the value of its root.
pub(super) fn select(path: &Path, root: &Value, scope: &Scope) -> Result<Value, Unselected> {
    let found = if path.is_definite() {
        definite(path, root).map_err(Unselected::NotFound)?.clone()
    } else {
        let mut nodes = vec![root];
        let mut visits = 0usize;
        let n = path.segments.len();
        for seg in &path.segments {
            nodes = step(&nodes, seg, root, scope, &mut visits);
            if visits > MAX_VISITS || nodes.len() > MAX_SELECTED_VALUES {
                return Err(too_large(path, n));
            }
        }
        let mut total = 0usize;
        for node in &nodes {
            total += count_values(node, MAX_SELECTED_VALUES - total.min(MAX_SELECTED_VALUES));
            if total > MAX_SELECTED_VALUES {
                return Err(too_large(path, n));
            }
        }
        Value::Array(nodes.into_iter().cloned().collect())
    };
    match path.function {
        None => Ok(found),
        Some(f) => apply_function(f, &found, path).map_err(Unselected::NotFound),
    }
}

fn too_large(path: &Path, n: usize) -> Unselected {
    Unselected::TooLarge(format!(
        "The path {} selects more than {MAX_SELECTED_VALUES} values in all (or visits more than {MAX_VISITS}): each match of '..' in a deeply nested value holds every level below it",
        path.render(n)
    ))
}

/// How many values `v` holds, itself included, counting no further than just past `cap`.
fn count_values(v: &Value, cap: usize) -> usize {
    let mut count = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        count += 1;
        if count > cap {
            break;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    count
}

fn definite<'v>(path: &Path, root: &'v Value) -> Result<&'v Value, String> {
    let mut cur = root;
    let n = path.segments.len();
    for (i, seg) in path.segments.iter().enumerate() {
        let leaf = i + 1 == n;
        cur = match seg {
            Segment::Child(Selector::Name(name)) => match cur {
                Value::Object(m) => match m.get(name) {
                    Some(v) => v,
                    None if leaf => {
                        return Err(format!("No results for path: {}", path.render(n)));
                    }
                    None => {
                        return Err(format!("Missing property in path {}", path.render(i + 1)));
                    }
                },
                other => {
                    return Err(format!(
                        "Expected to find an object with property ['{name}'] in path {} but found '{}'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'.",
                        path.render(i),
                        java_class(other)
                    ));
                }
            },
            Segment::Child(Selector::Index(idx)) => match cur {
                Value::Array(items) => match index(items.len(), *idx) {
                    Some(k) => &items[k],
                    None => return Err(format!("No results for path: {}", path.render(n))),
                },
                Value::Null => return Err(format!("The path {} is null", path.render(i))),
                other => {
                    return Err(format!(
                        "Filter: [{idx}] can only be applied to arrays. Current context is: {other}"
                    ));
                }
            },
            // `is_definite` admits only names and indices.
            _ => return Err(format!("No results for path: {}", path.render(n))),
        };
    }
    Ok(cur)
}

fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "com.fasterxml.jackson.databind.node.BooleanNode",
        Value::Number(n) if n.is_f64() => "com.fasterxml.jackson.databind.node.DoubleNode",
        Value::Number(_) => "com.fasterxml.jackson.databind.node.IntNode",
        Value::String(_) => "com.fasterxml.jackson.databind.node.TextNode",
        Value::Array(_) => "com.fasterxml.jackson.databind.node.ArrayNode",
        Value::Object(_) => "com.fasterxml.jackson.databind.node.ObjectNode",
    }
}

fn index(len: usize, idx: i64) -> Option<usize> {
    let k = if idx < 0 { len as i64 + idx } else { idx };
    (k >= 0 && (k as usize) < len).then_some(k as usize)
}

fn step<'v>(
    nodes: &[&'v Value],
    seg: &Segment,
    root: &'v Value,
    scope: &Scope,
    visits: &mut usize,
) -> Vec<&'v Value> {
    let mut out = Vec::new();
    match seg {
        Segment::Child(sel) => {
            for n in nodes {
                apply(sel, n, root, scope, &mut out);
            }
        }
        Segment::Descendant(sel) => {
            for n in nodes {
                descend(sel, n, root, scope, &mut out, visits);
                if *visits > MAX_VISITS || out.len() > MAX_SELECTED_VALUES {
                    break;
                }
            }
        }
    }
    out
}

/// Applies `sel` to `node` and every value below it, in document order (a node before its
/// children), without recursion: the depth of the value does not matter. Stops once
/// `visits` passes [`MAX_VISITS`].
fn descend<'v>(
    sel: &Selector,
    node: &'v Value,
    root: &'v Value,
    scope: &Scope,
    out: &mut Vec<&'v Value>,
    visits: &mut usize,
) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        *visits += 1;
        if *visits > MAX_VISITS {
            return;
        }
        apply(sel, node, root, scope, out);
        // Children pushed last-first, so the first is visited next.
        match node {
            Value::Object(m) => stack.extend(m.values().rev()),
            Value::Array(a) => stack.extend(a.iter().rev()),
            _ => {}
        }
    }
}

fn apply<'v>(
    sel: &Selector,
    node: &'v Value,
    root: &'v Value,
    scope: &Scope,
    out: &mut Vec<&'v Value>,
) {
    match (sel, node) {
        (Selector::Name(name), Value::Object(m)) => out.extend(m.get(name)),
        (Selector::Names(names), Value::Object(m)) => {
            out.extend(names.iter().filter_map(|n| m.get(n)));
        }
        (Selector::Index(i), Value::Array(a)) => out.extend(index(a.len(), *i).map(|k| &a[k])),
        (Selector::Indices(is), Value::Array(a)) => {
            out.extend(is.iter().filter_map(|i| index(a.len(), *i).map(|k| &a[k])));
        }
        (Selector::Wildcard, Value::Array(a)) => out.extend(a.iter()),
        (Selector::Wildcard, Value::Object(m)) => out.extend(m.values()),
        (Selector::Slice(start, end, step), Value::Array(a)) => {
            out.extend(
                slice(a.len(), *start, *end, *step)
                    .into_iter()
                    .map(|k| &a[k]),
            );
        }
        (Selector::Filter(f), Value::Array(a)) => {
            out.extend(a.iter().filter(|item| test(f, item, root, scope)));
        }
        (Selector::Filter(f), Value::Object(_)) if test(f, node, root, scope) => {
            out.push(node);
        }
        _ => {}
    }
}

fn slice(len: usize, start: Option<i64>, end: Option<i64>, step: Option<i64>) -> Vec<usize> {
    let len = len as i64;
    let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
    let step = step.unwrap_or(1);
    if step == 0 {
        return Vec::new();
    }
    if step > 0 {
        let s = norm(start.unwrap_or(0));
        let e = norm(end.unwrap_or(len));
        (s..e).step_by(step as usize).map(|k| k as usize).collect()
    } else {
        let s = start.map(norm).unwrap_or(len - 1).min(len - 1);
        let e = end.map(norm).unwrap_or(-1);
        let mut out = Vec::new();
        let mut k = s;
        while k > e && k >= 0 {
            out.push(k as usize);
            k += step;
        }
        out
    }
}

/// The values a filter operand stands for at `item` (empty when a path finds nothing).
fn operand_value(op: &Operand, item: &Value, root: &Value, scope: &Scope) -> Option<Value> {
    match op {
        Operand::Literal(v) => Some(v.clone()),
        Operand::Path(p) => {
            let base = match &p.root {
                Root::Current => item,
                Root::Input => root,
                Root::Context => scope.context,
                Root::Variable(name) => scope.var(name)?,
            };
            select(p, base, scope).ok()
        }
    }
}

fn test(f: &Filter, item: &Value, root: &Value, scope: &Scope) -> bool {
    match f {
        Filter::And(a, b) => test(a, item, root, scope) && test(b, item, root, scope),
        Filter::Or(a, b) => test(a, item, root, scope) || test(b, item, root, scope),
        Filter::Not(a) => !test(a, item, root, scope),
        Filter::Exists(op) => match operand_value(op, item, root, scope) {
            None => false,
            Some(Value::Array(a)) if matches!(op, Operand::Path(p) if !p.is_definite()) => {
                !a.is_empty()
            }
            Some(Value::Bool(b)) => b,
            Some(_) => true,
        },
        Filter::Compare(l, op, r) => {
            let (Some(l), Some(r)) = (
                operand_value(l, item, root, scope),
                operand_value(r, item, root, scope),
            ) else {
                return false;
            };
            compare(&l, *op, &r)
        }
    }
}

/// Compares two JSON numbers exactly when both are integers, else as floats.
pub(crate) fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => match (a.as_u64(), b.as_u64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
        },
    }
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn compare(l: &Value, op: CmpOp, r: &Value) -> bool {
    let ord = match (l, r) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    };
    match op {
        CmpOp::Eq => json_eq(l, r),
        CmpOp::Ne => !json_eq(l, r),
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::In => matches!(r, Value::Array(a) if a.iter().any(|x| json_eq(l, x))),
        CmpOp::Nin => matches!(r, Value::Array(a) if !a.iter().any(|x| json_eq(l, x))),
        CmpOp::Contains => match (l, r) {
            (Value::Array(a), _) => a.iter().any(|x| json_eq(x, r)),
            (Value::String(s), Value::String(t)) => s.contains(t.as_str()),
            _ => false,
        },
        CmpOp::Size => {
            let n = match l {
                Value::Array(a) => a.len(),
                Value::String(s) => s.chars().count(),
                _ => return false,
            };
            r.as_u64() == Some(n as u64)
        }
        CmpOp::Empty => {
            let empty = match l {
                Value::Array(a) => a.is_empty(),
                Value::String(s) => s.is_empty(),
                _ => return false,
            };
            r.as_bool() == Some(empty)
        }
    }
}

fn numbers(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().filter_map(Value::as_f64).collect(),
        Value::Number(n) => n.as_f64().into_iter().collect(),
        _ => Vec::new(),
    }
}

fn float(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn apply_function(f: Function, v: &Value, path: &Path) -> Result<Value, String> {
    let fail = || {
        Err(format!(
            "Function {} can not be applied to the result of {}",
            function_name(f),
            path.render(path.segments.len())
        ))
    };
    match f {
        Function::Length | Function::Size => match v {
            Value::Array(a) => Ok(Value::from(a.len())),
            Value::Object(m) => Ok(Value::from(m.len())),
            Value::String(s) => Ok(Value::from(s.chars().count())),
            _ => fail(),
        },
        Function::Keys => match v {
            Value::Object(m) => Ok(Value::Array(m.keys().cloned().map(Value::String).collect())),
            _ => fail(),
        },
        Function::First => match v {
            Value::Array(a) if !a.is_empty() => Ok(a[0].clone()),
            _ => fail(),
        },
        Function::Last => match v {
            Value::Array(a) if !a.is_empty() => Ok(a[a.len() - 1].clone()),
            _ => fail(),
        },
        Function::Min | Function::Max | Function::Avg | Function::Sum | Function::Stddev => {
            let xs = numbers(v);
            if xs.is_empty() {
                return fail();
            }
            let n = xs.len() as f64;
            let sum: f64 = xs.iter().sum();
            Ok(float(match f {
                Function::Min => xs.iter().copied().fold(f64::INFINITY, f64::min),
                Function::Max => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                Function::Avg => sum / n,
                Function::Sum => sum,
                _ => {
                    let mean = sum / n;
                    (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt()
                }
            }))
        }
    }
}

fn function_name(f: Function) -> &'static str {
    match f {
        Function::Length => "length",
        Function::Size => "size",
        Function::Min => "min",
        Function::Max => "max",
        Function::Avg => "avg",
        Function::Sum => "sum",
        Function::Stddev => "stddev",
        Function::Keys => "keys",
        Function::First => "first",
        Function::Last => "last",
    }
}
