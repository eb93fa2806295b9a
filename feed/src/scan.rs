//! [`Scanner`]: the push-style record reader (bytes in as they arrive, records out through a
//! callback), and [`scan_reader`], the same over a [`std::io::Read`].
//!
//! Gzip is detected from the first two bytes. The scanner keeps only the unfinished record and
//! the decoder's window in memory, whatever the feed's size.

use std::io::Read;

use crate::error::{ErrorKind, FeedError};
use crate::gzip::Decoder;
use crate::options::FeedOptions;
use crate::record::RecordRef;
use crate::split::Splitter;

/// Read size of the reader-based functions.
pub(crate) const READ_CHUNK: usize = 256 << 10;

/// What a whole feed turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSummary {
    /// Records read.
    pub records: u64,
    /// Length of the uncompressed XML.
    pub uncompressed_bytes: u64,
    /// Length of the input as given (compressed, when gzip).
    pub input_bytes: u64,
    /// Whether the input was gzip.
    pub gzip: bool,
    /// Number of gzip members (0 for plain input).
    pub gzip_members: u32,
    /// xxh3-128 of the uncompressed XML.
    pub feed_hash: u128,
    /// Name of the root element.
    pub root: String,
}

/// The push-style record reader. Feed it the feed's bytes in chunks of any size with
/// [`Scanner::push`], then call [`Scanner::finish`]; each record goes to the callback as soon
/// as its end tag has arrived. After an error the scanner is spent: drop it.
pub struct Scanner {
    decoder: Decoder,
    splitter: Splitter,
}

/// The record callback of [`Scanner`]: return an error to stop reading.
pub type OnRecord<'a> = dyn FnMut(RecordRef<'_>) -> Result<(), FeedError> + 'a;

impl Scanner {
    /// A scanner for a feed read with `opts`.
    pub fn new(opts: &FeedOptions) -> Scanner {
        Scanner {
            decoder: Decoder::new(),
            splitter: Splitter::new(opts),
        }
    }

    /// Reads the next chunk of the feed (compressed or not, as fetched).
    pub fn push(&mut self, bytes: &[u8], on_record: &mut OnRecord<'_>) -> Result<(), FeedError> {
        self.decoder.push(bytes, &mut self.splitter, on_record)
    }

    /// Ends the feed: checks it is complete and returns its summary.
    pub fn finish(mut self, on_record: &mut OnRecord<'_>) -> Result<FeedSummary, FeedError> {
        self.decoder.finish(&mut self.splitter, on_record)?;
        self.splitter.finish(on_record)?;
        Ok(FeedSummary {
            records: self.splitter.records(),
            uncompressed_bytes: self.splitter.stream_len(),
            input_bytes: self.decoder.consumed(),
            gzip: self.decoder.is_gzip(),
            gzip_members: self.decoder.members(),
            feed_hash: self.splitter.feed_hash(),
            root: self.splitter.root().unwrap_or_default().to_string(),
        })
    }

    /// Uncompressed bytes seen so far (for progress reports).
    pub fn uncompressed_bytes(&self) -> u64 {
        self.splitter.stream_len()
    }
}

/// Reads a whole feed from `reader`, calling `on_record` for each record.
pub fn scan_reader<R: Read>(
    mut reader: R,
    opts: &FeedOptions,
    on_record: &mut OnRecord<'_>,
) -> Result<FeedSummary, FeedError> {
    let mut scanner = Scanner::new(opts);
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(FeedError::at(
                    ErrorKind::Read(e),
                    scanner.uncompressed_bytes(),
                ))
            }
        };
        scanner.push(&chunk[..n], on_record)?;
    }
    scanner.finish(on_record)
}
