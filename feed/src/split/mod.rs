//! The record splitter: finds the records of an uncompressed XML stream at memchr speed, without
//! a full XML parse, and yields each record's raw bytes, id and hash.
//!
//! It is a push-style state machine over a byte buffer: callers append bytes (in chunks of any
//! size) and it scans what it can, keeping only the unfinished token or record. Its state is
//! independent of how bytes arrive, so the same splitter serves readers, async streams and
//! pushed HTTP chunks.
//!
//! What it checks (cheaply, on every record): tags are balanced and end tags match their start
//! tags, attributes are `name="value"` with quotes, comments, CDATA sections, processing
//! instructions and the DOCTYPE are terminated, the prolog and epilog hold no text, the XML
//! declaration names UTF-8. `</job>` inside CDATA, comments, PIs or quoted attribute values is
//! never taken for a record end; nested elements named like the record tag stay inside their
//! record. What it leaves to the full parse ([`crate::RecordRef::to_json`]): entity references in
//! text and attribute values and UTF-8 validity outside the id.

mod lex;

use memchr::memchr;
use memchr::memmem::Finder;
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::config::IdSource;
use crate::error::{ErrorKind, FeedError};
use crate::options::{name_matches, FeedOptions};
use crate::record::{RecordHash, RecordRef};
use crate::text::{decode_id, is_xml_ws, TextError};
use lex::Found;

/// Deepest element nesting accepted (outside and inside records).
const MAX_DEPTH: usize = 4096;

/// Callback receiving each record.
pub(crate) type Emit<'e> = dyn FnMut(RecordRef<'_>) -> Result<(), FeedError> + 'e;

enum IdMatch {
    Child(Box<[u8]>),
    Attr(Box<[u8]>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the BOM / XML declaration were looked at.
    Start,
    /// Before the root element.
    Prolog,
    /// Inside the root element.
    Root,
    /// After the root element closed.
    Epilog,
}

/// Where the id of the record being read stands (offsets relative to the record's start).
#[derive(Clone, Copy)]
enum IdState {
    NotSeen,
    Open(usize),
    Span(usize, usize),
}

struct Rec {
    start: usize,
    number: u64,
    /// Open elements of the record (the record element first): name offset and length,
    /// relative to `start`.
    stack: Vec<(u32, u32)>,
    id: IdState,
}

/// Where an unfinished token's terminator search resumes.
#[derive(Clone, Copy)]
struct Hint {
    at: usize,
    from: usize,
    quote: u8,
}

/// The splitter. See the module documentation.
pub(crate) struct Splitter {
    tag: Box<[u8]>,
    id: IdMatch,
    limit: usize,
    expected_root: Option<Box<[u8]>>,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Scan position in `buf`: everything before it is consumed.
    pos: usize,
    hint: Option<Hint>,
    phase: Phase,
    /// Open elements outside records (the root first).
    outer: Vec<Box<[u8]>>,
    rec: Option<Rec>,
    records: u64,
    root: Option<String>,
    feed_hash: Xxh3,
    id_buf: String,
    cdata_end: Finder<'static>,
    comment_end: Finder<'static>,
    pi_end: Finder<'static>,
}

impl Splitter {
    pub(crate) fn new(opts: &FeedOptions) -> Splitter {
        Splitter {
            tag: opts.record_tag.as_bytes().into(),
            id: match &opts.id {
                IdSource::Child(c) => IdMatch::Child(c.as_bytes().into()),
                IdSource::Attribute(a) => IdMatch::Attr(a.as_bytes().into()),
            },
            limit: opts.max_record_bytes,
            expected_root: opts.expected_root.as_ref().map(|r| r.as_bytes().into()),
            buf: Vec::new(),
            base: 0,
            pos: 0,
            hint: None,
            phase: Phase::Start,
            outer: Vec::new(),
            rec: None,
            records: 0,
            root: None,
            feed_hash: Xxh3::new(),
            id_buf: String::new(),
            cdata_end: Finder::new(b"]]>").into_owned(),
            comment_end: Finder::new(b"-->").into_owned(),
            pi_end: Finder::new(b"?>").into_owned(),
        }
    }

