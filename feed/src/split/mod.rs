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
mod tags;

use memchr::memmem::Finder;

use crate::config::IdSource;
use crate::error::{ErrorKind, FeedError};
use crate::options::FeedOptions;
use crate::record::RecordRef;
use crate::text::is_xml_ws;
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

    /// Scans the bytes appended to the buffer.
    pub(crate) fn filled(&mut self, emit: &mut Emit<'_>) -> Result<(), FeedError> {
        self.scan(false, emit)
    }

    /// Takes `block[start..]` as the next bytes, adopting `block` as the buffer when the
    /// unfinished tail fits in front of `start` (no copy of the block), else copying. Returns a
    /// buffer to reuse. Call [`Self::filled`] next.
    pub(crate) fn adopt(&mut self, mut block: Vec<u8>, start: usize) -> Vec<u8> {
        let keep = self.rec.as_ref().map_or(self.pos, |r| r.start);
        let tail = self.buf.len() - keep;
        let stream_at = self.base + keep as u64;
        if tail > start || stream_at < start as u64 {
            let buf = self.append_buffer(block.len() - start);
            buf.extend_from_slice(&block[start..]);
            return block;
        }
        let new_keep = start - tail;
        block[new_keep..start].copy_from_slice(&self.buf[keep..]);
        let shift = |i: usize| i - keep + new_keep;
        self.base = stream_at - new_keep as u64;
        self.pos = shift(self.pos);
        if let Some(r) = &mut self.rec {
            r.start = shift(r.start);
        }
        if let Some(h) = &mut self.hint {
            h.at = shift(h.at);
            h.from = shift(h.from);
        }
        std::mem::replace(&mut self.buf, block)
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

    fn scan(&mut self, eof: bool, emit: &mut Emit<'_>) -> Result<(), FeedError> {
        if self.phase == Phase::Start && !self.start(eof)? {
            return Ok(());
        }
        while self.pos < self.buf.len() {
            let Some(i) = lex::find_byte(b'<', &self.buf[self.pos..]) else {
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
            b'/' => match lex::find_byte(b'>', &rest[2..]) {
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
                        self.examined(at, 9)?;
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
                    let known = [&b"<!--"[..], b"<![CDATA[", b"<!DOCTYPE"]
                        .iter()
                        .map(|m| m.iter().zip(rest).take_while(|(a, b)| a == b).count())
                        .max()
                        .unwrap_or(0);
                    self.examined(at, known + 1)?;
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

    /// The record size limit for an error found after looking at `len` bytes from `at`: past
    /// the limit, the limit is the error (as it would have been with the input in pieces).
    fn examined(&self, at: usize, len: usize) -> Result<(), FeedError> {
        match &self.rec {
            Some(rec) if at + len - rec.start > self.limit => Err(self.locate(FeedError::at(
                ErrorKind::RecordTooLarge { limit: self.limit },
                self.base + rec.start as u64,
            ))),
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
