//! Building an index from records: entries collected in memory up to
//! [`FeedOptions::index_memory`], then either an error (no spill storage) or an external merge
//! sort: each full batch is sorted and written to the caller's [`Spill`] as a run, and at the
//! end the runs (at most [`fan_in`] at a time, merging in rounds when there are more) and the
//! last batch are merged into the index's entries, written to spill storage too.
//!
//! Memory stays about `index_memory` plus 64 KiB per merged run, whatever the record count.
//! Duplicate ids meet in the merge (equal ids come out adjacent, in record order), so they are
//! found, and reported naming both records, exactly as in memory.

use std::collections::VecDeque;
use std::io;

use xxhash_rust::xxh3::Xxh3;

use super::runs::{merge, EntryRef, Run, RunReader, RunWriter, Sorted, RUN_BUF};
use super::spill::Spill;
use super::{hash_entry, Body, Index, IndexBuild};
use crate::error::{ErrorKind, FeedError};
use crate::options::FeedOptions;
use crate::record::RecordRef;
use crate::scan::FeedSummary;

/// One entry while building: where the id is in the arena, and where the record was.
#[derive(Clone, Copy)]
struct Entry {
    hash: [u8; 16],
    offset: u64,
    id_start: u64,
    number: u32,
    id_len: u32,
}

/// Memory one entry takes besides its id.
const ENTRY_BYTES: usize = std::mem::size_of::<Entry>();

/// A batch of entries in memory: the ids in one arena.
#[derive(Default)]
pub(super) struct Entries {
    ids: Vec<u8>,
    items: Vec<Entry>,
}

impl Entries {
    fn push(&mut self, r: &RecordRef<'_>) {
        self.items.push(Entry {
            hash: r.hash.to_bytes(),
            offset: r.offset,
            id_start: self.ids.len() as u64,
            number: r.number.min(u32::MAX as u64) as u32,
            id_len: r.id.len() as u32,
        });
        self.ids.extend_from_slice(r.id.as_bytes());
    }

    /// Memory the batch holds (used, not reserved).
    fn bytes(&self) -> usize {
        self.items.len() * ENTRY_BYTES + self.ids.len()
    }

    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    fn id(&self, e: &Entry) -> &[u8] {
        let s = e.id_start as usize;
        &self.ids[s..s + e.id_len as usize]
    }

    pub(super) fn get(&self, i: usize) -> EntryRef<'_> {
        let e = &self.items[i];
        EntryRef {
            id: self.id(e),
            hash: e.hash,
            number: u64::from(e.number),
            offset: e.offset,
        }
    }

    /// Sorts by id, then record number.
    fn sort(&mut self) {
        let ids = &self.ids;
        let key = |e: &Entry| &ids[e.id_start as usize..(e.id_start + e.id_len as u64) as usize];
        self.items
            .sort_unstable_by(|a, b| key(a).cmp(key(b)).then(a.number.cmp(&b.number)));
    }

    fn clear(&mut self) {
        self.ids.clear();
        self.items.clear();
    }
}

/// A sorted batch as a merge source.
struct InMemory<'a> {
    entries: &'a Entries,
    /// One past the current entry.
    next: usize,
}

impl Sorted for InMemory<'_> {
    fn current(&self) -> EntryRef<'_> {
        self.entries.get(self.next - 1)
    }

    fn advance(&mut self) -> io::Result<bool> {
        if self.next == self.entries.len() {
            return Ok(false);
        }
        self.next += 1;
        Ok(true)
    }
}

/// Runs merged at once: enough for any feed in a couple of rounds, few enough that their read
/// buffers (64 KiB each) stay small next to `memory`.
pub(super) fn fan_in(memory: usize) -> usize {
    (memory / RUN_BUF).clamp(2, 64)
}

