//! `$formatNumber` (XPath F&O decimal-format pictures: sub-pictures for negatives, optional and
//! mandatory digits, grouping, percent and per-mille, exponents, the decimal format's
//! properties given as an object), `$formatBase`, and the URL encoding functions.

use indexmap::IndexMap;

use super::value::V;
use super::JsonataError;

struct Props {
    decimal: char,
    grouping: char,
    exponent: char,
    minus: String,
    percent: char,
    per_mille: char,
    zero: char,
    digit: char,
    separator: char,
}

fn first_char(m: &IndexMap<String, V>, key: &str, default: char) -> char {
    match m.get(key) {
        Some(V::Str(s)) => s.chars().next().unwrap_or(default),
        _ => default,
    }
}

struct Parts {
    prefix: Vec<char>,
    suffix: Vec<char>,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fraction: Vec<char>,
    picture: Vec<char>,
}

struct Pic {
    int_groups: Vec<usize>,
    regular: usize,
    min_int: usize,
    scaling: i32,
    prefix: String,
    frac_groups: Vec<usize>,
    min_frac: usize,
    max_frac: usize,
    min_exp: usize,
    suffix: String,
    picture: Vec<char>,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn index_of(v: &[char], c: char) -> Option<usize> {
    v.iter().position(|x| *x == c)
}

fn count(v: &[char], c: char) -> usize {
    v.iter().filter(|x| **x == c).count()
}

/// `$formatNumber(value, picture, options)`.
pub fn format_number(
    value: f64,
    picture: &str,
    options: Option<&IndexMap<String, V>>,
) -> Result<String, JsonataError> {
    let empty = IndexMap::new();
    let o = options.unwrap_or(&empty);
    let p = Props {
        decimal: first_char(o, "decimal-separator", '.'),
        grouping: first_char(o, "grouping-separator", ','),
        exponent: first_char(o, "exponent-separator", 'e'),
        minus: match o.get("minus-sign") {
            Some(V::Str(s)) => s.to_string(),
            _ => "-".into(),
        },
        percent: first_char(o, "percent", '%'),
        per_mille: first_char(o, "per-mille", '\u{2030}'),
        zero: first_char(o, "zero-digit", '0'),
        digit: first_char(o, "digit", '#'),
        separator: first_char(o, "pattern-separator", ';'),
    };
    let zero = p.zero as u32;
    let is_digit = |c: char| (c as u32) >= zero && (c as u32) < zero + 10;
    let active = |c: char| {
        is_digit(c)
            || c == p.decimal
            || c == p.exponent
            || c == p.grouping
            || c == p.digit
            || c == p.separator
    };
    let subs: Vec<Vec<char>> = picture
        .split(p.separator)
        .map(|s| s.chars().collect())
        .collect();
    if subs.len() > 2 {
        return Err(JsonataError::new(
            "D3080",
            "The picture string must not contain more than one instance of the pattern-separator character",
        ));
    }
    let split = |sub: &Vec<char>| -> Parts {
        let start = sub
            .iter()
            .position(|c| active(*c) && *c != p.exponent)
            .unwrap_or(sub.len());
        let end = sub
            .iter()
            .rposition(|c| active(*c) && *c != p.exponent)
            .map_or(0, |i| i + 1)
            .max(start);
        let prefix = sub[..start].to_vec();
        let suffix = sub[end..].to_vec();
        let act = sub[start..end].to_vec();
        let exp_pos = sub[start..]
            .iter()
            .position(|c| *c == p.exponent)
            .map(|i| i + start);
        let (mantissa, exponent) = match exp_pos {
            Some(e) if e <= end => (
                act[..(e - start).min(act.len())].to_vec(),
                Some(act[(e - start + 1).min(act.len())..].to_vec()),
            ),
            _ => (act.clone(), None),
        };
        let (integer, fraction) = match index_of(&mantissa, p.decimal) {
            None => (mantissa.clone(), suffix.clone()),
            Some(d) => (mantissa[..d].to_vec(), mantissa[d + 1..].to_vec()),
        };
        Parts {
            prefix,
            suffix,
            active: act,
            mantissa,
            exponent,
            integer,
            fraction,
            picture: sub.clone(),
        }
    };
    let parts: Vec<Parts> = subs.iter().map(split).collect();
    for part in &parts {
        validate(part, &p, &is_digit, &active)?;
    }
    let mut pics: Vec<Pic> = parts.iter().map(|x| analyse(x, &p, &is_digit)).collect();
    if pics.len() == 1 {
        let mut neg = analyse(&parts[0], &p, &is_digit);
        neg.prefix = format!("{}{}", p.minus, neg.prefix);
        pics.push(neg);
    }
    let pic = if value >= 0.0 { &pics[0] } else { &pics[1] };
    let adjusted = if pic.picture.contains(&p.percent) {
        value * 100.0
    } else if pic.picture.contains(&p.per_mille) {
        value * 1000.0
    } else {
        value
    };
    let (mantissa, exponent) = if pic.min_exp == 0 {
        (adjusted, None)
    } else {
        let max = 10f64.powi(pic.scaling);
        let min = 10f64.powi(pic.scaling - 1);
        let (mut m, mut e) = (adjusted, 0i32);
        while m < min {
            m *= 10.0;
            e -= 1;
        }
        while m > max {
            m /= 10.0;
            e += 1;
        }
        (m, Some(e))
    };
    let rounded = super::functions::round_half_even(mantissa, pic.max_frac as i32);
    let digits = |s: String| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_digit() && p.zero != '0' {
                    char::from_u32(c as u32 - 0x30 + zero).unwrap_or(c)
                } else {
                    c
                }
            })
            .collect()
    };
    let mut s: Vec<char> = digits(format!("{:.*}", pic.max_frac, rounded.abs()))
        .chars()
        .collect();
    match index_of(&s, '.') {
        None => s.push(p.decimal),
        Some(i) => s[i] = p.decimal,
    }
    while s.first() == Some(&p.zero) {
        s.remove(0);
    }
    while s.last() == Some(&p.zero) {
        s.pop();
    }
    let dp = index_of(&s, p.decimal).unwrap_or(s.len());
    let pad_left = pic.min_int as isize - dp as isize;
    let pad_right = pic.min_frac as isize - (s.len() as isize - dp as isize - 1);
    if pad_left > 0 {
        let mut v = vec![p.zero; pad_left as usize];
        v.extend(s);
        s = v;
    }
    if pad_right > 0 {
        s.extend(std::iter::repeat_n(p.zero, pad_right as usize));
    }
    let mut dp = index_of(&s, p.decimal).unwrap_or(s.len());
    if let Some(groups) = dp.saturating_sub(1).checked_div(pic.regular) {
        for g in 1..=groups {
            s.insert(dp - g * pic.regular, p.grouping);
        }
    } else {
        for pos in &pic.int_groups {
            if *pos <= dp {
                s.insert(dp - pos, p.grouping);
                dp += 1;
            }
        }
    }
    let dp = index_of(&s, p.decimal).unwrap_or(s.len());
    for pos in &pic.frac_groups {
        let at = pos + dp + 1;
        if at <= s.len() {
            s.insert(at, p.grouping);
        }
    }
    let dp = index_of(&s, p.decimal).unwrap_or(s.len());
    if !pic.picture.contains(&p.decimal) || dp + 1 == s.len() {
        s.pop();
    }
    let mut out: String = s.into_iter().collect();
    if let Some(e) = exponent {
        let mut es = digits(e.abs().to_string());
        let len = es.chars().count();
        if pic.min_exp > len {
            es = p.zero.to_string().repeat(pic.min_exp - len) + &es;
        }
        out.push(p.exponent);
        if e < 0 {
            out.push_str(&p.minus);
        }
        out.push_str(&es);
    }
    Ok(format!("{}{}{}", pic.prefix, out, pic.suffix))
}

