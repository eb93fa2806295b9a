//! Record index files: the sorted (id, hash) pairs of one snapshot.
//!
//! # Format, version 2
//!
//! All integers little-endian; `varint` is unsigned LEB128.
//!
//! | field | size | meaning |
//! |---|---|---|
//! | magic | 8 | `FPINDEX` followed by `\n` |
//! | version | 4 | `2` |
//! | flags | 4 | bit 0: a build description follows the header; other bits 0 |
//! | records | 8 | number of entries |
//! | uncompressed_bytes | 8 | length of the feed's XML |
//! | feed_hash | 16 | the snapshot's content hash, big-endian: xxh3-128 over the entries in order, each as the id's length (u32 LE), the id, the record hash (16 bytes BE); two snapshots have equal feed hashes exactly when they hold the same records |
//! | build | … | only with flag bit 0: how the index was built ([`IndexBuild`]): `len` (u32, at most 4 MiB) then `len` bytes: the record tag (varint length, UTF-8), the id source in its config form (`reference` or `@id`; varint length, UTF-8), empty CDATA (one byte: 0 `empty`, 1 `null`); then the xxh3-64 of those `len` bytes (8), so a reader can trust the description before it reaches the file's checksum |
//! | entries | … | `records` times: `shared` varint (bytes the id shares with the previous id), `suffix_len` varint, the id's remaining bytes, the record hash (16 bytes, xxh3-128 of the record's bytes, big-endian) |
//! | checksum | 8 | xxh3-64 of every byte before it |
//!
//! An index an [`Indexer`] built carries its build description, and [`crate::diff::diff`]
//! refuses two indexes whose descriptions differ ([`crate::diff::DiffError::Mismatch`]):
//! indexes of one feed read with two record tags or id sources would otherwise report every
//! record as removed and added. Change lists ([`ListBuilder`]) carry none. Version 1 files
//! (the same without the flag and the build description) are still read; their build is
//! unknown, so nothing is checked against them.
//!
//! Ids are UTF-8, non-empty, at most 1 MiB, strictly increasing in byte order (so unique). Both writing
//! ([`Index::write_to`]) and reading ([`IndexReader`]) stream; a reader verifies the checksum
//! when it reaches the end, so act on what it returned only once it has.
//!
//! [`Indexer`] builds an index push-style while the feed's bytes arrive. It keeps one entry per
//! record in memory (about 40 bytes plus the id), never the records themselves, up to
//! [`FeedOptions::index_memory`] (32 MiB by default: about 600,000 records with 12-byte ids).
//! Past that it needs spill storage, a [`Spill`] the caller provides ([`Indexer::with_spill`],
//! [`index_reader_with_spill`]): sorted runs go there and are merged at the end (an external
//! merge sort), so memory stays bounded for any record count. Without spill storage the build
//! stops there with [`ErrorKind::IndexTooLarge`] instead of growing without bound. This crate
//! does no I/O: callers that do supply a temporary directory (`worker::spill::TempSpill`, used
//! by the `feedpipe` CLI and the worker's check job); [`MemorySpill`] keeps runs in memory.
//! Spilled or not, the index file's bytes are the same. A spilled index is read back from spill
//! storage by [`Index::write_to`], which streams and reports what goes wrong;
//! [`Index::try_to_bytes`] holds the whole file in memory, and [`Index::entries`] exists only
//! for an index held in memory.
//!
//! [`ListBuilder`] writes the same format from entries that arrive in id order (the change
//! lists a diff produces, cut into parts).

mod build;
mod list;
mod read;
mod runs;
mod spill;
mod window;

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use xxhash_rust::xxh3::Xxh3;

use crate::error::{ErrorKind, FeedError};
use crate::options::FeedOptions;
use crate::record::{RecordHash, RecordRef};
use crate::scan::{scan_reader, summary, FeedSummary, Scanner};
use crate::sink::{consume, Piped};
use build::{Builder, Entries};
pub(crate) use runs::{merge, put_id, EntryRef, Sorted};

pub use list::ListBuilder;
pub use read::{IndexBuild, IndexError, IndexHeader, IndexReader};
pub use spill::{MemorySpill, Spill};

/// The magic bytes at the start of every index file.
pub const MAGIC: &[u8; 8] = b"FPINDEX\n";
/// The format version this crate writes (it reads this one and version 1).
pub const VERSION: u32 = 2;
/// Header flag: a build description follows the fixed header.
pub(crate) const FLAG_BUILD: u32 = 1;
/// Longest build description an index file may carry.
pub(crate) const MAX_BUILD_BYTES: usize = 4 << 20;
/// Longest id an index holds (a longer one is an error when indexing).
pub const MAX_ID_BYTES: usize = 1 << 20;
/// Length of the fixed header.
pub(crate) const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 8 + 16;