    /// The buffer to append at least `want` bytes to (already reserved); call [`Self::filled`]
    /// with its length from before the append.
    pub(crate) fn append_buffer(&mut self, want: usize) -> &mut Vec<u8> {
        let keep = self.rec.as_ref().map_or(self.pos, |r| r.start);
        if keep > 0 && keep >= self.buf.len() - keep {
            self.buf.drain(..keep);
            self.base += keep as u64;
            self.pos -= keep;
            if let Some(r) = &mut self.rec {
                r.start -= keep;
            }
            if let Some(h) = &mut self.hint {
                h.at -= keep;
                h.from -= keep;
            }
        }
        self.buf.reserve(want);
        &mut self.buf
    }

    /// Scans the bytes appended since `old_len`.
    pub(crate) fn filled(&mut self, old_len: usize, emit: &mut Emit<'_>) -> Result<(), FeedError> {
        self.feed_hash.update(&self.buf[old_len..]);
        self.scan(false, emit)
    }

    /// Scans the rest at the end of the stream and checks the document is complete.
    pub(crate) fn finish(&mut self, emit: &mut Emit<'_>) -> Result<(), FeedError> {
        self.scan(true, emit)?;
        match self.phase {
            Phase::Start | Phase::Prolog => Err(FeedError::at(ErrorKind::Empty, self.stream_len())),
            Phase::Root => {
                let open = self
                    .outer
                    .last()
                    .map(|n| String::from_utf8_lossy(n).into_owned());
                let detail = match (&self.rec, open) {
                    (Some(rec), _) => {
                        let err = FeedError::at(
                            ErrorKind::UnexpectedEof {
                                detail: format!(
                                    "inside record <{}>",
                                    String::from_utf8_lossy(&self.tag)
                                ),
                            },
                            self.stream_len(),
                        );
                        return Err(err.in_record(rec.number, self.known_id()));
                    }
                    (None, Some(open)) => format!("inside <{open}>, which is never closed"),
                    (None, None) => "inside the root element".to_string(),
                };
                Err(FeedError::at(
                    ErrorKind::UnexpectedEof { detail },
                    self.stream_len(),
                ))
            }
            Phase::Epilog if self.records == 0 => Err(FeedError::at(
                ErrorKind::NoRecords {
                    root: self.root.clone().unwrap_or_default(),
                    tag: String::from_utf8_lossy(&self.tag).into_owned(),
                },
                self.stream_len(),
            )),
            Phase::Epilog => Ok(()),
        }
    }

