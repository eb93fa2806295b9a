//! `rate(value unit)`: a fixed period, anchored at the Unix epoch.
//!
//! EventBridge Scheduler starts a rate schedule at its `StartDate`, or when it is created. A
//! local scheduler has no creation time that survives a restart, so here every rate schedule
//! is anchored at 1970-01-01T00:00:00Z: `rate(N unit)` fires at every instant that is a whole
//! number of periods after the epoch. `rate(1 day)` fires at 00:00 UTC, `rate(1 hour)` on the
//! hour, `rate(15 minutes)` at :00, :15, :30 and :45. Units are fixed lengths (a day is 86,400
//! seconds, as EventBridge counts it), so a rate schedule ignores the time zone.

use chrono::{DateTime, Utc};

use crate::error::ScheduleError;

/// A parsed rate expression: its period in seconds (at least 60).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    period_secs: i64,
}

impl Rate {
    /// The first firing strictly after `after`.
    pub(crate) fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let k = after.timestamp().div_euclid(self.period_secs);
        let secs = k.checked_add(1)?.checked_mul(self.period_secs)?;
        DateTime::from_timestamp(secs, 0)
    }

    /// The last firing at or before `at`.
    pub(crate) fn last_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let k = at.timestamp().div_euclid(self.period_secs);
        DateTime::from_timestamp(k.checked_mul(self.period_secs)?, 0)
    }
}

/// Parses the text between `rate(` and `)`; `expr` is the whole expression, for errors.
pub(crate) fn parse_rate(expr: &str, body: &str) -> Result<Rate, ScheduleError> {
    let fail = |reason: String| ScheduleError::Rate {
        expr: expr.to_owned(),
        reason,
    };
    let parts: Vec<&str> = body.split_ascii_whitespace().collect();
    let [value, unit] = parts[..] else {
        return Err(fail(format!(
            "a rate expression is 'rate(value unit)', two parts, found {}",
            parts.len()
        )));
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail(format!(
            "value '{value}' must be a positive whole number"
        )));
    }
    if value.len() > 12 {
        return Err(fail(format!("value '{value}' is too large")));
    }
    let n: i64 = value
        .parse()
        .map_err(|_| fail(format!("value '{value}' must be a positive whole number")))?;
    if n == 0 {
        return Err(fail("value must be positive, not 0".to_owned()));
    }
    let (unit_secs, singular, plural) = match unit {
        "minute" | "minutes" => (60, "minute", "minutes"),
        "hour" | "hours" => (3_600, "hour", "hours"),
        "day" | "days" => (86_400, "day", "days"),
        _ => {
            return Err(fail(format!(
                "unit '{unit}' must be minute(s), hour(s) or day(s)"
            )))
        }
    };
    if n == 1 && unit == plural {
        return Err(fail(format!(
            "a value of 1 takes the singular unit: 'rate(1 {singular})'"
        )));
    }
    if n > 1 && unit == singular {
        return Err(fail(format!(
            "a value above 1 takes the plural unit: 'rate({n} {plural})'"
        )));
    }
    Ok(Rate {
        period_secs: n * unit_secs,
    })
}
