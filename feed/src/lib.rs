//! The pure core of feedpipe: everything that turns feed bytes into values.
//!
//! It will hold the streaming record reader (gzip detected by magic bytes, quick-xml), record
//! identity and content hash, the binary record index, the index diff, the record → JSON mapping,
//! and the parsing of `feedpipe.toml` (see [`config`]). It does no I/O of its own: callers hand it
//! bytes and readers; it never opens files or sockets, reads the environment or the clock.
#![deny(missing_docs)]

pub mod config;
