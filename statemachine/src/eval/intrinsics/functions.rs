//! The `States.*` functions over evaluated arguments. Bad arguments give AWS's
//! `States.Runtime` error "Invalid arguments in States.Name".

use std::cmp::Ordering;

use md5::Md5;
use serde_json::{Map, Number, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::super::jsonpath::cmp_numbers;
use super::super::{uuid_v4, EvalError, Random, SeededRandom};

/// The most characters `States.Base64Encode`/`Base64Decode`/`Hash` accept.
const MAX_STRING_CHARS: usize = 10_000;
/// The most elements `States.ArrayRange` may produce.
const MAX_RANGE_ITEMS: i64 = 1000;

/// An evaluated argument: its value and, for a string literal, its text as written.
pub struct Evaluated {
    /// The value.
    pub value: Value,
    /// The literal text between the quotes (escapes kept), if the argument was a literal.
    pub raw: Option<String>,
}

/// "Invalid arguments in States.Name".
pub fn invalid(name: &str) -> EvalError {
    EvalError::runtime(format!("Invalid arguments in {name}"))
}

/// Calls the function `name` with `args`.
pub fn call(name: &str, args: Vec<Evaluated>, random: &dyn Random) -> Result<Value, EvalError> {
    let bad = || invalid(name);
    let count = args.len();
    let arity = |n: usize| if count == n { Ok(()) } else { Err(bad()) };
    let mut vals: Vec<Value> = Vec::with_capacity(args.len());
    let mut raw_template = None;
    for (i, a) in args.into_iter().enumerate() {
        if i == 0 {
            raw_template = a.raw;
        }
        vals.push(a.value);
    }
    match name {
        "States.Format" => {
            if vals.is_empty() {
                return Err(bad());
            }
            let template = match (&raw_template, &vals[0]) {
                (Some(raw), _) => raw.clone(),
                (None, Value::String(s)) => s.clone(),
                _ => return Err(bad()),
            };
            format(&template, &vals[1..]).ok_or_else(bad)
        }
        "States.StringToJson" => {
            arity(1)?;
            let Value::String(s) = &vals[0] else {
                return Err(bad());
            };
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(s).map_err(|_| bad())
        }
        "States.JsonToString" => {
            arity(1)?;
            serde_json::to_string(&vals[0])
                .map(Value::String)
                .map_err(|_| bad())
        }
        "States.Array" => Ok(Value::Array(vals)),
        "States.ArrayPartition" => {
            arity(2)?;
            let (Value::Array(items), Some(size)) = (&vals[0], round(&vals[1])) else {
                return Err(bad());
            };
            if size <= 0 {
                return Err(bad());
            }
            Ok(Value::Array(
                items
                    .chunks(size as usize)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        "States.ArrayContains" => {
            arity(2)?;
            let Value::Array(items) = &vals[0] else {
                return Err(bad());
            };
            Ok(Value::Bool(items.iter().any(|x| json_eq(x, &vals[1]))))
        }
        "States.ArrayRange" => {
            arity(3)?;
            let (Some(start), Some(end), Some(step)) =
                (truncate(&vals[0]), truncate(&vals[1]), truncate(&vals[2]))
            else {
                return Err(bad());
            };
            range(start, end, step).ok_or_else(bad)
        }
        "States.ArrayGetItem" => {
            arity(2)?;
            let (Value::Array(items), Some(i)) = (&vals[0], round(&vals[1])) else {
                return Err(bad());
            };
            usize::try_from(i)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(bad)
        }
        "States.ArrayLength" => {
            arity(1)?;
            match &vals[0] {
                Value::Array(items) => Ok(Value::from(items.len())),
                _ => Err(bad()),
            }
        }
        "States.ArrayUnique" => {
            arity(1)?;
            let Value::Array(items) = &vals[0] else {
                return Err(bad());
            };
            let mut out: Vec<Value> = Vec::new();
            for x in items {
                if !out.iter().any(|y| json_eq(x, y)) {
                    out.push(x.clone());
                }
            }
            Ok(Value::Array(out))
        }
        "States.Base64Encode" => {
            arity(1)?;
            match &vals[0] {
                Value::String(s) if s.chars().count() <= MAX_STRING_CHARS => {
                    Ok(Value::String(base64_encode(s.as_bytes())))
                }
                _ => Err(bad()),
            }
        }
        "States.Base64Decode" => {
            arity(1)?;
            match &vals[0] {
                Value::String(s) if s.chars().count() <= MAX_STRING_CHARS => base64_decode(s)
                    .and_then(|b| String::from_utf8(b).ok())
                    .map(Value::String)
                    .ok_or_else(bad),
                _ => Err(bad()),
            }
        }
        "States.Hash" => {
            arity(2)?;
            let (Value::String(data), Value::String(algo)) = (&vals[0], &vals[1]) else {
                return Err(bad());
            };
            if data.chars().count() > MAX_STRING_CHARS {
                return Err(bad());
            }
            let d = data.as_bytes();
            let digest: Vec<u8> = match algo.as_str() {
                "MD5" => Md5::digest(d).to_vec(),
                "SHA-1" => Sha1::digest(d).to_vec(),
                "SHA-256" => Sha256::digest(d).to_vec(),
                "SHA-384" => Sha384::digest(d).to_vec(),
                "SHA-512" => Sha512::digest(d).to_vec(),
                _ => return Err(bad()),
            };
            Ok(Value::String(
                digest.iter().map(|b| format!("{b:02x}")).collect(),
            ))
        }
        "States.JsonMerge" => {
            arity(3)?;
            match (&vals[0], &vals[1], &vals[2]) {
                (Value::Object(a), Value::Object(b), Value::Bool(false)) => {
                    let mut out = a.clone();
                    for (k, v) in b {
                        out.insert(k.clone(), v.clone());
                    }
                    Ok(Value::Object(out))
                }
                _ => Err(bad()),
            }
        }
        "States.MathRandom" => {
            if !(2..=3).contains(&vals.len()) {
                return Err(bad());
            }
            let (Some(start), Some(end)) = (round(&vals[0]), round(&vals[1])) else {
                return Err(bad());
            };
            if end <= start {
                return Err(bad());
            }
            let span = (i128::from(end) - i128::from(start)) as u64;
            let draw = match vals.get(2) {
                Some(seed) => {
                    let seed = round(seed).ok_or_else(bad)?;
                    SeededRandom::new(seed as u64).next_u64()
                }
                None => random.next_u64(),
            };
            Ok(Value::from(
                (i128::from(start) + i128::from(draw % span)) as i64,
            ))
        }
        "States.MathAdd" => {
            arity(2)?;
            let (Some(a), Some(b)) = (round(&vals[0]), round(&vals[1])) else {
                return Err(bad());
            };
            a.checked_add(b).map(Value::from).ok_or_else(bad)
        }
        "States.StringSplit" => {
            arity(2)?;
            let (Value::String(s), Value::String(delims)) = (&vals[0], &vals[1]) else {
                return Err(bad());
            };
            let parts = s
                .split(|c: char| delims.contains(c))
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_string()))
                .collect();
            Ok(Value::Array(parts))
        }
        "States.UUID" => {
            arity(0)?;
            Ok(Value::String(uuid_v4(random)))
        }
        _ => Err(EvalError::runtime(format!(
            "The intrinsic function {name} is not known"
        ))),
    }
}

/// Fills `{}` placeholders of a template (escapes `\{`, `\}`, `\'`, `\\`) with `args`.
fn format(template: &str, args: &[Value]) -> Option<Value> {
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => out.push(n),
                None => out.push('\\'),
            },
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push_str(&java_string(next.next()?));
            }
            '{' | '}' => return None,
            c => out.push(c),
        }
    }
    if next.next().is_some() {
        return None;
    }
    Some(Value::String(out))
}

