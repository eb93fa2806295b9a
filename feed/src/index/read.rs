//! Streaming reader of index files ([`IndexReader`]), with the errors a damaged or foreign file
//! gives ([`IndexError`]), and the build description an index carries ([`IndexBuild`]).

use std::fmt;
use std::io::{self, Read};

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::window::Window;
use super::{FLAG_BUILD, HEADER_LEN, MAGIC, MAX_BUILD_BYTES, MAX_ID_BYTES, VERSION};
use crate::config::{EmptyCdata, IdSource};
use crate::options::FeedOptions;
use crate::record::RecordHash;
use crate::varint;

/// How an index was built: what decides which records it holds under which ids (the record tag
/// and the id source) and how they are delivered (the empty CDATA mapping). Two indexes are
/// comparable only when these are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexBuild {
    /// The record tag.
    pub record_tag: String,
    /// Where the ids came from.
    pub id: IdSource,
    /// How `<x><![CDATA[]]></x>` maps to JSON.
    pub empty_cdata: EmptyCdata,
}

impl IndexBuild {
    /// The build description of an index read with `opts`.
    pub fn of(opts: &FeedOptions) -> IndexBuild {
        IndexBuild {
            record_tag: opts.record_tag.clone(),
            id: opts.id.clone(),
            empty_cdata: opts.empty_cdata,
        }
    }

    /// A short stable name of this build: 16 lowercase hex digits of the xxh3-64 of its
    /// encoded description. Stores key an index by snapshot and build, so that one snapshot
    /// indexed with other options never replaces the index another build refers to.
    pub fn digest(&self) -> String {
        format!("{:016x}", xxh3_64(&self.body()))
    }

    /// The description's bytes (see the format in [`crate::index`]).
    fn body(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for text in [self.record_tag.clone(), self.id.to_string()] {
            varint::put(&mut body, text.len() as u64);
            body.extend_from_slice(text.as_bytes());
        }
        body.push(match self.empty_cdata {
            EmptyCdata::Empty => 0,
            EmptyCdata::Null => 1,
        });
        body
    }

    /// The bytes after the fixed header: `len` (u32 LE), the description, and its xxh3-64
    /// (so that a damaged description is found before anything is decided on it).
    pub(super) fn encode(&self) -> Vec<u8> {
        let body = self.body();
        let mut out = (body.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(&xxh3_64(&body).to_le_bytes());
        out
    }

    /// Reads the description (without its length prefix); what is wrong with it otherwise.
    fn decode(body: &[u8]) -> Result<IndexBuild, &'static str> {
        let mut at = 0;
        let mut text = |what: &'static str| -> Result<String, &'static str> {
            let len = varint::get(body, &mut at).ok_or(what)?;
            let end = usize::try_from(len)
                .ok()
                .and_then(|l| at.checked_add(l))
                .filter(|&e| e <= body.len())
                .ok_or(what)?;
            let s = std::str::from_utf8(&body[at..end]).map_err(|_| what)?;
            at = end;
            Ok(s.to_string())
        };
        let record_tag = text("bad record tag in the build description")?;
        let id = text("bad id source in the build description")?;
        let id = IdSource::parse(&id).ok_or("bad id source in the build description")?;
        let empty_cdata = match &body[at..] {
            [0] => EmptyCdata::Empty,
            [1] => EmptyCdata::Null,
            _ => return Err("bad empty CDATA byte in the build description"),
        };
        if record_tag.is_empty() {
            return Err("empty record tag in the build description");
        }
        Ok(IndexBuild {
            record_tag,
            id,
            empty_cdata,
        })
    }
}

impl fmt::Display for IndexBuild {
    /// `--record-tag job --id reference --empty-cdata empty`: the options a user gives.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cdata = match self.empty_cdata {
            EmptyCdata::Empty => "empty",
            EmptyCdata::Null => "null",
        };
        write!(
            f,
            "--record-tag {} --id {} --empty-cdata {cdata}",
            self.record_tag, self.id
        )
    }
}

