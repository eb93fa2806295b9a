//! Extraction: the JSON forms of the records whose ids are asked for, streamed out of a
//! snapshot. Only those records are parsed fully; the rest pass through the splitter.

use std::collections::HashSet;
use std::io::Read;

use serde_json::Value;

use crate::error::{ErrorKind, FeedError};
use crate::options::FeedOptions;
use crate::record::RecordHash;
use crate::scan::{FeedSummary, Scanner, READ_CHUNK};

/// One extracted record.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// 1-based position in the feed.
    pub number: u64,
    /// The record id.
    pub id: String,
    /// The record's content hash.
    pub hash: RecordHash,
    /// Its JSON form ([`crate::json`]).
    pub json: Value,
}

/// The result of an extraction.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractSummary {
    /// The feed that was read.
    pub feed: FeedSummary,
    /// Records extracted.
    pub extracted: u64,
    /// Ids asked for that the feed does not have, sorted.
    pub missing: Vec<String>,
}

/// Push-style extraction: [`Extractor::push`] the snapshot's bytes (gzip or plain), get each
/// wanted record through the callback as soon as it is complete.
pub struct Extractor {
    scanner: Scanner,
    opts: FeedOptions,
    wanted: HashSet<String>,
    extracted: u64,
}

/// The callback of [`Extractor`].
pub type OnExtracted<'a> = dyn FnMut(Extracted) -> Result<(), FeedError> + 'a;

impl Extractor {
    /// An extractor for the records with these ids.
    pub fn new(opts: &FeedOptions, ids: impl IntoIterator<Item = String>) -> Extractor {
        Extractor {
            scanner: Scanner::new(opts),
            opts: opts.clone(),
            wanted: ids.into_iter().collect(),
            extracted: 0,
        }
    }

    /// The next chunk of the snapshot.
    pub fn push(&mut self, bytes: &[u8], on: &mut OnExtracted<'_>) -> Result<(), FeedError> {
        let (opts, wanted, extracted) = (&self.opts, &mut self.wanted, &mut self.extracted);
        self.scanner
            .push(bytes, &mut |r| pick(r, opts, wanted, extracted, on))
    }

    /// Ends the snapshot.
    pub fn finish(mut self, on: &mut OnExtracted<'_>) -> Result<ExtractSummary, FeedError> {
        let (opts, wanted, extracted) = (&self.opts, &mut self.wanted, &mut self.extracted);
        let feed = self
            .scanner
            .finish(&mut |r| pick(r, opts, wanted, extracted, on))?;
        let mut missing: Vec<String> = self.wanted.into_iter().collect();
        missing.sort_unstable();
        Ok(ExtractSummary {
            feed,
            extracted: self.extracted,
            missing,
        })
    }
}

fn pick(
    r: crate::RecordRef<'_>,
    opts: &FeedOptions,
    wanted: &mut HashSet<String>,
    extracted: &mut u64,
    on: &mut OnExtracted<'_>,
) -> Result<(), FeedError> {
    if wanted.is_empty() || !wanted.remove(r.id) {
        return Ok(());
    }
    *extracted += 1;
    on(Extracted {
        number: r.number,
        id: r.id.to_string(),
        hash: r.hash,
        json: r.to_json(opts)?,
    })
}

/// Extracts the records with these ids from a whole snapshot read from `reader`.
pub fn extract_reader<R: Read>(
    mut reader: R,
    opts: &FeedOptions,
    ids: impl IntoIterator<Item = String>,
    on: &mut OnExtracted<'_>,
) -> Result<ExtractSummary, FeedError> {
    let mut ex = Extractor::new(opts, ids);
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return ex.finish(on),
            Ok(n) => ex.push(&chunk[..n], on)?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let at = ex.scanner.uncompressed_bytes();
                return Err(FeedError::at(ErrorKind::Read(e), at));
            }
        }
    }
}
