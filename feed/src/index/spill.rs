//! Spill storage for index builds: where [`super::Indexer`] keeps sorted runs of entries once
//! they outgrow [`crate::FeedOptions::index_memory`] (an external merge sort). The caller
//! provides the storage through the [`Spill`] trait, since this crate does no I/O: the
//! `feedpipe` CLI and the worker's check job give it a temporary directory
//! (`worker::spill::TempSpill`);
//! [`MemorySpill`] keeps runs in memory (for tests, and to show what an implementation has to
//! do).

use std::collections::HashMap;
use std::io::{self, Cursor, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

/// Storage for the sorted runs of an index build, provided by the caller.
///
/// A run is a byte stream the indexer writes once and reads back, start to end, one or more
/// times. Runs are named by numbers the indexer picks (unique within one build). The indexer
/// buffers its writes and reads (64 KiB), so plain files are fine. Every error is reported by
/// the index build as [`crate::ErrorKind::Spill`] (or, reading a finished index, as the
/// `io::Error` of [`super::Index::write_to`]).
///
/// A temporary-directory implementation is a dozen lines: `create` is `File::create(dir/N)`,
/// `open` is `File::open(dir/N)`, `remove` is `remove_file`, and the directory goes when the
/// provider is dropped (`worker::spill::TempSpill` is one).
pub trait Spill: Send {
    /// A new, empty run to write. The indexer flushes and drops the writer when the run is
    /// complete, before it opens the run.
    fn create(&mut self, run: u64) -> io::Result<Box<dyn Write + Send>>;
    /// Reads a complete run from its start.
    fn open(&self, run: u64) -> io::Result<Box<dyn Read + Send>>;
    /// The run is no longer needed.
    fn remove(&mut self, run: u64) -> io::Result<()>;
}

/// Runs kept in memory: for tests (a build's spill path without files) and small builds. A
/// clone shares the runs, so a test can keep one to look at what the indexer did.
#[derive(Clone, Default)]
pub struct MemorySpill {
    shared: Arc<Mutex<Runs>>,
}

#[derive(Default)]
struct Runs {
    done: HashMap<u64, Arc<Vec<u8>>>,
    created: u64,
    bytes: u64,
}

impl MemorySpill {
    /// Empty storage.
    pub fn new() -> MemorySpill {
        MemorySpill::default()
    }

    /// Runs created so far (removed ones included).
    pub fn runs_created(&self) -> u64 {
        self.lock().created
    }

    /// Runs written and not removed yet.
    pub fn live_runs(&self) -> usize {
        self.lock().done.len()
    }

    /// Bytes written to all runs so far.
    pub fn bytes_written(&self) -> u64 {
        self.lock().bytes
    }

    fn lock(&self) -> MutexGuard<'_, Runs> {
        // A panic while holding the lock leaves plain data behind: still usable.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Spill for MemorySpill {
    fn create(&mut self, run: u64) -> io::Result<Box<dyn Write + Send>> {
        self.lock().created += 1;
        Ok(Box::new(MemoryRun {
            run,
            buf: Vec::new(),
            shared: Arc::clone(&self.shared),
        }))
    }

    fn open(&self, run: u64) -> io::Result<Box<dyn Read + Send>> {
        match self.lock().done.get(&run) {
            Some(bytes) => Ok(Box::new(Cursor::new(Bytes(Arc::clone(bytes))))),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("run {run} was never written"),
            )),
        }
    }

    fn remove(&mut self, run: u64) -> io::Result<()> {
        self.lock().done.remove(&run);
        Ok(())
    }
}

/// A run being written: stored when dropped.
struct MemoryRun {
    run: u64,
    buf: Vec<u8>,
    shared: Arc<Mutex<Runs>>,
}

impl Write for MemoryRun {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for MemoryRun {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.buf);
        let mut runs = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        runs.bytes += bytes.len() as u64;
        runs.done.insert(self.run, Arc::new(bytes));
    }
}

/// Shared run bytes, readable through a `Cursor`.
struct Bytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}