/// Why an index file cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// Reading failed.
    #[error("read error: {0}")]
    Io(#[source] io::Error),
    /// The file does not start with the index magic bytes.
    #[error("not a feedpipe index file (bad magic bytes)")]
    NotAnIndex,
    /// A format version this build does not read.
    #[error("index format version {0} is not supported (this build reads versions 1 and 2)")]
    Version(u32),
    /// The file ends early.
    #[error("the index file is truncated (entry {entry} of {records})")]
    Truncated {
        /// 0-based entry being read.
        entry: u64,
        /// Entries the header announced.
        records: u64,
    },
    /// The checksum at the end does not match the contents.
    #[error("the index file's checksum does not match: it is damaged")]
    Checksum,
    /// The contents break the format's rules.
    #[error("corrupt index at entry {entry}: {detail}")]
    Corrupt {
        /// 0-based entry.
        entry: u64,
        /// What is wrong.
        detail: String,
    },
}

/// The fixed header of an index file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexHeader {
    /// Format version.
    pub version: u32,
    /// Number of entries.
    pub records: u64,
    /// Length of the feed's XML.
    pub uncompressed_bytes: u64,
    /// The snapshot's content hash (see [`crate::index`]).
    pub feed_hash: u128,
}

/// Reads an index file entry by entry: [`IndexReader::advance`], then [`IndexReader::id`] and
/// [`IndexReader::hash`]. The checksum is verified when the last entry has been read
/// (`advance` returns `Ok(false)` only after it matched).
pub struct IndexReader<R> {
    r: R,
    win: Window,
    /// Bytes of the window's buffer before this index are already hashed.
    hashed: usize,
    hasher: Xxh3,
    header: IndexHeader,
    build: Option<IndexBuild>,
    read: u64,
    id: Vec<u8>,
    hash: RecordHash,
    /// The checksum was verified.
    done: bool,
}

const BUF: usize = 64 << 10;

