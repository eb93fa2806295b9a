//! The 256 KiB payload limit: Step Functions fails a state whose input or output, or a task
//! whose result, is larger than that, with `States.DataLimitExceeded`.

use serde_json::Value;

use super::{ErrorKind, EvalError};

/// The largest payload (UTF-8 bytes of its JSON text) Step Functions accepts: 256 KiB.
pub const PAYLOAD_LIMIT_BYTES: usize = 256 * 1024;

/// `Ok` when `value` fits the limit; otherwise the `States.DataLimitExceeded` error AWS raises,
/// naming `who` (the state name, or a task's resource ARN for a task result).
pub fn check_payload_size(value: &Value, who: &str) -> Result<(), EvalError> {
    let mut counter = Counter(0);
    // Writing into a counter cannot fail except by our own early stop.
    let _ = serde_json::to_writer(&mut counter, value);
    if counter.0 > PAYLOAD_LIMIT_BYTES {
        return Err(EvalError::new(
            ErrorKind::DataLimitExceeded,
            format!(
                "The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit."
            ),
        )
        .unprefixed());
    }
    Ok(())
}

struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        if self.0 > PAYLOAD_LIMIT_BYTES {
            return Err(std::io::Error::other("limit exceeded"));
        }
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
    }
}
