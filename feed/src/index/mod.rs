//! Record index files: the sorted (id, hash) pairs of one snapshot.
//!
//! # Format, version 1
//!
//! All integers little-endian; `varint` is unsigned LEB128.
//!
//! | field | size | meaning |
//! |---|---|---|
//! | magic | 8 | `FPINDEX` followed by `\n` |
//! | version | 4 | `1` |
//! | flags | 4 | `0` (reserved) |
//! | records | 8 | number of entries |
//! | uncompressed_bytes | 8 | length of the feed's XML |
//! | feed_hash | 16 | xxh3-128 of the feed's XML, big-endian |
//! | entries | … | `records` times: `shared` varint (bytes the id shares with the previous id), `suffix_len` varint, the id's remaining bytes, the record hash (16 bytes, xxh3-128 of the record's bytes, big-endian) |
//! | checksum | 8 | xxh3-64 of every byte before it |
//!
//! Ids are UTF-8, non-empty, strictly increasing in byte order (so unique). Both writing
//! ([`Index::write_to`]) and reading ([`IndexReader`]) stream; a reader verifies the checksum
//! when it reaches the end, so act on what it returned only once it has.
//!
//! [`Indexer`] builds an index push-style while the feed's bytes arrive. It keeps one entry per
//! record in memory (about 40 bytes plus the id), never the records themselves; sorting needs
//! them all, so memory grows with the record count, not with the feed's size.

mod read;

use std::io::{self, Read, Write};

use xxhash_rust::xxh3::Xxh3;

use crate::error::{ErrorKind, FeedError};
use crate::options::FeedOptions;
use crate::record::{RecordHash, RecordRef};
use crate::scan::{FeedSummary, Scanner, READ_CHUNK};

pub use read::{IndexError, IndexHeader, IndexReader};

/// The magic bytes at the start of every index file.
pub const MAGIC: &[u8; 8] = b"FPINDEX\n";
/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;
/// Length of the fixed header.
pub(crate) const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 8 + 16;

/// One entry while building: where the id is in the arena, and where the record was.
#[derive(Clone, Copy)]
struct Entry {
    hash: [u8; 16],
    offset: u64,
    id_start: u64,
    number: u32,
    id_len: u32,
}

/// The entries of a feed, collected as records arrive.
#[derive(Default)]
struct Entries {
    ids: Vec<u8>,
    items: Vec<Entry>,
}

impl Entries {
    fn add(&mut self, r: &RecordRef<'_>) {
        self.items.push(Entry {
            hash: r.hash.to_bytes(),
            offset: r.offset,
            id_start: self.ids.len() as u64,
            number: r.number.min(u32::MAX as u64) as u32,
            id_len: r.id.len() as u32,
        });
        self.ids.extend_from_slice(r.id.as_bytes());
    }

    fn id(&self, e: &Entry) -> &[u8] {
        let s = e.id_start as usize;
        &self.ids[s..s + e.id_len as usize]
    }

    /// Sorts by id and rejects duplicates, naming both records.
    fn sort(&mut self) -> Result<(), FeedError> {
        let ids = &self.ids;
        let key = |e: &Entry| &ids[e.id_start as usize..(e.id_start + e.id_len as u64) as usize];
        self.items
            .sort_unstable_by(|a, b| key(a).cmp(key(b)).then(a.number.cmp(&b.number)));
        for pair in self.items.windows(2) {
            if key(&pair[0]) == key(&pair[1]) {
                let id = String::from_utf8_lossy(key(&pair[0])).into_owned();
                let (first, second) = (pair[0], pair[1]);
                return Err(FeedError::at(
                    ErrorKind::DuplicateId {
                        id: id.clone(),
                        first_record: first.number as u64,
                        first_offset: first.offset,
                    },
                    second.offset,
                )
                .in_record(second.number as u64, Some(id)));
            }
        }
        Ok(())
    }
}

/// Builds an index push-style: [`Indexer::push`] the feed's bytes (gzip or plain) as they
/// arrive, then [`Indexer::finish`].
pub struct Indexer {
    scanner: Scanner,
    entries: Entries,
}

