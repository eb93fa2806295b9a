//! `at(yyyy-mm-ddThh:mm:ss)`: a one-time schedule, a wall-clock time in the schedule's zone.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::ScheduleError;

/// A parsed one-time expression: the local date and time, not yet in any zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct At {
    local: NaiveDateTime,
}

impl At {
    /// The instant this schedule fires in `tz`: `None` if that wall-clock time does not exist
    /// there (skipped by a daylight-saving change); the first of the two if it happens twice.
    pub(crate) fn instant(&self, tz: Tz) -> Option<DateTime<Utc>> {
        tz.from_local_datetime(&self.local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Parses the text between `at(` and `)`; `expr` is the whole expression, for errors.
pub(crate) fn parse_at(expr: &str, body: &str) -> Result<At, ScheduleError> {
    let fail = |reason: String| ScheduleError::At {
        expr: expr.to_owned(),
        reason,
    };
    let b = body.as_bytes();
    let shape_ok = b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(fail(format!(
            "'{body}' is not a date and time in the form yyyy-mm-ddThh:mm:ss"
        )));
    }
    let num = |range: std::ops::Range<usize>| -> u32 {
        body[range]
            .bytes()
            .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (num(0..4) as i32, num(5..7), num(8..10));
    let (hour, minute, second) = (num(11..13), num(14..16), num(17..19));
    let date = NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| fail(format!("{} is not a date", &body[..10])))?;
    let time = NaiveTime::from_hms_opt(hour, minute, second)
        .ok_or_else(|| fail(format!("{} is not a time of day", &body[11..])))?;
    Ok(At {
        local: date.and_time(time),
    })
}
