//! Character data: entity references, XML whitespace, and the decoding of a record id from the
//! raw content of its element.
//!
//! Only the five predefined entities (`&lt; &gt; &amp; &apos; &quot;`) and character references
//! (`&#10; &#x2F;`) are decoded. Anything else is an error: entities declared in a DTD are never
//! expanded, so no document can make the reader build a billion laughs.

use memchr::memchr;

/// Why a text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextError {
    /// `&name;` that is not predefined.
    Undefined(String),
    /// Anything else, described.
    Bad(String),
}

/// XML whitespace (space, tab, CR, LF).
pub(crate) fn is_xml_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Whether XML 1.0 allows `c` in a document (the `Char` production: tab, line feed, carriage
/// return, U+0020 to U+D7FF, U+E000 to U+FFFD, U+10000 to U+10FFFF).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character XML 1.0 forbids in UTF-8 `bytes`: its byte offset and code point. Only
/// C0 controls and U+FFFE/U+FFFF can occur in UTF-8 (surrogates cannot be encoded), so this
/// looks at bytes below 0x20 and at 0xEF lead bytes.
pub(crate) fn forbidden_char(bytes: &[u8]) -> Option<(usize, u32)> {
    // A byte that may start a forbidden character: a C0 control but tab, LF and CR, or the
    // first byte of U+FFFE/U+FFFF.
    fn suspect(b: u8) -> u8 {
        u8::from(b < 0x20) & u8::from(b != b'\t') & u8::from(b != b'\n') & u8::from(b != b'\r')
            | u8::from(b == 0xEF)
    }
    // Blocks of 32 with no suspect byte are skipped at once (a loop the compiler vectorises).
    let mut i = 0;
    for block in bytes.chunks_exact(32) {
        let block: &[u8; 32] = block.try_into().expect("32 bytes");
        let mut any = 0u8;
        for &b in block {
            any |= suspect(b);
        }
        if any != 0 {
            break;
        }
        i += 32;
    }
    while i < bytes.len() {
        match bytes[i] {
            b'\t' | b'\n' | b'\r' => {}
            b if b < 0x20 => return Some((i, u32::from(b))),
            0xEF if bytes.get(i + 1) == Some(&0xBF) => match bytes.get(i + 2) {
                Some(0xBE) => return Some((i, 0xFFFE)),
                Some(0xBF) => return Some((i, 0xFFFF)),
                _ => {}
            },
            _ => {}
        }
        i += 1;
    }
    None
}

/// What is wrong with a forbidden character (for an error's detail).
pub(crate) fn forbidden_detail(code: u32) -> String {
    let name = match code {
        0 => " (NUL)",
        0xFFFE | 0xFFFF => " (a noncharacter)",
        _ => " (a control character)",
    };
    format!("character U+{code:04X}{name} is not allowed in an XML 1.0 document")
}

/// `s` without leading and trailing XML whitespace.
pub(crate) fn trim_xml(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_xml_ws(c as u8))
}

/// Appends `raw` with its references decoded to `out`.
pub(crate) fn unescape_into(raw: &str, out: &mut String) -> Result<(), TextError> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(amp) = memchr(b'&', &bytes[i..]) {
        let at = i + amp;
        out.push_str(&raw[i..at]);
        let Some(semi) = memchr(b';', &bytes[at + 1..]).filter(|n| *n <= 32) else {
            return Err(TextError::Bad(format!(
                "'&' not followed by a reference near {:?} (write &amp;)",
                snippet(&raw[at..])
            )));
        };
        let name = &raw[at + 1..at + 1 + semi];
        out.push(resolve(name)?);
        i = at + semi + 2;
    }
    out.push_str(&raw[i..]);
    Ok(())
}

/// The character a reference name (`lt`, `#10`, `#x41`) stands for.
pub(crate) fn resolve(name: &str) -> Result<char, TextError> {
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => {
            let Some(num) = name.strip_prefix('#') else {
                return Err(TextError::Undefined(name.to_string()));
            };
            // Digits only: `from_str_radix` and `parse` would take a leading `+`.
            let code = match num.strip_prefix('x') {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()
                }
                None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => {
                    num.parse::<u32>().ok()
                }
                _ => None,
            };
            match code.and_then(char::from_u32) {
                Some(c) if is_xml_char(c) => c,
                _ => {
                    return Err(TextError::Bad(format!(
                        "invalid character reference &{name};"
                    )))
                }
            }
        }
    };
    Ok(c)
}

