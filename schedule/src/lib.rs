//! The pure core of feedpipe's local EventBridge Scheduler: schedule expressions, the times
//! they fire, and which tick a scheduler loop should start now.
//!
//! - [`Schedule::parse`]: `rate(value unit)`, `cron(minutes hours day-of-month month
//!   day-of-week year)` and `at(yyyy-mm-ddThh:mm:ss)`, with the syntax and the refusals of
//!   EventBridge Scheduler; a refusal is a [`ScheduleError`] whose message names the field and
//!   what is wrong.
//! - [`Schedule::next_after`] / [`Schedule::upcoming`]: fire times in a time zone
//!   ([`parse_time_zone`], IANA names; UTC by default).
//! - [`Schedule::plan`]: the single tick due now and when the next one is, given the last tick
//!   already started (or when the scheduler took the schedule on).
//! - [`execution_name`] / [`tick_of_execution_name`]: `NAME-2026-12-02T06-00Z`, the execution
//!   name a tick starts, so that a tick can never start twice.
//!
//! It does no I/O and reads no clock or environment: times come in as arguments. Time zone
//! rules come from the IANA database compiled into `chrono-tz`.
//!
//! # Sources of truth
//!
//! The syntax and rules follow AWS's documentation: the EventBridge Scheduler User Guide,
//! "Schedule types on EventBridge Scheduler" (rate, cron and one-time schedules, time zones,
//! daylight saving time, 60-second precision), and the EventBridge User Guide, "Cron
//! expressions reference" (the field table, the wildcards, the day-field rules), plus AWS's
//! knowledge-center article on daylight saving with EventBridge Scheduler (a day in a rate is
//! 24 hours). Where they are silent this crate takes the stricter reading, so that an
//! expression it accepts is one AWS documents:
//!
//! - Cron fields: minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or `JAN`-`DEC`,
//!   day-of-week 1-7 or `SUN`-`SAT` (1 is Sunday), year 1970-2199. Names in any case.
//! - `,` lists, `-` ranges (low to high; a backwards range such as `FRI-MON` is refused), `*`,
//!   and `/` steps (`*/15`, `5/15` = from 5 to the field's end, `10-40/10`) in every field but
//!   day-of-week, whose documented wildcards are `, - * ? L #`.
//! - Exactly one of day-of-month and day-of-week is `?`: both `?`, both `*`, or both set are
//!   refused.
//! - Day-of-month: `L` is the month's last day; `nW` the weekday (Monday-Friday) nearest day
//!   `n`, never leaving the month (`1W` on a Saturday is Monday the 3rd, `31W` on a Sunday is
//!   Friday the 29th; a month without day `n` has no `nW`). They may be listed with plain days
//!   (`15,L`). The undocumented `LW` and `L-n` are refused.
//! - Day-of-week: `L` alone is the last day of the week, Saturday; `d#n` the nth (1-5) weekday
//!   `d` of the month (`3#2`: the second Tuesday), and it must be the field's only expression
//!   (`3#1,6#3` is refused, as documented). The undocumented `dL` is refused.
//! - Rate: the value is a positive integer, the unit `minute`/`minutes`, `hour`/`hours`,
//!   `day`/`days`: singular exactly for 1 (`rate(1 minutes)` and `rate(2 minute)` are refused).
//! - One-time: `at(yyyy-mm-ddThh:mm:ss)`, a wall-clock time in the schedule's zone.
//!
//! # Time zones and daylight saving time
//!
//! A cron or one-time schedule fires at wall-clock times of its zone. As EventBridge
//! Scheduler documents, when clocks spring forward a wall-clock time that does not exist that
//! day is skipped (`cron(30 2 * * ? *)` in Europe/Berlin does not fire on the last Sunday of
//! March), and when clocks fall back a time that happens twice fires once, at its first
//! occurrence. A rate schedule counts fixed periods from its anchor (see below) and ignores the
//! zone. The zone rules are those of the IANA database compiled into `chrono-tz`, whose
//! tables end with 2099: from 2100 on, a zone stays on its standard offset (no more daylight
//! saving changes).
//!
//! # Choices of the local scheduler
//!
//! - **Rate anchor.** EventBridge starts a rate schedule at its creation (or `StartDate`); a
//!   local scheduler that restarts has no such moment, so rates are anchored at the Unix epoch:
//!   `rate(N unit)` fires at every whole multiple of its period since 1970-01-01T00:00:00Z
//!   (`rate(1 day)` at 00:00 UTC, `rate(15 minutes)` at :00/:15/:30/:45; `rate(7 days)` on
//!   Thursdays, the epoch's weekday).
//! - **Missed ticks (flexible window).** [`Schedule::plan`] starts at most one tick per call:
//!   after downtime it starts only the latest missed tick, once, and drops the older ones, the
//!   way a schedule with a flexible time window delivers late rather than repeatedly. A
//!   schedule that has never started a tick starts with the first tick after the scheduler
//!   took it on (a new EventBridge schedule does not fire for the past). See [`Plan`].
//! - **Precision.** Cron and one-time schedules fire on whole seconds of their wall clock
//!   (cron on whole minutes); EventBridge itself invokes within the minute that follows.
//!
//! ```
//! use schedule::{execution_name, parse_time_zone, Schedule};
//!
//! let daily = Schedule::parse("cron(0 6 * * ? *)").unwrap();
//! let berlin = parse_time_zone("Europe/Berlin").unwrap();
//! let after = "2026-12-01T12:00:00Z".parse().unwrap();
//! let next = daily.next_after(after, berlin).unwrap();
//! assert_eq!(next.to_rfc3339(), "2026-12-02T05:00:00+00:00"); // 06:00 in Berlin, winter
//! assert_eq!(execution_name("jobs", next), "jobs-2026-12-02T05-00Z");
//!
//! let err = Schedule::parse("cron(0 6 * * * *)").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "cron(0 6 * * * *): day-of-month and day-of-week cannot both be '*': one must be '?'"
//! );
//! ```

