//! A record's JSON form (DESIGN.md §5), from a full quick-xml parse of the record's bytes.
//!
//! The mapping:
//! - The record element becomes an object (or a string/null when it holds only text, below).
//! - Each attribute becomes a key `@name` (qualified name as written, `xmlns` declarations
//!   included) with its value as a string: entities decoded, literal tabs and line breaks
//!   turned into spaces (XML attribute-value normalisation).
//! - Each child element becomes a key with its qualified name as written; a name that occurs
//!   more than once becomes an array, in document order, at the position of its first
//!   occurrence. Key order is document order.
//! - An element with neither attributes nor children becomes a string: its text and CDATA
//!   pieces concatenated. An element with attributes or children keeps its text under `#text`
//!   (left out when empty).
//! - Whitespace: line breaks are normalised (`\r\n` and `\r` become `\n`, CDATA included);
//!   leading and trailing whitespace of an element's text is removed, but never from inside a
//!   CDATA section; whitespace-only text between child elements disappears that way too.
//! - An element with no text at all (`<x/>`, `<x></x>`, `<x> </x>`) is `null`. One whose only
//!   content is an empty CDATA section (`<x><![CDATA[]]></x>`) is `""`, or `null` with
//!   `empty_cdata = "null"`.
//! - Entities: the five predefined ones and character references (decimal or `x` and hex
//!   digits, of a character XML 1.0 allows) are decoded; any other entity is an error (a DTD's
//!   entities are never expanded). A character XML 1.0 forbids (NUL and the other C0 controls
//!   but tab, CR and LF; U+FFFE, U+FFFF) is an error wherever it stands, naming its byte. Comments and processing
//!   instructions are dropped.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde_json::{Map, Value};

use crate::config::EmptyCdata;
use crate::error::ErrorKind;
use crate::text::{forbidden_char, forbidden_detail, is_xml_ws, resolve, unescape_into, TextError};

/// An element being built.
struct Frame {
    name: String,
    map: Map<String, Value>,
    text: String,
    /// Byte range of `text` covered by CDATA sections (first start, last end).
    cdata: Option<(usize, usize)>,
}

type Fail = (ErrorKind, u64);

/// The JSON form of one record's bytes; errors carry the byte offset inside the record.
pub(crate) fn record_to_json(bytes: &[u8], empty: EmptyCdata) -> Result<Value, Fail> {
    // XML 1.0 allows no NUL or other C0 control (but tab, CR, LF) anywhere, nor U+FFFE/FFFF.
    if let Some((at, code)) = forbidden_char(bytes) {
        let detail = forbidden_detail(code);
        return Err((ErrorKind::Malformed { detail }, at as u64));
    }
    let mut reader = Reader::from_reader(bytes);
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        // Where the event starts: the offset errors about it name.
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            let detail = e.to_string();
            (ErrorKind::Malformed { detail }, reader.error_position())
        })?;
        let malformed = |detail: &str| {
            (
                ErrorKind::Malformed {
                    detail: detail.into(),
                },
                at,
            )
        };
        match event {
            Event::Start(e) => stack.push(frame(&e, at)?),
            Event::Empty(e) => {
                let f = frame(&e, at)?;
                if let Some(done) = close(&mut stack, f, empty) {
                    return finish(&mut reader, done, at);
                }
            }
            Event::End(_) => {
                let f = stack
                    .pop()
                    .ok_or_else(|| malformed("end tag without a start tag"))?;
                if let Some(done) = close(&mut stack, f, empty) {
                    return finish(&mut reader, done, at);
                }
            }
            Event::Text(t) => {
                let top = stack
                    .last_mut()
                    .ok_or_else(|| malformed("text outside the record"))?;
                let s = t.xml10_content().map_err(|e| malformed(&e.to_string()))?;
                if memchr::memchr(b'&', s.as_bytes()).is_some() {
                    return Err(malformed("'&' not followed by a reference (write &amp;)"));
                }
                top.text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let top = stack
                    .last_mut()
                    .ok_or_else(|| malformed("text outside the record"))?;
                let name = std::str::from_utf8(&r).map_err(|e| malformed(&e.to_string()))?;
                top.text.push(resolve(name).map_err(|e| text_error(e, at))?);
            }
            Event::CData(c) => {
                let top = stack
                    .last_mut()
                    .ok_or_else(|| malformed("CDATA outside the record"))?;
                let s = c.xml10_content().map_err(|e| malformed(&e.to_string()))?;
                let start = top.text.len();
                top.text.push_str(&s);
                let end = top.text.len();
                top.cdata = Some(top.cdata.map_or((start, end), |(lo, _)| (lo, end)));
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Decl(_) | Event::DocType(_) => {
                return Err(malformed("XML declaration or DOCTYPE inside a record"))
            }
            Event::Eof => return Err(malformed("the record ends before its end tag")),
        }
    }
}