fn snippet(s: &str) -> &str {
    let mut end = s.len().min(16);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Decodes the raw content of an id element (text, CDATA sections, comments) into `out`,
/// trimmed of XML whitespace. Child elements are an error.
pub(crate) fn decode_id(raw: &[u8], out: &mut String) -> Result<(), TextError> {
    let raw = std::str::from_utf8(raw)
        .map_err(|e| TextError::Bad(format!("the id is not valid UTF-8 ({e})")))?;
    out.clear();
    let mut rest = raw;
    while let Some(lt) = rest.find('<') {
        unescape_into(&rest[..lt], out)?;
        let markup = &rest[lt..];
        let (body, skip) = if let Some(cdata) = markup.strip_prefix("<![CDATA[") {
            let end = cdata.find("]]>").ok_or_else(unterminated)?;
            (&cdata[..end], 9 + end + 3)
        } else if let Some(comment) = markup.strip_prefix("<!--") {
            ("", 4 + comment.find("-->").ok_or_else(unterminated)? + 3)
        } else if let Some(pi) = markup.strip_prefix("<?") {
            ("", 2 + pi.find("?>").ok_or_else(unterminated)? + 2)
        } else {
            return Err(TextError::Bad(
                "the id element contains elements; it must hold text only".into(),
            ));
        };
        out.push_str(body);
        rest = &markup[skip..];
    }
    unescape_into(rest, out)?;
    let trimmed = trim_xml(out);
    if trimmed.len() != out.len() {
        let start = trimmed.as_ptr() as usize - out.as_ptr() as usize;
        let len = trimmed.len();
        out.drain(..start);
        out.truncate(len);
    }
    Ok(())
}

fn unterminated() -> TextError {
    TextError::Bad("unterminated markup in the id".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> Result<String, TextError> {
        let mut s = String::new();
        decode_id(raw.as_bytes(), &mut s).map(|()| s)
    }

    #[test]
    fn ids_decode_entities_cdata_and_trim() {
        assert_eq!(id("  A&amp;B&#x41;&#66; \n").unwrap(), "A&BAB");
        assert_eq!(id("<![CDATA[ x<y ]]>").unwrap(), "x<y");
        assert_eq!(id("a<!-- c -->b").unwrap(), "ab");
        assert_eq!(id("\r\n\t").unwrap(), "");
    }

    #[test]
    fn dtd_entities_are_never_expanded() {
        assert_eq!(id("&lol9;"), Err(TextError::Undefined("lol9".into())));
        assert!(matches!(id("a & b"), Err(TextError::Bad(_))));
        assert!(matches!(id("&#0;"), Err(TextError::Bad(_))));
    }

    #[test]
    fn character_references_are_digits_of_an_xml_character() {
        assert_eq!(
            id("&#65;&#x41;&#x0041;&#x10FFFF;").unwrap(),
            "AA\u{41}\u{10FFFF}"
        );
        for bad in [
            "&#+65;",
            "&#x+41;",
            "&#-65;",
            "&# 65;",
            "&#;",
            "&#x;",
            "&#X41;",
            "&#1;",
            "&#x1F;",
            "&#xFFFE;",
            "&#xD800;",
            "&#x110000;",
            "&#99999999999;",
        ] {
            assert!(
                matches!(id(bad), Err(TextError::Bad(ref m)) if m.contains("invalid character reference")),
                "{bad}: {:?}",
                id(bad)
            );
        }
        assert_eq!(id("&#9;a&#10;").unwrap(), "a");
    }

    #[test]
    fn forbidden_characters_are_found_with_their_offset() {
        assert_eq!(forbidden_char(b"ok\t\r\n"), None);
        assert_eq!(forbidden_char(b"ab\0c"), Some((2, 0)));
        assert_eq!(forbidden_char(b"\x1b["), Some((0, 0x1b)));
        assert_eq!(forbidden_char("x\u{FFFE}".as_bytes()), Some((1, 0xFFFE)));
        assert_eq!(forbidden_char("x\u{FFFF}".as_bytes()), Some((1, 0xFFFF)));
        assert_eq!(forbidden_char("\u{FFFD}\u{EFBF}".as_bytes()), None);
        assert!(forbidden_detail(0).contains("U+0000 (NUL)"));
        for c in ['\0', '\u{1}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'] {
            assert!(!is_xml_char(c), "{c:?}");
        }
        for c in ['\t', ' ', '\u{D7FF}', '\u{E000}', '\u{FFFD}', '\u{10000}'] {
            assert!(is_xml_char(c), "{c:?}");
        }
        assert!(matches!(id("<b>x</b>"), Err(TextError::Bad(_))));
    }
}
