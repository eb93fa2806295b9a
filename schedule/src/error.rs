//! The one error type of this crate: why a schedule expression or a time zone name was refused.
//!
//! Every message starts with the expression (or zone name) as written, then says which field is
//! wrong and why, so it can be shown to a user as is, after the config file and line.

use std::fmt;

/// Why [`crate::Schedule::parse`] or [`crate::parse_time_zone`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// The expression is none of `rate(...)`, `cron(...)`, `at(...)`.
    #[error(
        "{expr}: not a schedule expression: expected rate(value unit), cron(minutes hours \
         day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"
    )]
    UnknownKind {
        /// The expression as written.
        expr: String,
    },
    /// A `rate(value unit)` expression is malformed.
    #[error("{expr}: {reason}")]
    Rate {
        /// The expression as written.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `cron(...)` expression does not have exactly six fields.
    #[error(
        "{expr}: a cron expression has 6 fields (minutes hours day-of-month month day-of-week \
         year), found {found}"
    )]
    CronFieldCount {
        /// The expression as written.
        expr: String,
        /// How many whitespace-separated fields it has.
        found: usize,
    },
    /// One field of a `cron(...)` expression is malformed.
    #[error("{expr}: {field} '{value}': {reason}")]
    CronField {
        /// The expression as written.
        expr: String,
        /// Which field.
        field: CronField,
        /// The field's text (or the list element at fault).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The day-of-month and day-of-week fields break the rule that exactly one of them is `?`.
    #[error("{expr}: {reason}")]
    CronDays {
        /// The expression as written.
        expr: String,
        /// Which way the rule is broken.
        reason: String,
    },
    /// An `at(yyyy-mm-ddThh:mm:ss)` expression is malformed or names no real date.
    #[error("{expr}: {reason}")]
    At {
        /// The expression as written.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A time zone name is not an IANA time zone name.
    #[error("unknown time zone '{name}': expected an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York'")]
    UnknownTimeZone {
        /// The name as written.
        name: String,
    },
}

/// The six fields of a cron expression, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronField {
    /// Minutes, 0-59.
    Minutes,
    /// Hours, 0-23.
    Hours,
    /// Day of the month, 1-31.
    DayOfMonth,
    /// Month, 1-12 or JAN-DEC.
    Month,
    /// Day of the week, 1-7 or SUN-SAT (1 is Sunday).
    DayOfWeek,
    /// Year, 1970-2199.
    Year,
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CronField::Minutes => "minutes",
            CronField::Hours => "hours",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
            CronField::Year => "year",
        })
    }
}
