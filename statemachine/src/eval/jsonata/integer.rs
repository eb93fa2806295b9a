//! Integer pictures of XPath F&O `format-integer`, as JSONata 2.0.6 reads them: decimal digit
//! patterns (any Unicode decimal digit family, `#` optional digits, grouping separators regular
//! or not), letters `a`/`A`, roman numerals `i`/`I`, words `w`/`W`/`Ww`, and the `;o` ordinal
//! modifier. [`format_integer`] writes a number in a picture, [`parse_integer`] reads it back.

use super::JsonataError;

/// The primary format of a picture.
#[derive(Debug, Clone, PartialEq)]
pub enum Primary {
    /// Digits.
    Decimal,
    /// `a`, `b`, ... `z`, `aa` (spreadsheet columns).
    Letters,
    /// Roman numerals.
    Roman,
    /// English words.
    Words,
    /// A numbering sequence JSONata does not know (`D3130` when used).
    Sequence(String),
}

/// Letter case of a picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Case {
    /// Lower case.
    Lower,
    /// Upper case.
    Upper,
    /// Title case (`Ww`).
    Title,
}

/// Grouping separators of a decimal picture.
#[derive(Debug, Clone, PartialEq)]
pub enum Grouping {
    /// The same character every `n` digits.
    Regular(usize, char),
    /// Separators at given positions (digits from the right).
    Irregular(Vec<(usize, char)>),
}

/// An analysed integer picture.
#[derive(Debug, Clone)]
pub struct IntFormat {
    /// The primary format.
    pub primary: Primary,
    /// Letter case.
    pub case: Case,
    /// `;o`: ordinal.
    pub ordinal: bool,
    /// Code point of the zero digit of the digit family.
    pub zero: u32,
    /// Mandatory digits.
    pub mandatory: usize,
    /// Optional digits (`#`).
    pub optional: usize,
    /// Grouping separators.
    pub grouping: Grouping,
}

