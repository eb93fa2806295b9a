//! Date-time pictures of XPath F&O `format-dateTime`, as JSONata 2.0.6 reads them, for
//! `$fromMillis`/`$now` (writing a timestamp, with an optional `±HHMM` timezone) and
//! `$toMillis` (reading one back, or reading ISO 8601 without a picture). Pure arithmetic on
//! epoch milliseconds: the current time, where a picture leaves parts out, comes from the
//! caller. Reading timestamps back is in [`super::timeparse`].

use super::integer::{self, Case, Grouping, IntFormat};

pub(super) use super::timeparse::{parse, parse_iso};
use super::JsonataError;

pub(super) const DAY_MS: i64 = 86_400_000;
pub(super) const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12; out-of-range months and
/// days roll over).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let (y, m) = (y + (m - 1).div_euclid(12), (m - 1).rem_euclid(12) + 1);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number: year, month (1-12), day.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Epoch milliseconds of a UTC date and time (fields roll over like `Date.UTC`).
pub fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> i64 {
    days_from_civil(y, mo, 1) * DAY_MS
        + (d - 1) * DAY_MS
        + h * 3_600_000
        + mi * 60_000
        + s * 1000
        + ms
}

/// The UTC fields of an instant.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields {
    pub(super) ms_total: i64,
    pub(super) year: i64,
    pub(super) month: i64,
    pub(super) day: i64,
    pub(super) hour: i64,
    pub(super) minute: i64,
    pub(super) second: i64,
    pub(super) milli: i64,
    pub(super) weekday: i64,
}

pub(super) fn fields(ms: i64) -> Fields {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    let weekday = (days + 3).rem_euclid(7) + 1; // 1970-01-01 was a Thursday; Monday = 1
    Fields {
        ms_total: ms,
        year,
        month,
        day,
        hour: rem / 3_600_000,
        minute: rem / 60_000 % 60,
        second: rem / 1000 % 60,
        milli: rem % 1000,
        weekday,
    }
}

/// Start (epoch ms) of week 1 of a month (ISO: the week holding its first Thursday).
fn first_week(year: i64, month0: i64) -> i64 {
    let start = utc(year, month0 + 1, 1, 0, 0, 0, 0);
    let dow = fields(start).weekday;
    if dow > 4 {
        start + (8 - dow) * DAY_MS
    } else {
        start - (dow - 1) * DAY_MS
    }
}

fn ym_add(year: i64, month0: i64, delta: i64) -> (i64, i64) {
    let t = year * 12 + month0 + delta;
    (t.div_euclid(12), t.rem_euclid(12))
}

/// A component's value: numbers for most, names for `P`, `C`, `E`.
pub(super) enum Comp {
    Num(i64),
    Text(String),
    None,
}

pub(super) fn component(f: &Fields, c: char) -> Comp {
    let today = utc(f.year, f.month, f.day, 0, 0, 0, 0);
    let weeks = |start: i64| (today - start) as f64 / (DAY_MS as f64 * 7.0) + 1.0;
    Comp::Num(match c {
        'Y' => f.year,
        'M' => f.month,
        'D' => f.day,
        'd' => (today - utc(f.year, 1, 1, 0, 0, 0, 0)) / DAY_MS + 1,
        'F' => f.weekday,
        'W' => {
            let mut w = weeks(first_week(f.year, 0));
            if w > 52.0 {
                if today >= first_week(f.year + 1, 0) {
                    w = 1.0;
                }
            } else if w < 1.0 {
                w = weeks(first_week(f.year - 1, 0));
            }
            w.floor() as i64
        }
        'w' => {
            let mut w = weeks(first_week(f.year, f.month - 1));
            if w > 4.0 {
                let (ny, nm) = ym_add(f.year, f.month - 1, 1);
                if today >= first_week(ny, nm) {
                    w = 1.0;
                }
            } else if w < 1.0 {
                let (py, pm) = ym_add(f.year, f.month - 1, -1);
                w = weeks(first_week(py, pm));
            }
            w.floor() as i64
        }
        'X' => {
            if f.ms_total < first_week(f.year, 0) {
                f.year - 1
            } else if f.ms_total >= first_week(f.year + 1, 0) {
                f.year + 1
            } else {
                f.year
            }
        }
        'x' => {
            let (ny, nm) = ym_add(f.year, f.month - 1, 1);
            if f.ms_total < first_week(f.year, f.month - 1) {
                ym_add(f.year, f.month - 1, -1).1 + 1
            } else if f.ms_total >= first_week(ny, nm) {
                nm + 1
            } else {
                f.month
            }
        }
        'H' => f.hour,
        'h' => {
            let h = f.hour % 12;
            if h == 0 {
                12
            } else {
                h
            }
        }
        'm' => f.minute,
        's' => f.second,
        'f' => f.milli,
        'P' => return Comp::Text(if f.hour >= 12 { "pm" } else { "am" }.into()),
        'C' | 'E' => return Comp::Text("ISO".into()),
        _ => return Comp::None,
    })
}

