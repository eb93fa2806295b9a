//! Extraction: the JSON forms of the records whose ids are asked for, streamed out of a
//! snapshot. Only those records are parsed fully; the rest pass through the splitter.

use std::collections::HashSet;
use std::io::Read;

use serde_json::Value;

use crate::error::FeedError;
use crate::options::FeedOptions;
use crate::record::RecordHash;
use crate::scan::{FeedSummary, Scanner};

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

impl ExtractSummary {
    fn new(feed: FeedSummary, extracted: u64, not_found: Wanted) -> ExtractSummary {
        let mut missing: Vec<String> = match not_found {
            Wanted::Ids(ids) => ids.into_iter().collect(),
            Wanted::All => Vec::new(),
        };
        missing.sort_unstable();
        ExtractSummary {
            feed,
            extracted,
            missing,
        }
    }
}

/// Push-style extraction: [`Extractor::push`] the snapshot's bytes (gzip or plain), get each
/// wanted record through the callback as soon as it is complete.
pub struct Extractor {
    scanner: Scanner,
    opts: FeedOptions,
    wanted: Wanted,
    extracted: u64,
}

/// Which records an extraction takes.
enum Wanted {
    /// These ids (each removed once found).
    Ids(HashSet<String>),
    /// Every record (a first delivery, when there is no earlier snapshot).
    All,
}

/// The callback of [`Extractor`].
pub type OnExtracted<'a> = dyn FnMut(Extracted) -> Result<(), FeedError> + 'a;

impl Extractor {
    /// An extractor for the records with these ids.
    pub fn new(opts: &FeedOptions, ids: impl IntoIterator<Item = String>) -> Extractor {
        Extractor {
            scanner: Scanner::new(opts),
            opts: opts.clone(),
            wanted: Wanted::Ids(ids.into_iter().collect()),
            extracted: 0,
        }
    }

    /// An extractor for every record of the snapshot.
    pub fn all(opts: &FeedOptions) -> Extractor {
        Extractor {
            wanted: Wanted::All,
            ..Extractor::new(opts, [])
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
        Ok(ExtractSummary::new(feed, self.extracted, self.wanted))
    }
}

fn pick(
    r: crate::RecordRef<'_>,
    opts: &FeedOptions,
    wanted: &mut Wanted,
    extracted: &mut u64,
    on: &mut OnExtracted<'_>,
) -> Result<(), FeedError> {
    if let Wanted::Ids(ids) = wanted {
        if ids.is_empty() || !ids.remove(r.id) {
            return Ok(());
        }
    }
    *extracted += 1;
    on(Extracted {
        number: r.number,
        id: r.id.to_string(),
        hash: r.hash,
        json: r.to_json(opts)?,
    })
}

/// Extracts the records with these ids from a whole snapshot read from `reader` (inflating on
/// a second thread, see [`crate::scan_reader`]).
pub fn extract_reader<R: Read + Send>(
    reader: R,
    opts: &FeedOptions,
    ids: impl IntoIterator<Item = String>,
    on: &mut OnExtracted<'_>,
) -> Result<ExtractSummary, FeedError> {
    let mut wanted = Wanted::Ids(ids.into_iter().collect());
    let mut extracted = 0;
    let feed = crate::scan::scan_reader(reader, opts, &mut |r| {
        pick(r, opts, &mut wanted, &mut extracted, on)
    })?;
    Ok(ExtractSummary::new(feed, extracted, wanted))
}