/// Builds an index push-style: [`Indexer::push`] the feed's bytes (gzip or plain) as they
/// arrive, then [`Indexer::finish`].
///
/// [`Indexer::new`] inflates on the pushing thread and splits on a thread of its own (the
/// 2-thread pipeline: about 1.35x faster on two cores); [`Indexer::single_threaded`] does all
/// on the pushing thread. Both give the same index and the same errors. The `with_spill`
/// forms take spill storage for feeds whose entries outgrow [`FeedOptions::index_memory`]
/// (see the [module documentation](self)). After an error the indexer is spent.
pub struct Indexer {
    engine: Engine,
}

enum Engine {
    Direct {
        scanner: Box<Scanner>,
        builder: Builder,
    },
    Piped(Piped<Index>),
}

impl Indexer {
    /// A pipelined indexer (a second thread splits records while this one inflates), holding
    /// at most [`FeedOptions::index_memory`] of entries. Where no thread can be started, it
    /// falls back to [`Indexer::single_threaded`].
    pub fn new(opts: &FeedOptions) -> Indexer {
        Indexer::piped(Builder::new(opts, None), opts)
    }

    /// A pipelined indexer that spills sorted runs to `spill` when its entries outgrow
    /// [`FeedOptions::index_memory`]: bounded memory for any record count.
    pub fn with_spill(opts: &FeedOptions, spill: impl Spill + 'static) -> Indexer {
        Indexer::piped(Builder::new(opts, Some(Box::new(spill))), opts)
    }

    /// An indexer that does everything on the pushing thread.
    pub fn single_threaded(opts: &FeedOptions) -> Indexer {
        Indexer::direct(Builder::new(opts, None), opts)
    }

    /// [`Indexer::with_spill`] on the pushing thread alone.
    pub fn single_threaded_with_spill(opts: &FeedOptions, spill: impl Spill + 'static) -> Indexer {
        Indexer::direct(Builder::new(opts, Some(Box::new(spill))), opts)
    }

    fn direct(builder: Builder, opts: &FeedOptions) -> Indexer {
        Indexer {
            engine: Engine::Direct {
                scanner: Box::new(Scanner::new(opts)),
                builder,
            },
        }
    }

    fn piped(builder: Builder, opts: &FeedOptions) -> Indexer {
        // Shared so that it can be taken back when no thread can be started.
        let shared = Arc::new(Mutex::new(Some(builder)));
        let piped = Piped::spawn(opts, {
            let shared = Arc::clone(&shared);
            move |src, mut split| {
                let Some(mut builder) = take(&shared) else {
                    return Err(FeedError::at(
                        ErrorKind::Read(io::Error::other("the index builder is gone")),
                        0,
                    ));
                };
                let mut add = |r: RecordRef<'_>| builder.add(&r);
                let counts = consume(src, &mut split, &mut add)?;
                split.finish(&mut add)?;
                builder.finish(summary(&split, counts))
            }
        });
        match piped {
            Ok(p) => Indexer {
                engine: Engine::Piped(p),
            },
            Err(_) => {
                let builder = take(&shared).unwrap_or_else(|| Builder::new(opts, None));
                Indexer::direct(builder, opts)
            }
        }
    }

    /// The next chunk of the feed, as fetched.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), FeedError> {
        match &mut self.engine {
            Engine::Direct { scanner, builder } => scanner.push(bytes, &mut |r| builder.add(&r)),
            Engine::Piped(p) => p.push(bytes),
        }
    }

    /// Ends the feed: the sorted index, or the first error (duplicate ids included).
    pub fn finish(self) -> Result<Index, FeedError> {
        match self.engine {
            Engine::Direct {
                scanner,
                mut builder,
            } => {
                let summary = scanner.finish(&mut |r| builder.add(&r))?;
                builder.finish(summary)
            }
            Engine::Piped(p) => p.finish(),
        }
    }
}

/// Takes the builder out of its shared slot (once).
fn take(shared: &Mutex<Option<Builder>>) -> Option<Builder> {
    shared.lock().map(|mut b| b.take()).ok().flatten()
}

/// Builds the index of a whole feed read from `reader` (inflating on a second thread, see
/// [`crate::scan_reader`]), holding at most [`FeedOptions::index_memory`] of entries.
pub fn index_reader<R: Read + Send>(reader: R, opts: &FeedOptions) -> Result<Index, FeedError> {
    index_with(reader, opts, Builder::new(opts, None))
}

/// [`index_reader`] with spill storage for sorted runs: bounded memory for any record count.
pub fn index_reader_with_spill<R: Read + Send>(
    reader: R,
    opts: &FeedOptions,
    spill: impl Spill + 'static,
) -> Result<Index, FeedError> {
    index_with(reader, opts, Builder::new(opts, Some(Box::new(spill))))
}

fn index_with<R: Read + Send>(
    reader: R,
    opts: &FeedOptions,
    mut builder: Builder,
) -> Result<Index, FeedError> {
    let summary = scan_reader(reader, opts, &mut |r| builder.add(&r))?;
    builder.finish(summary)
}

