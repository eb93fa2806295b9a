//! Elements: start and end tags, the root element, the record's id and the completed record.
//! The splitter keeps a stack of open element names (outside records as owned names, inside a
//! record as offsets into the record's bytes), so end tags are checked against start tags.

use xxhash_rust::xxh3::xxh3_128;

use super::{lex, snippet, Emit, IdMatch, IdState, Phase, Rec, Splitter, MAX_DEPTH};
use crate::error::{ErrorKind, FeedError};
use crate::options::name_matches;
use crate::record::{RecordHash, RecordRef};
use crate::text::{decode_id, forbidden_char, forbidden_detail, is_xml_ws, TextError};

impl Splitter {
    pub(super) fn start_tag(
        &mut self,
        at: usize,
        end: usize,
        emit: &mut Emit<'_>,
    ) -> Result<(), FeedError> {
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
        let mut second_id_attr = false;
        if n < inner.len() {
            let record_start =
                self.rec.is_none() && self.phase == Phase::Root && name_matches(&self.tag, name);
            let value_base = at + 1 + n;
            lex::attributes(&inner[n..], |attr, (s, e)| {
                if let (true, IdMatch::Attr(want)) = (record_start, &self.id) {
                    if name_matches(want, attr) {
                        // `a:id` and `b:id` both match `id`: which is meant is unclear.
                        second_id_attr |= id_attr.is_some();
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
                if rec.stack.len() == 1 {
                    if let IdMatch::Child(want) = &self.id {
                        if name_matches(want, name) {
                            if !matches!(rec.id, IdState::NotSeen) {
                                return Err(self.two_ids(at));
                            }
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
                if second_id_attr {
                    return Err(FeedError::at(
                        ErrorKind::TwoIds {
                            detail: self.id_missing("a second"),
                        },
                        self.base + at as u64,
                    )
                    .in_record(self.records, None));
                }
                // The element stack of the previous record, reused (no allocation a record).
                let mut stack = std::mem::take(&mut self.spare_stack);
                stack.clear();
                if !self_closing {
                    stack.push((1, n as u32));
                }
                self.rec = Some(Rec {
                    start: at,
                    number: self.records,
                    stack,
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

    pub(super) fn end_tag(
        &mut self,
        at: usize,
        end: usize,
        emit: &mut Emit<'_>,
    ) -> Result<(), FeedError> {
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
        let Some(mut rec) = self.rec.take() else {
            return Ok(());
        };
        self.spare_stack = std::mem::take(&mut rec.stack);
        let bytes = &self.buf[rec.start..end];
        let offset = self.base + rec.start as u64;
        let fail = |kind: ErrorKind| FeedError::at(kind, offset).in_record(rec.number, None);
        let IdState::Span(s, e) = rec.id else {
            return Err(fail(ErrorKind::MissingId {
                detail: self.id_missing("no"),
            }));
        };
        if let Some((i, code)) = forbidden_char(&bytes[s..e]) {
            return Err(FeedError::malformed(
                format!("in the id: {}", forbidden_detail(code)),
                offset + (s + i) as u64,
            )
            .in_record(rec.number, None));
        }
        decode_id(&bytes[s..e], &mut self.id_buf).map_err(|err| match err {
            TextError::Undefined(name) => fail(ErrorKind::UndefinedEntity { name }),
            TextError::Bad(detail) => fail(ErrorKind::Malformed { detail }),
        })?;
        if self.id_buf.len() > crate::index::MAX_ID_BYTES {
            return Err(fail(ErrorKind::Malformed {
                detail: "the id is longer than 1 MiB".into(),
            }));
        }
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

    /// The error of a second id element at `at` in the record being read.
    fn two_ids(&self, at: usize) -> FeedError {
        self.locate(FeedError::at(
            ErrorKind::TwoIds {
                detail: self.id_missing("a second"),
            },
            self.base + at as u64,
        ))
    }

    fn id_missing(&self, what: &str) -> String {
        match &self.id {
            IdMatch::Child(c) => format!("{what} <{}> child element", String::from_utf8_lossy(c)),
            IdMatch::Attr(a) => format!("{what} @{} attribute", String::from_utf8_lossy(a)),
        }
    }

    /// The id of the record being read, if it was already seen (for error locations).
    pub(super) fn known_id(&self) -> Option<String> {
        let rec = self.rec.as_ref()?;
        let IdState::Span(s, e) = rec.id else {
            return None;
        };
        let mut id = String::new();
        decode_id(&self.buf[rec.start + s..rec.start + e], &mut id).ok()?;
        Some(id)
    }
}
