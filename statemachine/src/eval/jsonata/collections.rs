//! The JSONata functions over arrays, objects and functions (aggregates, `$sort`, `$merge`,
//! `$map`/`$filter`/`$reduce`, ...), time (`$now`, `$millis` from the context object), and
//! Step Functions' additions (`$partition`, `$range`, `$hash`, `$uuid`, `$parse`).

use indexmap::IndexMap;
use serde_json::Value;

use super::eval::{lookup, Evaluator};
use super::functions::{arg, bad, num, num_arg, nums, str_arg, to_json_value};
use super::value::{collapse, deep_eq, from_json, truthy, Kind, V};
use super::{datetime, integer, JsonataError};
use crate::eval::intrinsics::call_function;
use crate::eval::Timestamp;

/// Calls the built-in `name` of this group.
pub fn call(
    ev: &mut Evaluator,
    name: &'static str,
    args: Vec<Option<V>>,
) -> Result<Option<V>, JsonataError> {
    let a0 = arg(&args, 0).cloned();
    Ok(match name {
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
        "count" => Some(V::Num(match &a0 {
            None => 0,
            Some(V::Arr(a, _)) => a.len(),
            Some(v) => v.items().len(),
        } as f64)),
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
                // Strings and numbers are looked up by value; other values compared deeply.
                let mut seen = std::collections::HashSet::new();
                let mut others: Vec<V> = Vec::new();
                let mut out: Vec<V> = Vec::new();
                for x in a.iter() {
                    let fresh = match x {
                        V::Str(s) => seen.insert((0u8, s.to_string())),
                        V::Num(n) => seen.insert((
                            1u8,
                            (if *n == 0.0 { 0.0 } else { *n }).to_bits().to_string(),
                        )),
                        _ => {
                            let fresh = !others.iter().any(|y| deep_eq(x, y));
                            if fresh {
                                others.push(x.clone());
                            }
                            fresh
                        }
                    };
                    if fresh {
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
        "spread" => match a0 {
            Some(V::Arr(..)) | Some(V::Obj(_)) => {
                let mut out = Vec::new();
                for item in a0.map(|v| v.items()).unwrap_or_default() {
                    match item {
                        V::Obj(m) => out.extend(m.iter().map(|(k, x)| {
                            let mut o = IndexMap::new();
                            o.insert(k.clone(), x.clone());
                            V::obj(o)
                        })),
                        other => out.push(other),
                    }
                }
                Some(V::arr(out, Kind::Seq))
            }
            other => other,
        },
        "merge" => a0.map(|v| {
            let mut m = IndexMap::new();
            for item in v.items() {
                if let V::Obj(o) = item {
                    for (k, x) in o.iter() {
                        m.insert(k.clone(), x.clone());
                    }
                }
            }
            V::obj(m)
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
        "now" => {
            let t = now(ev)?;
            let picture = str_arg(name, &args, 0)?;
            let tz = str_arg(name, &args, 1)?;
            if picture.is_none() && tz.is_none() {
                Some(V::str(&t.to_string()))
            } else {
                Some(V::str(&datetime::format(
                    t.unix_millis() as f64,
                    picture.as_deref(),
                    tz.as_deref(),
                )?))
            }
        }
        "millis" => num(now(ev)?.unix_millis() as f64),
        "toMillis" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            match str_arg(name, &args, 1)? {
                None => datetime::parse_iso(&s)?.map(V::Num),
                Some(p) => {
                    let now_ms = now(ev).map_or(0, |t| t.unix_millis());
                    datetime::parse(&s, &p, now_ms)?.map(V::Num)
                }
            }
        }
        "fromMillis" => match num_arg(name, &args, 0)? {
            None => None,
            Some(ms) => {
                let picture = str_arg(name, &args, 1)?;
                let tz = str_arg(name, &args, 2)?;
                Some(V::str(&datetime::format(
                    ms,
                    picture.as_deref(),
                    tz.as_deref(),
                )?))
            }
        },
        "formatInteger" => match num_arg(name, &args, 0)? {
            None => None,
            Some(n) => {
                let p = str_arg(name, &args, 1)?.ok_or_else(|| bad(name, 1))?;
                Some(V::str(&integer::format_integer(n, &p)?))
            }
        },
        "parseInteger" => match str_arg(name, &args, 0)? {
            None => None,
            Some(s) => {
                let p = str_arg(name, &args, 1)?.ok_or_else(|| bad(name, 1))?;
                let v = integer::parse_integer(&s, &p)?;
                if v.is_nan() {
                    None
                } else {
                    Some(V::Num(v))
                }
            }
        },
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
                Some(V::Arr(a, _)) => collapse(a.to_vec()),
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
    if name == "single" && f.is_none() {
        let items = data.items();
        return match items.len() {
            1 => Ok(items.into_iter().next()),
            0 => Err(JsonataError::new("D3139", "The $single() function expected exactly 1 matching result.  Instead it matched 0.")),
            n => Err(JsonataError::new("D3138", &format!("The $single() function expected exactly 1 matching result.  Instead it matched {n}."))),
        };
    }
    let Some(f) = f.filter(V::is_function) else {
        return Err(bad(name, 1));
    };
    let arity = super::apply::arity(&f);
    let call = |ev: &mut Evaluator, args: Vec<Option<V>>| {
        ev.apply(
            Some(f.clone()),
            args.into_iter().take(arity.max(1)).collect(),
            None,
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
                Some(V::arr(list, Kind::Seq))
            } else if kept.is_empty() {
                None
            } else {
                Some(V::obj(kept))
            })
        }
        "reduce" => {
            if arity < 2 {
                return Err(JsonataError::new(
                    "D3050",
                    "The second argument of reduce function must be a function with at least two arguments",
                ));
            }
            let items = data.items();
            let whole = V::arr(items.clone(), Kind::Plain);
            let (mut acc, start) = match init {
                None if !items.is_empty() => (Some(items[0].clone()), 1),
                other => (other, 0),
            };
            for (i, x) in items.iter().enumerate().skip(start) {
                acc = ev.apply(
                    Some(f.clone()),
                    vec![
                        acc,
                        Some(x.clone()),
                        Some(V::Num(i as f64)),
                        Some(whole.clone()),
                    ]
                    .into_iter()
                    .take(arity.max(2))
                    .collect(),
                    None,
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
            Ok(Some(V::arr(out, Kind::Seq)))
        }
    }
}
