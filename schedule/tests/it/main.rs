//! Tests of the `schedule` crate: one binary, one module per concern.

mod next_times;
mod plan;
mod props;
mod refusals;

use schedule::chrono::{DateTime, Utc};
use schedule::{parse_time_zone, Schedule, Tz};

/// An instant from RFC 3339 text (test data; panics on a typo in the test itself).
pub fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("bad test time {text}: {e}"))
        .with_timezone(&Utc)
}

/// A zone by name (test data).
pub fn zone(name: &str) -> Tz {
    parse_time_zone(name).unwrap_or_else(|e| panic!("{e}"))
}

/// A valid expression (test data).
pub fn schedule(expr: &str) -> Schedule {
    Schedule::parse(expr).unwrap_or_else(|e| panic!("{e}"))
}

/// Formats an optional instant the way the tables write them.
pub fn show(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "never".to_owned(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}
