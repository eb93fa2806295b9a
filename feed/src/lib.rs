//! The pure core of feedpipe: everything that turns feed bytes into values.
//!
//! - [`Scanner`] / [`scan_reader`]: the streaming record reader. Gzip is detected by its magic
//!   bytes, records are found by a byte-level splitter ([`split`](crate::scan)) at inflate
//!   speed, each with its id and 128-bit content hash ([`RecordRef`]).
//! - [`RecordRef::to_json`]: a record's JSON form ([`json`] documents the mapping).
//! - [`index`]: the sorted (id, hash) pairs of a snapshot in a checksummed binary file, built
//!   push-style ([`index::Indexer`]) and read as a stream ([`index::IndexReader`]).
//! - [`diff`]: the streaming merge of two indexes into added, changed and removed ids.
//! - [`extract`]: the JSON forms of chosen records out of a snapshot, streamed.
//! - [`generate`]: a deterministic job-feed generator for tests and benches.
//! - [`config`]: `feedpipe.toml`, parsed and validated in one place.
//!
//! It does no I/O of its own: callers hand it bytes, readers and writers; it never opens files
//! or sockets, reads the environment or the clock.
#![deny(missing_docs)]

pub mod config;
pub mod diff;
pub mod error;
pub mod extract;
pub mod generate;
mod gzip;
pub mod index;
pub mod json;
pub mod options;
pub mod record;
pub mod scan;
mod split;
mod text;

pub use config::{EmptyCdata, IdSource};
pub use error::{ErrorKind, FeedError, Location};
pub use options::FeedOptions;
pub use record::{RecordHash, RecordRef};
pub use scan::{scan_reader, FeedSummary, Scanner};
