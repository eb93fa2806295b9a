//! Built-in JSONata functions, and the ones Step Functions adds: `$partition`, `$range`,
//! `$hash`, `$random`, `$uuid`, `$parse`. Time comes from the context object
//! (`$states.context.State.EnteredTime`), randomness from the scope: nothing here reads the
//! clock or the OS.

use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::Value;

use super::eval::{lookup, Evaluator};
use super::parser::Node;
use super::value::{collapse, deep_eq, from_json, stringify, to_json, truthy, Kind, V};
use super::JsonataError;
use crate::eval::intrinsics::call_function;
use crate::eval::{Random, SeededRandom, Timestamp};

/// The widest string `$pad` builds.
const MAX_PAD: usize = 1 << 20;

const NAMES: &[&str] = &[
    "string",
    "length",
    "substring",
    "substringBefore",
    "substringAfter",
    "uppercase",
    "lowercase",
    "trim",
    "pad",
    "contains",
    "split",
    "join",
    "replace",
    "match",
    "number",
    "abs",
    "floor",
    "ceil",
    "round",
    "power",
    "sqrt",
    "random",
    "sum",
    "max",
    "min",
    "average",
    "count",
    "boolean",
    "not",
    "exists",
    "append",
    "sort",
    "reverse",
    "shuffle",
    "distinct",
    "zip",
    "keys",
    "lookup",
    "spread",
    "merge",
    "each",
    "sift",
    "type",
    "error",
    "assert",
    "map",
    "filter",
    "reduce",
    "single",
    "now",
    "millis",
    "toMillis",
    "fromMillis",
    "base64encode",
    "base64decode",
    "partition",
    "range",
    "hash",
    "uuid",
    "parse",
];

/// The built-in named `name`, if there is one.
pub fn native(name: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|n| *n == name)
}

fn bad(name: &str, i: usize) -> JsonataError {
    JsonataError::new(
        "T0410",
        &format!(
            "Argument {} of function \"{name}\" does not match function signature",
            i + 1
        ),
    )
}

fn arg(args: &[Option<V>], i: usize) -> Option<&V> {
    args.get(i).and_then(Option::as_ref)
}

