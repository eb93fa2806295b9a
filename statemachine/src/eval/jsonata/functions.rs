//! Built-in JSONata functions: the name table, argument helpers, and the string and number
//! functions; the rest are in `collections`. Randomness comes from the scope: nothing here
//! reads the clock or the OS.

use std::rc::Rc;

use serde_json::Value;

use super::eval::Evaluator;
use super::regexfns::{expand, find_all, match_object};
use super::signature::Signature;
use super::value::{collapse, to_json, Kind, V};
use super::JsonataError;
use crate::eval::{Random, SeededRandom};

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
    "formatInteger",
    "parseInteger",
    "formatNumber",
    "formatBase",
    "encodeUrl",
    "encodeUrlComponent",
    "decodeUrl",
    "decodeUrlComponent",
    "base64encode",
    "base64decode",
    "partition",
    "range",
    "hash",
    "uuid",
    "parse",
];

/// The signature text of a built-in.
fn signature_text(name: &str) -> Option<&'static str> {
    Some(match name {
        "sum" | "max" | "min" | "average" => "<a<n>:n>",
        "count" => "<a:n>",
        "string" => "<x-b?:s>",
        "substring" => "<s-nn?:s>",
        "substringBefore" | "substringAfter" => "<s-s:s>",
        "lowercase" | "uppercase" | "trim" | "base64encode" | "base64decode"
        | "encodeUrlComponent" | "encodeUrl" | "decodeUrlComponent" | "decodeUrl" => "<s-:s>",
        "length" => "<s-:n>",
        "pad" => "<s-ns?:s>",
        "match" => "<s-f<s:o>n?:a<o>>",
        "contains" => "<s-(sf):b>",
        "replace" => "<s-(sf)(sf)n?:s>",
        "split" => "<s-(sf)n?:a<s>>",
        "join" => "<a<s>s?:s>",
        "formatNumber" => "<n-so?:s>",
        "formatBase" => "<n-n?:s>",
        "formatInteger" => "<n-s:s>",
        "parseInteger" => "<s-s:n>",
        "number" => "<(nsb)-:n>",
        "floor" | "ceil" | "abs" | "sqrt" => "<n-:n>",
        "round" => "<n-n?:n>",
        "power" => "<n-n:n>",
        "random" => "<n?:n>",
        "boolean" | "not" => "<x-:b>",
        "map" | "filter" => "<af>",
        "zip" => "<a+>",
        "single" => "<af?>",
        "reduce" => "<afj?:j>",
        "sift" => "<o-f?:o>",
        "keys" => "<x-:a<s>>",
        "lookup" => "<x-s:x>",
        "append" => "<xx:a>",
        "exists" => "<x:b>",
        "spread" => "<x-:a<o>>",
        "merge" => "<a<o>:o>",
        "reverse" | "shuffle" => "<a:a>",
        "each" => "<o-f:a>",
        "error" => "<s?:x>",
        "assert" => "<bs?:x>",
        "type" => "<x:s>",
        "sort" => "<af?:a>",
        "distinct" => "<x:x>",
        "toMillis" => "<s-s?:n>",
        "fromMillis" => "<n-s?s?:s>",
        "now" => "<s?s?:s>",
        "millis" => "<:n>",
        _ => return None,
    })
}

thread_local! {
    static SIGNATURES: std::cell::RefCell<std::collections::HashMap<&'static str, Rc<Signature>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The parsed signature of a built-in (`None` for the AWS additions, which check their own
/// arguments).
pub fn signature(name: &'static str) -> Option<Rc<Signature>> {
    let text = signature_text(name)?;
    SIGNATURES.with(|c| {
        if let Some(s) = c.borrow().get(name) {
            return Some(s.clone());
        }
        let sig = Rc::new(Signature::parse(text).ok()?);
        c.borrow_mut().insert(name, sig.clone());
        Some(sig)
    })
}

/// The built-in named `name`, if there is one.
pub fn native(name: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|n| *n == name)
}