fn validate(
    x: &Parts,
    p: &Props,
    is_digit: &dyn Fn(char) -> bool,
    active: &dyn Fn(char) -> bool,
) -> Result<(), JsonataError> {
    let sub = &x.picture;
    let mut code = None;
    if count(sub, p.decimal) > 1 {
        code = Some("D3081");
    }
    if count(sub, p.percent) > 1 {
        code = Some("D3082");
    }
    if count(sub, p.per_mille) > 1 {
        code = Some("D3083");
    }
    if sub.contains(&p.percent) && sub.contains(&p.per_mille) {
        code = Some("D3084");
    }
    if !x.mantissa.iter().any(|c| is_digit(*c) || *c == p.digit) {
        code = Some("D3085");
    }
    if x.active.iter().any(|c| !active(*c)) {
        code = Some("D3086");
    }
    match index_of(sub, p.decimal) {
        Some(d) => {
            if (d > 0 && sub[d - 1] == p.grouping) || sub.get(d + 1) == Some(&p.grouping) {
                code = Some("D3087");
            }
        }
        None => {
            if x.integer.last() == Some(&p.grouping) {
                code = Some("D3088");
            }
        }
    }
    if sub
        .windows(2)
        .any(|w| w[0] == p.grouping && w[1] == p.grouping)
    {
        code = Some("D3089");
    }
    if let Some(i) = index_of(&x.integer, p.digit) {
        if x.integer[..i].iter().any(|c| is_digit(*c)) {
            code = Some("D3090");
        }
    }
    if let Some(i) = x.fraction.iter().rposition(|c| *c == p.digit) {
        if x.fraction[i..].iter().any(|c| is_digit(*c)) {
            code = Some("D3091");
        }
    }
    if let Some(e) = &x.exponent {
        if !e.is_empty() && (sub.contains(&p.percent) || sub.contains(&p.per_mille)) {
            code = Some("D3092");
        }
        if e.is_empty() || e.iter().any(|c| !is_digit(*c)) {
            code = Some("D3093");
        }
    }
    match code {
        Some(c) => Err(JsonataError::new(
            c,
            &format!(
                "The picture string {:?} is not valid ({c})",
                sub.iter().collect::<String>()
            ),
        )),
        None => Ok(()),
    }
}

