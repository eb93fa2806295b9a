//! Regular expressions and matcher functions in the string functions: successive matches
//! (with JSONata's `D1004` for a zero-length match, `T1010` for a matcher answering wrongly), the match objects handed to replacement functions and returned by
//! a regex called as a function, and `$n` group references in replacement text.

use indexmap::IndexMap;

use super::eval::Evaluator;
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

/// One match: where it is (byte offsets), its text and its groups.
pub(super) struct Found {
    /// Byte offset where it starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// The matched text.
    pub text: String,
    /// The captured groups (empty text for a group that did not take part).
    pub groups: Vec<String>,
}

/// The successive matches of `re` in `s` (at most `limit`): a zero-length match that is not
/// at the end of the string is `D1004`, as it would match forever.
pub(super) fn regex_matches(
    re: &regress::Regex,
    s: &str,
    limit: usize,
) -> Result<Vec<Found>, JsonataError> {
    let mut out = Vec::new();
    let mut from = 0;
    while out.len() < limit && from <= s.len() {
        let Some(m) = re.find_from(s, from).next() else {
            break;
        };
        let (start, end) = (m.start(), m.end());
        out.push(Found {
            start,
            end,
            text: s[m.range()].to_string(),
            groups: m
                .groups()
                .skip(1)
                .map(|g| g.map_or("", |r| &s[r]).to_string())
                .collect(),
        });
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

/// The byte offset of the position JavaScript counts as `index` (UTF-16 units) in `s`.
fn byte_at(s: &str, index: f64) -> Option<usize> {
    if index < 0.0 {
        return None;
    }
    let want = index as usize;
    let mut units = 0;
    for (b, c) in s.char_indices() {
        if units >= want {
            return Some(b);
        }
        units += c.len_utf16();
    }
    (units >= want).then_some(s.len())
}

/// The matches a user-written matcher function yields: it is called with the string and
/// answers `{match, start, end, groups, next}` (`next` giving the following match), or
/// undefined when there is none; anything else is `T1010`.
pub(super) fn function_matches(
    ev: &mut Evaluator,
    f: &V,
    s: &str,
    limit: usize,
) -> Result<Vec<Found>, JsonataError> {
    let bad = || {
        JsonataError::new(
            "T1010",
            "The matcher function argument passed to function does not return the correct object structure",
        )
    };
    let mut out = Vec::new();
    let mut r = ev.apply(Some(f.clone()), vec![Some(V::str(s))], None)?;
    while out.len() < limit {
        let Some(v) = r else { break };
        let V::Obj(m) = &v else { return Err(bad()) };
        let (Some(V::Str(text)), Some(V::Num(start)), Some(V::Num(end)), Some(V::Arr(groups, _))) = (
            m.get("match"),
            m.get("start"),
            m.get("end"),
            m.get("groups"),
        ) else {
            return Err(bad());
        };
        let (Some(bs), Some(be)) = (byte_at(s, *start), byte_at(s, *end)) else {
            return Err(bad());
        };
        out.push(Found {
            start: bs,
            end: be.max(bs),
            text: text.to_string(),
            groups: groups
                .iter()
                .map(|g| match g {
                    V::Str(x) => x.to_string(),
                    _ => String::new(),
                })
                .collect(),
        });
        r = match m.get("next") {
            Some(next) if next.is_function() => ev.apply(Some(next.clone()), vec![], None)?,
            _ => None,
        };
        ev.tick()?;
    }
    Ok(out)
}

/// The matches of a pattern that is a regex or a matcher function.
pub(super) fn find_all(
    ev: &mut Evaluator,
    pattern: &V,
    s: &str,
    limit: usize,
) -> Result<Vec<Found>, JsonataError> {
    match pattern {
        V::Regex(re) => regex_matches(re, s, limit),
        f => function_matches(ev, f, s, limit),
    }
}

/// The object a replacement function receives for a match (and `$match` returns).
pub(super) fn match_object(s: &str, m: &Found) -> V {
    let mut o = IndexMap::new();
    o.insert("match".to_string(), V::str(&m.text));
    o.insert("index".to_string(), V::Num(js_index(s, m.start)));
    o.insert(
        "groups".to_string(),
        V::arr(m.groups.iter().map(|g| V::str(g)).collect(), Kind::Plain),
    );
    V::obj(o)
}

/// Replacement text for a regex match: `$$`, `$0` (the match) and `$n` (the longest group
/// number present, as the reference implementation reads it).
pub(super) fn expand(to: &str, m: &Found) -> String {
    let groups = m.groups.len();
    let group = |i: usize| -> &str {
        if i == 0 || i > groups {
            return "";
        }
        &m.groups[i - 1]
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
                out.push_str(&m.text);
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
