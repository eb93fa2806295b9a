//! Where the decoder's uncompressed bytes go: straight into the splitter on the same thread
//! ([`Direct`]), or in blocks over a bounded channel to a splitter on another thread
//! ([`BlockSink`] and [`consume`]): the 2-thread inflate | split pipeline.
//!
//! Inflate is the floor (one core, about 1.4 GB/s here); splitting costs about half of that
//! again, so on two cores the pipeline makes the whole pass nearly as fast as inflate alone.
//! Results are the same either way: the splitter sees the same bytes in the same order, and a
//! decoder error reaches the splitter's side after all bytes before it, which names its record.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use crate::error::{ErrorKind, FeedError};
use crate::gzip::Decoder;
use crate::options::FeedOptions;
use crate::split::{Emit, Splitter};

/// Receiver of uncompressed bytes.
pub(crate) trait Sink {
    /// A buffer with at least `want` bytes of spare capacity to append to.
    fn buffer(&mut self, want: usize) -> &mut Vec<u8>;
    /// The buffer grew from `old_len`: take the new bytes.
    fn filled(&mut self, old_len: usize) -> Result<(), FeedError>;
    /// Uncompressed bytes so far and the record being read, if known here.
    fn position(&self) -> (u64, Option<u64>);
}

/// The splitter itself, on the decoder's thread.
pub(crate) struct Direct<'a, 'e> {
    pub(crate) split: &'a mut Splitter,
    pub(crate) emit: &'a mut Emit<'e>,
}

impl Sink for Direct<'_, '_> {
    fn buffer(&mut self, want: usize) -> &mut Vec<u8> {
        self.split.append_buffer(want)
    }

    fn filled(&mut self, _old_len: usize) -> Result<(), FeedError> {
        self.split.filled(self.emit)
    }

    fn position(&self) -> (u64, Option<u64>) {
        (self.split.stream_len(), self.split.current_record())
    }
}

/// Size of the blocks sent between the threads.
const BLOCK: usize = 1 << 20;
/// Free room at the front of each block, where the splitter puts its unfinished tail before
/// adopting the block as its buffer (so blocks are not copied).
const HEADROOM: usize = 64 << 10;
/// Blocks in flight.
const IN_FLIGHT: usize = 4;

/// What the decoder's thread sends.
pub(crate) enum Msg {
    Data(Vec<u8>),
    /// The input ended: the decoder's result and its counts.
    End(Result<DecoderCounts, FeedError>),
}

/// The decoder's counts at the end of the input.
#[derive(Clone, Copy)]
pub(crate) struct DecoderCounts {
    pub(crate) input_bytes: u64,
    pub(crate) gzip: bool,
    pub(crate) members: u32,
}

impl DecoderCounts {
    pub(crate) fn of(d: &Decoder) -> DecoderCounts {
        DecoderCounts {
            input_bytes: d.consumed(),
            gzip: d.is_gzip(),
            members: d.members(),
        }
    }
}

/// The sending half: fills blocks and sends them when full.
pub(crate) struct BlockSink {
    block: Vec<u8>,
    tx: SyncSender<Msg>,
    recycled: Receiver<Vec<u8>>,
    produced: u64,
}

/// The receiving half's channel ends.
pub(crate) struct BlockSource {
    rx: Receiver<Msg>,
    recycle: SyncSender<Vec<u8>>,
}

/// A connected pair.
pub(crate) fn block_channel() -> (BlockSink, BlockSource) {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    let (recycle, recycled) = sync_channel(IN_FLIGHT + 2);
    (
        BlockSink {
            block: new_block(Vec::new()),
            tx,
            recycled,
            produced: 0,
        },
        BlockSource { rx, recycle },
    )
}

/// An empty block (reusing `v`'s allocation): `HEADROOM` bytes of free room, then data.
fn new_block(mut v: Vec<u8>) -> Vec<u8> {
    v.clear();
    v.reserve(HEADROOM + BLOCK + crate::gzip::STEP);
    v.resize(HEADROOM, 0);
    v
}

/// The error a sender sees when the splitter's side stopped (it holds the real error).
/// (A broken pipe: the decoder then checks the gzip member it was in, see [`crate::gzip`].)
fn hung_up(offset: u64) -> FeedError {
    FeedError::at(
        ErrorKind::Read(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "the record splitter stopped",
        )),
        offset,
    )
}

/// The error of a two-thread read: the splitter's side's, unless the decoder found the gzip
/// data it was reading corrupt (then the XML error was the damage's effect).
pub(crate) fn prefer_damage(decoder: Option<FeedError>, splitter: FeedError) -> FeedError {
    if matches!(splitter.kind, ErrorKind::CorruptGzip { .. }) {
        // The decoder's own error, passed on by the splitter's side (with its record).
        return splitter;
    }
    match decoder {
        Some(d) if matches!(d.kind, ErrorKind::CorruptGzip { .. }) => {
            crate::gzip::with_cause(d, &splitter)
        }
        _ => splitter,
    }
}

