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

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde_json::Value;

use crate::config::EmptyCdata;
use crate::error::ErrorKind;
use crate::text::{forbidden_char, forbidden_detail, is_xml_ws, resolve, unescape_into, TextError};

/// A record's JSON form as compact JSON text, written straight from the parse (no `Value` tree
/// in between): what the sinks send, byte for byte what `serde_json` prints for
/// [`RecordJson::to_value`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordJson(String);

impl RecordJson {
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON text, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The compact JSON text of `value` (for records made elsewhere, e.g. in tests).
    pub fn from_value(value: &Value) -> RecordJson {
        RecordJson(value.to_string())
    }

    /// The JSON form as a value.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).expect("a record's JSON text parses")
    }
}

impl fmt::Display for RecordJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An element being built.
#[derive(Default)]
struct Frame<'a> {
    name: &'a str,
    /// The attributes, written: `"@k":"v"` joined by commas.
    attrs: String,
    /// The child elements: name and the range of their JSON text in the record's arena.
    children: Vec<(&'a str, usize, usize)>,
    text: String,
    /// Byte range of `text` covered by CDATA sections (first start, last end).
    cdata: Option<(usize, usize)>,
}

impl<'a> Frame<'a> {
    fn reset(&mut self, name: &'a str) {
        self.name = name;
        self.attrs.clear();
        self.children.clear();
        self.text.clear();
        self.cdata = None;
    }
}

type Fail = (ErrorKind, u64);

/// The frames of the elements open now, kept (with their buffers) for the next ones.
struct Stack<'a> {
    frames: Vec<Frame<'a>>,
    depth: usize,
}

impl<'a> Stack<'a> {
    fn push(&mut self, name: &'a str) -> &mut Frame<'a> {
        if self.depth == self.frames.len() {
            self.frames.push(Frame::default());
        }
        let f = &mut self.frames[self.depth];
        f.reset(name);
        self.depth += 1;
        f
    }

    fn top(&mut self) -> Option<&mut Frame<'a>> {
        self.depth.checked_sub(1).map(|i| &mut self.frames[i])
    }
}

/// The JSON text of one record's bytes; errors carry the byte offset inside the record.
pub(crate) fn record_to_json_text<'a>(
    bytes: &'a [u8],
    empty: EmptyCdata,
) -> Result<RecordJson, Fail> {
    // XML 1.0 allows no NUL or other C0 control (but tab, CR, LF) anywhere, nor U+FFFE/FFFF.
    if let Some((at, code)) = forbidden_char(bytes) {
        let detail = forbidden_detail(code);
        return Err((ErrorKind::Malformed { detail }, at as u64));
    }
    let mut reader = Reader::from_reader(bytes);
    let mut stack: Stack<'a> = Stack {
        frames: Vec::new(),
        depth: 0,
    };
    // The JSON texts of closed elements, which their parents copy from.
    let mut arena = String::with_capacity(bytes.len() + 64);
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
            Event::Start(e) => open(&mut stack, bytes, e, at)?,
            Event::Empty(e) => {
                open(&mut stack, bytes, e, at)?;
                if close(&mut stack, &mut arena, empty) {
                    return finish(&mut reader, arena, at);
                }
            }
            Event::End(_) => {
                if stack.depth == 0 {
                    return Err(malformed("end tag without a start tag"));
                }
                if close(&mut stack, &mut arena, empty) {
                    return finish(&mut reader, arena, at);
                }
            }
            Event::Text(t) => {
                let top = stack
                    .top()
                    .ok_or_else(|| malformed("text outside the record"))?;
                let s = utf8(t.into_inner(), at)?;
                if memchr::memchr(b'&', s.as_bytes()).is_some() {
                    return Err(malformed("'&' not followed by a reference (write &amp;)"));
                }
                push_normalised(&mut top.text, &s);
            }
            Event::GeneralRef(r) => {
                let top = stack
                    .top()
                    .ok_or_else(|| malformed("text outside the record"))?;
                let name = std::str::from_utf8(&r).map_err(|e| malformed(&e.to_string()))?;
                top.text.push(resolve(name).map_err(|e| text_error(e, at))?);
            }
            Event::CData(c) => {
                let top = stack
                    .top()
                    .ok_or_else(|| malformed("CDATA outside the record"))?;
                let s = utf8(c.into_inner(), at)?;
                let start = top.text.len();
                push_normalised(&mut top.text, &s);
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

/// Text borrowed from the record as UTF-8 (or the error naming where it is not).
fn utf8<'a>(bytes: std::borrow::Cow<'a, [u8]>, at: u64) -> Result<std::borrow::Cow<'a, str>, Fail> {
    let bad = |e: std::str::Utf8Error| {
        (
            ErrorKind::Malformed {
                detail: format!("invalid UTF-8: {e}"),
            },
            at,
        )
    };
    match bytes {
        std::borrow::Cow::Borrowed(b) => str_of(b).map(std::borrow::Cow::Borrowed).map_err(bad),
        std::borrow::Cow::Owned(b) => String::from_utf8(b)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| bad(e.utf8_error())),
    }
}

