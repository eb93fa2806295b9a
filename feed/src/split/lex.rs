//! Byte-level lexing helpers of the splitter: where a tag, a DOCTYPE or a quoted run ends,
//! element names, attributes, the XML declaration's encoding.
//!
//! Every search takes a resume point, so a token that spans many input chunks is scanned once,
//! not once per chunk.

use memchr::{memchr, memchr3};

use crate::text::is_xml_ws;

/// Where a search for a token's end stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// The token ends just before this index (exclusive end).
    End(usize),
    /// Not yet: resume at `from`, inside a quoted value opened by `quote` (0 when none).
    More { from: usize, quote: u8 },
}

/// How many bytes are looked at one by one before a SIMD search takes over: most tags and
/// the whitespace between them are short, and memchr's setup costs more than a few compares.
const SHORT: usize = 32;

/// The index of the first `b` in `hay`.
#[inline]
pub(super) fn find_byte(b: u8, hay: &[u8]) -> Option<usize> {
    let head = &hay[..hay.len().min(SHORT)];
    match head.iter().position(|c| *c == b) {
        Some(i) => Some(i),
        None if hay.len() > SHORT => memchr(b, &hay[SHORT..]).map(|i| i + SHORT),
        None => None,
    }
}

/// Finds the `>` that closes a start tag, skipping quoted attribute values.
pub(super) fn tag_end(buf: &[u8], mut from: usize, mut quote: u8) -> Found {
    loop {
        if quote != 0 {
            match memchr(quote, &buf[from..]) {
                Some(i) => from += i + 1,
                None => {
                    return Found::More {
                        from: buf.len(),
                        quote,
                    }
                }
            }
        }
        // Short tags: a plain loop first.
        let head = &buf[from..buf.len().min(from + SHORT)];
        let found = match head.iter().position(|c| matches!(c, b'>' | b'"' | b'\'')) {
            Some(i) => Some(i),
            None if buf.len() > from + SHORT => {
                memchr3(b'>', b'"', b'\'', &buf[from + SHORT..]).map(|i| i + SHORT)
            }
            None => None,
        };
        match found {
            Some(i) if buf[from + i] == b'>' => return Found::End(from + i + 1),
            Some(i) => {
                quote = buf[from + i];
                from += i + 1;
            }
            None => {
                return Found::More {
                    from: buf.len(),
                    quote: 0,
                }
            }
        }
    }
}

