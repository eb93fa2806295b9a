//! A two-core pipeline stage: a feed's raw chunks in, its plain XML chunks out.
//!
//! Gzip cannot be split, so one thread inflates; the record scanner (`feed`'s indexer or
//! extractor) then runs on another core instead of inflating and scanning on one. [`to_plain`]
//! looks at the first two bytes: gzip goes through an inflate thread, plain XML is passed on as
//! it is. On the way every raw chunk can be hashed (CheckFeed names the snapshot by its
//! SHA-256), which for a plain feed is the work that runs beside the scanner.

use std::io::Read;
use std::thread::JoinHandle;

use bytes::{Bytes, BytesMut};
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc::{Receiver, Sender};

/// Size of the plain chunks the inflater sends.
const PLAIN_CHUNK: usize = 1 << 20;

/// What [`to_plain`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    /// The stream began with the gzip magic bytes.
    pub gzipped: bool,
    /// Raw bytes seen.
    pub bytes: u64,
    /// SHA-256 of the raw bytes (hex), when asked for.
    pub sha256: Option<String>,
}

/// Passes `input` on to `output` as plain XML (see the module documentation), hashing the raw
/// bytes if `hash`. Runs on its own thread; the inflater, when needed, on another. Stops early,
/// without error, when `output` is closed. An error is a corrupt gzip stream.
pub fn to_plain(
    mut input: Receiver<Bytes>,
    output: Sender<Bytes>,
    hash: bool,
) -> JoinHandle<std::io::Result<Raw>> {
    std::thread::spawn(move || {
        let mut sha = hash.then(Sha256::new);
        let mut raw = Raw {
            gzipped: false,
            bytes: 0,
            sha256: None,
        };
        let mut pending: Vec<Bytes> = Vec::new();
        let mut route: Option<Route> = None;
        let mut open = true;
        while let Some(chunk) = input.blocking_recv() {
            raw.bytes += chunk.len() as u64;
            if let Some(sha) = &mut sha {
                sha.update(&chunk);
            }
            pending.push(chunk);
            if route.is_none() {
                let head: Vec<u8> = pending
                    .iter()
                    .flat_map(|c| c.iter())
                    .take(2)
                    .copied()
                    .collect();
                if head.len() < 2 {
                    continue;
                }
                raw.gzipped = head == [0x1f, 0x8b];
                route = Some(Route::new(raw.gzipped, output.clone()));
            }
            if let Some(r) = &route {
                open = pending.drain(..).all(|c| r.send(c));
                if !open {
                    break;
                }
            }
        }
        if open {
            let r = route.get_or_insert_with(|| Route::new(false, output.clone()));
            for c in pending.drain(..) {
                r.send(c);
            }
        }
        drop(output);
        if let Some(Route::Inflate(tx, inflater)) = route {
            drop(tx);
            match inflater.join() {
                Ok(result) => result?,
                Err(_) => return Err(std::io::Error::other("the inflate thread panicked")),
            }
        }
        raw.sha256 = sha.map(|s| hex::encode(s.finalize()));
        Ok(raw)
    })
}

/// Waits (off the async threads) for a [`to_plain`] thread to end.
pub async fn wait(
    stage: JoinHandle<std::io::Result<Raw>>,
) -> Result<std::io::Result<Raw>, crate::JobError> {
    tokio::task::spawn_blocking(move || stage.join())
        .await
        .ok()
        .and_then(|joined| joined.ok())
        .ok_or_else(|| crate::JobError::Internal("the raw-chunk thread failed".into()))
}

/// Where raw chunks go: straight on, or into the inflate thread.
enum Route {
    Plain(Sender<Bytes>),
    Inflate(
        std::sync::mpsc::SyncSender<Bytes>,
        JoinHandle<std::io::Result<()>>,
    ),
}

impl Route {
    fn new(gzipped: bool, output: Sender<Bytes>) -> Route {
        if !gzipped {
            return Route::Plain(output);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(16);
        let inflater = std::thread::spawn(move || inflate(rx, output));
        Route::Inflate(tx, inflater)
    }

    /// False when the receiving side has gone.
    fn send(&self, chunk: Bytes) -> bool {
        match self {
            Route::Plain(tx) => tx.blocking_send(chunk).is_ok(),
            Route::Inflate(tx, _) => tx.send(chunk).is_ok(),
        }
    }
}

/// Reads the chunks of a channel as one byte stream.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(chunk) => self.current = chunk,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Inflates (all members of) a gzip stream into plain chunks; stops when `output` closes.
fn inflate(rx: std::sync::mpsc::Receiver<Bytes>, output: Sender<Bytes>) -> std::io::Result<()> {
    let reader = ChannelReader {
        rx,
        current: Bytes::new(),
    };
    let mut gz =
        flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, reader));
    loop {
        let mut buf = BytesMut::zeroed(PLAIN_CHUNK);
        let mut filled = 0;
        while filled < buf.len() {
            let n = gz.read(&mut buf[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            return Ok(());
        }
        buf.truncate(filled);
        if output.blocking_send(buf.freeze()).is_err() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn run(chunks: Vec<Bytes>, hash: bool) -> (std::io::Result<Raw>, Vec<u8>) {
        let (in_tx, in_rx) = tokio::sync::mpsc::channel(4);
        let (out_tx, mut out_rx) = tokio::sync::mpsc::channel(4);
        let stage = to_plain(in_rx, out_tx, hash);
        let collector = std::thread::spawn(move || {
            let mut out = Vec::new();
            while let Some(c) = out_rx.blocking_recv() {
                out.extend_from_slice(&c);
            }
            out
        });
        for c in chunks {
            in_tx.blocking_send(c).unwrap();
        }
        drop(in_tx);
        let raw = stage.join().unwrap();
        (raw, collector.join().unwrap())
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_passes_through_and_gzip_is_inflated_whatever_the_chunking() {
        let text: Vec<u8> = (0..40_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut two_members = gz(&text[..70_000]);
        two_members.extend(gz(&text[70_000..]));
        for (input, gzipped) in [(text.clone(), false), (two_members, true)] {
            for size in [1, 3, 4096, 1 << 20] {
                let chunks = input.chunks(size).map(Bytes::copy_from_slice).collect();
                let (raw, out) = run(chunks, true);
                let raw = raw.unwrap();
                assert!(out == text, "size {size}");
                assert_eq!(raw.gzipped, gzipped);
                assert_eq!(raw.bytes, input.len() as u64);
                assert_eq!(raw.sha256.unwrap(), hex::encode(Sha256::digest(&input)));
            }
        }
        let (raw, out) = run(vec![Bytes::from_static(b"<")], false);
        assert_eq!((raw.unwrap().gzipped, out), (false, b"<".to_vec()));
        let (raw, out) = run(vec![], false);
        assert_eq!((raw.unwrap().bytes, out.len()), (0, 0));
    }

    #[test]
    fn a_corrupt_gzip_stream_is_an_error() {
        let mut bad = gz(b"<feed><job/></feed>");
        let n = bad.len();
        bad[n / 2] ^= 0xff;
        bad.truncate(n - 3);
        let (raw, _) = run(vec![Bytes::from(bad)], false);
        assert!(raw.is_err());
    }
}
