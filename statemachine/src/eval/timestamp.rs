//! Timestamps as Step Functions reads them: ISO-8601 extended offset date-times
//! (`2016-03-14T01:59:00Z`, `2016-03-14T01:59:00.123+02:00`), the form Wait states and the
//! Choice `Timestamp*` operators accept. A date-time without an offset, a space instead of `T`,
//! or an out-of-range field is not a timestamp.

use std::fmt;

/// An instant: seconds since the Unix epoch (UTC) and nanoseconds within the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    pub unix_seconds: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nanos: u32,
}

impl Timestamp {
    /// The instant `unix_millis` milliseconds after the epoch.
    pub fn from_unix_millis(unix_millis: i64) -> Timestamp {
        Timestamp {
            unix_seconds: unix_millis.div_euclid(1000),
            nanos: (unix_millis.rem_euclid(1000) * 1_000_000) as u32,
        }
    }

    /// Milliseconds since the epoch (rounded down).
    pub fn unix_millis(&self) -> i64 {
        self.unix_seconds
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// Parses an ISO-8601 extended offset date-time; `None` if `text` is not one.
    pub fn parse(text: &str) -> Option<Timestamp> {
        parse(text.as_bytes())
    }
}

impl fmt::Display for Timestamp {
    /// UTC with milliseconds, as Step Functions prints times: `2016-03-14T01:59:00.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.unix_seconds.div_euclid(86_400);
        let secs = self.unix_seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            self.nanos / 1_000_000
        )
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let s = b.get(at..at + n)?;
    s.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn parse(b: &[u8]) -> Option<Timestamp> {
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    if b.get(13) != Some(&b':') {
        return None;
    }
    let minute = digits(b, 14, 2)?;
    let mut at = 16;
    let mut second = 0;
    let mut nanos = 0u32;
    if b.get(at) == Some(&b':') {
        second = digits(b, at + 1, 2)?;
        at += 3;
        if b.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while at < b.len() && b[at].is_ascii_digit() {
                at += 1;
            }
            let frac = &b[start..at];
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            let mut n = 0u32;
            for (i, c) in frac.iter().enumerate() {
                n += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
            }
            nanos = n;
        }
    }
    let offset = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        sign @ (b'+' | b'-') => {
            let oh = digits(b, at + 1, 2)?;
            if b.get(at + 3) != Some(&b':') {
                return None;
            }
            let om = digits(b, at + 4, 2)?;
            let mut os = 0;
            let mut end = at + 6;
            if b.get(end) == Some(&b':') {
                os = digits(b, end + 1, 2)?;
                end += 3;
            }
            if end != b.len() || oh > 18 || om > 59 || os > 59 {
                return None;
            }
            let total = oh * 3600 + om * 60 + os;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let unix_seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(Timestamp {
        unix_seconds,
        nanos,
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_and_rejected_forms() {
        let t = Timestamp::parse("2016-12-05T21:29:29Z").unwrap();
        assert_eq!(t.unix_seconds, 1_480_973_369);
        assert_eq!(t.to_string(), "2016-12-05T21:29:29.000Z");
        let o = Timestamp::parse("2016-12-05T23:29:29.5+02:00").unwrap();
        assert_eq!(o.unix_seconds, t.unix_seconds);
        assert_eq!(o.nanos, 500_000_000);
        for bad in [
            "05-12-2016T21:29:29Z",
            "2016-13-05T21:29:29Z",
            "2016-12-05 21:29:29Z",
            "2016-12-05T21:29:29",
            "2016-12-05T25:29:29Z",
            "2016-02-30T00:00:00Z",
            "2023-02-24 12:15:56.832957",
            "",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Timestamp::from_unix_millis(-1).to_string(),
            "1969-12-31T23:59:59.999Z"
        );
    }
}
