//! [`ListBuilder`]: small index files built from entries that arrive in id order, such as the
//! parts of a diff's change lists (the ids to upsert or delete, with their record hashes).
//!
//! The file is the index format of [`crate::index`] with `uncompressed_bytes` 0 and no build
//! description (there is no feed behind it); [`super::IndexReader`] reads it back. The builder holds the encoded entries
//! of one file in memory, so callers cut long lists into parts of a bounded length.

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::read::IndexError;
use super::runs::put_entry;
use super::{hash_entry, header, HEADER_LEN, MAX_ID_BYTES};
use crate::record::RecordHash;

/// Builds an index file from entries pushed in strictly increasing id order.
pub struct ListBuilder {
    body: Vec<u8>,
    prev: Vec<u8>,
    records: u64,
    hasher: Xxh3,
}

impl Default for ListBuilder {
    fn default() -> Self {
        ListBuilder::new()
    }
}

impl ListBuilder {
    /// An empty list.
    pub fn new() -> ListBuilder {
        ListBuilder {
            body: Vec::new(),
            prev: Vec::new(),
            records: 0,
            hasher: Xxh3::new(),
        }
    }

    /// Appends an entry. Its id must be non-empty, at most [`MAX_ID_BYTES`] long and greater
    /// (in byte order) than the previous one's; otherwise [`IndexError::Corrupt`] names the
    /// entry and nothing is appended.
    pub fn push(&mut self, id: &str, hash: RecordHash) -> Result<(), IndexError> {
        let id = id.as_bytes();
        let bad = |detail: &str| IndexError::Corrupt {
            entry: self.records,
            detail: detail.into(),
        };
        if id.is_empty() {
            return Err(bad("empty id"));
        }
        if id.len() > MAX_ID_BYTES {
            return Err(bad("id longer than 1 MiB"));
        }
        if self.records > 0 && id <= self.prev.as_slice() {
            return Err(bad("ids are not in strictly increasing order"));
        }
        let hash = hash.to_bytes();
        put_entry(&mut self.body, &self.prev, id, &hash);
        hash_entry(&mut self.hasher, id, &hash);
        self.prev.clear();
        self.prev.extend_from_slice(id);
        self.records += 1;
        Ok(())
    }

    /// Entries pushed since the list was started.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether no entry was pushed.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Length of the file [`ListBuilder::take_bytes`] would return.
    pub fn file_len(&self) -> usize {
        HEADER_LEN + self.body.len() + 8
    }

    /// The index file of the entries pushed so far; the builder starts an empty list.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.file_len());
        out.extend_from_slice(&header(self.records, 0, self.hasher.digest128(), 0));
        out.extend_from_slice(&self.body);
        let checksum = xxh3_64(&out);
        out.extend_from_slice(&checksum.to_le_bytes());
        self.body.clear();
        self.prev.clear();
        self.records = 0;
        self.hasher = Xxh3::new();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexReader;

    fn read(bytes: &[u8]) -> Vec<(String, RecordHash)> {
        let mut r = IndexReader::new(bytes).unwrap();
        assert_eq!(r.header().uncompressed_bytes, 0);
        let mut out = Vec::new();
        while r.advance().unwrap() {
            out.push((r.id().to_string(), r.hash()));
        }
        assert_eq!(r.header().records, out.len() as u64);
        out
    }

    #[test]
    fn lists_read_back_as_index_files_and_the_builder_starts_over() {
        let mut b = ListBuilder::new();
        let entries: Vec<(String, RecordHash)> = (0..300u128)
            .map(|i| (format!("JOB-{i:05}"), RecordHash(i * 7919)))
            .collect();
        for (id, h) in &entries[..200] {
            b.push(id, *h).unwrap();
        }
        assert_eq!(b.len(), 200);
        let first = b.take_bytes();
        assert_eq!(first.len(), {
            let mut again = ListBuilder::new();
            for (id, h) in &entries[..200] {
                again.push(id, *h).unwrap();
            }
            again.file_len()
        });
        assert!(b.is_empty());
        // A new list may start anywhere: it is a file of its own.
        for (id, h) in &entries[150..] {
            b.push(id, *h).unwrap();
        }
        let second = b.take_bytes();
        assert_eq!(read(&first), entries[..200]);
        assert_eq!(read(&second), entries[150..]);
        assert_eq!(read(&ListBuilder::new().take_bytes()), []);
    }

    #[test]
    fn the_feed_hash_is_the_one_an_index_of_the_same_entries_has() {
        let xml = b"<r><job><reference>b</reference></job><job><reference>a</reference></job></r>";
        let opts = crate::FeedOptions::new("job", crate::IdSource::Child("reference".into()));
        let index = crate::index::index_reader(&xml[..], &opts).unwrap();
        let mut b = ListBuilder::new();
        for (id, h) in index.entries().unwrap() {
            b.push(id, h).unwrap();
        }
        let r = IndexReader::new(&b.take_bytes()[..])
            .unwrap()
            .header()
            .feed_hash;
        assert_eq!(r, index.feed_hash());
    }

    #[test]
    fn out_of_order_empty_and_repeated_ids_are_refused() {
        let mut b = ListBuilder::new();
        b.push("b", RecordHash(1)).unwrap();
        for bad in ["a", "b", ""] {
            let e = b.push(bad, RecordHash(2)).unwrap_err();
            assert!(matches!(e, IndexError::Corrupt { entry: 1, .. }), "{e}");
        }
        assert_eq!(b.len(), 1);
    }
}