fn analyse(x: &Parts, p: &Props, is_digit: &dyn Fn(char) -> bool) -> Pic {
    let positions = |part: &[char], to_left: bool| -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = index_of(part, p.grouping);
        while let Some(g) = at {
            let slice = if to_left { &part[..g] } else { &part[g..] };
            out.push(
                slice
                    .iter()
                    .filter(|c| is_digit(**c) || **c == p.digit)
                    .count(),
            );
            // The reference implementation looks for the next separator in the integer part.
            at = x
                .integer
                .iter()
                .skip(g + 1)
                .position(|c| *c == p.grouping)
                .map(|i| i + g + 1);
        }
        out
    };
    let int_groups = positions(&x.integer, false);
    let regular = if int_groups.is_empty() {
        0
    } else {
        let factor = int_groups.iter().copied().reduce(gcd).unwrap_or(0);
        if factor > 0 && (1..=int_groups.len()).all(|i| int_groups.contains(&(i * factor))) {
            factor
        } else {
            0
        }
    };
    let frac_groups = positions(&x.fraction, true);
    let mut min_int = x.integer.iter().filter(|c| is_digit(**c)).count();
    let scaling = min_int as i32;
    let mut min_frac = x.fraction.iter().filter(|c| is_digit(**c)).count();
    let mut max_frac = x
        .fraction
        .iter()
        .filter(|c| is_digit(**c) || **c == p.digit)
        .count();
    let exp = x.exponent.is_some();
    if min_int == 0 && max_frac == 0 {
        if exp {
            min_frac = 1;
            max_frac = 1;
        } else {
            min_int = 1;
        }
    }
    if exp && min_int == 0 && x.integer.contains(&p.digit) {
        min_int = 1;
    }
    if min_int == 0 && min_frac == 0 {
        min_frac = 1;
    }
    let min_exp = x
        .exponent
        .as_ref()
        .map_or(0, |e| e.iter().filter(|c| is_digit(**c)).count());
    Pic {
        int_groups,
        regular,
        min_int,
        scaling,
        prefix: x.prefix.iter().collect(),
        frac_groups,
        min_frac,
        max_frac,
        min_exp,
        suffix: x.suffix.iter().collect(),
        picture: x.picture.clone(),
    }
}

/// `$formatBase(value, radix)`.
pub fn format_base(value: f64, radix: Option<f64>) -> Result<String, JsonataError> {
    let v = super::functions::round_half_even(value, 0);
    let r = radix.map_or(10.0, |r| super::functions::round_half_even(r, 0));
    if !(2.0..=36.0).contains(&r) {
        return Err(JsonataError::new(
            "D3100",
            &format!(
                "The radix of the formatBase function must be between 2 and 36.  It was given {r}"
            ),
        ));
    }
    let r = r as u64;
    let mut n = v.abs() as u64;
    let mut digits = Vec::new();
    loop {
        let d = (n % r) as u32;
        digits.push(char::from_digit(d, r as u32).unwrap_or('?'));
        n /= r;
        if n == 0 {
            break;
        }
    }
    if v < 0.0 {
        digits.push('-');
    }
    Ok(digits.iter().rev().collect())
}

/// `encodeURI` (`component` = false) or `encodeURIComponent`.
pub fn encode_url(s: &str, component: bool) -> String {
    let keep = |c: char| {
        c.is_ascii_alphanumeric()
            || "-_.!~*'()".contains(c)
            || (!component && ";,/?:@&=+$#".contains(c))
    };
    let mut out = String::new();
    for c in s.chars() {
        if keep(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// `decodeURI` (`component` = false: escapes of reserved characters stay) or
/// `decodeURIComponent`; `D3140` for a malformed escape.
pub fn decode_url(s: &str, component: bool, name: &str) -> Result<String, JsonataError> {
    let bad = || {
        JsonataError::new(
            "D3140",
            &format!("Malformed URL passed to ${name}(): {s:?}"),
        )
    };
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let hex = s.get(i + 1..i + 3).ok_or_else(bad)?;
        let byte = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        if !component && byte < 0x80 && ";,/?:@&=+$#".contains(byte as char) {
            out.extend_from_slice(&b[i..i + 3]);
        } else {
            out.push(byte);
        }
        i += 3;
    }
    String::from_utf8(out).map_err(|_| bad())
}
