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
//! | feed_hash | 16 | the snapshot's content hash, big-endian: xxh3-128 over the entries in order, each as the id's length (u32 LE), the id, the record hash (16 bytes BE); two snapshots have equal feed hashes exactly when they hold the same records |
//! | entries | … | `records` times: `shared` varint (bytes the id shares with the previous id), `suffix_len` varint, the id's remaining bytes, the record hash (16 bytes, xxh3-128 of the record's bytes, big-endian) |
//! | checksum | 8 | xxh3-64 of every byte before it |
//!
//! Ids are UTF-8, non-empty, at most 1 MiB, strictly increasing in byte order (so unique). Both writing
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
use crate::scan::{scan_reader, summary, FeedSummary, Scanner};
use crate::sink::{consume, Piped};

pub use read::{IndexError, IndexHeader, IndexReader};

/// The magic bytes at the start of every index file.
pub const MAGIC: &[u8; 8] = b"FPINDEX\n";
/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;
/// Longest id an index holds (a longer one is an error when indexing).
pub const MAX_ID_BYTES: usize = 1 << 20;
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
struct Entries {
    ids: Vec<u8>,
    items: Vec<Entry>,
    /// Parse each record fully first (`FeedOptions::validate`).
    validate: Option<FeedOptions>,
}

impl Entries {
    fn new(opts: &FeedOptions) -> Entries {
        Entries {
            ids: Vec::new(),
            items: Vec::new(),
            validate: opts.validate.then(|| opts.clone()),
        }
    }

    fn add(&mut self, r: &RecordRef<'_>) -> Result<(), FeedError> {
        if let Some(opts) = &self.validate {
            r.to_json(opts)?;
        }
        self.items.push(Entry {
            hash: r.hash.to_bytes(),
            offset: r.offset,
            id_start: self.ids.len() as u64,
            number: r.number.min(u32::MAX as u64) as u32,
            id_len: r.id.len() as u32,
        });
        self.ids.extend_from_slice(r.id.as_bytes());
        Ok(())
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
///
/// [`Indexer::new`] inflates on the pushing thread and splits on a thread of its own (the
/// 2-thread pipeline: about 1.35x faster on two cores); [`Indexer::single_threaded`] does all
/// on the pushing thread. Both give the same index and the same errors. After an error the
/// indexer is spent.
pub struct Indexer {
    engine: Engine,
}

enum Engine {
    Direct {
        scanner: Box<Scanner>,
        entries: Entries,
    },
    Piped(Piped<Index>),
}

impl Indexer {
    /// A pipelined indexer (a second thread splits records while this one inflates). Where
    /// no thread can be started, it falls back to [`Indexer::single_threaded`].
    pub fn new(opts: &FeedOptions) -> Indexer {
        let mut entries = Entries::new(opts);
        let piped = Piped::spawn(opts, move |src, mut split| {
            let mut add = |r: RecordRef<'_>| entries.add(&r);
            let counts = consume(src, &mut split, &mut add)?;
            split.finish(&mut add)?;
            entries.sort()?;
            Ok(Index {
                entries,
                summary: summary(&split, counts),
            })
        });
        match piped {
            Ok(p) => Indexer {
                engine: Engine::Piped(p),
            },
            Err(_) => Indexer::single_threaded(opts),
        }
    }

    /// An indexer that does everything on the pushing thread.
    pub fn single_threaded(opts: &FeedOptions) -> Indexer {
        Indexer {
            engine: Engine::Direct {
                scanner: Box::new(Scanner::new(opts)),
                entries: Entries::new(opts),
            },
        }
    }

    /// The next chunk of the feed, as fetched.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), FeedError> {
        match &mut self.engine {
            Engine::Direct { scanner, entries } => scanner.push(bytes, &mut |r| entries.add(&r)),
            Engine::Piped(p) => p.push(bytes),
        }
    }

    /// Ends the feed: the sorted index, or the first error (duplicate ids included).
    pub fn finish(self) -> Result<Index, FeedError> {
        match self.engine {
            Engine::Direct {
                scanner,
                mut entries,
            } => {
                let summary = scanner.finish(&mut |r| entries.add(&r))?;
                entries.sort()?;
                Ok(Index { entries, summary })
            }
            Engine::Piped(p) => p.finish(),
        }
    }
}

/// Builds the index of a whole feed read from `reader` (inflating on a second thread, see
/// [`crate::scan_reader`]).
pub fn index_reader<R: Read + Send>(reader: R, opts: &FeedOptions) -> Result<Index, FeedError> {
    let mut entries = Entries::new(opts);
    let summary = scan_reader(reader, opts, &mut |r| entries.add(&r))?;
    entries.sort()?;
    Ok(Index { entries, summary })
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

    /// The snapshot's content hash (see the module documentation): independent of record order
    /// and of everything outside the records.
    pub fn feed_hash(&self) -> u128 {
        let mut h = Xxh3::new();
        for e in &self.entries.items {
            let id = self.entries.id(e);
            h.update(&(id.len() as u32).to_le_bytes());
            h.update(id);
            h.update(&e.hash);
        }
        h.digest128()
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
        header.extend_from_slice(&self.feed_hash().to_be_bytes());
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
