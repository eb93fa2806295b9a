//! Regular expressions in the string functions: successive matches (with JSONata's `D1004`
//! for a zero-length match), the match objects handed to replacement functions and returned by
//! a regex called as a function, and `$n` group references in replacement text.

use indexmap::IndexMap;

use super::value::{Kind, V};
use super::JsonataError;

/// A byte offset of `s` as JavaScript counts string positions (UTF-16 units).
fn js_index(s: &str, byte: usize) -> f64 {
    s[..byte].encode_utf16().count() as f64
}

/// The object a regex called as a function gives for its first match at or after `from`:
/// `match`, `start`, `end`, `groups`.
pub fn regex_match_object(re: &regress::Regex, s: &str, from: usize) -> Option<V> {
    let m = re.find_from(s, from).next()?;
    let groups = m
        .groups()
        .skip(1)
        .map(|g| V::str(g.map_or("", |r| &s[r])))
        .collect();
    let mut o = IndexMap::new();
    o.insert("match".to_string(), V::str(&s[m.range()]));
    o.insert("start".to_string(), V::Num(js_index(s, m.start())));
    o.insert("end".to_string(), V::Num(js_index(s, m.end())));
    o.insert("groups".to_string(), V::arr(groups, Kind::Plain));
    Some(V::obj(o))
}

/// The successive matches of `re` in `s` (at most `limit`): a zero-length match that is not
/// at the end of the string is `D1004`, as it would match forever.
pub(super) fn regex_matches(
    re: &regress::Regex,
    s: &str,
    limit: usize,
) -> Result<Vec<regress::Match>, JsonataError> {
    let mut out = Vec::new();
    let mut from = 0;
    while out.len() < limit && from <= s.len() {
        let Some(m) = re.find_from(s, from).next() else {
            break;
        };
        let (start, end) = (m.start(), m.end());
        out.push(m);
        if start == end {
            if end < s.len() {
                return Err(JsonataError::new(
                    "D1004",
                    "Regular expression matches zero length string",
                ));
            }
            break;
        }
        from = end;
    }
    Ok(out)
}

/// The object a replacement function receives for a match.
pub(super) fn match_object(s: &str, m: &regress::Match) -> V {
    let groups = m
        .groups()
        .skip(1)
        .map(|g| V::str(g.map_or("", |r| &s[r])))
        .collect();
    let mut o = IndexMap::new();
    o.insert("match".to_string(), V::str(&s[m.range()]));
    o.insert("index".to_string(), V::Num(js_index(s, m.start())));
    o.insert("groups".to_string(), V::arr(groups, Kind::Plain));
    V::obj(o)
}

/// Replacement text for a regex match: `$$`, `$0` (the match) and `$n` (the longest group
/// number present, as the reference implementation reads it).
pub(super) fn expand(to: &str, s: &str, m: &regress::Match) -> String {
    let groups = m.groups().count().saturating_sub(1);
    let group = |i: usize| -> &str {
        if i == 0 || i > groups {
            return "";
        }
        m.group(i).map_or("", |r| &s[r])
    };
    let max_digits = if groups == 0 {
        1
    } else {
        (groups as f64).log10().floor() as usize + 1
    };
    let b = to.as_bytes();
    let mut out = String::new();
    let mut pos = 0;
    while pos < b.len() {
        let Some(off) = to[pos..].find('$') else {
            break;
        };
        let index = pos + off;
        out.push_str(&to[pos..index]);
        pos = index + 1;
        match b.get(pos) {
            Some(b'$') => {
                out.push('$');
                pos += 1;
            }
            Some(b'0') => {
                out.push_str(&s[m.range()]);
                pos += 1;
            }
            _ => {
                let digits: String = to[pos..]
                    .chars()
                    .take(max_digits)
                    .take_while(char::is_ascii_digit)
                    .collect();
                let mut n: Option<usize> = digits.parse().ok();
                if max_digits > 1 && n.is_some_and(|n| n > groups) {
                    n = digits[..digits.len().saturating_sub(1)].parse().ok();
                }
                match n {
                    Some(n) => {
                        if groups > 0 {
                            out.push_str(group(n));
                        }
                        pos += n.to_string().len();
                    }
                    None => out.push('$'),
                }
            }
        }
    }
    out.push_str(&to[pos.min(to.len())..]);
    out
}
