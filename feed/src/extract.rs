//! Extraction: the JSON forms of the records whose ids are asked for, streamed out of a
//! snapshot. Only those records are parsed fully; the rest pass through the splitter.
//!
//! Memory: the pipeline's few blocks and the wanted ids in an [`IdSet`] (about 6 bytes plus
//! the front-coded id each: 2 million ids like `JOB-00012345` take about 20 MiB); never the
//! feed.

use std::io::Read;
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};

use crate::RecordJson;

use crate::error::FeedError;
use crate::idset::IdSet;
use crate::options::FeedOptions;
use crate::record::RecordHash;
use crate::record::RecordRef;
use crate::scan::{summary, FeedSummary, Scanner};
use crate::sink::{consume, Piped};

/// One extracted record.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// 1-based position in the feed.
    pub number: u64,
    /// The record id.
    pub id: String,
    /// The record's content hash.
    pub hash: RecordHash,
    /// Its JSON form ([`crate::json`]), as JSON text.
    pub json: RecordJson,
}

/// The result of an extraction.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractSummary {
    /// The feed that was read.
    pub feed: FeedSummary,
    /// Records extracted.
    pub extracted: u64,
    /// Number of ids asked for that the feed does not have.
    pub missing: u64,
    /// The first of those ids in sorted order, at most [`MISSING_IDS`] (for messages: the
    /// whole list could be as long as the set).
    pub missing_ids: Vec<String>,
}

/// The most missing ids an [`ExtractSummary`] names.
pub const MISSING_IDS: usize = 20;

impl ExtractSummary {
    fn new(feed: FeedSummary, extracted: u64, not_found: Wanted) -> ExtractSummary {
        let (missing, missing_ids) = match not_found {
            Wanted::Ids(ids) => (ids.remaining() as u64, ids.missing(MISSING_IDS)),
            Wanted::All => (0, Vec::new()),
        };
        ExtractSummary {
            feed,
            extracted,
            missing,
            missing_ids,
        }
    }
}

/// Push-style extraction: [`Extractor::push`] the snapshot's bytes (gzip or plain), get each
/// wanted record through the callback as soon as it is complete.
///
/// [`Extractor::new`] and [`Extractor::all`] inflate on the pushing thread and split and parse
/// records on a second one; the records still reach the callback on the pushing thread, in
/// feed order, during `push` or `finish`. [`Extractor::single_threaded`] does all on the
/// pushing thread. After an error the extractor is spent.
pub struct Extractor {
    engine: Engine,
}

enum Engine {
    Direct {
        scanner: Box<Scanner>,
        opts: FeedOptions,
        wanted: Wanted,
        extracted: u64,
    },
    Piped {
        pipe: Piped<ExtractSummary>,
        records: Receiver<Extracted>,
    },
}

/// Which records an extraction takes.
enum Wanted {
    /// These ids (each taken once found).
    Ids(IdSet),
    /// Every record (a first delivery, when there is no earlier snapshot).
    All,
}

/// The callback of [`Extractor`].
pub type OnExtracted<'a> = dyn FnMut(Extracted) -> Result<(), FeedError> + 'a;

impl Extractor {
    /// An extractor for the records with these ids (pipelined).
    pub fn new(opts: &FeedOptions, ids: impl IntoIterator<Item = String>) -> Extractor {
        Extractor::with_ids(opts, IdSet::new(ids))
    }

    /// An extractor for the records whose ids are in `ids` (pipelined).
    pub fn with_ids(opts: &FeedOptions, ids: IdSet) -> Extractor {
        Extractor::piped(opts, Wanted::Ids(ids))
    }

    /// An extractor for every record of the snapshot (pipelined).
    pub fn all(opts: &FeedOptions) -> Extractor {
        Extractor::piped(opts, Wanted::All)
    }

    /// An extractor for the records with these ids that does all on the pushing thread.
    pub fn single_threaded(opts: &FeedOptions, ids: impl IntoIterator<Item = String>) -> Extractor {
        Extractor::direct(opts, Wanted::Ids(IdSet::new(ids)))
    }

    fn direct(opts: &FeedOptions, wanted: Wanted) -> Extractor {
        Extractor {
            engine: Engine::Direct {
                scanner: Box::new(Scanner::new(opts)),
                opts: opts.clone(),
                wanted,
                extracted: 0,
            },
        }
    }