/// The duplicate-id error: `second` has the id of `first`.
fn duplicate(first: &EntryRef<'_>, second: &EntryRef<'_>) -> FeedError {
    let id = String::from_utf8_lossy(second.id).into_owned();
    FeedError::at(
        ErrorKind::DuplicateId {
            id: id.clone(),
            first_record: first.number,
            first_offset: first.offset,
        },
        second.offset,
    )
    .in_record(second.number, Some(id))
}

/// What the sorted entries add up to: the count and the feed hash (see the module
/// documentation of [`crate::index`]); rejects duplicates.
struct Tally {
    hasher: Xxh3,
    records: u64,
    prev: Option<(Vec<u8>, u64, u64)>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            hasher: Xxh3::new(),
            records: 0,
            prev: None,
        }
    }

    fn add(&mut self, e: &EntryRef<'_>) -> Result<(), FeedError> {
        match &mut self.prev {
            Some((id, number, offset)) => {
                if id.as_slice() == e.id {
                    let first = EntryRef {
                        id,
                        hash: [0; 16],
                        number: *number,
                        offset: *offset,
                    };
                    return Err(duplicate(&first, e));
                }
                id.clear();
                id.extend_from_slice(e.id);
                (*number, *offset) = (e.number, e.offset);
            }
            None => self.prev = Some((e.id.to_vec(), e.number, e.offset)),
        }
        hash_entry(&mut self.hasher, e.id, &e.hash);
        self.records += 1;
        Ok(())
    }
}

/// Collects a feed's entries and turns them into an [`Index`].
pub(super) struct Builder {
    build: IndexBuild,
    batch: Entries,
    /// Parse each record fully first (`FeedOptions::validate`).
    validate: Option<FeedOptions>,
    memory: usize,
    spill: Option<Box<dyn Spill>>,
    /// Spilled runs, oldest first.
    runs: VecDeque<Run>,
    next_run: u64,
    /// Batches spilled as runs.
    spilled: u64,
}

impl Builder {
    pub(super) fn new(opts: &FeedOptions, spill: Option<Box<dyn Spill>>) -> Builder {
        Builder {
            build: IndexBuild::of(opts),
            batch: Entries::default(),
            validate: opts.validate.then(|| opts.clone()),
            memory: opts.index_memory,
            spill,
            runs: VecDeque::new(),
            next_run: 0,
            spilled: 0,
        }
    }

    pub(super) fn add(&mut self, r: &RecordRef<'_>) -> Result<(), FeedError> {
        if let Some(opts) = &self.validate {
            r.to_json_text(opts)?;
        }
        self.batch.push(r);
        let bytes = self.batch.bytes();
        if bytes >= self.memory {
            if self.spill.is_none() {
                if bytes == self.memory {
                    return Ok(());
                }
                return Err(FeedError::at(
                    ErrorKind::IndexTooLarge {
                        limit: self.memory,
                        records: r.number,
                    },
                    r.offset,
                ));
            }
            self.spill_batch()
                .map_err(|e| spill_error("writing a sorted run", e, r.offset))?;
        }
        Ok(())
    }

    /// Sorts the batch and writes it as a new run.
    fn spill_batch(&mut self) -> io::Result<()> {
        self.batch.sort();
        let run = self.take_run();
        let batch = &self.batch;
        let run = write_run(spill_of(&mut self.spill)?, run, true, &|e| e, |_, w| {
            (0..batch.len()).try_for_each(|i| w.put(&batch.get(i)))
        })?;
        self.runs.push_back(run);
        self.spilled += 1;
        self.batch.clear();
        Ok(())
    }

    fn take_run(&mut self) -> u64 {
        self.next_run += 1;
        self.next_run - 1
    }