/// `bytes` as UTF-8: checked with SIMD (most of a record is text), the error from the standard
/// library's check (it says where).
fn str_of(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}

/// Appends `s` with XML 1.0's end-of-line handling: `\r\n` and `\r` become `\n`.
fn push_normalised(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = memchr::memchr(b'\r', rest.as_bytes()) {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 1..];
        if rest.as_bytes().first() == Some(&b'\n') {
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
}

/// After the record element closed: only whitespace, comments and PIs may follow.
fn finish(reader: &mut Reader<&[u8]>, done: String, at: u64) -> Result<RecordJson, Fail> {
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return Ok(RecordJson(done)),
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

/// Opens an element: a frame with its name and its attributes written.
fn open<'a>(
    stack: &mut Stack<'a>,
    record: &'a [u8],
    e: BytesStart<'a>,
    at: u64,
) -> Result<(), Fail> {
    let bad = |detail: String| (ErrorKind::Malformed { detail }, at);
    let invalid = |err: std::str::Utf8Error| bad(format!("invalid UTF-8: {err}"));
    let name_len = e.name().as_ref().len();
    let f = stack.push("");
    let mut value = String::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| bad(err.to_string()))?;
        let key = str_of(attr.key.as_ref()).map_err(invalid)?;
        let raw = str_of(&attr.value).map_err(invalid)?;
        // Attribute-value normalisation: literal tabs and line breaks are spaces.
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
        value.clear();
        unescape_into(&normalised, &mut value).map_err(|err| text_error(err, at))?;
        if !f.attrs.is_empty() {
            f.attrs.push(',');
        }
        f.attrs.push_str("\"@");
        escape_into(&mut f.attrs, key);
        f.attrs.push_str("\":");
        push_string(&mut f.attrs, &value);
    }
    // The event borrows the record (a reader over a slice): its name is found there by address,
    // so it lives as long as the parse.
    let offset = (e.as_ptr() as usize).wrapping_sub(record.as_ptr() as usize);
    let name = record
        .get(offset..offset.saturating_add(name_len))
        .filter(|n| *n == e.name().as_ref())
        .ok_or_else(|| bad("an element name outside the record".into()))?;
    f.name = str_of(name).map_err(invalid)?;
    Ok(())
}

/// Closes the top element: its JSON text is appended to `arena` and listed in its parent.
/// True when it was the record itself (its text is then all of `arena`).
fn close(stack: &mut Stack<'_>, arena: &mut String, empty: EmptyCdata) -> bool {
    stack.depth -= 1;
    let (done, parents) = {
        let (below, rest) = stack.frames.split_at_mut(stack.depth);
        (&mut rest[0], below)
    };
    let start = write_element(done, arena, empty);
    match parents.last_mut() {
        Some(parent) => {
            parent.children.push((done.name, start, arena.len()));
            false
        }
        // The record: its text is all of the arena (its children's were replaced by it).
        None => true,
    }
}

/// Writes an element's JSON value (the mapping of the module's header) where its children's
/// texts began (at the end of `arena` when it has none); returns where it begins.
fn write_element(f: &Frame<'_>, arena: &mut String, empty: EmptyCdata) -> usize {
    let text = trimmed(&f.text, f.cdata);
    let first = f.children.first().map_or(arena.len(), |c| c.1);
    if f.attrs.is_empty() && f.children.is_empty() {
        match (text.is_empty(), f.cdata.is_some(), empty) {
            (false, _, _) => push_string(arena, text),
            (true, true, EmptyCdata::Empty) => arena.push_str("\"\""),
            _ => arena.push_str("null"),
        }
        return first;
    }
    // The children's texts are in `arena` before this element's: written from a copy of their
    // part, then the part is replaced by this element's text.
    let children_text = arena.split_off(first);
    let piece = |c: &(&str, usize, usize)| &children_text[c.1 - first..c.2 - first];
    arena.push('{');
    arena.push_str(&f.attrs);
    let mut comma = !f.attrs.is_empty();
    // A name that occurs more than once is an array, at its first occurrence.
    let groups = group_by_name(&f.children);
    for &(name, first, _) in &groups.names {
        if comma {
            arena.push(',');
        }
        comma = true;
        push_string(arena, name);
        arena.push(':');
        if groups.next[first] == NONE {
            arena.push_str(piece(&f.children[first]));
        } else {
            arena.push('[');
            let mut k = first;
            while k != NONE {
                if k != first {
                    arena.push(',');
                }
                arena.push_str(piece(&f.children[k]));
                k = groups.next[k];
            }
            arena.push(']');
        }
    }
    if !text.is_empty() {
        if comma {
            arena.push(',');
        }
        arena.push_str("\"#text\":");
        push_string(arena, text);
    }
    arena.push('}');
    first
}