impl BlockSink {
    /// Sends the last block and the decoder's result.
    pub(crate) fn end(mut self, result: Result<DecoderCounts, FeedError>) {
        if self.block.len() > HEADROOM {
            let _ = self.tx.send(Msg::Data(std::mem::take(&mut self.block)));
        }
        let _ = self.tx.send(Msg::End(result));
    }
}

impl Sink for BlockSink {
    fn buffer(&mut self, want: usize) -> &mut Vec<u8> {
        self.block.reserve(want);
        &mut self.block
    }

    fn filled(&mut self, old_len: usize) -> Result<(), FeedError> {
        self.produced += (self.block.len() - old_len) as u64;
        if self.block.len() >= HEADROOM + BLOCK {
            let next = new_block(self.recycled.try_recv().unwrap_or_default());
            let full = std::mem::replace(&mut self.block, next);
            self.tx
                .send(Msg::Data(full))
                .map_err(|_| hung_up(self.produced))?;
        }
        Ok(())
    }

    fn position(&self) -> (u64, Option<u64>) {
        (self.produced, None)
    }
}

/// The splitter's side: takes blocks until the end message, and returns the decoder's counts.
/// A decoder error is returned after every byte before it was scanned, with the record it
/// happened in.
pub(crate) fn consume(
    src: BlockSource,
    split: &mut Splitter,
    emit: &mut Emit<'_>,
) -> Result<DecoderCounts, FeedError> {
    loop {
        match src.rx.recv() {
            Ok(Msg::Data(block)) => {
                let spare = split.adopt(block, HEADROOM);
                let _ = src.recycle.try_send(spare);
                split.filled(emit)?;
            }
            Ok(Msg::End(Ok(counts))) => return Ok(counts),
            Ok(Msg::End(Err(e))) => {
                return Err(match split.current_record() {
                    Some(n) => e.in_record(n, None),
                    None => e,
                })
            }
            Err(_) => return Err(hung_up(split.stream_len())),
        }
    }
}

/// A push-style pipeline: the caller's thread inflates what it pushes, a worker thread splits
/// and does `work`'s part, and returns its result when the input ends.
pub(crate) struct Piped<T> {
    decoder: Decoder,
    sink: Option<BlockSink>,
    worker: Option<JoinHandle<Result<T, FeedError>>>,
}

impl<T: Send + 'static> Piped<T> {
    /// Starts the worker thread; `work` gets the blocks and a splitter. Err: no thread.
    pub(crate) fn spawn(
        opts: &FeedOptions,
        work: impl FnOnce(BlockSource, Splitter) -> Result<T, FeedError> + Send + 'static,
    ) -> std::io::Result<Piped<T>> {
        let (sink, src) = block_channel();
        let split = Splitter::new(opts);
        let worker = std::thread::Builder::new()
            .name("feed-split".into())
            .spawn(move || work(src, split))?;
        Ok(Piped {
            decoder: Decoder::new(),
            sink: Some(sink),
            worker: Some(worker),
        })
    }

    /// The next chunk of input. On an error the pipeline is spent; the error is the worker's
    /// when it stopped first (or when it names the record a decoder error happened in), unless
    /// the gzip data it stopped in is corrupt.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), FeedError> {
        let Some(sink) = self.sink.as_mut() else {
            return Err(spent());
        };
        match self.decoder.push(bytes, sink) {
            Ok(()) => Ok(()),
            Err(e) => Err(match self.end(Err(e)) {
                Err(e) => e,
                Ok(_) => spent(),
            }),
        }
    }

    /// The end of the input: the worker's result.
    pub(crate) fn finish(mut self) -> Result<T, FeedError> {
        let Some(sink) = self.sink.as_mut() else {
            return Err(spent());
        };
        let end = self
            .decoder
            .finish(sink)
            .map(|()| DecoderCounts::of(&self.decoder));
        self.end(end)
    }

    fn end(&mut self, result: Result<DecoderCounts, FeedError>) -> Result<T, FeedError> {
        // Kept when the worker may have stopped first (then this is its hang-up, or damage).
        let mut damage = None;
        let result = match result {
            Err(e) if matches!(e.kind, ErrorKind::CorruptGzip { .. }) => {
                damage = Some(FeedError {
                    kind: ErrorKind::CorruptGzip {
                        detail: match &e.kind {
                            ErrorKind::CorruptGzip { detail } => detail.clone(),
                            _ => String::new(),
                        },
                    },
                    location: e.location.clone(),
                });
                Err(e)
            }
            other => other,
        };
        if let Some(sink) = self.sink.take() {
            sink.end(result);
        }
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => Err(prefer_damage(damage, e)),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(FeedError::at(
                ErrorKind::Read(std::io::Error::other("the record splitter thread panicked")),
                0,
            )),
            None => Err(spent()),
        }
    }
}

/// The error of a pipeline used after an error.
fn spent() -> FeedError {
    FeedError::at(
        ErrorKind::Read(std::io::Error::other("used after an error")),
        0,
    )
}
