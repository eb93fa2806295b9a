//! Payload limits. Step Functions fails a state whose input or output, or a task whose result,
//! is larger than 256 KiB of JSON text, with `States.DataLimitExceeded`, and refuses a larger
//! execution input in `StartExecution`. The local engine also bounds how deeply a payload
//! nests ([`MAX_PAYLOAD_DEPTH`]): the walks over values that serde_json and the evaluators do
//! recurse once per level, so a value built deeper, one level a state, would end in a stack
//! overflow. Every check here walks the value without recursion.

use serde_json::Value;

use super::{ErrorKind, EvalError};

/// The largest payload (UTF-8 bytes of its JSON text) Step Functions accepts: 256 KiB.
pub const PAYLOAD_LIMIT_BYTES: usize = 256 * 1024;

/// The deepest nesting of arrays and objects a payload may have in the local engine (a
/// scalar is depth 0, `[1]` depth 1). Past it a state fails with `States.DataLimitExceeded`.
/// Cloning, comparing, writing and dropping a `Value` recurse once per level: in a debug build
/// a 2 MiB thread stack (tokio's and the test harness's default) overflows at about 1,250
/// levels, so the bound leaves half of that for the code around it.
pub const MAX_PAYLOAD_DEPTH: usize = 512;

/// `Ok` when `value` fits the limits; otherwise the `States.DataLimitExceeded` error AWS raises,
/// naming `who` (the state name, or a task's resource ARN for a task result). Stops reading
/// the value as soon as it is over.
pub fn check_payload_size(value: &Value, who: &str) -> Result<(), EvalError> {
    payload_text(value, who).map(drop)
}

/// The JSON text of `value` when it fits the limits (depth first, then size; the text is
/// written only up to the size limit), else the `States.DataLimitExceeded` error naming `who`.
pub fn payload_text(value: &Value, who: &str) -> Result<String, EvalError> {
    if exceeds_depth(value, MAX_PAYLOAD_DEPTH) {
        return Err(too_deep(who));
    }
    let mut out = Capped(Vec::<u8>::with_capacity(64), PAYLOAD_LIMIT_BYTES);
    match serde_json::to_writer(&mut out, value) {
        // serde_json writes valid UTF-8.
        Ok(()) => Ok(String::from_utf8(out.0).unwrap_or_default()),
        Err(_) => Err(too_large(who)),
    }
}

/// The `States.DataLimitExceeded` error of a payload over 256 KiB, naming `who`.
pub fn too_large(who: &str) -> EvalError {
    EvalError::new(
        ErrorKind::DataLimitExceeded,
        format!(
            "The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
    .unprefixed()
}

/// The `States.DataLimitExceeded` error of a payload nested deeper than [`MAX_PAYLOAD_DEPTH`].
pub fn too_deep(who: &str) -> EvalError {
    EvalError::new(
        ErrorKind::DataLimitExceeded,
        format!(
            "The state/task '{who}' returned a result nested deeper than {MAX_PAYLOAD_DEPTH} levels of arrays and objects, the most the local engine accepts."
        ),
    )
    .unprefixed()
}

/// Whether `value` nests arrays and objects deeper than `max` (without recursion; stops at the
/// first path that does).
pub fn exceeds_depth(value: &Value, max: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((v, depth)) = stack.pop() {
        let container = matches!(v, Value::Array(_) | Value::Object(_));
        if container && depth + 1 > max {
            return true;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, depth + 1))),
            Value::Object(m) => stack.extend(m.values().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    false
}

/// Drops `value` without recursion (dropping a `Value` recurses once per level, which a value
/// far deeper than [`MAX_PAYLOAD_DEPTH`] would overflow the stack with).
pub fn drop_deep(value: Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// Bytes of `value`'s compact JSON text, counted as it is written (nothing kept). The value
/// must be no deeper than [`MAX_PAYLOAD_DEPTH`] (writing recurses once per level).
pub fn json_len(value: &Value) -> usize {
    let mut out = Capped(Counted::default(), usize::MAX);
    let _ = serde_json::to_writer(&mut out, value);
    out.0 .0
}

/// A byte count.
#[derive(Default)]
struct Counted(usize);

/// Where [`Capped`] writes.
trait Sink {
    fn len(&self) -> usize;
    fn put(&mut self, buf: &[u8]);
}

impl Sink for Vec<u8> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn put(&mut self, buf: &[u8]) {
        self.extend_from_slice(buf);
    }
}

impl Sink for Counted {
    fn len(&self) -> usize {
        self.0
    }
    fn put(&mut self, buf: &[u8]) {
        self.0 += buf.len();
    }
}

/// A writer that fails once more than its limit is written.
struct Capped<S>(S, usize);

impl<S: Sink> std::io::Write for Capped<S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len().saturating_add(buf.len()) > self.1 {
            return Err(std::io::Error::other("limit exceeded"));
        }
        self.0.put(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_limit_is_256_kib_of_json_text() {
        assert!(check_payload_size(&json!({"a": 1}), "S").is_ok());
        let big = Value::String("x".repeat(PAYLOAD_LIMIT_BYTES));
        let err = check_payload_size(&big, "State_1").unwrap_err();
        assert_eq!(err.error(), "States.DataLimitExceeded");
        assert_eq!(
            err.cause_in_state("State_1", 2),
            "The state/task 'State_1' returned a result with a size exceeding the maximum number of bytes service limit."
        );
        let fits = Value::String("x".repeat(PAYLOAD_LIMIT_BYTES - 2));
        assert!(check_payload_size(&fits, "S").is_ok());
        assert_eq!(
            payload_text(&json!({"a": [1, "b"]}), "S").unwrap(),
            r#"{"a":[1,"b"]}"#
        );
    }

    /// `[[...[]...]]` nested `depth` levels, built and dismantled without recursion.
    fn nested(depth: usize) -> Value {
        let mut v = json!([]);
        for _ in 1..depth {
            v = Value::Array(vec![v]);
        }
        v
    }

    #[test]
    fn depth_is_bounded_and_measured_without_recursion() {
        assert!(!exceeds_depth(&json!(1), 0));
        assert!(exceeds_depth(&json!([1]), 0));
        assert!(!exceeds_depth(&json!({"a": [1]}), 2));
        assert!(exceeds_depth(&json!({"a": [1, [2]]}), 2));
        let fits = nested(MAX_PAYLOAD_DEPTH);
        assert!(check_payload_size(&fits, "S").is_ok());
        drop_deep(fits);
        // Far deeper than any stack would allow a recursive walk (or drop) of.
        let deep = nested(1_000_000);
        let err = check_payload_size(&deep, "Wrap").unwrap_err();
        assert_eq!(err.error(), "States.DataLimitExceeded");
        assert!(
            err.cause.contains("nested deeper than 512 levels"),
            "{}",
            err.cause
        );
        drop_deep(deep);
    }
}