#![deny(missing_docs)]

mod at;
mod cron;
mod error;
mod name;
mod plan;
mod rate;

use std::fmt;

pub use chrono;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
pub use chrono_tz::Tz;
pub use error::{CronField, ScheduleError};
pub use name::{execution_name, tick_of_execution_name};
pub use plan::Plan;

/// A parsed schedule expression: `rate(...)`, `cron(...)` or `at(...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    expr: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Rate(rate::Rate),
    Cron(Box<cron::Cron>),
    At(at::At),
}

impl Schedule {
    /// Parses an EventBridge Scheduler expression, exactly as written (no surrounding spaces).
    pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
        let body_of = |prefix: &str| {
            expr.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(')'))
                .map(str::trim)
        };
        let kind = if let Some(body) = body_of("rate(") {
            Kind::Rate(rate::parse_rate(expr, body)?)
        } else if let Some(body) = body_of("cron(") {
            Kind::Cron(Box::new(cron::parse_cron(expr, body)?))
        } else if let Some(body) = body_of("at(") {
            Kind::At(at::parse_at(expr, body)?)
        } else {
            return Err(ScheduleError::UnknownKind {
                expr: expr.to_owned(),
            });
        };
        Ok(Schedule {
            expr: expr.to_owned(),
            kind,
        })
    }

    /// The expression as it was parsed.
    pub fn expression(&self) -> &str {
        &self.expr
    }

    /// Whether this is a one-time `at(...)` schedule.
    pub fn is_one_time(&self) -> bool {
        matches!(self.kind, Kind::At(_))
    }

    /// The first time the schedule fires strictly after `after`, evaluated in `tz`; `None`
    /// when it never fires again (a one-time schedule that has passed, a cron whose years
    /// are over, or one that can never match, such as `cron(0 0 30 2 ? *)`).
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Rate(rate) => rate.next_after(after),
            Kind::At(at) => at.instant(tz).filter(|t| *t > after),
            Kind::Cron(cron) => {
                let mut cursor: NaiveDateTime = after.with_timezone(&tz).naive_local();
                loop {
                    let local = cron.next_local(cursor)?;
                    // A local time skipped by a spring-forward has no instant: skip it. One
                    // repeated by a fall-back fires at its first occurrence only; when that is
                    // not after `after`, it has fired already.
                    if let Some(t) = tz.from_local_datetime(&local).earliest() {
                        let t = t.with_timezone(&Utc);
                        if t > after {
                            return Some(t);
                        }
                    }
                    cursor = local;
                }
            }
        }
    }

    /// The fire times strictly after `after`, in order (`.take(n)` for the next `n`).
    pub fn upcoming(&self, after: DateTime<Utc>, tz: Tz) -> Upcoming<'_> {
        Upcoming {
            schedule: self,
            tz,
            cursor: Some(after),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Schedule::parse(s)
    }
}

/// The fire times of a schedule after a given instant: [`Schedule::upcoming`].
#[derive(Debug, Clone)]
pub struct Upcoming<'a> {
    schedule: &'a Schedule,
    tz: Tz,
    cursor: Option<DateTime<Utc>>,
}

impl Iterator for Upcoming<'_> {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        let next = self.schedule.next_after(self.cursor?, self.tz);
        self.cursor = next;
        next
    }
}

/// A time zone by its IANA name (`UTC`, `Europe/Berlin`, `America/New_York`, ...).
pub fn parse_time_zone(name: &str) -> Result<Tz, ScheduleError> {
    name.parse::<Tz>()
        .map_err(|_| ScheduleError::UnknownTimeZone {
            name: name.to_owned(),
        })
}