/// Zero digits of the Unicode decimal digit families.
const DIGIT_FAMILIES: [u32; 37] = [
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

fn family(c: char) -> Option<u32> {
    let cp = c as u32;
    DIGIT_FAMILIES
        .iter()
        .copied()
        .find(|z| cp >= *z && cp <= z + 9)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Reads an integer picture (`#,##0`, `a`, `I`, `w;o`, ...).
pub fn analyse(picture: &str) -> Result<IntFormat, JsonataError> {
    let mut f = IntFormat {
        primary: Primary::Decimal,
        case: Case::Lower,
        ordinal: false,
        zero: 0x30,
        mandatory: 0,
        optional: 0,
        grouping: Grouping::Irregular(Vec::new()),
    };
    let primary = match picture.rfind(';') {
        Some(i) => {
            if picture[i + 1..].starts_with('o') {
                f.ordinal = true;
            }
            &picture[..i]
        }
        None => picture,
    };
    match primary {
        "A" | "a" => {
            f.primary = Primary::Letters;
            if primary == "A" {
                f.case = Case::Upper;
            }
        }
        "I" | "i" => {
            f.primary = Primary::Roman;
            if primary == "I" {
                f.case = Case::Upper;
            }
        }
        "W" => {
            f.primary = Primary::Words;
            f.case = Case::Upper;
        }
        "Ww" => {
            f.primary = Primary::Words;
            f.case = Case::Title;
        }
        "w" => f.primary = Primary::Words,
        _ => {
            let mut zero: Option<u32> = None;
            let mut separators: Vec<(usize, char)> = Vec::new();
            let mut position = 0;
            for c in primary.chars().rev() {
                if let Some(z) = family(c) {
                    f.mandatory += 1;
                    position += 1;
                    match zero {
                        None => zero = Some(z),
                        Some(old) if old != z => {
                            return Err(JsonataError::new(
                                "D3131",
                                "The picture mixes digits of different decimal digit families",
                            ))
                        }
                        _ => {}
                    }
                } else if c == '#' {
                    position += 1;
                    f.optional += 1;
                } else {
                    separators.push((position, c));
                }
            }
            if f.mandatory == 0 {
                f.primary = Primary::Sequence(primary.to_string());
                return Ok(f);
            }
            f.zero = zero.unwrap_or(0x30);
            f.grouping = regular(&separators)
                .map_or(Grouping::Irregular(separators.clone()), |n| {
                    Grouping::Regular(n, separators[0].1)
                });
        }
    }
    Ok(f)
}

/// The interval of regularly spaced separators (all the same character), if they are.
fn regular(seps: &[(usize, char)]) -> Option<usize> {
    let first = seps.first()?;
    if seps.iter().any(|s| s.1 != first.1) {
        return None;
    }
    let factor = seps.iter().map(|s| s.0).reduce(gcd)?;
    if factor == 0 {
        return None;
    }
    let all = (1..=seps.len()).all(|i| seps.iter().any(|s| s.0 == i * factor));
    all.then_some(factor)
}

/// `$formatInteger(value, picture)`.
pub fn format_integer(value: f64, picture: &str) -> Result<String, JsonataError> {
    let f = analyse(picture)?;
    format_with(value.floor(), &f)
}

/// Writes `value` (an integer) in an analysed picture.
pub fn format_with(value: f64, f: &IntFormat) -> Result<String, JsonataError> {
    let negative = value < 0.0;
    let v = value.abs();
    let mut out = match &f.primary {
        Primary::Letters => letters(v as u64, f.case == Case::Upper),
        Primary::Roman => {
            let r = roman(v as u64);
            if f.case == Case::Upper {
                r.to_uppercase()
            } else {
                r
            }
        }
        Primary::Words => {
            let w = words(v, f.ordinal);
            match f.case {
                Case::Upper => w.to_uppercase(),
                Case::Lower => w.to_lowercase(),
                Case::Title => w,
            }
        }
        Primary::Decimal => {
            let mut digits = super::value::js_number(v);
            if digits.contains('e') {
                digits = format!("{v:.0}");
            }
            if f.mandatory > digits.len() {
                digits = "0".repeat(f.mandatory - digits.len()) + &digits;
            }
            let mut chars: Vec<char> = digits
                .chars()
                .map(|c| {
                    if f.zero != 0x30 && c.is_ascii_digit() {
                        char::from_u32(c as u32 - 0x30 + f.zero).unwrap_or(c)
                    } else {
                        c
                    }
                })
                .collect();
            match &f.grouping {
                Grouping::Regular(n, sep) => {
                    let groups = (chars.len().saturating_sub(1)) / n;
                    for i in (1..=groups).rev() {
                        let pos = chars.len() - i * n;
                        chars.insert(pos, *sep);
                    }
                }
                Grouping::Irregular(seps) => {
                    for (p, c) in seps.iter().rev() {
                        let pos = chars.len().saturating_sub(*p);
                        chars.insert(pos, *c);
                    }
                }
            }
            let mut s: String = chars.into_iter().collect();
            if f.ordinal {
                let b: Vec<char> = s.chars().collect();
                let last = b.last().copied();
                let teen = b.len() > 1 && b[b.len() - 2] == '1';
                let suffix = match last {
                    Some('1') if !teen => "st",
                    Some('2') if !teen => "nd",
                    Some('3') if !teen => "rd",
                    _ => "th",
                };
                s.push_str(suffix);
            }
            s
        }
        Primary::Sequence(token) => {
            return Err(JsonataError::new(
                "D3130",
                &format!("Formatting or parsing an integer as a sequence starting with {token} is not supported by this implementation"),
            ))
        }
    };
    if negative {
        out.insert(0, '-');
    }
    Ok(out)
}

fn letters(mut v: u64, upper: bool) -> String {
    let a = if upper { b'A' } else { b'a' };
    let mut out = Vec::new();
    while v > 0 {
        out.push((a + ((v - 1) % 26) as u8) as char);
        v = (v - 1) / 26;
    }
    out.iter().rev().collect()
}

const ROMAN: [(u64, &str); 13] = [
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
];

fn roman(mut v: u64) -> String {
    let mut out = String::new();
    for (n, s) in ROMAN {
        while v >= n {
            out.push_str(s);
            v -= n;
        }
    }
    out
}

const FEW: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const ORDINALS: [&str; 20] = [
    "Zeroth",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
    "Thirteenth",
    "Fourteenth",
    "Fifteenth",
    "Sixteenth",
    "Seventeenth",
    "Eighteenth",
    "Nineteenth",
];
const TENS: [&str; 8] = [
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety",
];
const MAGNITUDES: [&str; 4] = ["Thousand", "Million", "Billion", "Trillion"];

/// A number in English words (title case), cardinal or ordinal.
fn words(v: f64, ordinal: bool) -> String {
    fn go(n: f64, joined: bool, ord: bool) -> String {
        let mut w = String::new();
        if n <= 19.0 {
            if joined {
                w.push_str(" and ");
            }
            let i = n as usize;
            w.push_str(if ord { ORDINALS[i] } else { FEW[i] });
        } else if n < 100.0 {
            let tens = (n / 10.0).floor() as usize;
            let rest = n % 10.0;
            if joined {
                w.push_str(" and ");
            }
            w.push_str(TENS[tens - 2]);
            if rest > 0.0 {
                w.push('-');
                w.push_str(&go(rest, false, ord));
            } else if ord {
                w.pop();
                w.push_str("ieth");
            }
        } else if n < 1000.0 {
            let hundreds = (n / 100.0).floor() as usize;
            let rest = n % 100.0;
            if joined {
                w.push_str(", ");
            }
            w.push_str(FEW[hundreds]);
            w.push_str(" Hundred");
            if rest > 0.0 {
                w.push_str(&go(rest, true, ord));
            } else if ord {
                w.push_str("th");
            }
        } else {
            let mut mag = (n.log10() / 3.0).floor() as usize;
            if mag > MAGNITUDES.len() {
                mag = MAGNITUDES.len();
            }
            let factor = 10f64.powi(mag as i32 * 3);
            let mant = (n / factor).floor();
            let rest = n - mant * factor;
            if joined {
                w.push_str(", ");
            }
            w.push_str(&go(mant, false, false));
            w.push(' ');
            w.push_str(MAGNITUDES[mag - 1]);
            if rest > 0.0 {
                w.push_str(&go(rest, true, ord));
            } else if ord {
                w.push_str("th");
            }
        }
        w
    }
    go(v, false, ordinal)
}

/// The value of one English number word (lower case), cardinal or ordinal.
fn word_value(w: &str) -> Option<f64> {
    for (i, x) in FEW.iter().enumerate() {
        if x.eq_ignore_ascii_case(w) || ORDINALS[i].eq_ignore_ascii_case(w) {
            return Some(i as f64);
        }
    }
    for (i, x) in TENS.iter().enumerate() {
        let ieth = format!("{}ieth", &x[..x.len() - 1]);
        if x.eq_ignore_ascii_case(w) || ieth.eq_ignore_ascii_case(w) {
            return Some((i as f64 + 2.0) * 10.0);
        }
    }
    if w == "hundred" || w == "hundredth" {
        return Some(100.0);
    }
    for (i, x) in MAGNITUDES.iter().enumerate() {
        let lw = x.to_lowercase();
        if w == lw || w == format!("{lw}th") {
            return Some(10f64.powi((i as i32 + 1) * 3));
        }
    }
    None
}

fn words_to_number(text: &str) -> f64 {
    let lower = text.to_lowercase();
    let normalised = lower
        .replace(", ", " ")
        .replace(" and ", " ")
        .replace('-', " ");
    let mut segs: Vec<f64> = vec![0.0];
    for part in normalised.split(' ').filter(|p| !p.is_empty()) {
        let Some(value) = word_value(part) else {
            return f64::NAN;
        };
        if value < 100.0 {
            let mut top = segs.pop().unwrap_or(0.0);
            if top >= 1000.0 {
                segs.push(top);
                top = 0.0;
            }
            segs.push(top + value);
        } else {
            let top = segs.pop().unwrap_or(0.0);
            segs.push(top * value);
        }
    }
    segs.iter().sum()
}

/// `$parseInteger(value, picture)`.
pub fn parse_integer(value: &str, picture: &str) -> Result<f64, JsonataError> {
    let f = analyse(picture)?;
    parse_with(value, &f)
}

/// Reads an integer written in an analysed picture.
pub fn parse_with(value: &str, f: &IntFormat) -> Result<f64, JsonataError> {
    Ok(match &f.primary {
        Primary::Letters => {
            let a = if f.case == Case::Upper { 'A' } else { 'a' } as u32;
            value
                .chars()
                .rev()
                .enumerate()
                .map(|(i, c)| (c as u32 as f64 - a as f64 + 1.0) * 26f64.powi(i as i32))
                .sum()
        }
        Primary::Roman => {
            let mut total = 0.0;
            let mut max = 1.0;
            for c in value.to_uppercase().chars().rev() {
                let v = match c {
                    'M' => 1000.0,
                    'D' => 500.0,
                    'C' => 100.0,
                    'L' => 50.0,
                    'X' => 10.0,
                    'V' => 5.0,
                    'I' => 1.0,
                    _ => f64::NAN,
                };
                if v < max {
                    total -= v;
                } else {
                    max = v;
                    total += v;
                }
            }
            total
        }
        Primary::Words => words_to_number(value),
        Primary::Decimal => {
            let mut digits: String = value.to_string();
            if f.ordinal && digits.len() >= 2 {
                digits.truncate(digits.len() - 2);
            }
            match &f.grouping {
                Grouping::Regular(_, c) => digits.retain(|x| x != *c),
                Grouping::Irregular(seps) => {
                    for (_, c) in seps {
                        digits.retain(|x| x != *c);
                    }
                }
            }
            let ascii: String = digits
                .chars()
                .map(|c| {
                    let cp = c as u32;
                    if f.zero != 0x30 && cp >= f.zero && cp <= f.zero + 9 {
                        char::from_u32(cp - f.zero + 0x30).unwrap_or(c)
                    } else {
                        c
                    }
                })
                .collect();
            let lead: String = ascii
                .chars()
                .enumerate()
                .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+')))
                .map(|(_, c)| c)
                .collect();
            lead.parse::<f64>().unwrap_or(f64::NAN)
        }
        Primary::Sequence(token) => {
            return Err(JsonataError::new(
                "D3130",
                &format!("Formatting or parsing an integer as a sequence starting with {token} is not supported by this implementation"),
            ))
        }
    })
}

/// The pattern of text an analysed picture produces (for reading dates).
pub fn pattern(f: &IntFormat, width: Option<usize>) -> Result<String, JsonataError> {
    let occurs = match width {
        Some(n) if n > 0 && f.optional == 0 => format!("{{{n}}}"),
        Some(n) if n > 0 => format!("{{{},{n}}}", n.saturating_sub(f.optional)),
        _ => "+".to_string(),
    };
    Ok(match &f.primary {
        Primary::Letters => if f.case == Case::Upper { "[A-Z]+" } else { "[a-z]+" }.to_string(),
        Primary::Roman => if f.case == Case::Upper {
            "[MDCLXVI]+"
        } else {
            "[mdclxvi]+"
        }
        .to_string(),
        Primary::Words => {
            let mut alts: Vec<String> = Vec::new();
            for (i, w) in FEW.iter().enumerate() {
                alts.push(w.to_lowercase());
                alts.push(ORDINALS[i].to_lowercase());
            }
            for t in TENS {
                let l = t.to_lowercase();
                alts.push(format!("{}ieth", &l[..l.len() - 1]));
                alts.push(l);
            }
            alts.push("hundredth".into());
            alts.push("hundred".into());
            for m in MAGNITUDES {
                let l = m.to_lowercase();
                alts.push(format!("{l}th"));
                alts.push(l);
            }
            alts.push("and".into());
            alts.push("[\\-, ]".into());
            format!("(?:{})+", alts.join("|"))
        }
        Primary::Decimal => {
            let mut p = format!("[0-9]{occurs}");
            if f.ordinal {
                p.push_str("(?:th|st|nd|rd)");
            }
            p
        }
        Primary::Sequence(token) => {
            return Err(JsonataError::new(
                "D3130",
                &format!("Formatting or parsing an integer as a sequence starting with {token} is not supported by this implementation"),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_round_trip() {
        for (n, p, s) in [
            (1234.0, "#,##0", "1,234"),
            (7.0, "i", "vii"),
            (28.0, "A", "AB"),
            (21.0, "w;o", "twenty-first"),
            (123.0, "Ww", "One Hundred and Twenty-Three"),
        ] {
            assert_eq!(format_integer(n, p).unwrap(), s);
            assert_eq!(parse_integer(s, p).unwrap(), n);
        }
    }
}