/// The children grouped by name: each name once, in order of first occurrence, with its first
/// child; `next[k]` is the next child with child `k`'s name. Linear in the number of children
/// (a hash map once there are more than a few names), no allocation per child.
struct Groups<'a> {
    /// Name, first child, last child.
    names: Vec<(&'a str, usize, usize)>,
    next: Vec<usize>,
}

const NONE: usize = usize::MAX;

fn group_by_name<'a>(children: &[(&'a str, usize, usize)]) -> Groups<'a> {
    let mut names: Vec<(&'a str, usize, usize)> = Vec::with_capacity(children.len());
    let mut next = vec![NONE; children.len()];
    // The groups' positions by name, for the first `indexed` groups (built once there are many).
    let mut index: std::collections::HashMap<&'a str, usize> = std::collections::HashMap::new();
    let mut indexed = 0;
    for (i, (name, _, _)) in children.iter().enumerate() {
        let found = if names.len() <= 8 {
            names.iter().position(|(n, _, _)| n == name)
        } else {
            let fresh = names[indexed..].iter().enumerate();
            index.extend(fresh.map(|(k, (n, _, _))| (*n, indexed + k)));
            indexed = names.len();
            index.get(name).copied()
        };
        match found {
            Some(g) => {
                next[names[g].2] = i;
                names[g].2 = i;
            }
            None => names.push((name, i, i)),
        }
    }
    Groups { names, next }
}

/// `s` as a JSON string, quoted.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

/// Whether a byte must be escaped in a JSON string.
fn must_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Bytes checked at once for anything to escape (a loop the compiler vectorises).
const BLOCK: usize = 16;

/// `s` escaped for a JSON string as `serde_json` escapes it: `"`, `\` and control characters
/// (`\b \t \n \f \r` by name, others as `\u00XX`); everything else as it is.
fn escape_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut from = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Whole blocks with nothing to escape are skipped at once.
        while let Some(block) = bytes.get(i..i + BLOCK) {
            if block.iter().fold(false, |any, &b| any | must_escape(b)) {
                break;
            }
            i += BLOCK;
        }
        let end = (i + BLOCK).min(bytes.len());
        while i < end {
            let b = bytes[i];
            if must_escape(b) {
                out.push_str(&s[from..i]);
                match b {
                    b'"' => out.push_str("\\\""),
                    b'\\' => out.push_str("\\\\"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    b'\t' => out.push_str("\\t"),
                    0x08 => out.push_str("\\b"),
                    0x0c => out.push_str("\\f"),
                    _ => {
                        const HEX: &[u8; 16] = b"0123456789abcdef";
                        out.push_str("\\u00");
                        out.push(HEX[usize::from(b >> 4)] as char);
                        out.push(HEX[usize::from(b & 0xf)] as char);
                    }
                }
                from = i + 1;
            }
            i += 1;
        }
    }
    out.push_str(&s[from..]);
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

    /// The JSON form as a value, checking on the way that the text is exactly what serde_json
    /// prints for that value (same escapes, same key order, no spaces).
    fn record_to_json(bytes: &[u8], empty: EmptyCdata) -> Result<Value, Fail> {
        record_to_json_text(bytes, empty).map(|t| {
            let v = t.to_value();
            assert_eq!(t.as_str(), serde_json::to_string(&v).unwrap());
            v
        })
    }

    #[test]
    fn many_children_group_by_name_in_order_of_first_occurrence() {
        // 3,000 distinct names, each twice, interleaved: past the linear lookup's few names.
        let mut xml = String::from("<job>");
        for round in 0..2 {
            for k in 0..3000 {
                xml.push_str(&format!("<f{k}>{round}</f{k}>"));
            }
        }
        xml.push_str("<once>x</once></job>");
        let v = j(&xml);
        let o = v.as_object().unwrap();
        assert_eq!(o.len(), 3001);
        let keys: Vec<&String> = o.keys().collect();
        assert_eq!(
            (keys[0].as_str(), keys[2999].as_str(), keys[3000].as_str()),
            ("f0", "f2999", "once")
        );
        assert!(o.iter().take(3000).all(|(_, v)| *v == json!(["0", "1"])));
    }

    #[test]
    fn the_text_escapes_and_nests_as_serde_json_prints_it() {
        let v = j("<job a=\"q&quot;\\\"><t>tab&#9;cr&#13;\\ \"x\" é ✓ &#x1F600;</t><t/><n><m>1</m><m><k>2</k></m></n><e><![CDATA[]]></e>\r\n text </job>");
        assert_eq!(
            v,
            json!({"@a": "q\"\\", "t": ["tab\tcr\r\\ \"x\" é ✓ 😀", null],
                   "n": {"m": ["1", {"k": "2"}]}, "e": "", "#text": "text"})
        );
    }

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
