//! CheckFeed's second core: the raw feed chunks are hashed (SHA-256 names the snapshot) and
//! checked for the gzip magic on one thread, then passed on to the indexer on another.
//!
//! Inflating is left to `feed`'s indexer, which inflates straight into its scanner's buffer;
//! a separate inflate thread was measured slower on the bench feed (one more copy of every
//! plain byte, and inflate is the cheaper half there). For a plain feed, hashing beside the
//! scanner keeps SHA-256 off the critical path.

use std::thread::JoinHandle;

use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc::{Receiver, Sender};

/// What the raw bytes were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    /// The stream began with the gzip magic bytes.
    pub gzipped: bool,
    /// Raw bytes seen.
    pub bytes: u64,
    /// SHA-256 of the raw bytes (hex).
    pub sha256: String,
}

/// Hashes `input` and forwards every chunk to `output`, on a thread of its own. If `output`
/// closes (the indexer failed), the rest is only hashed.
pub fn hash_and_forward(mut input: Receiver<Bytes>, output: Sender<Bytes>) -> JoinHandle<Raw> {
    std::thread::spawn(move || {
        let mut sha = Sha256::new();
        let mut head = Vec::with_capacity(2);
        let mut bytes = 0u64;
        let mut open = true;
        while let Some(chunk) = input.blocking_recv() {
            let want = 2usize.saturating_sub(head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..want]);
            bytes += chunk.len() as u64;
            sha.update(&chunk);
            open = open && output.blocking_send(chunk).is_ok();
        }
        Raw {
            gzipped: head == [0x1f, 0x8b],
            bytes,
            sha256: hex::encode(sha.finalize()),
        }
    })
}

/// Waits (off the async threads) for a [`hash_and_forward`] thread to end.
pub async fn wait(stage: JoinHandle<Raw>) -> Result<Raw, crate::JobError> {
    tokio::task::spawn_blocking(move || stage.join())
        .await
        .ok()
        .and_then(|joined| joined.ok())
        .ok_or_else(|| crate::JobError::Internal("the hashing thread failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_is_hashed_and_forwarded_in_order() {
        let data: Vec<u8> = [0x1f, 0x8b]
            .into_iter()
            .chain((0..50_000u32).map(|i| i as u8))
            .collect();
        for size in [1, 3, 4096] {
            let (in_tx, in_rx) = tokio::sync::mpsc::channel(4);
            let (out_tx, mut out_rx) = tokio::sync::mpsc::channel(4);
            let stage = hash_and_forward(in_rx, out_tx);
            let collector = std::thread::spawn(move || {
                let mut out = Vec::new();
                while let Some(c) = out_rx.blocking_recv() {
                    out.extend_from_slice(&c);
                }
                out
            });
            for c in data.chunks(size) {
                in_tx.blocking_send(Bytes::copy_from_slice(c)).unwrap();
            }
            drop(in_tx);
            let raw = stage.join().unwrap();
            assert!(collector.join().unwrap() == data);
            assert!(raw.gzipped);
            assert_eq!(raw.bytes, data.len() as u64);
            assert_eq!(raw.sha256, hex::encode(Sha256::digest(&data)));
        }
    }
}