impl Indexer {
    /// An indexer for a feed read with `opts`.
    pub fn new(opts: &FeedOptions) -> Indexer {
        Indexer {
            scanner: Scanner::new(opts),
            entries: Entries::default(),
        }
    }

    /// The next chunk of the feed, as fetched.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), FeedError> {
        let entries = &mut self.entries;
        self.scanner.push(bytes, &mut |r| {
            entries.add(&r);
            Ok(())
        })
    }

    /// Ends the feed: the sorted index, or the first error (duplicate ids included).
    pub fn finish(self) -> Result<Index, FeedError> {
        let mut entries = self.entries;
        let summary = self.scanner.finish(&mut |r| {
            entries.add(&r);
            Ok(())
        })?;
        entries.sort()?;
        Ok(Index { entries, summary })
    }

    /// Uncompressed bytes seen so far.
    pub fn uncompressed_bytes(&self) -> u64 {
        self.scanner.uncompressed_bytes()
    }
}

/// Builds the index of a whole feed read from `reader`.
pub fn index_reader<R: Read>(mut reader: R, opts: &FeedOptions) -> Result<Index, FeedError> {
    let mut indexer = Indexer::new(opts);
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return indexer.finish(),
            Ok(n) => indexer.push(&chunk[..n])?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let at = indexer.uncompressed_bytes();
                return Err(FeedError::at(ErrorKind::Read(e), at));
            }
        }
    }
}

/// A built index, sorted by id, ready to be written.
pub struct Index {
    entries: Entries,
    summary: FeedSummary,
}

impl Index {
    /// What the feed was.
    pub fn summary(&self) -> &FeedSummary {
        &self.summary
    }

    /// Number of entries (= records).
    pub fn len(&self) -> usize {
        self.entries.items.len()
    }

    /// Whether the index has no entries (never, for an index of a valid feed).
    pub fn is_empty(&self) -> bool {
        self.entries.items.is_empty()
    }

    /// The entries in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, RecordHash)> + '_ {
        self.entries.items.iter().map(|e| {
            let id = std::str::from_utf8(self.entries.id(e)).unwrap_or_default();
            (id, RecordHash::from_bytes(e.hash))
        })
    }

    /// Writes the index file (see the module documentation for the format).
    pub fn write_to<W: Write>(&self, w: W) -> io::Result<()> {
        let mut out = Checksummed::new(w);
        let s = &self.summary;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&(self.len() as u64).to_le_bytes());
        header.extend_from_slice(&s.uncompressed_bytes.to_le_bytes());
        header.extend_from_slice(&s.feed_hash.to_be_bytes());
        out.write(&header)?;
        let mut prev: &[u8] = &[];
        let mut rec = Vec::with_capacity(64);
        for e in &self.entries.items {
            let id = self.entries.id(e);
            let shared = prev.iter().zip(id).take_while(|(a, b)| a == b).count();
            rec.clear();
            put_varint(&mut rec, shared as u64);
            put_varint(&mut rec, (id.len() - shared) as u64);
            rec.extend_from_slice(&id[shared..]);
            rec.extend_from_slice(&e.hash);
            out.write(&rec)?;
            prev = id;
        }
        out.finish()
    }

    /// The index file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_to(&mut v);
        v
    }
}

/// A writer that buffers, and appends the xxh3-64 checksum of everything written at the end.
struct Checksummed<W: Write> {
    w: W,
    buf: Vec<u8>,
    hasher: Xxh3,
}

impl<W: Write> Checksummed<W> {
    fn new(w: W) -> Self {
        Checksummed {
            w,
            buf: Vec::with_capacity(64 << 10),
            hasher: Xxh3::new(),
        }
    }

    fn write(&mut self, b: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= 60 << 10 {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.hasher.update(&self.buf);
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.flush_buf()?;
        self.w.write_all(&self.hasher.digest().to_le_bytes())?;
        self.w.flush()
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
