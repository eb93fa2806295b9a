//! Execution names from tick times, and back: `NAME-2026-12-02T06-00Z`.
//!
//! The name is the feed's name and the tick in UTC to the minute. Step Functions refuses a
//! second execution with a name already used, and the local execution store does the same, so
//! a tick cannot start twice however often the scheduler restarts.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// The execution name of the tick at `time` of feed `feed`: `FEED-yyyy-mm-ddThh-mmZ`, in UTC
/// to the minute (`jobs-2026-12-02T06-00Z`).
pub fn execution_name(feed: &str, time: DateTime<Utc>) -> String {
    format!("{feed}-{}", time.format("%Y-%m-%dT%H-%MZ"))
}

/// The tick time back out of an execution name made by [`execution_name`] for `feed`, or
/// `None` if `name` is not one (a name given by hand, another feed's).
pub fn tick_of_execution_name(feed: &str, name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(feed)?.strip_prefix('-')?;
    let stamp = stamp.strip_suffix('Z')?;
    if stamp.len() != 16 {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H-%M").ok()?;
    let time = Utc.from_utc_datetime(&naive);
    (execution_name(feed, time) == name).then_some(time)
}