impl<R: Read> IndexReader<R> {
    /// Opens an index: reads and checks the header.
    pub fn new(r: R) -> Result<IndexReader<R>, IndexError> {
        let mut reader = IndexReader {
            r,
            win: Window::new(BUF),
            hashed: 0,
            hasher: Xxh3::new(),
            header: IndexHeader {
                version: 0,
                records: 0,
                uncompressed_bytes: 0,
                feed_hash: 0,
            },
            build: None,
            read: 0,
            id: Vec::new(),
            hash: RecordHash(0),
            done: false,
        };
        if !reader.fill(HEADER_LEN)? {
            return Err(
                if reader.win.buf[..reader.win.end].starts_with(&MAGIC[..reader.win.end.min(8)]) {
                    IndexError::Truncated {
                        entry: 0,
                        records: 0,
                    }
                } else {
                    IndexError::NotAnIndex
                },
            );
        }
        let h = &reader.win.buf[..HEADER_LEN];
        if &h[..8] != MAGIC {
            return Err(IndexError::NotAnIndex);
        }
        let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[i..i + 8]);
            u64::from_le_bytes(b)
        };
        let version = u32_at(8);
        if version != 1 && version != VERSION {
            return Err(IndexError::Version(version));
        }
        let flags = u32_at(12);
        let known = if version == 1 { 0 } else { FLAG_BUILD };
        if flags & !known != 0 {
            return Err(IndexError::Corrupt {
                entry: 0,
                detail: format!("unknown header flags {flags:#x}"),
            });
        }
        let mut hash = [0u8; 16];
        hash.copy_from_slice(&h[32..48]);
        reader.header = IndexHeader {
            version,
            records: u64_at(16),
            uncompressed_bytes: u64_at(24),
            feed_hash: u128::from_be_bytes(hash),
        };
        reader.win.pos = HEADER_LEN;
        if flags & FLAG_BUILD != 0 {
            reader.build = Some(reader.read_build()?);
        }
        Ok(reader)
    }

    /// Reads the build description at the window's position.
    fn read_build(&mut self) -> Result<IndexBuild, IndexError> {
        let truncated = IndexError::Truncated {
            entry: 0,
            records: self.header.records,
        };
        let corrupt = |detail: &str| IndexError::Corrupt {
            entry: 0,
            detail: detail.into(),
        };
        if !self.fill(4)? {
            return Err(truncated);
        }
        let mut len = [0u8; 4];
        len.copy_from_slice(&self.win.unread()[..4]);
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_BUILD_BYTES {
            return Err(corrupt("build description longer than 4 MiB"));
        }
        self.win.pos += 4;
        if !self.fill(len + 8)? {
            return Err(truncated);
        }
        let (body, sum) = self.win.unread()[..len + 8].split_at(len);
        if xxh3_64(body).to_le_bytes() != sum {
            return Err(corrupt(
                "the build description's checksum does not match: it is damaged",
            ));
        }
        let build = IndexBuild::decode(body).map_err(corrupt)?;
        self.win.pos += len + 8;
        Ok(build)
    }

    /// How the index was built; None for a change list, or an index of format version 1.
    pub fn build(&self) -> Option<&IndexBuild> {
        self.build.as_ref()
    }

    /// The header.
    pub fn header(&self) -> &IndexHeader {
        &self.header
    }

    /// Moves to the next entry: false at the end (after the checksum was verified).
    pub fn advance(&mut self) -> Result<bool, IndexError> {
        if self.read == self.header.records {
            if !self.done {
                self.verify()?;
            }
            return Ok(false);
        }
        let entry = self.read;
        let truncated = IndexError::Truncated {
            entry,
            records: self.header.records,
        };
        // Longest possible entry head: two 10-byte varints.
        self.fill(20)?;
        let shared = self.varint(entry)? as usize;
        let suffix = self.varint(entry)? as usize;
        if shared > self.id.len() {
            return Err(self.corrupt(entry, "shared prefix longer than the previous id"));
        }
        if suffix > MAX_ID_BYTES - shared {
            return Err(self.corrupt(entry, "id longer than 1 MiB"));
        }
        if !self.fill(suffix + 16)? {
            return Err(truncated);
        }
        let new_part = &self.win.unread()[..suffix];
        if entry > 0 {
            let order = self.id[shared..].cmp(new_part);
            if order != std::cmp::Ordering::Less || (suffix == 0 && shared == self.id.len()) {
                return Err(self.corrupt(entry, "ids are not in strictly increasing order"));
            }
        }
        self.id.truncate(shared);
        self.id.extend_from_slice(new_part);
        if self.id.is_empty() {
            return Err(self.corrupt(entry, "empty id"));
        }
        if std::str::from_utf8(&self.id).is_err() {
            return Err(self.corrupt(entry, "id is not UTF-8"));
        }
        let mut h = [0u8; 16];
        h.copy_from_slice(&self.win.unread()[suffix..suffix + 16]);
        self.hash = RecordHash::from_bytes(h);
        self.win.pos += suffix + 16;
        self.read += 1;
        Ok(true)
    }

    /// The current entry's id (valid after `advance` returned true).
    pub fn id(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or_default()
    }

    /// The current entry's record hash.
    pub fn hash(&self) -> RecordHash {
        self.hash
    }

    fn corrupt(&self, entry: u64, detail: &str) -> IndexError {
        IndexError::Corrupt {
            entry,
            detail: detail.into(),
        }
    }

    fn varint(&mut self, entry: u64) -> Result<u64, IndexError> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let Some(&b) = self.win.buf[..self.win.end].get(self.win.pos) else {
                return Err(IndexError::Truncated {
                    entry,
                    records: self.header.records,
                });
            };
            self.win.pos += 1;
            if shift == 63 && b > 1 {
                break;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.corrupt(entry, "varint out of range"))
    }

    /// Makes at least `n` unread bytes available if the file has them; false when it ends first.
    fn fill(&mut self, n: usize) -> Result<bool, IndexError> {
        let (hasher, hashed) = (&mut self.hasher, &mut self.hashed);
        self.win
            .fill(&mut self.r, n, |gone| {
                hasher.update(&gone[*hashed..]);
                *hashed = 0;
            })
            .map_err(IndexError::Io)
    }

    fn verify(&mut self) -> Result<(), IndexError> {
        let truncated = IndexError::Truncated {
            entry: self.read,
            records: self.header.records,
        };
        if !self.fill(8)? {
            return Err(truncated);
        }
        self.hasher.update(&self.win.buf[self.hashed..self.win.pos]);
        self.hashed = self.win.pos;
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&self.win.unread()[..8]);
        self.win.pos += 8;
        self.hashed = self.win.pos;
        if u64::from_le_bytes(sum) != self.hasher.digest() {
            return Err(IndexError::Checksum);
        }
        if self.fill(1)? {
            return Err(IndexError::Corrupt {
                entry: self.read,
                detail: "bytes after the checksum".into(),
            });
        }
        self.done = true;
        Ok(())
    }
}