    /// Bytes seen so far (the uncompressed stream's length at the end).
    pub(crate) fn stream_len(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// The number of the record being read, if inside one.
    pub(crate) fn current_record(&self) -> Option<u64> {
        self.rec.as_ref().map(|r| r.number)
    }

    /// Records completed so far.
    pub(crate) fn records(&self) -> u64 {
        self.records
    }

    /// The root element's name, once seen.
    pub(crate) fn root(&self) -> Option<&str> {
        self.root.as_deref()
    }

    /// xxh3-128 of every byte seen so far.
    pub(crate) fn feed_hash(&self) -> u128 {
        self.feed_hash.digest128()
    }

    fn scan(&mut self, eof: bool, emit: &mut Emit<'_>) -> Result<(), FeedError> {
        if self.phase == Phase::Start && !self.start(eof)? {
            return Ok(());
        }
        while self.pos < self.buf.len() {
            let Some(i) = memchr(b'<', &self.buf[self.pos..]) else {
                self.text(self.pos, self.buf.len())?;
                self.pos = self.buf.len();
                break;
            };
            let at = self.pos + i;
            if i > 0 {
                self.text(self.pos, at)?;
                self.pos = at;
            }
            match self.markup(at, eof, emit)? {
                Some(end) => {
                    self.pos = end;
                    self.hint = None;
                }
                None => break,
            }
        }
        self.check_limits()
    }

    /// The byte-order mark and XML declaration. False: more bytes needed.
    fn start(&mut self, eof: bool) -> Result<bool, FeedError> {
        let b = &self.buf[self.pos..];
        let encoding = |name: &str| {
            FeedError::at(
                ErrorKind::Encoding {
                    encoding: name.into(),
                },
                0,
            )
        };
        let bom = if b.starts_with(&[0xEF, 0xBB, 0xBF]) {
            3
        } else {
            0
        };
        if b.len() < bom + 6 && !eof {
            return Ok(false);
        }
        if b.starts_with(&[0xFF, 0xFE]) || b.starts_with(&[0x3C, 0x00]) {
            return Err(encoding("UTF-16LE"));
        } else if b.starts_with(&[0xFE, 0xFF]) || b.starts_with(&[0x00, 0x3C]) {
            return Err(encoding("UTF-16BE"));
        }
        let b = &self.buf[self.pos + bom..];
        if b.starts_with(b"<?xml") && b.get(5).is_some_and(|c| is_xml_ws(*c)) {
            let Some(q) = self.pi_end.find(b) else {
                if eof {
                    return Err(FeedError::at(
                        ErrorKind::UnexpectedEof {
                            detail: "inside the XML declaration".into(),
                        },
                        self.stream_len(),
                    ));
                }
                if b.len() > 4096 {
                    return Err(FeedError::malformed("unterminated XML declaration", 0));
                }
                return Ok(false);
            };
            if let Some(enc) = lex::declared_encoding(&b[5..q]) {
                if !lex::is_utf8_compatible(enc) {
                    return Err(encoding(&String::from_utf8_lossy(enc)));
                }
            }
            self.pos += q + 2;
        }
        self.pos += bom;
        self.phase = Phase::Prolog;
        Ok(true)
    }

    /// Character data between `from` and `to`: only whitespace before and after the root.
    fn text(&self, from: usize, to: usize) -> Result<(), FeedError> {
        if !matches!(self.phase, Phase::Prolog | Phase::Epilog) {
            return Ok(());
        }
        match self.buf[from..to].iter().position(|b| !is_xml_ws(*b)) {
            None => Ok(()),
            Some(i) => {
                let at = from + i;
                let what = if self.phase == Phase::Prolog {
                    "text before the root element (is this an XML feed?)"
                } else {
                    "text after the root element closed"
                };
                let b = self.buf[at];
                let found = if b.is_ascii_graphic() {
                    format!("{:?}", char::from(b))
                } else {
                    format!("byte 0x{b:02x}")
                };
                Err(FeedError::malformed(
                    format!("{what}: found {found}"),
                    self.base + at as u64,
                ))
            }
        }
    }

    /// The markup starting with `<` at `at`: its exclusive end, or None when incomplete.
    fn markup(
        &mut self,
        at: usize,
        eof: bool,
        emit: &mut Emit<'_>,
    ) -> Result<Option<usize>, FeedError> {
        let rest = &self.buf[at..];
        let Some(&second) = rest.get(1) else {
            return self.more(at, eof, "a tag");
        };
        match second {
            b'/' => match memchr(b'>', &rest[2..]) {
                Some(i) => {
                    let end = at + 2 + i + 1;
                    self.token_limit(at, end)?;
                    self.end_tag(at, end, emit)?;
                    Ok(Some(end))
                }
                None => self.more(at, eof, "an end tag"),
            },
            b'?' => {
                let end = self.find_end(at, 2, Terminator::Pi);
                match end {
                    Some(end) => {
                        self.token_limit(at, end)?;
                        let target = &self.buf[at + 2..end - 2];
                        let n = lex::name_len(target);
                        if n == 0 {
                            return Err(self.malformed_at(
                                at,
                                "processing instruction without a target".into(),
                            ));
                        }
                        if target[..n].eq_ignore_ascii_case(b"xml") {
                            return Err(self.malformed_at(
                                at,
                                "XML declaration not at the start of the feed".into(),
                            ));
                        }
                        Ok(Some(end))
                    }
                    None => self.more(at, eof, "a processing instruction"),
                }
            }
            b'!' => {
                if rest.starts_with(b"<!--") {
                    match self.find_end(at, 4, Terminator::Comment) {
                        Some(end) => self.token_limit(at, end).map(|()| Some(end)),
                        None => self.more(at, eof, "a comment"),
                    }
                } else if rest.starts_with(b"<![CDATA[") {
                    if matches!(self.phase, Phase::Prolog | Phase::Epilog) {
                        return Err(
                            self.malformed_at(at, "CDATA section outside the root element".into())
                        );
                    }
                    match self.find_end(at, 9, Terminator::Cdata) {
                        Some(end) => self.token_limit(at, end).map(|()| Some(end)),
                        None => self.more(at, eof, "a CDATA section"),
                    }
                } else if rest.starts_with(b"<!DOCTYPE") {
                    if self.phase != Phase::Prolog {
                        return Err(
                            self.malformed_at(at, "DOCTYPE after the root element started".into())
                        );
                    }
                    match lex::doctype_end(&self.buf, at + 9) {
                        Some(end) => self.token_limit(at, end).map(|()| Some(end)),
                        None => self.more(at, eof, "the DOCTYPE"),
                    }
                } else if [&b"<!--"[..], b"<![CDATA[", b"<!DOCTYPE"]
                    .iter()
                    .any(|m| m.starts_with(rest))
                {
                    self.more(at, eof, "markup")
                } else {
                    Err(self.malformed_at(
                        at,
                        "unknown markup after '<!' (expected a comment, CDATA section or DOCTYPE)"
                            .into(),
                    ))
                }
            }
            _ => {
                let (from, quote) = match self.hint {
                    Some(h) if h.at == at => (h.from, h.quote),
                    _ => (at + 1, 0),
                };
                match lex::tag_end(&self.buf, from, quote) {
                    Found::End(end) => {
                        self.token_limit(at, end)?;
                        self.start_tag(at, end, emit)?;
                        Ok(Some(end))
                    }
                    Found::More { from, quote } => {
                        self.hint = Some(Hint { at, from, quote });
                        self.more(at, eof, "a start tag")
                    }
                }
            }
        }
    }

    /// The end of a comment, CDATA section or PI opened at `at` (its body starts `skip` bytes
    /// in), resuming an earlier search.
    fn find_end(&mut self, at: usize, skip: usize, t: Terminator) -> Option<usize> {
        let from = match self.hint {
            Some(h) if h.at == at => h.from,
            _ => at + skip,
        };
        let finder = match t {
            Terminator::Comment => &self.comment_end,
            Terminator::Cdata => &self.cdata_end,
            Terminator::Pi => &self.pi_end,
        };
        match finder.find(&self.buf[from..]) {
            Some(i) => Some(from + i + finder.needle().len()),
            None => {
                let resume = self
                    .buf
                    .len()
                    .saturating_sub(finder.needle().len() - 1)
                    .max(at + skip);
                self.hint = Some(Hint {
                    at,
                    from: resume,
                    quote: 0,
                });
                None
            }
        }
    }

    fn more(&self, at: usize, eof: bool, what: &str) -> Result<Option<usize>, FeedError> {
        if !eof {
            return Ok(None);
        }
        let err = FeedError::at(
            ErrorKind::UnexpectedEof {
                detail: format!(
                    "inside {what} that starts at byte {}",
                    self.base + at as u64
                ),
            },
            self.stream_len(),
        );
        Err(self.locate(err))
    }

    fn start_tag(&mut self, at: usize, end: usize, emit: &mut Emit<'_>) -> Result<(), FeedError> {
        let self_closing = end - at >= 3 && self.buf[end - 2] == b'/';
        let inner = &self.buf[at + 1..if self_closing { end - 2 } else { end - 1 }];
        let n = lex::name_len(inner);
        if n == 0 || (n < inner.len() && !is_xml_ws(inner[n])) {
            return Err(self.malformed_at(
                at,
                format!("invalid start tag {:?}", snippet(&self.buf[at..end])),
            ));
        }
        let name = &inner[..n];
        let mut id_attr = None;
        if n < inner.len() {
            let record_start =
                self.rec.is_none() && self.phase == Phase::Root && name_matches(&self.tag, name);
            let value_base = at + 1 + n;
            lex::attributes(&inner[n..], |attr, (s, e)| {
                if let (true, IdMatch::Attr(want), None) = (record_start, &self.id, id_attr) {
                    if name_matches(want, attr) {
                        id_attr = Some((value_base + s - at, value_base + e - at));
                    }
                }
            })
            .map_err(|detail| {
                self.malformed_at(
                    at,
                    format!("in <{}>: {detail}", String::from_utf8_lossy(name)),
                )
            })?;
        }
        match (self.phase, &mut self.rec) {
            (Phase::Root, Some(rec)) => {
                if rec.stack.len() >= MAX_DEPTH {
                    return Err(
                        self.malformed_at(at, format!("elements nested deeper than {MAX_DEPTH}"))
                    );
                }
                let rel = at - rec.start;
                if rec.stack.len() == 1 && matches!(rec.id, IdState::NotSeen) {
                    if let IdMatch::Child(want) = &self.id {
                        if name_matches(want, name) {
                            rec.id = if self_closing {
                                IdState::Span(end - rec.start, end - rec.start)
                            } else {
                                IdState::Open(end - rec.start)
                            };
                        }
                    }
                }
                if !self_closing {
                    rec.stack.push((rel as u32 + 1, n as u32));
                }
                Ok(())
            }
            (Phase::Root, None) if name_matches(&self.tag, name) => {
                self.records += 1;
                self.rec = Some(Rec {
                    start: at,
                    number: self.records,
                    stack: if self_closing {
                        Vec::new()
                    } else {
                        vec![(1, n as u32)]
                    },
                    id: id_attr.map_or(IdState::NotSeen, |(s, e)| IdState::Span(s, e)),
                });
                if self_closing {
                    self.complete_record(end, emit)?;
                }
                Ok(())
            }
            (Phase::Root, None) => {
                if !self_closing {
                    if self.outer.len() >= MAX_DEPTH {
                        return Err(self
                            .malformed_at(at, format!("elements nested deeper than {MAX_DEPTH}")));
                    }
                    self.outer.push(name.into());
                }
                Ok(())
            }
            (Phase::Prolog, _) => self.root_element(at, name.to_vec(), self_closing),
            (Phase::Epilog, _) | (Phase::Start, _) => Err(self.malformed_at(
                at,
                format!(
                    "a second root element <{}> after the root element closed",
                    String::from_utf8_lossy(name)
                ),
            )),
        }
    }

    fn root_element(
        &mut self,
        at: usize,
        name: Vec<u8>,
        self_closing: bool,
    ) -> Result<(), FeedError> {
        let found = String::from_utf8_lossy(&name).into_owned();
        let wrong = |detail: String| {
            FeedError::at(
                ErrorKind::WrongRoot {
                    found: found.clone(),
                    detail,
                },
                self.base + at as u64,
            )
        };
        if name_matches(&self.tag, &name) {
            return Err(wrong(format!(
                "the root element is the record tag <{}> itself; records must be inside a root element",
                String::from_utf8_lossy(&self.tag)
            )));
        }
        if let Some(expected) = &self.expected_root {
            if !name_matches(expected, &name) {
                return Err(wrong(format!(
                    "expected <{}>",
                    String::from_utf8_lossy(expected)
                )));
            }
        }
        self.root = Some(found);
        if self_closing {
            self.phase = Phase::Epilog;
        } else {
            self.outer.push(name.into());
            self.phase = Phase::Root;
        }
        Ok(())
    }

    fn end_tag(&mut self, at: usize, end: usize, emit: &mut Emit<'_>) -> Result<(), FeedError> {
        let inner = &self.buf[at + 2..end - 1];
        let n = lex::name_len(inner);
        if n == 0 || !inner[n..].iter().all(|b| is_xml_ws(*b)) {
            return Err(self.malformed_at(
                at,
                format!("invalid end tag {:?}", snippet(&self.buf[at..end])),
            ));
        }
        let name = &inner[..n];
        if let Some(rec) = &mut self.rec {
            let Some((off, len)) = rec.stack.pop() else {
                return Err(self.malformed_at(at, "end tag inside an empty record".into()));
            };
            let open_at = rec.start + off as usize;
            let open = &self.buf[open_at..open_at + len as usize];
            if open != name {
                let detail = format!(
                    "end tag </{}> does not match the start tag <{}>",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(open)
                );
                return Err(self.malformed_at(at, detail));
            }
            if let (1, IdState::Open(s)) = (rec.stack.len(), rec.id) {
                rec.id = IdState::Span(s, at - rec.start);
            }
            if rec.stack.is_empty() {
                self.complete_record(end, emit)?;
            }
            return Ok(());
        }
        match self.outer.pop() {
            Some(open) if *open == *name => {
                if self.outer.is_empty() {
                    self.phase = Phase::Epilog;
                }
                Ok(())
            }
            Some(open) => {
                let detail = format!(
                    "end tag </{}> does not match the start tag <{}>",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(&open)
                );
                Err(self.malformed_at(at, detail))
            }
            None => {
                let place = if self.phase == Phase::Epilog {
                    "after the root element closed"
                } else {
                    "without a start tag"
                };
                let detail = format!("end tag </{}> {place}", String::from_utf8_lossy(name));
                Err(self.malformed_at(at, detail))
            }
        }
    }

    fn complete_record(&mut self, end: usize, emit: &mut Emit<'_>) -> Result<(), FeedError> {
        let Some(rec) = self.rec.take() else {
            return Ok(());
        };
        let bytes = &self.buf[rec.start..end];
        let offset = self.base + rec.start as u64;
        let fail = |kind: ErrorKind| FeedError::at(kind, offset).in_record(rec.number, None);
        let IdState::Span(s, e) = rec.id else {
            return Err(fail(ErrorKind::MissingId {
                detail: self.id_missing("no"),
            }));
        };
        decode_id(&bytes[s..e], &mut self.id_buf).map_err(|err| match err {
            TextError::Undefined(name) => fail(ErrorKind::UndefinedEntity { name }),
            TextError::Bad(detail) => fail(ErrorKind::Malformed { detail }),
        })?;
        if self.id_buf.is_empty() {
            return Err(fail(ErrorKind::MissingId {
                detail: self.id_missing("an empty"),
            }));
        }
        emit(RecordRef {
            number: rec.number,
            offset,
            id: &self.id_buf,
            hash: RecordHash(xxh3_128(bytes)),
            bytes,
        })
    }

    fn id_missing(&self, what: &str) -> String {
        match &self.id {
            IdMatch::Child(c) => format!("{what} <{}> child element", String::from_utf8_lossy(c)),
            IdMatch::Attr(a) => format!("{what} @{} attribute", String::from_utf8_lossy(a)),
        }
    }

    /// The id of the record being read, if it was already seen (for error locations).
    fn known_id(&self) -> Option<String> {
        let rec = self.rec.as_ref()?;
        let IdState::Span(s, e) = rec.id else {
            return None;
        };
        let mut id = String::new();
        decode_id(&self.buf[rec.start + s..rec.start + e], &mut id).ok()?;
        Some(id)
    }

    fn locate(&self, err: FeedError) -> FeedError {
        match &self.rec {
            Some(rec) => err.in_record(rec.number, self.known_id()),
            None => err,
        }
    }

    fn malformed_at(&self, at: usize, detail: String) -> FeedError {
        self.locate(FeedError::malformed(detail, self.base + at as u64))
    }

    /// The size limit, checked before a complete token ending at `end` is looked at, so the
    /// outcome does not depend on how the input was chunked.
    fn token_limit(&self, at: usize, end: usize) -> Result<(), FeedError> {
        match &self.rec {
            Some(rec) if end - rec.start > self.limit => Err(self.locate(FeedError::at(
                ErrorKind::RecordTooLarge { limit: self.limit },
                self.base + rec.start as u64,
            ))),
            None if end - at > self.limit => Err(FeedError::at(
                ErrorKind::MarkupTooLarge { limit: self.limit },
                self.base + at as u64,
            )),
            _ => Ok(()),
        }
    }

    fn check_limits(&self) -> Result<(), FeedError> {
        match &self.rec {
            Some(rec) if self.buf.len() - rec.start > self.limit => {
                Err(self.locate(FeedError::at(
                    ErrorKind::RecordTooLarge { limit: self.limit },
                    self.base + rec.start as u64,
                )))
            }
            None if self.buf.len() - self.pos > self.limit => Err(FeedError::at(
                ErrorKind::MarkupTooLarge { limit: self.limit },
                self.base + self.pos as u64,
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Clone, Copy)]
enum Terminator {
    Comment,
    Cdata,
    Pi,
}

/// The first bytes of `b`, for error messages.
fn snippet(b: &[u8]) -> String {
    let cut = &b[..b.len().min(40)];
    String::from_utf8_lossy(cut).into_owned()
}