fn str_arg(name: &str, args: &[Option<V>], i: usize) -> Result<Option<Rc<str>>, JsonataError> {
    match arg(args, i) {
        None => Ok(None),
        Some(V::Str(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(name, i)),
    }
}

fn num_arg(name: &str, args: &[Option<V>], i: usize) -> Result<Option<f64>, JsonataError> {
    match arg(args, i) {
        None => Ok(None),
        Some(V::Num(n)) => Ok(Some(*n)),
        Some(_) => Err(bad(name, i)),
    }
}

fn nums(name: &str, v: Option<&V>) -> Result<Option<Vec<f64>>, JsonataError> {
    match v {
        None => Ok(None),
        Some(v) => v
            .items()
            .iter()
            .map(|x| match x {
                V::Num(n) => Ok(*n),
                _ => Err(JsonataError::new(
                    "T0412",
                    &format!("Argument 1 of function \"{name}\" must be an array of numbers"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
    }
}

fn num(f: f64) -> Option<V> {
    Some(V::Num(f))
}

fn to_json_value(v: &V) -> Result<Value, JsonataError> {
    to_json(v).map_err(|_| {
        JsonataError::new(
            "D3001",
            "A function or non-finite number cannot be converted to JSON",
        )
    })
}

/// Calls the built-in `name`.
pub fn call(
    ev: &mut Evaluator,
    name: &'static str,
    mut args: Vec<Option<V>>,
    ctx: Option<&V>,
) -> Result<Option<V>, JsonataError> {
    // Functions whose first argument defaults to the context.
    if args.is_empty()
        && matches!(
            name,
            "string"
                | "length"
                | "uppercase"
                | "lowercase"
                | "trim"
                | "number"
                | "boolean"
                | "keys"
                | "base64encode"
                | "base64decode"
        )
    {
        args.push(ctx.cloned());
    }
    let a0 = arg(&args, 0).cloned();
    Ok(match name {
        "string" => a0.map(|v| V::str(&stringify(&v))),
        "length" => str_arg(name, &args, 0)?.map(|s| V::Num(s.chars().count() as f64)),
        "substring" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let start = num_arg(name, &args, 1)?.ok_or_else(|| bad(name, 1))?;
            let len = num_arg(name, &args, 2)?;
            let chars: Vec<char> = s.chars().collect();
            let n = chars.len() as i64;
            let mut st = start as i64;
            if st < 0 {
                st = (n + st).max(0);
            }
            let st = st.min(n) as usize;
            let end = match len {
                Some(l) if l <= 0.0 => st,
                Some(l) => st.saturating_add(l as usize).min(chars.len()),
                None => chars.len(),
            };
            Some(V::str(&chars[st..end].iter().collect::<String>()))
        }
        "substringBefore" | "substringAfter" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let chars = str_arg(name, &args, 1)?.ok_or_else(|| bad(name, 1))?;
            Some(V::str(match s.find(chars.as_ref()) {
                Some(i) if name == "substringBefore" => &s[..i],
                Some(i) => &s[i + chars.len()..],
                None => &s,
            }))
        }
        "uppercase" => str_arg(name, &args, 0)?.map(|s| V::str(&s.to_uppercase())),
        "lowercase" => str_arg(name, &args, 0)?.map(|s| V::str(&s.to_lowercase())),
        "trim" => str_arg(name, &args, 0)?
            .map(|s| V::str(&s.split_whitespace().collect::<Vec<_>>().join(" "))),
        "pad" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let width = num_arg(name, &args, 1)?.ok_or_else(|| bad(name, 1))?;
            let pad = str_arg(name, &args, 2)?.unwrap_or_else(|| Rc::from(" "));
            let len = s.chars().count();
            let want = width.abs() as usize;
            if want > MAX_PAD {
                return Err(JsonataError::new("D3200", "The $pad width is too large"));
            }
            if want <= len || pad.is_empty() {
                return Ok(Some(V::Str(s)));
            }
            let fill: String = pad.chars().cycle().take(want - len).collect();
            Some(V::str(&if width < 0.0 {
                fill + &s
            } else {
                s.to_string() + &fill
            }))
        }
        "contains" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            match arg(&args, 1) {
                Some(V::Str(p)) => Some(V::Bool(s.contains(p.as_ref()))),
                Some(V::Regex(re)) => Some(V::Bool(re.find(&s).is_some())),
                _ => return Err(bad(name, 1)),
            }
        }
        "split" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let limit = num_arg(name, &args, 2)?.map(|l| l.max(0.0) as usize);
            let parts: Vec<String> = match arg(&args, 1) {
                Some(V::Str(sep)) if sep.is_empty() => s.chars().map(String::from).collect(),
                Some(V::Str(sep)) => s.split(sep.as_ref()).map(String::from).collect(),
                Some(V::Regex(re)) => {
                    let mut out = Vec::new();
                    let mut last = 0;
                    for m in re.find_iter(&s) {
                        out.push(s[last..m.start()].to_string());
                        last = m.end();
                    }
                    out.push(s[last..].to_string());
                    out
                }
                _ => return Err(bad(name, 1)),
            };
            let parts = parts.into_iter().take(limit.unwrap_or(usize::MAX));
            Some(V::arr(parts.map(|p| V::str(&p)).collect(), Kind::Plain))
        }
        "join" => {
            let Some(v) = a0 else { return Ok(None) };
            let sep = str_arg(name, &args, 1)?.unwrap_or_else(|| Rc::from(""));
            let parts = v
                .items()
                .iter()
                .map(|x| match x {
                    V::Str(s) => Ok(s.to_string()),
                    _ => Err(bad(name, 0)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(V::str(&parts.join(&sep)))
        }
        "replace" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let to = str_arg(name, &args, 2)?.ok_or_else(|| bad(name, 2))?;
            let limit = num_arg(name, &args, 3)?
                .map(|l| l as usize)
                .unwrap_or(usize::MAX);
            match arg(&args, 1) {
                Some(V::Str(from)) if !from.is_empty() => {
                    Some(V::str(&s.replacen(from.as_ref(), &to, limit)))
                }
                Some(V::Regex(re)) => {
                    let mut out = String::new();
                    let mut last = 0;
                    for m in re.find_iter(&s).take(limit) {
                        out.push_str(&s[last..m.start()]);
                        out.push_str(&expand(&to, &s, &m));
                        last = m.end();
                    }
                    out.push_str(&s[last..]);
                    Some(V::str(&out))
                }
                _ => return Err(bad(name, 1)),
            }
        }
        "match" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let Some(V::Regex(re)) = arg(&args, 1) else {
                return Err(bad(name, 1));
            };
            let found: Vec<V> = re
                .find_iter(&s)
                .map(|m| {
                    let groups = m
                        .groups()
                        .skip(1)
                        .map(|g| V::str(g.map_or("", |r| &s[r])))
                        .collect();
                    let mut o = IndexMap::new();
                    o.insert("match".to_string(), V::str(&s[m.range()]));
                    o.insert("index".to_string(), V::Num(m.start() as f64));
                    o.insert("groups".to_string(), V::arr(groups, Kind::Plain));
                    V::Obj(Rc::new(o))
                })
                .collect();
            collapse(found)
        }
        "number" => match a0 {
            None => None,
            Some(V::Num(n)) => num(n),
            Some(V::Bool(b)) => num(if b { 1.0 } else { 0.0 }),
            Some(V::Str(s)) => match parse_number(&s) {
                Some(n) => num(n),
                None => {
                    return Err(JsonataError::new(
                        "D3030",
                        &format!("Unable to cast value to a number: \"{s}\""),
                    ));
                }
            },
            Some(_) => return Err(bad(name, 0)),
        },
        "abs" => num_arg(name, &args, 0)?.and_then(|n| num(n.abs())),
        "floor" => num_arg(name, &args, 0)?.and_then(|n| num(n.floor())),
        "ceil" => num_arg(name, &args, 0)?.and_then(|n| num(n.ceil())),
        "round" => {
            let Some(n) = num_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let p = num_arg(name, &args, 1)?.unwrap_or(0.0) as i32;
            num(round_half_even(n, p))
        }
        "power" => {
            let Some(b) = num_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let e = num_arg(name, &args, 1)?.ok_or_else(|| bad(name, 1))?;
            let r = b.powf(e);
            if !r.is_finite() {
                return Err(JsonataError::new("D3061", "The power function has resulted in a value that cannot be represented as a JSON number"));
            }
            num(r)
        }
        "sqrt" => {
            let Some(n) = num_arg(name, &args, 0)? else {
                return Ok(None);
            };
            if n < 0.0 {
                return Err(JsonataError::new(
                    "D3060",
                    "The sqrt function cannot be applied to a negative number",
                ));
            }
            num(n.sqrt())
        }
        "random" => match num_arg(name, &args, 0)? {
            Some(seed) => num(SeededRandom::new(seed as i64 as u64).next_f64()),
            None => num(ev.scope.random.next_f64()),
        },
        "sum" => nums(name, a0.as_ref())?.map(|xs| V::Num(xs.iter().sum())),
        "max" => nums(name, a0.as_ref())?
            .and_then(|xs| xs.into_iter().reduce(f64::max))
            .map(V::Num),
        "min" => nums(name, a0.as_ref())?
            .and_then(|xs| xs.into_iter().reduce(f64::min))
            .map(V::Num),
        "average" => nums(name, a0.as_ref())?
            .filter(|xs| !xs.is_empty())
            .map(|xs| V::Num(xs.iter().sum::<f64>() / xs.len() as f64)),
        "count" => Some(V::Num(a0.map_or(0, |v| v.items().len()) as f64)),
        "boolean" => a0.map(|v| V::Bool(truthy(Some(&v)))),
        "not" => a0.map(|v| V::Bool(!truthy(Some(&v)))),
        "exists" => Some(V::Bool(a0.is_some())),
        "append" => match (a0, arg(&args, 1).cloned()) {
            (None, b) => b,
            (a, None) => a,
            (Some(a), Some(b)) => {
                let mut items = a.items();
                items.extend(b.items());
                Some(V::arr(items, Kind::Plain))
            }
        },
        "sort" => {
            let Some(v) = a0 else { return Ok(None) };
            let mut items = v.items();
            match arg(&args, 1).cloned() {
                None => {
                    if items.iter().all(|x| matches!(x, V::Num(_))) {
                        items.sort_by(|a, b| match (a, b) {
                            (V::Num(x), V::Num(y)) => x.total_cmp(y),
                            _ => std::cmp::Ordering::Equal,
                        });
                    } else if items.iter().all(|x| matches!(x, V::Str(_))) {
                        items.sort_by(|a, b| match (a, b) {
                            (V::Str(x), V::Str(y)) => x.encode_utf16().cmp(y.encode_utf16()),
                            _ => std::cmp::Ordering::Equal,
                        });
                    } else {
                        return Err(JsonataError::new("D3070", "The single argument form of the sort function can only be applied to an array of strings or an array of numbers"));
                    }
                }
                Some(f) => {
                    // Insertion sort: the comparator is a JSONata function that may fail.
                    let mut sorted: Vec<V> = Vec::with_capacity(items.len());
                    for item in items {
                        let mut at = sorted.len();
                        while at > 0 {
                            let swap = ev.apply(
                                Some(f.clone()),
                                vec![Some(sorted[at - 1].clone()), Some(item.clone())],
                                None,
                                &Node::Null,
                            )?;
                            if truthy(swap.as_ref()) {
                                at -= 1;
                            } else {
                                break;
                            }
                        }
                        sorted.insert(at, item);
                    }
                    items = sorted;
                }
            }
            Some(V::arr(items, Kind::Plain))
        }
        "reverse" => a0.map(|v| {
            let mut items = v.items();
            items.reverse();
            V::arr(items, Kind::Plain)
        }),
        "shuffle" => a0.map(|v| {
            let mut items = v.items();
            for i in (1..items.len()).rev() {
                let j = (ev.scope.random.next_u64() % (i as u64 + 1)) as usize;
                items.swap(i, j);
            }
            V::arr(items, Kind::Plain)
        }),
        "distinct" => a0.map(|v| match v {
            V::Arr(a, _) => {
                let mut out: Vec<V> = Vec::new();
                for x in a.iter() {
                    if !out.iter().any(|y| deep_eq(x, y)) {
                        out.push(x.clone());
                    }
                }
                V::arr(out, Kind::Plain)
            }
            other => other,
        }),
        "zip" => {
            let lists: Vec<Vec<V>> = args
                .iter()
                .map(|a| a.as_ref().map_or(Vec::new(), V::items))
                .collect();
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            Some(V::arr(
                (0..n)
                    .map(|i| V::arr(lists.iter().map(|l| l[i].clone()).collect(), Kind::Plain))
                    .collect(),
                Kind::Plain,
            ))
        }
        "keys" => {
            let mut keys: Vec<V> = Vec::new();
            for item in a0.map_or(Vec::new(), |v| v.items()) {
                if let V::Obj(m) = item {
                    for k in m.keys() {
                        if !keys
                            .iter()
                            .any(|x| matches!(x, V::Str(s) if s.as_ref() == k))
                        {
                            keys.push(V::str(k));
                        }
                    }
                }
            }
            collapse(keys)
        }
        "lookup" => {
            let key = str_arg(name, &args, 1)?.ok_or_else(|| bad(name, 1))?;
            a0.and_then(|v| lookup(&v, &key))
        }
        "spread" => a0.map(|v| {
            let mut out = Vec::new();
            for item in v.items() {
                match item {
                    V::Obj(m) => out.extend(m.iter().map(|(k, x)| {
                        let mut o = IndexMap::new();
                        o.insert(k.clone(), x.clone());
                        V::Obj(Rc::new(o))
                    })),
                    other => out.push(other),
                }
            }
            V::arr(out, Kind::Plain)
        }),
        "merge" => a0.map(|v| {
            let mut m = IndexMap::new();
            for item in v.items() {
                if let V::Obj(o) = item {
                    for (k, x) in o.iter() {
                        m.insert(k.clone(), x.clone());
                    }
                }
            }
            V::Obj(Rc::new(m))
        }),
        "type" => a0.map(|v| V::str(v.type_name())),
        "error" => {
            let msg = str_arg(name, &args, 0)?;
            return Err(JsonataError::new(
                "D3137",
                msg.as_deref().unwrap_or("$error() function evaluated"),
            ));
        }
        "assert" => {
            if !matches!(a0, Some(V::Bool(true))) {
                let msg = str_arg(name, &args, 1)?;
                return Err(JsonataError::new(
                    "D3141",
                    msg.as_deref().unwrap_or("$assert() statement failed"),
                ));
            }
            None
        }
        "map" | "filter" | "each" | "sift" | "single" | "reduce" => {
            return higher_order(ev, name, a0, arg(&args, 1).cloned(), arg(&args, 2).cloned());
        }
        "now" => Some(V::str(&now(ev)?.to_string())),
        "millis" => num(now(ev)?.unix_millis() as f64),
        "toMillis" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            match Timestamp::parse(&s) {
                Some(t) => num(t.unix_millis() as f64),
                None => {
                    return Err(JsonataError::new(
                        "D3110",
                        &format!("Unable to parse timestamp: {s}"),
                    ))
                }
            }
        }
        "fromMillis" => num_arg(name, &args, 0)?
            .map(|ms| V::str(&Timestamp::from_unix_millis(ms as i64).to_string())),
        "base64encode" | "base64decode" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let fname = if name == "base64encode" {
                "States.Base64Encode"
            } else {
                "States.Base64Decode"
            };
            aws(ev, fname, vec![Value::String(s.to_string())])?
        }
        "partition" => {
            let (Some(a), Some(b)) = (a0, arg(&args, 1)) else {
                return Ok(None);
            };
            aws(
                ev,
                "States.ArrayPartition",
                vec![to_json_value(&a)?, to_json_value(b)?],
            )?
        }
        "range" => {
            let vals = args
                .iter()
                .map(|a| a.as_ref().map_or(Ok(Value::Null), to_json_value))
                .collect::<Result<Vec<_>, _>>()?;
            match aws(ev, "States.ArrayRange", vals)? {
                Some(V::Arr(a, _)) => collapse(a.as_ref().clone()),
                other => other,
            }
        }
        "hash" => {
            let (Some(a), Some(b)) = (a0, arg(&args, 1)) else {
                return Ok(None);
            };
            aws(
                ev,
                "States.Hash",
                vec![to_json_value(&a)?, to_json_value(b)?],
            )?
        }
        "uuid" => aws(ev, "States.UUID", vec![])?,
        "parse" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            match serde_json::from_str::<Value>(&s) {
                Ok(v) => Some(from_json(&v)),
                Err(_) => {
                    return Err(JsonataError::new(
                        "D3140",
                        &format!("Unable to parse the string as JSON: {s}"),
                    ));
                }
            }
        }
        _ => {
            return Err(JsonataError::new(
                "T1006",
                &format!("Unknown function ${name}"),
            ))
        }
    })
}

