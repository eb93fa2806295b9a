//! Date-time pictures of XPath F&O `format-dateTime`, as JSONata 2.0.6 reads them, for
//! `$fromMillis`/`$now` (writing a timestamp, with an optional `±HHMM` timezone) and
//! `$toMillis` (reading one back, or reading ISO 8601 without a picture). Pure arithmetic on
//! epoch milliseconds: the current time, where a picture leaves parts out, comes from the
//! caller.

use super::integer::{self, Case, Grouping, IntFormat};
use super::JsonataError;

const DAY_MS: i64 = 86_400_000;
const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
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
struct Fields {
    ms_total: i64,
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
    weekday: i64,
}

fn fields(ms: i64) -> Fields {
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
enum Comp {
    Num(i64),
    Text(String),
    None,
}

fn component(f: &Fields, c: char) -> Comp {
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
enum Part {
    Literal(String),
    Marker(Marker),
}

#[derive(Debug, Clone)]
struct Marker {
    component: char,
    presentation1: String,
    presentation2: Option<char>,
    names: Option<Case>,
    width: (Option<usize>, Option<usize>),
    int: Option<IntFormat>,
    /// Digits of the year to show (`-1`: all).
    n: i64,
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

fn analyse(picture: &str) -> Result<Vec<Part>, JsonataError> {
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

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if ".*+?^${}()|[]\\/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `$toMillis(text, picture)` with a picture: the instant the text names, parts the picture
/// leaves out taken from `now` (more significant) or zero (less significant). `Ok(None)` when
/// the text does not match the picture.
pub fn parse(text: &str, picture: &str, now: i64) -> Result<Option<f64>, JsonataError> {
    let parts = analyse(picture)?;
    let mut regex = String::from("^");
    // What each capture group is: (component, marker).
    let mut groups: Vec<Option<&Marker>> = Vec::new();
    for part in &parts {
        match part {
            Part::Literal(s) => {
                regex.push('(');
                regex.push_str(&escape(s));
                regex.push(')');
                groups.push(None);
            }
            Part::Marker(m) => {
                let p = if m.component == 'Z' || m.component == 'z' {
                    let sep = match m.int.as_ref().map(|f| &f.grouping) {
                        Some(Grouping::Regular(_, c)) => Some(*c),
                        _ => None,
                    };
                    let mut p = String::new();
                    if m.component == 'z' {
                        p.push_str("GMT");
                    }
                    p.push_str("[-+][0-9]+");
                    if let Some(s) = sep {
                        p.push_str(&escape(&s.to_string()));
                        p.push_str("[0-9]+");
                    }
                    p
                } else if let Some(f) = &m.int {
                    let width = (m.n > 0).then_some(m.n as usize);
                    integer::pattern(f, width)?
                } else {
                    if !matches!(m.component, 'M' | 'x' | 'F' | 'P') {
                        return Err(JsonataError::new(
                            "D3133",
                            &format!("The 'name' modifier can only be applied to months and days in the date/time picture string, not {}", m.component),
                        ));
                    }
                    "[a-zA-Z]+".to_string()
                };
                regex.push('(');
                regex.push_str(&p);
                regex.push(')');
                groups.push(Some(m));
            }
        }
    }
    regex.push('$');
    let re = regress::Regex::with_flags(&regex, "i").map_err(|e| {
        JsonataError::new(
            "D3136",
            &format!("The date/time picture cannot be read: {e}"),
        )
    })?;
    let Some(mat) = re.find(text) else {
        return Ok(None);
    };
    let mut comps: std::collections::HashMap<char, f64> = std::collections::HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        let Some(m) = g else { continue };
        let Some(range) = mat.group(i + 1) else {
            continue;
        };
        let value = &text[range];
        let v = match m.component {
            'Z' | 'z' => {
                let v = if m.component == 'z' {
                    &value[3..]
                } else {
                    value
                };
                let sep = match m.int.as_ref().map(|f| &f.grouping) {
                    Some(Grouping::Regular(_, c)) => Some(*c),
                    _ => None,
                };
                let (h, mi) = match sep.and_then(|s| v.split_once(s)) {
                    Some((h, mi)) => (
                        h.parse::<f64>().unwrap_or(0.0),
                        mi.parse::<f64>().unwrap_or(0.0),
                    ),
                    None if v.len() - 1 <= 2 => (v.parse::<f64>().unwrap_or(0.0), 0.0),
                    None => (
                        v[..3].parse::<f64>().unwrap_or(0.0),
                        v[3..].parse::<f64>().unwrap_or(0.0),
                    ),
                };
                h * 60.0 + if h < 0.0 { -mi } else { mi }
            }
            c => {
                if let Some(f) = &m.int {
                    integer::parse_with(value, f)?
                } else {
                    let lower = value.to_lowercase();
                    let names: Vec<(String, f64)> = match c {
                        'M' | 'x' => MONTHS
                            .iter()
                            .enumerate()
                            .map(|(i, n)| (n.to_string(), i as f64 + 1.0))
                            .collect(),
                        'F' => DAYS
                            .iter()
                            .enumerate()
                            .skip(1)
                            .map(|(i, n)| (n.to_string(), i as f64))
                            .collect(),
                        _ => vec![("am".into(), 0.0), ("pm".into(), 1.0)],
                    };
                    let found = names.iter().find(|(n, _)| {
                        let n = match m.width.1 {
                            Some(max) => n.chars().take(max).collect::<String>(),
                            None => n.clone(),
                        };
                        n.to_lowercase() == lower
                    });
                    match found {
                        Some((_, v)) => *v,
                        None => continue,
                    }
                }
            }
        };
        comps.insert(m.component, v);
    }
    if comps.is_empty() {
        return Ok(None);
    }
    let has = |c: char| comps.contains_key(&c);
    let mask = |set: &str| set.chars().fold(0u32, |m, c| (m << 1) | u32::from(has(c)));
    let is = |mask: u32, t: u32| (!t & mask) == 0 && (t & mask) != 0;
    let dm = mask("YXMxWwdD");
    let date_a = is(dm, 0b1010_0001);
    let date_b = !date_a && is(dm, 0b1000_0010);
    let date_c = is(dm, 0b0101_0100);
    let date_d = !date_c && is(dm, 0b0100_1000);
    let tm = mask("PHhmsf");
    let time_a = is(tm, 0b01_0111);
    let time_b = !time_a && is(tm, 0b10_1111);
    let date_comps = if date_b {
        "Yd"
    } else if date_c {
        "XxwF"
    } else if date_d {
        "XWF"
    } else {
        "YMD"
    };
    let time_comps = if time_b { "Phmsf" } else { "Hmsf" };
    let now_f = fields(now);
    let (mut started, mut ended) = (false, false);
    for c in date_comps.chars().chain(time_comps.chars()) {
        match comps.entry(c) {
            std::collections::hash_map::Entry::Occupied(_) => {
                started = true;
                if ended {
                    return Err(JsonataError::new(
                        "D3136",
                        "The date/time picture string is missing specifiers required to parse the timestamp",
                    ));
                }
            }
            std::collections::hash_map::Entry::Vacant(slot) if started => {
                slot.insert(if "MDd".contains(c) { 1.0 } else { 0.0 });
                ended = true;
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(match component(&now_f, c) {
                    Comp::Num(n) => n as f64,
                    Comp::Text(t) => f64::from(u8::from(t == "pm")),
                    Comp::None => 0.0,
                });
            }
        }
    }
    if date_c || date_d {
        return Err(JsonataError::new(
            "D3136",
            "The date/time picture string is missing specifiers required to parse the timestamp",
        ));
    }
    let g = |c: char| comps.get(&c).copied().unwrap_or(0.0);
    let mut month = if g('M') > 0.0 { g('M') } else { 1.0 };
    let mut day = g('D');
    if date_b {
        let first = utc(g('Y') as i64, 1, 1, 0, 0, 0, 0) + (g('d') as i64 - 1) * DAY_MS;
        let f = fields(first);
        month = f.month as f64;
        day = f.day as f64;
    }
    let mut hour = g('H');
    if time_b {
        hour = if g('h') == 12.0 { 0.0 } else { g('h') };
        if g('P') == 1.0 {
            hour += 12.0;
        }
    }
    let vals = [g('Y'), month, day, hour, g('m'), g('s'), g('f')];
    if vals.iter().any(|v| v.is_nan()) {
        return Ok(None);
    }
    let mut ms = utc(
        vals[0] as i64,
        vals[1] as i64,
        vals[2] as i64,
        vals[3] as i64,
        vals[4] as i64,
        vals[5] as i64,
        vals[6] as i64,
    );
    let tz = comps
        .get(&'Z')
        .or_else(|| comps.get(&'z'))
        .copied()
        .unwrap_or(0.0);
    ms -= (tz * 60_000.0) as i64;
    Ok(Some(ms as f64))
}

/// `$toMillis(text)` without a picture: ISO 8601 (`D3110` when the text is not).
pub fn parse_iso(text: &str) -> Result<Option<f64>, JsonataError> {
    let bad = || {
        JsonataError::new(
            "D3110",
            &format!("The timestamp {text:?} cannot be parsed as ISO 8601"),
        )
    };
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let s = text.get(from..from + n)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let year = digits(0, 4).ok_or_else(bad)?;
    let mut i = 4;
    let (mut month, mut day) = (1, 1);
    if b.get(i) == Some(&b'-') {
        month = digits(i + 1, 2).ok_or_else(bad)?;
        i += 3;
        if b.get(i) == Some(&b'-') {
            day = digits(i + 1, 2).ok_or_else(bad)?;
            i += 3;
        }
    }
    let (mut h, mut mi, mut s, mut ms) = (0, 0, 0, 0.0);
    if b.get(i) == Some(&b'T') {
        h = digits(i + 1, 2).ok_or_else(bad)?;
        if b.get(i + 3) != Some(&b':') || b.get(i + 6) != Some(&b':') {
            return Err(bad());
        }
        mi = digits(i + 4, 2).ok_or_else(bad)?;
        s = digits(i + 7, 2).ok_or_else(bad)?;
        i += 9;
    }
    if b.get(i) == Some(&b'.') {
        let frac: String = text[i + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if frac.is_empty() {
            return Err(bad());
        }
        ms = format!("0.{frac}").parse::<f64>().unwrap_or(0.0) * 1000.0;
        i += 1 + frac.len();
    }
    let mut offset = 0;
    match b.get(i) {
        None => {}
        Some(b'Z') if i + 1 == b.len() => {}
        Some(b'+' | b'-') => {
            let sign = if b[i] == b'-' { -1 } else { 1 };
            let oh = digits(i + 1, 2).ok_or_else(bad)?;
            let rest = &text[i + 3..];
            let om = match rest.strip_prefix(':').unwrap_or(rest) {
                m if m.len() == 2 => m.parse::<i64>().map_err(|_| bad())?,
                _ => return Err(bad()),
            };
            offset = sign * (oh * 60 + om);
        }
        _ => return Err(bad()),
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 24 || mi > 59 || s > 59 {
        return Ok(None);
    }
    let t = utc(year, month, day, h, mi, s, 0) as f64 + ms.floor() - (offset * 60_000) as f64;
    Ok(Some(t))
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