/// After the record element closed: only whitespace, comments and PIs may follow.
fn finish(reader: &mut Reader<&[u8]>, done: Value, at: u64) -> Result<Value, Fail> {
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return Ok(done),
            Ok(Event::Text(t)) if t.iter().all(|b| is_xml_ws(*b)) => {}
            Ok(Event::Comment(_) | Event::PI(_)) => {}
            _ => {
                let detail = "content after the record's end tag".to_string();
                return Err((ErrorKind::Malformed { detail }, at));
            }
        }
    }
}

fn text_error(e: TextError, at: u64) -> Fail {
    match e {
        TextError::Undefined(name) => (ErrorKind::UndefinedEntity { name }, at),
        TextError::Bad(detail) => (ErrorKind::Malformed { detail }, at),
    }
}

fn frame(e: &BytesStart<'_>, at: u64) -> Result<Frame, Fail> {
    let utf8 = |b: &[u8]| {
        std::str::from_utf8(b).map(str::to_owned).map_err(|err| {
            (
                ErrorKind::Malformed {
                    detail: format!("invalid UTF-8: {err}"),
                },
                at,
            )
        })
    };
    let mut map = Map::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| {
            (
                ErrorKind::Malformed {
                    detail: err.to_string(),
                },
                at,
            )
        })?;
        let key = format!("@{}", utf8(attr.key.as_ref())?);
        let raw = utf8(&attr.value)?;
        let normalised: String = raw
            .replace("\r\n", " ")
            .chars()
            .map(|c| {
                if matches!(c, '\r' | '\n' | '\t') {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        let mut value = String::with_capacity(normalised.len());
        unescape_into(&normalised, &mut value).map_err(|err| text_error(err, at))?;
        map.insert(key, Value::String(value));
    }
    Ok(Frame {
        name: utf8(e.name().as_ref())?,
        map,
        text: String::new(),
        cdata: None,
    })
}

/// Finishes `f` and adds it to its parent; returns the value when `f` was the record itself.
fn close(stack: &mut [Frame], f: Frame, empty: EmptyCdata) -> Option<Value> {
    let name = f.name.clone();
    let value = element_value(f, empty);
    let Some(parent) = stack.last_mut() else {
        return Some(value);
    };
    match parent.map.get_mut(&name) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            parent.map.insert(name, value);
        }
    }
    None
}

fn element_value(mut f: Frame, empty: EmptyCdata) -> Value {
    let text = trimmed(&f.text, f.cdata);
    if f.map.is_empty() {
        return match (text.is_empty(), f.cdata.is_some(), empty) {
            (false, _, _) => Value::String(text.to_string()),
            (true, true, EmptyCdata::Empty) => Value::String(String::new()),
            _ => Value::Null,
        };
    }
    if !text.is_empty() {
        f.map
            .insert("#text".into(), Value::String(text.to_string()));
    }
    Value::Object(f.map)
}

/// `text` without leading and trailing XML whitespace outside the CDATA range.
fn trimmed(text: &str, cdata: Option<(usize, usize)>) -> &str {
    let (lo, hi) = cdata.unwrap_or((text.len(), 0));
    let b = text.as_bytes();
    let mut start = 0;
    while start < lo.min(b.len()) && is_xml_ws(b[start]) {
        start += 1;
    }
    let mut end = b.len();
    while end > hi.max(start) && is_xml_ws(b[end - 1]) {
        end -= 1;
    }
    &text[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn j(xml: &str) -> Value {
        record_to_json(xml.as_bytes(), EmptyCdata::Empty).unwrap()
    }

    #[test]
    fn children_attributes_arrays_and_text() {
        let v = j(
            r#"<job id="7"><title> Rust &amp; C </title><cat>a</cat><salary cur="EUR">5</salary><cat>b</cat></job>"#,
        );
        assert_eq!(
            v,
            json!({"@id": "7", "title": "Rust & C", "cat": ["a", "b"], "salary": {"@cur": "EUR", "#text": "5"}})
        );
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["@id", "title", "cat", "salary"]);
    }

    #[test]
    fn whitespace_and_cdata_rules() {
        let v = j("<job>\r\n <d><![CDATA[ <p>x</p>\r\n ]]></d><e/><f> </f><g><![CDATA[]]></g><h>a<![CDATA[ b ]]>c</h></job>");
        assert_eq!(
            v,
            json!({"d": " <p>x</p>\n ", "e": null, "f": null, "g": "", "h": "a b c"})
        );
        let v = record_to_json(b"<job><g><![CDATA[]]></g></job>", EmptyCdata::Null).unwrap();
        assert_eq!(v, json!({"g": null}));
    }

    #[test]
    fn attribute_values_are_normalised_and_decoded() {
        assert_eq!(j("<job a='x\ty&#10;&lt;'/>"), json!({"@a": "x y\n<"}));
    }

    #[test]
    fn unknown_entities_are_errors() {
        let e = record_to_json(b"<job><t>&lol;</t></job>", EmptyCdata::Empty).unwrap_err();
        assert!(
            matches!(e.0, ErrorKind::UndefinedEntity { ref name } if name == "lol"),
            "{e:?}"
        );
        let e = record_to_json(b"<job><t>x</u></job>", EmptyCdata::Empty).unwrap_err();
        assert!(matches!(e.0, ErrorKind::Malformed { .. }), "{e:?}");
    }
}
