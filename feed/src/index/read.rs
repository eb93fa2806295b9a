//! Streaming reader of index files ([`IndexReader`]), with the errors a damaged or foreign file
//! gives ([`IndexError`]).

use std::io::{self, Read};

use xxhash_rust::xxh3::Xxh3;

use super::{HEADER_LEN, MAGIC, MAX_ID_BYTES, VERSION};
use crate::record::RecordHash;

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
    #[error("index format version {0} is not supported (this build reads version 1)")]
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
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Bytes of `buf` before this index are already hashed.
    hashed: usize,
    hasher: Xxh3,
    header: IndexHeader,
    read: u64,
    id: Vec<u8>,
    hash: RecordHash,
    /// The source reported its end.
    eof: bool,
    /// The checksum was verified.
    done: bool,
}

const BUF: usize = 64 << 10;

impl<R: Read> IndexReader<R> {
    /// Opens an index: reads and checks the header.
    pub fn new(r: R) -> Result<IndexReader<R>, IndexError> {
        let mut reader = IndexReader {
            r,
            buf: vec![0; BUF],
            pos: 0,
            end: 0,
            hashed: 0,
            hasher: Xxh3::new(),
            header: IndexHeader {
                version: 0,
                records: 0,
                uncompressed_bytes: 0,
                feed_hash: 0,
            },
            read: 0,
            id: Vec::new(),
            hash: RecordHash(0),
            eof: false,
            done: false,
        };
        if !reader.fill(HEADER_LEN)? {
            return Err(
                if reader.buf[..reader.end].starts_with(&MAGIC[..reader.end.min(8)]) {
                    IndexError::Truncated {
                        entry: 0,
                        records: 0,
                    }
                } else {
                    IndexError::NotAnIndex
                },
            );
        }
        let h = &reader.buf[..HEADER_LEN];
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
        if version != VERSION {
            return Err(IndexError::Version(version));
        }
        let mut hash = [0u8; 16];
        hash.copy_from_slice(&h[32..48]);
        reader.header = IndexHeader {
            version,
            records: u64_at(16),
            uncompressed_bytes: u64_at(24),
            feed_hash: u128::from_be_bytes(hash),
        };
        reader.pos = HEADER_LEN;
        Ok(reader)
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
        let new_part = &self.buf[self.pos..self.pos + suffix];
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
        h.copy_from_slice(&self.buf[self.pos + suffix..self.pos + suffix + 16]);
        self.hash = RecordHash::from_bytes(h);
        self.pos += suffix + 16;
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
            let Some(&b) = self.buf[..self.end].get(self.pos) else {
                return Err(IndexError::Truncated {
                    entry,
                    records: self.header.records,
                });
            };
            self.pos += 1;
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
        if self.end - self.pos >= n {
            return Ok(true);
        }
        self.hasher.update(&self.buf[self.hashed..self.pos]);
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        self.hashed = 0;
        if self.buf.len() < n {
            self.buf.resize(n.next_power_of_two(), 0);
        }
        while self.end < n && !self.eof {
            match self.r.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(IndexError::Io(e)),
            }
        }
        Ok(self.end - self.pos >= n)
    }

    fn verify(&mut self) -> Result<(), IndexError> {
        let truncated = IndexError::Truncated {
            entry: self.read,
            records: self.header.records,
        };
        if !self.fill(8)? {
            return Err(truncated);
        }
        self.hasher.update(&self.buf[self.hashed..self.pos]);
        self.hashed = self.pos;
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&self.buf[self.pos..self.pos + 8]);
        self.pos += 8;
        self.hashed = self.pos;
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