pub(super) fn bad(name: &str, i: usize) -> JsonataError {
    JsonataError::new(
        "T0410",
        &format!(
            "Argument {} of function \"{name}\" does not match function signature",
            i + 1
        ),
    )
}

pub(super) fn arg(args: &[Option<V>], i: usize) -> Option<&V> {
    args.get(i).and_then(Option::as_ref)
}

pub(super) fn str_arg(
    name: &str,
    args: &[Option<V>],
    i: usize,
) -> Result<Option<Rc<str>>, JsonataError> {
    match arg(args, i) {
        None => Ok(None),
        Some(V::Str(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(name, i)),
    }
}

pub(super) fn num_arg(
    name: &str,
    args: &[Option<V>],
    i: usize,
) -> Result<Option<f64>, JsonataError> {
    match arg(args, i) {
        None => Ok(None),
        Some(V::Num(n)) => Ok(Some(*n)),
        Some(_) => Err(bad(name, i)),
    }
}

pub(super) fn nums(name: &str, v: Option<&V>) -> Result<Option<Vec<f64>>, JsonataError> {
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

pub(super) fn num(f: f64) -> Option<V> {
    Some(V::Num(f))
}

pub(super) fn to_json_value(v: &V) -> Result<Value, JsonataError> {
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
        "string" => match a0 {
            None => None,
            Some(v) => {
                let pretty = matches!(arg(&args, 1), Some(V::Bool(true)));
                Some(V::str(&super::value::string_of(&v, pretty)?))
            }
        },
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
            let pad = str_arg(name, &args, 2)?
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| Rc::from(" "));
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
                Some(p) if p.is_function() => {
                    let p = p.clone();
                    Some(V::Bool(!find_all(ev, &p, &s, 1)?.is_empty()))
                }
                _ => return Err(bad(name, 1)),
            }
        }
        "split" => {
            let Some(s) = str_arg(name, &args, 0)? else {
                return Ok(None);
            };
            let limit = num_arg(name, &args, 2)?;
            if limit.is_some_and(|l| l < 0.0) {
                return Err(JsonataError::new(
                    "D3020",
                    "Third argument of split function must evaluate to a positive number",
                ));
            }
            let limit = limit.map(|l| l as usize);
            let parts: Vec<String> = match arg(&args, 1) {
                Some(V::Str(sep)) if sep.is_empty() => s.chars().map(String::from).collect(),
                Some(V::Str(sep)) => s.split(sep.as_ref()).map(String::from).collect(),
                Some(p) if p.is_function() => {
                    let p = p.clone();
                    let mut out = Vec::new();
                    let mut last = 0;
                    for m in find_all(ev, &p, &s, usize::MAX)? {
                        out.push(s[last..m.start].to_string());
                        last = m.end;
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
            if matches!(arg(&args, 1), Some(V::Str(p)) if p.is_empty()) {
                return Err(JsonataError::new(
                    "D3010",
                    "Second argument of replace function cannot be an empty string",
                ));
            }
            let limit = num_arg(name, &args, 3)?;
            if limit.is_some_and(|l| l < 0.0) {
                return Err(JsonataError::new(
                    "D3011",
                    "Fourth argument of replace function must evaluate to a positive number",
                ));
            }
            let limit = limit.map_or(usize::MAX, |l| l as usize);
            let to = arg(&args, 2).cloned();
            match arg(&args, 1) {
                Some(V::Str(from)) => {
                    let Some(V::Str(to)) = &to else {
                        return Err(bad(name, 2));
                    };
                    Some(V::str(&s.replacen(from.as_ref(), to, limit)))
                }
                Some(p) if p.is_function() => {
                    let re = p.clone();
                    let mut out = String::new();
                    let mut last = 0;
                    for m in find_all(ev, &re, &s, limit)? {
                        out.push_str(&s[last..m.start]);
                        match &to {
                            Some(V::Str(t)) => out.push_str(&expand(t, &m)),
                            Some(f) => {
                                let obj = match_object(&s, &m);
                                match ev.apply(Some(f.clone()), vec![Some(obj)], None)? {
                                    Some(V::Str(r)) => out.push_str(&r),
                                    _ => {
                                        return Err(JsonataError::new(
                                            "D3012",
                                            "Attempted to replace a matched string with a non-string value",
                                        ))
                                    }
                                }
                            }
                            None => return Err(bad(name, 2)),
                        }
                        last = m.end;
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
            let Some(re) = arg(&args, 1).filter(|p| p.is_function()).cloned() else {
                return Err(bad(name, 1));
            };
            let limit = num_arg(name, &args, 2)?;
            if limit.is_some_and(|l| l < 0.0) {
                return Err(JsonataError::new(
                    "D3040",
                    "Third argument of match function must evaluate to a positive number",
                ));
            }
            let limit = limit.map_or(usize::MAX, |l| l as usize);
            let found: Vec<V> = find_all(ev, &re, &s, limit)?
                .iter()
                .map(|m| match_object(&s, m))
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
        "formatNumber" => match num_arg(name, &args, 0)? {
            None => None,
            Some(n) => {
                let p = str_arg(name, &args, 1)?.ok_or_else(|| bad(name, 1))?;
                let opts = match arg(&args, 2) {
                    Some(V::Obj(o)) => Some(o.clone()),
                    _ => None,
                };
                Some(V::str(&super::numfmt::format_number(
                    n,
                    &p,
                    opts.as_ref().map(|m| &m.0),
                )?))
            }
        },
        "formatBase" => match num_arg(name, &args, 0)? {
            None => None,
            Some(n) => Some(V::str(&super::numfmt::format_base(
                n,
                num_arg(name, &args, 1)?,
            )?)),
        },
        "encodeUrl" | "encodeUrlComponent" => str_arg(name, &args, 0)?
            .map(|s| V::str(&super::numfmt::encode_url(&s, name == "encodeUrlComponent"))),
        "decodeUrl" | "decodeUrlComponent" => match str_arg(name, &args, 0)? {
            None => None,
            Some(s) => Some(V::str(&super::numfmt::decode_url(
                &s,
                name == "decodeUrlComponent",
                name,
            )?)),
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
        _ => return super::collections::call(ev, name, args),
    })
}

/// A string as a number, as `$number` accepts it: decimal digits with an optional fraction and
/// exponent (leading zeros allowed), or `0x`, `0o`, `0b` integers.
fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() > 2 && b[0] == b'0' {
        let radix = match b[1] {
            b'x' | b'X' => Some(16),
            b'o' | b'O' => Some(8),
            b'b' | b'B' => Some(2),
            _ => None,
        };
        if let Some(r) = radix {
            return u64::from_str_radix(&s[2..], r).ok().map(|i| i as f64);
        }
    }
    let body = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !digits(int) || !frac.is_none_or(digits) || !exp_ok {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Shifts the decimal point of `n` by `places` through its decimal text (as the reference
/// implementation does, so `4.525` shifted by 2 is exactly `452.5`).
fn shift(n: f64, places: i32) -> f64 {
    let text = super::value::js_number(n);
    let (m, e) = match text.split_once('e') {
        Some((m, e)) => (
            m.to_string(),
            e.trim_start_matches('+').parse::<i32>().unwrap_or(0),
        ),
        None => (text, 0),
    };
    format!("{m}e{}", e + places).parse().unwrap_or(n)
}

/// Rounds half to even at `precision` decimal places, as `$round` does.
pub(super) fn round_half_even(n: f64, precision: i32) -> f64 {
    let x = if precision != 0 {
        shift(n, precision)
    } else {
        n
    };
    // JavaScript's Math.round: half up.
    let mut r = (x + 0.5).floor();
    if (r - x).abs() == 0.5 && (r % 2.0).abs() == 1.0 {
        r -= 1.0;
    }
    let r = if precision != 0 {
        shift(r, -precision)
    } else {
        r
    };
    if r == 0.0 {
        0.0
    } else {
        r
    }
}
