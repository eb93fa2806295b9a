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
use crate::sink::{block_channel, consume, prefer_damage, DecoderCounts, Direct, Sink};
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
    /// Name of the root element.
    pub root: String,
}

/// The push-style record reader. Feed it the feed's bytes in chunks of any size with
/// [`Scanner::push`], then call [`Scanner::finish`]; each record goes to the callback as soon
/// as its end tag has arrived. After an error the scanner is spent: drop it.
///
/// In gzip input, an error found inside a member (malformed XML, a record callback's error)
/// comes back once the rest of that member has arrived and its CRC was checked (from a later
/// `push`, or `finish`): a damaged member is reported as corrupt compressed data instead. No
/// record is passed on after the error.
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
        let mut sink = Direct {
            split: &mut self.splitter,
            emit: on_record,
        };
        self.decoder.push(bytes, &mut sink)
    }

    /// Ends the feed: checks it is complete and returns its summary.
    pub fn finish(mut self, on_record: &mut OnRecord<'_>) -> Result<FeedSummary, FeedError> {
        let mut sink = Direct {
            split: &mut self.splitter,
            emit: on_record,
        };
        self.decoder.finish(&mut sink)?;
        self.splitter.finish(on_record)?;
        Ok(summary(&self.splitter, DecoderCounts::of(&self.decoder)))
    }

    /// Uncompressed bytes seen so far (for progress reports).
    pub fn uncompressed_bytes(&self) -> u64 {
        self.splitter.stream_len()
    }
}

pub(crate) fn summary(split: &Splitter, counts: DecoderCounts) -> FeedSummary {
    FeedSummary {
        records: split.records(),
        uncompressed_bytes: split.stream_len(),
        input_bytes: counts.input_bytes,
        gzip: counts.gzip,
        gzip_members: counts.members,
        root: split.root().unwrap_or_default().to_string(),
    }
}

/// Reads all of `reader` into `decoder`, writing to `sink`; the decoder's counts at the end.
pub(crate) fn decode_all<R: Read>(
    mut reader: R,
    decoder: &mut Decoder,
    sink: &mut dyn Sink,
) -> Result<DecoderCounts, FeedError> {
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => decoder.push(&chunk[..n], sink)?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FeedError::at(ErrorKind::Read(e), sink.position().0)),
        }
    }
    decoder.finish(sink)?;
    Ok(DecoderCounts::of(decoder))
}

/// Reads a whole feed from `reader`, calling `on_record` for each record.
///
/// Two threads share the work: reading and inflating on a scoped thread of its own, splitting
/// and `on_record` on the calling thread (so `on_record` need not be `Send`). The records,
/// summary and errors are the same as [`Scanner`]'s.
pub fn scan_reader<R: Read + Send>(
    reader: R,
    opts: &FeedOptions,
    on_record: &mut OnRecord<'_>,
) -> Result<FeedSummary, FeedError> {
    let mut split = Splitter::new(opts);
    let (mut sink, src) = block_channel();
    std::thread::scope(|s| {
        let decoding = s.spawn(move || {
            let result = decode_all(reader, &mut Decoder::new(), &mut sink);
            // A corrupt member is kept for the splitter's side, which may have stopped first.
            let damage = match &result {
                Err(e) => match &e.kind {
                    ErrorKind::CorruptGzip { detail } => Some(FeedError {
                        kind: ErrorKind::CorruptGzip {
                            detail: detail.clone(),
                        },
                        location: e.location.clone(),
                    }),
                    _ => None,
                },
                Ok(_) => None,
            };
            sink.end(result);
            damage
        });
        let read = consume(src, &mut split, on_record)
            .and_then(|counts| split.finish(on_record).map(|()| counts));
        match read {
            Ok(counts) => Ok(summary(&split, counts)),
            Err(e) => {
                // The decoder checks the gzip member the splitter stopped in: wait for it.
                let damage = decoding.join().ok().flatten();
                Err(prefer_damage(damage, e))
            }
        }
    })
}