    fn piped(opts: &FeedOptions, wanted: Wanted) -> Extractor {
        // Unbounded: the pushing thread may wait on the block channel while the worker sends
        // records; it takes them after each push.
        let (tx, records) = channel();
        let worker_opts = opts.clone();
        // Shared so that it can be taken back when no thread can be started.
        let shared = Arc::new(Mutex::new(Some(wanted)));
        let pipe = Piped::spawn(opts, {
            let shared = Arc::clone(&shared);
            move |src, mut split| {
                let taken = shared.lock().map(|mut w| w.take()).ok().flatten();
                let mut wanted = taken.unwrap_or(Wanted::Ids(IdSet::new(Vec::<String>::new())));
                let mut extracted = 0;
                let mut send = |x: Extracted| {
                    // The receiver is gone only when the extractor was dropped.
                    let _ = tx.send(x);
                    Ok(())
                };
                let mut each = |r: RecordRef<'_>| {
                    pick(r, &worker_opts, &mut wanted, &mut extracted, &mut send)
                };
                let counts = consume(src, &mut split, &mut each)?;
                split.finish(&mut each)?;
                Ok(ExtractSummary::new(
                    summary(&split, counts),
                    extracted,
                    wanted,
                ))
            }
        });
        match pipe {
            Ok(pipe) => Extractor {
                engine: Engine::Piped { pipe, records },
            },
            Err(_) => {
                let taken = shared.lock().map(|mut w| w.take()).ok().flatten();
                Extractor::direct(
                    opts,
                    taken.unwrap_or(Wanted::Ids(IdSet::new(Vec::<String>::new()))),
                )
            }
        }
    }

    /// The next chunk of the snapshot.
    pub fn push(&mut self, bytes: &[u8], on: &mut OnExtracted<'_>) -> Result<(), FeedError> {
        match &mut self.engine {
            Engine::Direct {
                scanner,
                opts,
                wanted,
                extracted,
            } => scanner.push(bytes, &mut |r| pick(r, opts, wanted, extracted, on)),
            Engine::Piped { pipe, records } => {
                pipe.push(bytes)?;
                while let Ok(x) = records.try_recv() {
                    on(x)?;
                }
                Ok(())
            }
        }
    }

    /// Ends the snapshot.
    pub fn finish(self, on: &mut OnExtracted<'_>) -> Result<ExtractSummary, FeedError> {
        match self.engine {
            Engine::Direct {
                scanner,
                opts,
                mut wanted,
                mut extracted,
            } => {
                let feed =
                    scanner.finish(&mut |r| pick(r, &opts, &mut wanted, &mut extracted, on))?;
                Ok(ExtractSummary::new(feed, extracted, wanted))
            }
            Engine::Piped { pipe, records } => {
                let result = pipe.finish();
                // The worker has ended: every record it sent is in the channel, before its
                // result (records after an error are never sent).
                while let Ok(x) = records.try_recv() {
                    on(x)?;
                }
                result
            }
        }
    }
}

fn pick(
    r: RecordRef<'_>,
    opts: &FeedOptions,
    wanted: &mut Wanted,
    extracted: &mut u64,
    on: &mut OnExtracted<'_>,
) -> Result<(), FeedError> {
    if let Wanted::Ids(ids) = wanted {
        if ids.remaining() == 0 || !ids.take(r.id) {
            return Ok(());
        }
    }
    *extracted += 1;
    on(Extracted {
        number: r.number,
        id: r.id.to_string(),
        hash: r.hash,
        json: r.to_json_text(opts)?,
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
    extract_reader_with_ids(reader, opts, IdSet::new(ids), on)
}

/// [`extract_reader`] for the ids of a set built beforehand.
pub fn extract_reader_with_ids<R: Read + Send>(
    reader: R,
    opts: &FeedOptions,
    ids: IdSet,
    on: &mut OnExtracted<'_>,
) -> Result<ExtractSummary, FeedError> {
    let mut wanted = Wanted::Ids(ids);
    let mut extracted = 0;
    let feed = crate::scan::scan_reader(reader, opts, &mut |r| {
        pick(r, opts, &mut wanted, &mut extracted, on)
    })?;
    Ok(ExtractSummary::new(feed, extracted, wanted))
}