/// Calls a `States.*` function for its JSONata twin.
fn aws(ev: &mut Evaluator, fname: &str, args: Vec<Value>) -> Result<Option<V>, JsonataError> {
    call_function(fname, args, ev.scope.random)
        .map(|v| Some(from_json(&v)))
        .map_err(|e| JsonataError::new("D3200", &e.cause))
}

fn now(ev: &Evaluator) -> Result<Timestamp, JsonataError> {
    let ctx = ev.scope.context;
    ["State", "Execution"]
        .iter()
        .zip(["EnteredTime", "StartTime"])
        .find_map(|(o, f)| ctx.get(*o)?.get(f)?.as_str().and_then(Timestamp::parse))
        .ok_or_else(|| JsonataError::new("D3200", "The current time is not available"))
}

fn higher_order(
    ev: &mut Evaluator,
    name: &'static str,
    data: Option<V>,
    f: Option<V>,
    init: Option<V>,
) -> Result<Option<V>, JsonataError> {
    let Some(data) = data else { return Ok(None) };
    let Some(f) = f.filter(V::is_function) else {
        return Err(bad(name, 1));
    };
    let arity = match &f {
        V::Lambda(l, _) => l.params.len(),
        _ => 1,
    };
    let call = |ev: &mut Evaluator, args: Vec<Option<V>>| {
        ev.apply(
            Some(f.clone()),
            args.into_iter().take(arity.max(1)).collect(),
            None,
            &Node::Null,
        )
    };
    match name {
        "each" | "sift" => {
            let V::Obj(m) = data else {
                return Err(bad(name, 0));
            };
            let mut list = Vec::new();
            let mut kept = IndexMap::new();
            for (k, v) in m.iter() {
                let r = call(
                    ev,
                    vec![Some(v.clone()), Some(V::str(k)), Some(V::Obj(m.clone()))],
                )?;
                if name == "each" {
                    list.extend(r);
                } else if truthy(r.as_ref()) {
                    kept.insert(k.clone(), v.clone());
                }
            }
            Ok(if name == "each" {
                collapse(list)
            } else if kept.is_empty() {
                None
            } else {
                Some(V::Obj(Rc::new(kept)))
            })
        }
        "reduce" => {
            let items = data.items();
            let mut it = items.into_iter();
            let mut acc = match init {
                Some(v) => Some(v),
                None => it.next(),
            };
            for (i, x) in it.enumerate() {
                acc = ev.apply(
                    Some(f.clone()),
                    vec![acc, Some(x), Some(V::Num(i as f64))]
                        .into_iter()
                        .take(arity.max(2))
                        .collect(),
                    None,
                    &Node::Null,
                )?;
            }
            Ok(acc)
        }
        _ => {
            let items = data.items();
            let whole = V::arr(items.clone(), Kind::Plain);
            let mut out = Vec::new();
            for (i, x) in items.iter().enumerate() {
                let r = call(
                    ev,
                    vec![Some(x.clone()), Some(V::Num(i as f64)), Some(whole.clone())],
                )?;
                match name {
                    "map" => out.extend(r),
                    _ if truthy(r.as_ref()) => out.push(x.clone()),
                    _ => {}
                }
            }
            if name == "single" {
                return match out.len() {
                    1 => Ok(out.pop()),
                    0 => Err(JsonataError::new("D3139", "The $single() function expected exactly 1 matching result.  Instead it matched 0.")),
                    n => Err(JsonataError::new("D3138", &format!("The $single() function expected exactly 1 matching result.  Instead it matched {n}."))),
                };
            }
            Ok(collapse(out))
        }
    }
}

/// A string as a JSON number (what `$number` accepts), also `0x`, `0o`, `0b` forms.
fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(d) = t.strip_prefix(prefix) {
            return i64::from_str_radix(d, radix).ok().map(|i| i as f64);
        }
    }
    match serde_json::from_str::<Value>(t) {
        Ok(Value::Number(n)) => n.as_f64(),
        _ => None,
    }
}

/// Rounds half to even at `precision` decimal places, as `$round` does.
fn round_half_even(n: f64, precision: i32) -> f64 {
    let factor = 10f64.powi(precision);
    let x = n * factor;
    let r = x.round();
    let r = if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    };
    r / factor
}

/// Replacement text for a regex match: `$0`, `$1`... and `$$`.
fn expand(to: &str, s: &str, m: &regress::Match) -> String {
    let mut out = String::new();
    let mut chars = to.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some(d) if d.is_ascii_digit() => {
                chars.next();
                let i = d as usize - '0' as usize;
                if let Some(r) = m.group(i) {
                    out.push_str(&s[r]);
                }
            }
            _ => out.push('$'),
        }
    }
    out
}
