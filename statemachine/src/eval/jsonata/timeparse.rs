//! Reading timestamps: `$toMillis` through a date-time picture (the text matched against a
//! pattern built from the picture, missing components filled from the current time or zero
//! as JSONata 2.0.6 does, `D3136` for gaps) and ISO 8601 without one (`D3110`).

use std::collections::HashMap;

use super::datetime::{analyse, component, fields, utc, Comp, Marker, Part, DAYS, DAY_MS, MONTHS};
use super::integer::{self, Grouping};
use super::JsonataError;

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
    let mut comps: HashMap<char, f64> = HashMap::new();
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
