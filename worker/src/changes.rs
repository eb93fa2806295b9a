//! The manifest's change lists read as streams ([`ListReader`]): the parts of a list in order,
//! each an index file read through a small window ([`feed::index::IndexReader`] over the store
//! object), so memory does not grow with the number of changes. Each part's checksum is
//! verified when its end is read, and the entries read are counted against the manifest.
//!
//! [`PairDigest`] checks that the records extracted from the snapshot are exactly the ones the
//! upsert list names, with the same hashes, without holding either side.

use std::hash::{DefaultHasher, Hasher as _};

use feed::index::{IndexError, IndexReader};
use feed::RecordHash;
use store::blocking::{into_store_error, BlockingReader};
use store::layout::{ChangeList, Changes};
use store::{Store, StoreError};
use tokio::runtime::Handle;

use crate::error::JobError;

/// Reads one change list, part after part. Runs on a blocking thread (it drives the store
/// through `handle`).
pub struct ListReader {
    store: Store,
    handle: Handle,
    changes: Changes,
    list: ChangeList,
    /// Entries the manifest announces.
    expected: u64,
    /// The part being read (its key and reader), and the number of the next part.
    current: Option<(String, IndexReader<BlockingReader>)>,
    next_part: u64,
    read: u64,
}

impl ListReader {
    /// A reader of `list` of `changes`, which the manifest says has `expected` entries.
    pub fn new(
        store: Store,
        changes: &Changes,
        list: ChangeList,
        expected: u64,
        handle: Handle,
    ) -> ListReader {
        ListReader {
            store,
            handle,
            changes: changes.clone(),
            list,
            expected,
            current: None,
            next_part: 0,
            read: 0,
        }
    }

    /// Moves to the next entry; false at the end of the list, once its length matched the
    /// manifest.
    pub fn advance(&mut self) -> Result<bool, JobError> {
        loop {
            if let Some((key, reader)) = &mut self.current {
                match reader.advance() {
                    Ok(true) => {
                        self.read += 1;
                        return Ok(true);
                    }
                    Ok(false) => self.current = None,
                    Err(e) => return Err(part_error(&self.store, key, e)),
                }
            } else if self.next_part < self.changes.parts(self.list) {
                let key = self.changes.part(self.list, self.next_part);
                self.next_part += 1;
                let object = BlockingReader::open(&self.store, &key, self.handle.clone())?;
                let reader =
                    IndexReader::new(object).map_err(|e| part_error(&self.store, &key, e))?;
                self.current = Some((key, reader));
            } else if self.read != self.expected {
                return Err(JobError::State(format!(
                    "{}{}-*.idx: the change list holds {} entries, the manifest says {}",
                    self.store.location(&self.changes.prefix),
                    self.list.name(),
                    self.read,
                    self.expected
                )));
            } else {
                return Ok(false);
            }
        }
    }

    /// The current entry's id (after `advance` returned true).
    pub fn id(&self) -> &str {
        self.current.as_ref().map_or("", |(_, r)| r.id())
    }

    /// The current entry's record hash.
    pub fn hash(&self) -> RecordHash {
        self.current
            .as_ref()
            .map_or(RecordHash(0), |(_, r)| r.hash())
    }

    /// Reads the rest of the list into a digest.
    pub fn digest(mut self) -> Result<PairDigest, JobError> {
        let mut digest = PairDigest::default();
        while self.advance()? {
            digest.add(self.id(), self.hash());
        }
        Ok(digest)
    }
}

/// The error of reading part `key`: the store's, or damage named by the part's key.
fn part_error(store: &Store, key: &str, e: IndexError) -> JobError {
    let location = store.location(key);
    match e {
        IndexError::Io(io) => match into_store_error(io) {
            Ok(s) => JobError::Store(s),
            Err(source) => JobError::Store(StoreError::Io {
                location,
                op: "read",
                source,
            }),
        },
        damage => JobError::State(format!("{location}: {damage}")),
    }
}

/// An order-independent digest of (id, record hash) pairs with their count: equal for two
/// sequences of the same pairs in any order, different (but for a 2^-64 chance) otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairDigest {
    /// Pairs added.
    pub count: u64,
    sum: u64,
}

impl PairDigest {
    /// Adds a pair.
    pub fn add(&mut self, id: &str, hash: RecordHash) {
        // SipHash with fixed keys: the same in every process.
        let mut h = DefaultHasher::new();
        h.write(id.as_bytes());
        h.write_u128(hash.0);
        self.sum = self.sum.wrapping_add(h.finish());
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use feed::index::ListBuilder;

    /// Reads `list` to its end (or first error) on a blocking thread.
    async fn read_all(
        store: &Store,
        changes: &Changes,
        expected: u64,
    ) -> Result<Vec<String>, JobError> {
        let mut r = ListReader::new(
            store.clone(),
            changes,
            ChangeList::Deletes,
            expected,
            Handle::current(),
        );
        tokio::task::spawn_blocking(move || {
            let mut ids = Vec::new();
            while r.advance()? {
                ids.push(r.id().to_string());
            }
            Ok(ids)
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn lists_are_read_part_after_part_and_checked_against_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::File(store::FileStore::new(dir.path()));
        let changes = Changes {
            prefix: "c/".into(),
            upsert_parts: 0,
            delete_parts: 3,
        };
        let ids: Vec<String> = (0..25).map(|i| format!("id-{i:03}")).collect();
        for (n, part) in ids.chunks(10).enumerate() {
            let mut b = ListBuilder::new();
            for id in part {
                b.push(id, RecordHash(7)).unwrap();
            }
            let key = changes.part(ChangeList::Deletes, n as u64);
            let body = bytes::Bytes::from(b.take_bytes());
            store
                .put(&key, body, store::Condition::Always)
                .await
                .unwrap();
        }
        assert_eq!(read_all(&store, &changes, 25).await.unwrap(), ids);
        let short = read_all(&store, &changes, 26).await.unwrap_err();
        assert!(
            short
                .to_string()
                .contains("holds 25 entries, the manifest says 26"),
            "{short}"
        );
        let gone = Changes {
            delete_parts: 4,
            ..changes
        };
        let missing = read_all(&store, &gone, 35).await.unwrap_err();
        assert!(
            matches!(missing, JobError::Store(StoreError::NotFound { .. })),
            "{missing}"
        );
        assert!(
            missing.to_string().contains("deletes-000003.idx"),
            "{missing}"
        );
    }

    #[test]
    fn the_digest_ignores_order_and_sees_every_pair() {
        let pairs: Vec<(String, RecordHash)> = (0..100u128)
            .map(|i| (format!("JOB-{i}"), RecordHash(i)))
            .collect();
        let digest = |it: &mut dyn Iterator<Item = &(String, RecordHash)>| {
            let mut d = PairDigest::default();
            it.for_each(|(id, h)| d.add(id, *h));
            d
        };
        let all = digest(&mut pairs.iter());
        assert_eq!(all, digest(&mut pairs.iter().rev()));
        assert_eq!(all.count, 100);
        assert_ne!(all, digest(&mut pairs.iter().skip(1)));
        let mut other = pairs.clone();
        other[7].1 = RecordHash(1000);
        assert_ne!(all, digest(&mut other.iter()));
        other[7] = ("JOB-1000".into(), RecordHash(7));
        assert_ne!(all, digest(&mut other.iter()));
    }
}
