//! `cron(minutes hours day-of-month month day-of-week year)`: the parsed fields and the
//! search for the next matching wall-clock minute.
//!
//! The search works on naive local date-times (the wall clock of the schedule's zone); turning
//! them into instants, with the daylight-saving rules, is [`crate::Schedule::next_after`]'s job.

mod parse;
mod set;

pub(crate) use parse::parse_cron;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use set::ValueSet;

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cron {
    minutes: ValueSet,
    hours: ValueSet,
    days: Days,
    months: ValueSet,
    years: ValueSet,
}

/// Which days match: exactly one of the two day fields is in force (the other is `?`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Days {
    Month(DomSpec),
    Week(DowSpec),
}

/// Day-of-month: listed days, the last day (`L`), the weekdays nearest listed days (`nW`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct DomSpec {
    days: ValueSet,
    last: bool,
    nearest_weekday: ValueSet,
}

/// Day-of-week, numbered 1 (Sunday) to 7 (Saturday).
#[derive(Debug, Clone, PartialEq, Eq)]
enum DowSpec {
    /// Listed days of the week (`L` alone is Saturday, the last day of the week).
    Days(ValueSet),
    /// `weekday#nth`: the nth such weekday of the month (1-5).
    Nth { weekday: u16, nth: u8 },
}

impl Cron {
    /// The first wall-clock minute strictly after `after` (taken at its minute) that matches,
    /// or `None` when there is none up to the end of 2199.
    pub(crate) fn next_local(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let floor = after.date().and_hms_opt(after.hour(), after.minute(), 0)?;
        let start = floor.checked_add_signed(Duration::minutes(1))?;
        let start_year = u16::try_from(start.year().max(0)).ok()?;
        for year in self.years.iter_from(start_year) {
            let first_year = year == start_year;
            let month_from = if first_year { start.month() as u16 } else { 1 };
            for month in self.months.iter_from(month_from) {
                let first_month = first_year && month == start.month() as u16;
                let days = self.days_in(i32::from(year), u32::from(month));
                let day_from = if first_month { start.day() } else { 1 };
                for day in (day_from..=31).filter(|d| days & (1 << d) != 0) {
                    let first_day = first_month && day == start.day();
                    let hour_from = if first_day { start.hour() as u16 } else { 0 };
                    for hour in self.hours.iter_from(hour_from) {
                        let first_hour = first_day && hour == start.hour() as u16;
                        let minute_from = if first_hour { start.minute() as u16 } else { 0 };
                        if let Some(minute) = self.minutes.first_from(minute_from) {
                            let date =
                                NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), day)?;
                            let time =
                                NaiveTime::from_hms_opt(u32::from(hour), u32::from(minute), 0)?;
                            return Some(date.and_time(time));
                        }
                    }
                }
            }
        }
        None
    }

    /// The days of `year`-`month` that match, as bits 1..=31.
    fn days_in(&self, year: i32, month: u32) -> u32 {
        let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
            return 0;
        };
        let last_day = days_in_month(year, month);
        let mut bits = 0u32;
        match &self.days {
            Days::Month(dom) => {
                for d in dom
                    .days
                    .iter_from(1)
                    .take_while(|d| u32::from(*d) <= last_day)
                {
                    bits |= 1 << d;
                }
                if dom.last {
                    bits |= 1 << last_day;
                }
                for d in dom.nearest_weekday.iter_from(1) {
                    if let Some(w) = nearest_weekday(first, u32::from(d), last_day) {
                        bits |= 1 << w;
                    }
                }
            }
            Days::Week(DowSpec::Days(set)) => {
                for d in 1..=last_day {
                    if set.contains(weekday_number(first, d)) {
                        bits |= 1 << d;
                    }
                }
            }
            Days::Week(DowSpec::Nth { weekday, nth }) => {
                let first_weekday = weekday_number(first, 1);
                let first_match = 1 + u32::from((weekday + 7 - first_weekday) % 7);
                let day = first_match + 7 * (u32::from(*nth) - 1);
                if day <= last_day {
                    bits |= 1 << day;
                }
            }
        }
        bits
    }
}

/// The number of days of a month (28-31).
fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|d| d.pred_opt())
        .map_or(31, |d| d.day())
}

/// EventBridge's number of the weekday of day `day` of `first`'s month: 1 Sunday .. 7 Saturday.
fn weekday_number(first: NaiveDate, day: u32) -> u16 {
    let offset = first.weekday().num_days_from_sunday() + day - 1;
    (offset % 7) as u16 + 1
}

/// `nW`: the weekday (Monday-Friday) nearest day `n`, without leaving the month; `None` when
/// the month has no day `n`.
fn nearest_weekday(first: NaiveDate, n: u32, last_day: u32) -> Option<u32> {
    if n > last_day {
        return None;
    }
    let date = first.with_day(n)?;
    Some(match date.weekday() {
        Weekday::Sat if n == 1 => 3,
        Weekday::Sat => n - 1,
        Weekday::Sun if n == last_day => n - 2,
        Weekday::Sun => n + 1,
        _ => n,
    })
}