/// A value as Java's `toString` prints it (strings bare, maps `{k=v}`, lists `[a, b]`).
fn java_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(java_string).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("{k}={}", java_string(x)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// JSON equality with numbers compared by value.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => object_eq(x, y),
        _ => a == b,
    }
}

fn object_eq(x: &Map<String, Value>, y: &Map<String, Value>) -> bool {
    x.len() == y.len()
        && x.iter()
            .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
}

/// A number rounded half up, as Java's `Math.round` does.
fn round(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    let r = (f + 0.5).floor();
    (r.is_finite() && r.abs() < 9.0e18).then_some(r as i64)
}

/// A number with its fraction cut off.
fn truncate(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?.trunc();
    (f.is_finite() && f.abs() < 9.0e18).then_some(f as i64)
}

fn range(start: i64, end: i64, step: i64) -> Option<Value> {
    if step == 0 {
        return None;
    }
    let count = if (step > 0 && end < start) || (step < 0 && end > start) {
        0
    } else {
        (i128::from(end) - i128::from(start)) / i128::from(step) + 1
    };
    if count > i128::from(MAX_RANGE_ITEMS) {
        return None;
    }
    Some(Value::Array(
        (0..count as i64)
            .map(|i| Value::Number(Number::from(start + i * step)))
            .collect(),
    ))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if !t.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(t.len() / 4 * 3);
    for (ci, chunk) in t.chunks(4).enumerate() {
        let last = ci + 1 == t.len() / 4;
        let mut n = 0u32;
        let mut pad = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = match c {
                b'=' if last && i >= 2 => {
                    pad += 1;
                    0
                }
                _ if pad > 0 => return None,
                _ => B64.iter().position(|&x| x == c)? as u32,
            };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(name: &str, args: Vec<Value>) -> Result<Value, EvalError> {
        let args = args
            .into_iter()
            .map(|value| Evaluated { value, raw: None })
            .collect();
        call(name, args, &SeededRandom::new(3))
    }

    #[test]
    fn functions_match_aws_results() {
        assert_eq!(
            run(
                "States.Format",
                vec![json!("a={} b={}"), json!({"x": 1, "y": []}), json!(null)]
            )
            .unwrap(),
            json!("a={x=1, y=[]} b=null")
        );
        assert_eq!(
            run("States.ArrayPartition", vec![json!([0, 1, 2, 3]), json!(3)]).unwrap(),
            json!([[0, 1, 2], [3]])
        );
        assert_eq!(
            run("States.ArrayRange", vec![json!(0), json!(10), json!(3)]).unwrap(),
            json!([0, 3, 6, 9])
        );
        assert_eq!(
            run("States.ArrayRange", vec![json!(5), json!(1), json!(-2)]).unwrap(),
            json!([5, 3, 1])
        );
        assert_eq!(
            run("States.MathAdd", vec![json!(-2.5), json!(1.5)]).unwrap(),
            json!(0)
        );
        assert_eq!(
            run("States.StringSplit", vec![json!(", , ,"), json!(",")]).unwrap(),
            json!([" ", " "])
        );
        assert_eq!(
            run("States.Base64Encode", vec![json!("Data to encode")]).unwrap(),
            json!("RGF0YSB0byBlbmNvZGU=")
        );
        assert_eq!(
            run("States.Base64Decode", vec![json!("RGF0YSB0byBlbmNvZGU=")]).unwrap(),
            json!("Data to encode")
        );
        assert_eq!(
            run("States.Hash", vec![json!("input data"), json!("SHA-1")]).unwrap(),
            json!("aaff4a450a104cd177d28d18d74485e8cae074b7")
        );
        assert_eq!(
            run(
                "States.ArrayUnique",
                vec![json!([1, 1.0, "a", "a", {"b": 1}, {"b": 1}])]
            )
            .unwrap(),
            json!([1, "a", {"b": 1}])
        );
        let r = run("States.MathRandom", vec![json!(10), json!(20)]).unwrap();
        assert!((10..20).contains(&r.as_i64().unwrap()), "{r}");
    }

    #[test]
    fn bad_arguments_give_aws_cause() {
        for (name, args) in [
            ("States.ArrayGetItem", vec![json!([1]), json!(5)]),
            ("States.ArrayRange", vec![json!(1), json!(1001), json!(1)]),
            ("States.ArrayRange", vec![json!(1), json!(10), json!(0.49)]),
            ("States.MathAdd", vec![json!(1), json!("x")]),
            ("States.Format", vec![json!("{} {}"), json!(1)]),
            ("States.Format", vec![json!("}")]),
            ("States.JsonMerge", vec![json!({}), json!({}), json!(true)]),
            ("States.Base64Decode", vec![json!("abc")]),
            ("States.StringToJson", vec![json!("{nope")]),
        ] {
            let err = run(name, args).unwrap_err();
            assert_eq!(err.error(), "States.Runtime");
            assert_eq!(err.cause, format!("Invalid arguments in {name}"));
        }
    }
}