    /// Ends the build: the index, or the first duplicate id.
    pub(super) fn finish(mut self, summary: FeedSummary) -> Result<Index, FeedError> {
        self.batch.sort();
        let end = summary.uncompressed_bytes;
        let mut tally = Tally::new();
        if self.runs.is_empty() {
            for i in 0..self.batch.len() {
                tally.add(&self.batch.get(i))?;
            }
            return Ok(Index {
                build: self.build.clone(),
                summary,
                records: tally.records,
                feed_hash: tally.hasher.digest128(),
                body: Body::Memory(std::mem::take(&mut self.batch)),
            });
        }
        let merging = |e| spill_error("merging sorted runs", e, end);
        // Merge rounds until the runs and the batch in memory fit one merge.
        let fan_in = fan_in(self.memory);
        while self.runs.len() >= fan_in {
            self.merge_runs(fan_in).map_err(merging)?;
        }
        let body = self.take_run();
        let spill = spill_of(&mut self.spill).map_err(merging)?;
        let runs: Vec<Run> = self.runs.iter().copied().collect();
        let batch = &self.batch;
        let body = write_run(spill, body, false, &merging, |spill, w| {
            let mut sources = open_runs(spill, &runs).map_err(merging)?;
            sources.push(Box::new(InMemory {
                entries: batch,
                next: 0,
            }));
            merge(sources, &merging, &mut |e| {
                tally.add(e)?;
                w.put(e)
                    .map_err(|e| spill_error("writing the index", e, end))
            })
        })?;
        let mut spill = self.spill.take().ok_or_else(|| merging(no_spill()))?;
        for run in self.runs.drain(..) {
            let _ = spill.remove(run.id);
        }
        Ok(Index {
            build: self.build.clone(),
            summary,
            records: tally.records,
            feed_hash: tally.hasher.digest128(),
            body: Body::Spilled {
                spill,
                body,
                runs: self.spilled,
            },
        })
    }

    /// Merges the `n` oldest runs into one new run (at the back).
    fn merge_runs(&mut self, n: usize) -> io::Result<()> {
        let group: Vec<Run> = self.runs.iter().take(n).copied().collect();
        let run = self.take_run();
        let spill = spill_of(&mut self.spill)?;
        let run = write_run(spill, run, true, &|e| e, |spill, w| {
            let sources = open_runs(spill, &group)?;
            merge(sources, &|e| e, &mut |e| w.put(e))
        })?;
        self.runs.push_back(run);
        for r in self.runs.drain(..n) {
            spill.remove(r.id)?;
        }
        Ok(())
    }
}

fn no_spill() -> io::Error {
    io::Error::other("no spill storage")
}

fn spill_of(spill: &mut Option<Box<dyn Spill>>) -> io::Result<&mut dyn Spill> {
    match spill {
        Some(s) => Ok(&mut **s),
        None => Err(no_spill()),
    }
}

/// Readers of these runs.
fn open_runs(spill: &dyn Spill, runs: &[Run]) -> io::Result<Vec<Box<dyn Sorted>>> {
    runs.iter()
        .map(|&run| -> io::Result<Box<dyn Sorted>> {
            Ok(Box::new(RunReader::new(spill.open(run.id)?, run)))
        })
        .collect()
}

/// Writes run `run` with `fill` (given the storage to read other runs from; in the index file's form unless `positions`): its length in
/// bytes. A run that could not be written is removed again.
fn write_run<E>(
    spill: &mut dyn Spill,
    run: u64,
    positions: bool,
    io: &dyn Fn(io::Error) -> E,
    fill: impl FnOnce(&dyn Spill, &mut RunWriter) -> Result<(), E>,
) -> Result<Run, E> {
    let mut w = RunWriter::new(spill.create(run).map_err(io)?, positions);
    let written = fill(spill, &mut w).and_then(|()| w.finish(run).map_err(io));
    if written.is_err() {
        let _ = spill.remove(run);
    }
    written
}

impl Drop for Builder {
    fn drop(&mut self) {
        if let Some(spill) = &mut self.spill {
            for run in &self.runs {
                let _ = spill.remove(run.id);
            }
        }
    }
}

/// The error of spill storage that failed while the build was doing `action`.
pub(super) fn spill_error(action: &str, source: io::Error, offset: u64) -> FeedError {
    FeedError::at(
        ErrorKind::Spill {
            action: action.into(),
            source,
        },
        offset,
    )
}