/// Finds the end of `<!DOCTYPE ...>` starting after `<!DOCTYPE`, skipping quoted literals and an
/// internal subset `[...]` (with its comments and processing instructions). None: not complete.
pub(super) fn doctype_end(buf: &[u8], mut i: usize) -> Option<usize> {
    let mut in_subset = false;
    while i < buf.len() {
        match buf[i] {
            q @ (b'"' | b'\'') => i += memchr(q, &buf[i + 1..])? + 2,
            b'[' if !in_subset => {
                in_subset = true;
                i += 1;
            }
            b']' if in_subset => {
                in_subset = false;
                i += 1;
            }
            b'<' if in_subset && buf[i..].starts_with(b"<!--") => {
                i += 4 + memchr::memmem::find(&buf[i + 4..], b"-->")? + 3;
            }
            b'<' if in_subset && buf[i..].starts_with(b"<?") => {
                i += 2 + memchr::memmem::find(&buf[i + 2..], b"?>")? + 2;
            }
            b'>' if !in_subset => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Whether `b` may start an XML name (ASCII letters, `_`, `:`, any non-ASCII byte).
pub(super) fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

/// Length of the XML name at the start of `s` (0 when there is none).
pub(super) fn name_len(s: &[u8]) -> usize {
    match s.first() {
        Some(&b) if is_name_start(b) => {}
        _ => return 0,
    }
    s.iter()
        .position(|&b| {
            !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-' | b'.') || b >= 0x80)
        })
        .unwrap_or(s.len())
}

/// The attributes of a start tag's inside (after the name, before `>` or `/>`), checked for
/// syntax; calls `each(name, raw_value_range)` with ranges relative to `s`.
pub(super) fn attributes(
    s: &[u8],
    mut each: impl FnMut(&[u8], (usize, usize)),
) -> Result<(), String> {
    let mut i = 0;
    loop {
        let ws = s[i..].iter().take_while(|b| is_xml_ws(**b)).count();
        i += ws;
        if i == s.len() {
            return Ok(());
        }
        if ws == 0 {
            return Err("attributes must be separated by whitespace".into());
        }
        let n = name_len(&s[i..]);
        if n == 0 {
            return Err(format!("unexpected {:?} in a start tag", char::from(s[i])));
        }
        let name = &s[i..i + n];
        i += n;
        i += s[i..].iter().take_while(|b| is_xml_ws(**b)).count();
        if s.get(i) != Some(&b'=') {
            return Err(format!(
                "attribute {} has no value (write name=\"value\")",
                String::from_utf8_lossy(name)
            ));
        }
        i += 1;
        i += s[i..].iter().take_while(|b| is_xml_ws(**b)).count();
        let quote = match s.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => {
                return Err(format!(
                    "the value of attribute {} is not quoted",
                    String::from_utf8_lossy(name)
                ))
            }
        };
        let start = i + 1;
        let len = memchr(quote, &s[start..]).ok_or("unterminated attribute value")?;
        if memchr(b'<', &s[start..start + len]).is_some() {
            return Err(format!(
                "'<' in the value of attribute {} (write &lt;)",
                String::from_utf8_lossy(name)
            ));
        }
        each(name, (start, start + len));
        i = start + len + 1;
    }
}

/// The `encoding` pseudo-attribute of an XML declaration's inside, if any.
pub(super) fn declared_encoding(decl: &[u8]) -> Option<&[u8]> {
    let at = memchr::memmem::find(decl, b"encoding")?;
    let rest = &decl[at + 8..];
    let rest = &rest[rest.iter().take_while(|b| is_xml_ws(**b)).count()..];
    let rest = rest.strip_prefix(b"=")?;
    let rest = &rest[rest.iter().take_while(|b| is_xml_ws(**b)).count()..];
    let quote = *rest.first()?;
    let end = memchr(quote, &rest[1..])?;
    Some(&rest[1..1 + end])
}

/// Whether a declared encoding is one this reader accepts as is (UTF-8 or its ASCII subset).
pub(super) fn is_utf8_compatible(encoding: &[u8]) -> bool {
    ["utf-8", "utf8", "us-ascii", "ascii"]
        .iter()
        .any(|e| encoding.eq_ignore_ascii_case(e.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_end_skips_quoted_gt_and_resumes() {
        let t = br#"<a b="x>y" c='>'>rest"#;
        assert_eq!(tag_end(t, 1, 0), Found::End(17));
        let part = br#"<a b="x>"#;
        let Found::More { from, quote } = tag_end(part, 1, 0) else {
            panic!("incomplete")
        };
        assert_eq!(quote, b'"');
        assert_eq!(tag_end(t, from, quote), Found::End(17));
    }

    #[test]
    fn doctype_with_internal_subset() {
        let d = b"<!DOCTYPE r [ <!ENTITY a \"]>\"> <!-- ]> --> ]> <r/>";
        assert_eq!(doctype_end(d, 9), Some(45));
        assert_eq!(doctype_end(&d[..30], 9), None);
    }

    #[test]
    fn attribute_syntax() {
        let mut seen = Vec::new();
        attributes(b" a=\"1\" b = '2'", |n, (s, e)| {
            seen.push((n.to_vec(), s, e))
        })
        .unwrap();
        assert_eq!(seen, vec![(b"a".to_vec(), 4, 5), (b"b".to_vec(), 12, 13)]);
        assert!(attributes(b" a", |_, _| {}).is_err());
        assert!(attributes(b" a=1", |_, _| {}).is_err());
        assert!(attributes(b" a=\"1\"b=\"2\"", |_, _| {}).is_err());
        assert!(attributes(b" a=\"<\"", |_, _| {}).is_err());
    }

    #[test]
    fn encodings() {
        let d = b"xml version=\"1.0\" encoding = 'ISO-8859-1'";
        assert_eq!(declared_encoding(d), Some(&b"ISO-8859-1"[..]));
        assert!(is_utf8_compatible(b"UTF-8"));
        assert!(!is_utf8_compatible(b"ISO-8859-1"));
    }
}