/// One part of an analysed date-time picture.
#[derive(Debug, Clone)]
pub(super) enum Part {
    Literal(String),
    Marker(Marker),
}

#[derive(Debug, Clone)]
pub(super) struct Marker {
    pub(super) component: char,
    pub(super) presentation1: String,
    pub(super) presentation2: Option<char>,
    pub(super) names: Option<Case>,
    pub(super) width: (Option<usize>, Option<usize>),
    pub(super) int: Option<IntFormat>,
    /// Digits of the year to show (`-1`: all).
    pub(super) n: i64,
}

fn default_presentation(c: char) -> Option<&'static str> {
    Some(match c {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

pub(super) fn analyse(picture: &str) -> Result<Vec<Part>, JsonataError> {
    let mut parts = Vec::new();
    let chars: Vec<char> = picture.chars().collect();
    let mut literal = String::new();
    let mut i = 0;
    let flush = |lit: &mut String, parts: &mut Vec<Part>| {
        if !lit.is_empty() {
            parts.push(Part::Literal(std::mem::take(lit).replace("]]", "]")));
        }
    };
    while i < chars.len() {
        if chars[i] != '[' {
            literal.push(chars[i]);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'[') {
            flush(&mut literal, &mut parts);
            parts.push(Part::Literal("[".into()));
            i += 2;
            continue;
        }
        flush(&mut literal, &mut parts);
        let Some(end) = chars[i..].iter().position(|c| *c == ']').map(|p| p + i) else {
            return Err(JsonataError::new(
                "D3135",
                "No matching closing bracket ']' in date/time picture string",
            ));
        };
        let marker: String = chars[i + 1..end]
            .iter()
            .filter(|c| !c.is_whitespace())
            .collect();
        parts.push(Part::Marker(marker_of(&marker)?));
        i = end + 1;
    }
    flush(&mut literal, &mut parts);
    Ok(parts)
}

fn marker_of(marker: &str) -> Result<Marker, JsonataError> {
    let mut chars = marker.chars();
    let component = chars.next().unwrap_or(' ');
    let rest: String = chars.collect();
    let (pres, width) = match rest.rfind(',') {
        Some(c) => {
            let w = &rest[c + 1..];
            let parse = |x: &str| -> Option<usize> {
                if x == "*" {
                    None
                } else {
                    x.parse().ok()
                }
            };
            let width = match w.split_once('-') {
                Some((a, b)) => (parse(a), parse(b)),
                None => (parse(w), None),
            };
            (rest[..c].to_string(), width)
        }
        None => (rest.clone(), (None, None)),
    };
    let mut m = Marker {
        component,
        presentation1: String::new(),
        presentation2: None,
        names: None,
        width,
        int: None,
        n: -1,
    };
    let pc: Vec<char> = pres.chars().collect();
    if pc.len() == 1 {
        m.presentation1 = pres.clone();
    } else if pc.len() > 1 {
        let last = pc[pc.len() - 1];
        if "atco".contains(last) {
            m.presentation2 = Some(last);
            m.presentation1 = pc[..pc.len() - 1].iter().collect();
        } else {
            m.presentation1 = pres.clone();
        }
    } else {
        m.presentation1 = default_presentation(component)
            .ok_or_else(|| {
                JsonataError::new(
                    "D3132",
                    &format!("Unknown component specifier {component} in date/time picture string"),
                )
            })?
            .to_string();
    }
    if default_presentation(component).is_none() {
        return Err(JsonataError::new(
            "D3132",
            &format!("Unknown component specifier {component} in date/time picture string"),
        ));
    }
    let p1: Vec<char> = m.presentation1.chars().collect();
    if p1.first() == Some(&'n') {
        m.names = Some(Case::Lower);
    } else if p1.first() == Some(&'N') {
        m.names = Some(if p1.get(1) == Some(&'n') {
            Case::Title
        } else {
            Case::Upper
        });
    } else if "YMDdFWwXxHhmsf".contains(component) {
        let mut pic = m.presentation1.clone();
        if let Some(p2) = m.presentation2 {
            pic.push(';');
            pic.push(p2);
        }
        let mut f = integer::analyse(&pic)?;
        if let Some(min) = m.width.0 {
            if f.mandatory < min {
                f.mandatory = min;
            }
        }
        if "YMD".contains(component) {
            if let Some(max) = m.width.1 {
                m.n = max as i64;
                f.mandatory = max;
            } else {
                let w = f.mandatory + f.optional;
                if w >= 2 {
                    m.n = w as i64;
                }
            }
        }
        m.int = Some(f);
    }
    if component == 'Z' || component == 'z' {
        m.int = Some(integer::analyse(&m.presentation1)?);
    }
    Ok(m)
}

const ISO_PICTURE: &str = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

/// `$fromMillis(millis, picture, timezone)`: the instant written in the picture (ISO 8601 by
/// default), shifted to the `±HHMM` timezone.
pub fn format(
    millis: f64,
    picture: Option<&str>,
    timezone: Option<&str>,
) -> Result<String, JsonataError> {
    let (mut oh, mut om) = (0i64, 0i64);
    if let Some(tz) = timezone {
        let digits: String = tz
            .trim()
            .chars()
            .enumerate()
            .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+')))
            .map(|(_, c)| c)
            .collect();
        let off: i64 = digits.parse().unwrap_or(0);
        // As the reference implementation splits it: floored hours, truncated minutes.
        oh = off.div_euclid(100);
        om = off % 100;
    }
    let parts = analyse(picture.unwrap_or(ISO_PICTURE))?;
    let offset_ms = (60 * oh + om) * 60_000;
    let f = fields(millis.floor() as i64 + offset_ms);
    let mut out = String::new();
    for part in &parts {
        match part {
            Part::Literal(s) => out.push_str(s),
            Part::Marker(m) => out.push_str(&format_marker(&f, m, oh, om)?),
        }
    }
    Ok(out)
}

fn format_marker(f: &Fields, m: &Marker, oh: i64, om: i64) -> Result<String, JsonataError> {
    let c = m.component;
    if "YMDdFWwXxHhms".contains(c) {
        let Comp::Num(mut v) = component(f, c) else {
            return Ok(String::new());
        };
        if c == 'Y' && m.n != -1 {
            v %= 10i64.pow(m.n as u32);
        }
        if let Some(case) = m.names {
            let name = match c {
                'M' | 'x' => MONTHS[(v - 1).clamp(0, 11) as usize].to_string(),
                'F' => DAYS[v.clamp(0, 7) as usize].to_string(),
                _ => {
                    return Err(JsonataError::new(
                        "D3133",
                        &format!("The 'name' modifier can only be applied to months and days in the date/time picture string, not {c}"),
                    ))
                }
            };
            let mut name = match case {
                Case::Upper => name.to_uppercase(),
                Case::Lower => name.to_lowercase(),
                Case::Title => name,
            };
            if let Some(max) = m.width.1 {
                name = name.chars().take(max).collect();
            }
            return Ok(name);
        }
        let fmt = m.int.as_ref().ok_or_else(|| bad_picture(c))?;
        return integer::format_with(v as f64, fmt);
    }
    match c {
        'f' => {
            let Comp::Num(v) = component(f, c) else {
                return Ok(String::new());
            };
            let fmt = m.int.as_ref().ok_or_else(|| bad_picture(c))?;
            integer::format_with(v as f64, fmt)
        }
        'Z' | 'z' => {
            let offset = oh * 100 + om;
            let fmt = m.int.as_ref().ok_or_else(|| bad_picture(c))?;
            let mut s = if matches!(fmt.grouping, Grouping::Regular(..)) {
                integer::format_with(offset as f64, fmt)?
            } else {
                match fmt.mandatory {
                    1 | 2 => {
                        let mut s = integer::format_with(oh as f64, fmt)?;
                        if om != 0 {
                            s.push(':');
                            s.push_str(&integer::format_integer(om as f64, "00")?);
                        }
                        s
                    }
                    3 | 4 => integer::format_with(offset as f64, fmt)?,
                    n => {
                        return Err(JsonataError::new(
                            "D3134",
                            &format!("The timezone integer format specifier cannot have more than four digits ({n})"),
                        ))
                    }
                }
            };
            if offset >= 0 {
                s.insert(0, '+');
            }
            if c == 'z' {
                s.insert_str(0, "GMT");
            }
            if offset == 0 && m.presentation2 == Some('t') {
                s = "Z".into();
            }
            Ok(s)
        }
        'P' => {
            let Comp::Text(t) = component(f, c) else {
                return Ok(String::new());
            };
            Ok(if m.names == Some(Case::Upper) {
                t.to_uppercase()
            } else {
                t
            })
        }
        _ => match component(f, c) {
            Comp::Text(t) => Ok(t),
            _ => Ok(String::new()),
        },
    }
}

fn bad_picture(c: char) -> JsonataError {
    JsonataError::new(
        "D3132",
        &format!("Unknown component specifier {c} in date/time picture string"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip() {
        let ms = parse_iso("2018-02-01T09:42:13.123+01:00").unwrap().unwrap();
        assert_eq!(format(ms, None, None).unwrap(), "2018-02-01T08:42:13.123Z");
        assert_eq!(
            format(ms, Some("[D1o] [MNn] [Y] [h]:[m01][P]"), None).unwrap(),
            "1st February 2018 8:42am"
        );
        assert_eq!(
            parse("1st February 2018", "[D1o] [MNn] [Y]", 0).unwrap(),
            Some(utc(2018, 2, 1, 0, 0, 0, 0) as f64)
        );
    }
}
