//! The pure core of feedpipe: everything that turns feed bytes into values.
//!
//! - [`Scanner`] / [`scan_reader`]: the streaming record reader. Gzip is detected by its magic
//!   bytes, records are found by a byte-level splitter at inflate speed (a full XML parse only
//!   where needed), each with its id and 128-bit content hash ([`RecordRef`]). `Scanner` is
//!   push-style (chunks in as they arrive, from any sync or async source); `scan_reader` reads
//!   a [`std::io::Read`] with inflate and split on two threads.
//! - [`RecordRef::to_json`]: a record's JSON form ([`json`] documents the mapping).
//! - [`index`]: the sorted (id, hash) pairs of a snapshot in a checksummed binary file, built
//!   push-style ([`index::Indexer`]) and read as a stream ([`index::IndexReader`]); small files
//!   of the same format from entries in id order ([`index::ListBuilder`], a diff's change lists).
//! - [`diff`]: the streaming merge of two indexes into added, changed and removed ids.
//! - [`extract`]: the JSON forms of chosen records out of a snapshot, streamed; the chosen ids
//!   are kept in an [`IdSet`] (compact: about 6 bytes plus the front-coded id each).
//! - [`generate`]: a deterministic job-feed generator for tests and benches.
//! - [`config`]: `feedpipe.toml`, parsed and validated in one place.
//!
//! It does no I/O of its own: callers hand it bytes, readers and writers; it never opens files
//! or sockets, reads the environment or the clock. (It may start one thread to split records
//! while the caller inflates: [`index::Indexer::new`], [`scan_reader`].)
//!
//! # The pipeline's jobs, in small
//!
//! ```
//! use feed::diff::{diff, Change};
//! use feed::extract::Extractor;
//! use feed::index::Indexer;
//! use feed::{FeedOptions, IdSource};
//!
//! let opts = FeedOptions::new("job", IdSource::Child("reference".into()));
//! let v1 = b"<jobs><job><reference>1</reference><t>a</t></job><job><reference>2</reference></job></jobs>";
//! let v2 = b"<jobs><job><reference>1</reference><t>b</t></job><job><reference>3</reference></job></jobs>";
//!
//! // CheckFeed: index the bytes as they arrive (gzip or not), here in two chunks.
//! let index = |feed: &[u8]| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
//!     let mut ix = Indexer::new(&opts);
//!     let (a, b) = feed.split_at(10);
//!     ix.push(a)?;
//!     ix.push(b)?;
//!     Ok(ix.finish()?.try_to_bytes()?)
//! };
//! let (old, new) = (index(v1)?, index(v2)?);
//!
//! // DiffFeed: merge the two index files.
//! let (mut upserts, mut deletes) = (Vec::new(), Vec::new());
//! let summary = diff(Some(&old[..]), &new[..], |c| {
//!     match c {
//!         Change::Added { id, .. } | Change::Changed { id, .. } => upserts.push(id.to_string()),
//!         Change::Removed { id, .. } => deletes.push(id.to_string()),
//!     }
//!     Ok(())
//! })?;
//! assert_eq!((summary.added, summary.changed, summary.removed), (1, 1, 1));
//!
//! // ConsumeFeed: the JSON forms of the upserted records, streamed out of the snapshot.
//! let mut ex = Extractor::new(&opts, upserts);
//! let mut records = Vec::new();
//! ex.push(v2, &mut |r| {
//!     records.push((r.id, r.json));
//!     Ok(())
//! })?;
//! ex.finish(&mut |r| {
//!     records.push((r.id, r.json));
//!     Ok(())
//! })?;
//! // Compact JSON text, as the sinks send it.
//! assert_eq!(records[0].1.as_str(), r#"{"reference":"1","t":"b"}"#);
//! assert_eq!(records[0].1.to_value(), serde_json::json!({"reference": "1", "t": "b"}));
//! assert_eq!(records[1].0, "3");
//! assert_eq!(deletes, ["2"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod config;
pub mod diff;
pub mod error;
pub mod extract;
pub mod generate;
mod gzip;
pub mod idset;
pub mod index;
pub mod json;
pub mod options;
pub mod record;
pub mod scan;
mod sink;
mod split;
mod text;
mod varint;

pub use config::{EmptyCdata, IdSource};
pub use error::{ErrorKind, FeedError, Location};
pub use idset::IdSet;
pub use json::RecordJson;
pub use options::FeedOptions;
pub use record::{RecordHash, RecordRef};
pub use scan::{scan_reader, FeedSummary, Scanner};