/// A built index, sorted by id, ready to be written: its entries are in memory, or in spill
/// storage when the build spilled ([`Index::spilled_runs`]).
pub struct Index {
    build: IndexBuild,
    summary: FeedSummary,
    records: u64,
    feed_hash: u128,
    body: Body,
}

/// Where an index's entries are.
enum Body {
    Memory(Entries),
    /// In the index file's form, in run `body` of `spill`; `runs` sorted runs were spilled to
    /// build it.
    Spilled {
        spill: Box<dyn Spill>,
        body: runs::Run,
        runs: u64,
    },
}

impl Index {
    /// How the index was built (written into the file).
    pub fn build(&self) -> &IndexBuild {
        &self.build
    }

    /// What the feed was.
    pub fn summary(&self) -> &FeedSummary {
        &self.summary
    }

    /// The snapshot's content hash (see the module documentation): independent of record order
    /// and of everything outside the records.
    pub fn feed_hash(&self) -> u128 {
        self.feed_hash
    }

    /// Number of entries (= records).
    pub fn len(&self) -> usize {
        self.records as usize
    }

    /// Whether the index has no entries (never, for an index of a valid feed).
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// How many sorted runs the build spilled (0: the entries are in memory).
    pub fn spilled_runs(&self) -> u64 {
        match &self.body {
            Body::Memory(_) => 0,
            Body::Spilled { runs, .. } => *runs,
        }
    }

    /// The entries in id order when they are held in memory; `None` for an index whose entries
    /// were spilled ([`Index::spilled_runs`] > 0): read those with an [`IndexReader`] over what
    /// [`Index::write_to`] writes.
    pub fn entries(&self) -> Option<impl Iterator<Item = (&str, RecordHash)> + '_> {
        let Body::Memory(entries) = &self.body else {
            return None;
        };
        Some((0..entries.len()).map(|i| {
            let e = entries.get(i);
            let id = std::str::from_utf8(e.id).unwrap_or_default();
            (id, RecordHash::from_bytes(e.hash))
        }))
    }

    /// Writes the index file (see the module documentation for the format). A spilled index
    /// is read back from spill storage; its errors come back here.
    pub fn write_to<W: Write>(&self, w: W) -> io::Result<()> {
        let mut out = Checksummed::new(w);
        out.write(&header(
            self.records,
            self.summary.uncompressed_bytes,
            self.feed_hash,
            FLAG_BUILD,
        ))?;
        out.write(&self.build.encode())?;
        match &self.body {
            Body::Memory(entries) => {
                let mut prev: &[u8] = &[];
                let mut rec = Vec::with_capacity(64);
                for i in 0..entries.len() {
                    let e = entries.get(i);
                    rec.clear();
                    runs::put_entry(&mut rec, prev, e.id, &e.hash);
                    out.write(&rec)?;
                    prev = e.id;
                }
            }
            Body::Spilled { spill, body, .. } => {
                let context = |e: io::Error| {
                    io::Error::new(e.kind(), format!("reading the spilled index back: {e}"))
                };
                let mut r = spill.open(body.id).map_err(context)?;
                let mut buf = vec![0u8; runs::RUN_BUF];
                let (mut copied, mut hasher) = (0u64, Xxh3::new());
                loop {
                    let n = match r.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(context(e)),
                    };
                    copied += n as u64;
                    hasher.update(&buf[..n]);
                    out.write(&buf[..n])?;
                }
                if copied != body.bytes || hasher.digest() != body.checksum {
                    return Err(context(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{copied} bytes that do not match the {} bytes written",
                            body.bytes
                        ),
                    )));
                }
            }
        }
        out.finish()
    }

    /// The index file's bytes (all in memory: prefer [`Index::write_to`] for big indexes), or
    /// the error of reading a spilled index back.
    pub fn try_to_bytes(&self) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        self.write_to(&mut v)?;
        Ok(v)
    }
}

/// Adds one entry to a feed hash (see the module documentation).
fn hash_entry(hasher: &mut Xxh3, id: &[u8], hash: &[u8; 16]) {
    hasher.update(&(id.len() as u32).to_le_bytes());
    hasher.update(id);
    hasher.update(hash);
}

/// The fixed header of an index file.
fn header(records: u64, uncompressed_bytes: u64, feed_hash: u128, flags: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&flags.to_le_bytes());
    h[16..24].copy_from_slice(&records.to_le_bytes());
    h[24..32].copy_from_slice(&uncompressed_bytes.to_le_bytes());
    h[32..48].copy_from_slice(&feed_hash.to_be_bytes());
    h
}

impl Drop for Index {
    fn drop(&mut self) {
        if let Body::Spilled { spill, body, .. } = &mut self.body {
            let _ = spill.remove(body.id);
        }
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
