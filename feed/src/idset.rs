//! [`IdSet`]: the compact, exact set of ids an extraction looks for, with each id taken at most
//! once.
//!
//! An extraction asks, for every record of a snapshot (millions), whether its id is wanted; the
//! wanted ids can be millions too (a feed whose every record changed). A `HashSet<String>` costs
//! about 60 to 90 bytes an id; this set costs about 6 bytes plus the id's front-coded length
//! (sorted ids share prefixes: `JOB-00012345` after `JOB-00012344` takes 3 bytes), so 2 million
//! ids like those take about 20 MiB, and 1 million 36-byte UUIDs about 40 MiB. Building it
//! sorts 65,536 ids at a time into front-coded runs and merges them, so it holds about the
//! set's size again until it is built. Memory still grows with the number of wanted ids, never
//! with the feed.
//!
//! Layout: the ids sorted and front-coded in blocks of 16 (each block starts with a whole id,
//! found by binary search), and a filter that answers most lookups without touching them: the
//! low 32 bits of each id's xxh3-64 hash, bucketed by its high bits (about 4 an id's bucket).
//! A record whose id is not wanted costs one hash and a scan of its bucket; a wanted one (and
//! the rare filter false positive) also a binary search.

use std::io;

use xxhash_rust::xxh3::xxh3_64;

use crate::index::{merge, put_id, EntryRef, Sorted};
use crate::varint;

/// Ids a block holds; the first is stored whole.
const BLOCK: usize = 16;
/// Ids sorted at once while building (then merged).
const CHUNK_IDS: usize = 1 << 16;

/// A set of ids, built once; see the module documentation.
pub struct IdSet {
    /// Front-coded ids in order: `shared` varint, `suffix_len` varint, suffix bytes.
    data: Vec<u8>,
    /// Offset in `data` of each block's first id.
    blocks: Vec<u64>,
    len: usize,
    /// Bucket `b`'s fingerprints are `fingerprints[dir[b]..dir[b + 1]]`.
    dir: Vec<u32>,
    fingerprints: Vec<u32>,
    /// Bucket of a hash: `hash >> shift`.
    shift: u32,
    /// Ids taken, by position in sorted order.
    taken: Vec<u64>,
    remaining: usize,
    scratch: Vec<u8>,
}

impl IdSet {
    /// The set of these ids (duplicates count once).
    pub fn new<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> IdSet {
        let mut runs = Vec::new();
        let mut chunk = Chunk::default();
        for id in ids {
            chunk.push(id.as_ref().as_bytes());
            if chunk.ends.len() == CHUNK_IDS {
                runs.push(chunk.sorted_run());
            }
        }
        if !chunk.ends.is_empty() {
            runs.push(chunk.sorted_run());
        }
        drop(chunk);
        let mut set = IdSet {
            data: Vec::new(),
            blocks: Vec::new(),
            len: 0,
            dir: Vec::new(),
            fingerprints: Vec::new(),
            shift: 63,
            taken: Vec::new(),
            remaining: 0,
            scratch: Vec::new(),
        };
        let sources: Vec<Box<dyn Sorted + '_>> = runs
            .iter()
            .map(|r| -> Box<dyn Sorted + '_> { Box::new(RunCursor::new(r)) })
            .collect();
        let mut prev = Vec::new();
        // In-memory runs cannot fail to read: the merge cannot fail.
        let _ = merge(sources, &|e: io::Error| e, &mut |e| {
            if set.len == 0 || e.id != prev.as_slice() {
                set.push_sorted(&prev, e.id);
                prev.clear();
                prev.extend_from_slice(e.id);
            }
            Ok(())
        });
        drop(runs);
        set.data.shrink_to_fit();
        set.build_filter();
        set
    }

    fn push_sorted(&mut self, prev: &[u8], id: &[u8]) {
        let prev = if self.len.is_multiple_of(BLOCK) {
            self.blocks.push(self.data.len() as u64);
            &[]
        } else {
            prev
        };
        put_id(&mut self.data, prev, id);
        self.len += 1;
    }

    /// Fills the filter from the ids in `data`.
    fn build_filter(&mut self) {
        let bits = (self.len.div_ceil(4).max(2))
            .next_power_of_two()
            .trailing_zeros();
        self.shift = 64 - bits;
        let buckets = 1usize << bits;
        let mut counts = vec![0u32; buckets + 1];
        self.each(|h| counts[(h >> (64 - bits)) as usize + 1] += 1);
        for b in 0..buckets {
            counts[b + 1] += counts[b];
        }
        let mut next = counts.clone();
        let mut fingerprints = vec![0u32; self.len];
        self.each(|h| {
            let slot = &mut next[(h >> (64 - bits)) as usize];
            fingerprints[*slot as usize] = h as u32;
            *slot += 1;
        });
        self.dir = counts;
        self.fingerprints = fingerprints;
        self.taken = vec![0; self.len.div_ceil(64)];
        self.remaining = self.len;
    }

    /// Calls `f` with the hash of every id, in order.
    fn each(&self, mut f: impl FnMut(u64)) {
        let mut id = Vec::new();
        let mut at = 0;
        for _ in 0..self.len {
            at = decode(&self.data, at, &mut id);
            f(xxh3_64(&id));
        }
    }

    /// Number of ids in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set has no ids.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Ids not taken yet.
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    /// Memory the set holds, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.data.capacity()
            + self.blocks.capacity() * 8
            + self.dir.capacity() * 4
            + self.fingerprints.capacity() * 4
            + self.taken.capacity() * 8
    }

    /// Whether `id` is in the set (taken or not; `&mut` for a scratch buffer).
    pub fn contains(&mut self, id: &str) -> bool {
        self.position(id.as_bytes()).is_some()
    }

    /// Takes `id` out: true when it is in the set and was not taken before.
    pub fn take(&mut self, id: &str) -> bool {
        let Some(i) = self.position(id.as_bytes()) else {
            return false;
        };
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if self.taken[word] & bit != 0 {
            return false;
        }
        self.taken[word] |= bit;
        self.remaining -= 1;
        true
    }

    /// The first `limit` ids not taken, sorted (`usize::MAX`: all of them).
    pub fn missing(&self, limit: usize) -> Vec<String> {
        let mut out = Vec::with_capacity(self.remaining.min(limit));
        let mut id = Vec::new();
        let mut at = 0;
        for i in 0..self.len {
            if out.len() == limit {
                break;
            }
            at = decode(&self.data, at, &mut id);
            if self.taken[i / 64] & (1 << (i % 64)) == 0 {
                out.push(String::from_utf8_lossy(&id).into_owned());
            }
        }
        out
    }

    /// Position of `id` in sorted order, if present.
    fn position(&mut self, id: &[u8]) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let h = xxh3_64(id);
        let b = (h >> self.shift) as usize;
        let bucket = &self.fingerprints[self.dir[b] as usize..self.dir[b + 1] as usize];
        if !bucket.contains(&(h as u32)) {
            return None;
        }
        // The last block whose first id is <= id.
        let first = |k: usize| {
            let mut at = self.blocks[k] as usize;
            let _shared = varint::get(&self.data, &mut at);
            let n = varint::get(&self.data, &mut at).unwrap_or(0) as usize;
            &self.data[at..at + n]
        };
        let (mut lo, mut hi) = (0, self.blocks.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if first(mid) <= id {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let block = lo.checked_sub(1)?;
        let mut at = self.blocks[block] as usize;
        let end = (block + 1) * BLOCK;
        for i in block * BLOCK..end.min(self.len) {
            at = decode(&self.data, at, &mut self.scratch);
            match self.scratch.as_slice().cmp(id) {
                std::cmp::Ordering::Equal => return Some(i),
                std::cmp::Ordering::Greater => return None,
                std::cmp::Ordering::Less => {}
            }
        }
        None
    }
}

/// Ids pushed while building, sorted and front-coded into a run when full.
#[derive(Default)]
struct Chunk {
    arena: Vec<u8>,
    ends: Vec<u32>,
}

impl Chunk {
    fn push(&mut self, id: &[u8]) {
        self.arena.extend_from_slice(id);
        self.ends.push(self.arena.len() as u32);
    }

    fn span(&self, i: u32) -> &[u8] {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }

    /// The ids sorted, without duplicates, front-coded; the chunk is emptied.
    fn sorted_run(&mut self) -> (Vec<u8>, usize) {
        let mut order: Vec<u32> = (0..self.ends.len() as u32).collect();
        order.sort_unstable_by(|a, b| self.span(*a).cmp(self.span(*b)));
        order.dedup_by(|a, b| self.span(*a) == self.span(*b));
        let mut run = Vec::new();
        let mut prev: &[u8] = &[];
        for &i in &order {
            let id = self.span(i);
            put_id(&mut run, prev, id);
            prev = id;
        }
        self.arena.clear();
        self.ends.clear();
        (run, order.len())
    }
}

/// A run of sorted, front-coded ids as a merge source.
struct RunCursor<'a> {
    data: &'a [u8],
    at: usize,
    left: usize,
    id: Vec<u8>,
}

impl<'a> RunCursor<'a> {
    fn new(run: &'a (Vec<u8>, usize)) -> RunCursor<'a> {
        RunCursor {
            data: &run.0,
            at: 0,
            left: run.1,
            id: Vec::new(),
        }
    }
}

impl Sorted for RunCursor<'_> {
    fn current(&self) -> EntryRef<'_> {
        EntryRef {
            id: &self.id,
            hash: [0; 16],
            number: 0,
            offset: 0,
        }
    }

    fn advance(&mut self) -> io::Result<bool> {
        if self.left == 0 {
            return Ok(false);
        }
        self.left -= 1;
        self.at = decode(self.data, self.at, &mut self.id);
        Ok(true)
    }
}

/// Decodes the id at `at` into `id` (which holds the previous id): the offset after it.
fn decode(data: &[u8], mut at: usize, id: &mut Vec<u8>) -> usize {
    let shared = varint::get(data, &mut at).unwrap_or(0);
    let n = varint::get(data, &mut at).unwrap_or(0) as usize;
    id.truncate(shared as usize);
    id.extend_from_slice(&data[at..at + n]);
    at + n
}

#[cfg(test)]
mod tests {
    use super::IdSet;

    #[test]
    fn takes_each_id_once_and_lists_the_rest_sorted() {
        let ids: Vec<String> = (0..1000).map(|i| format!("JOB-{:08}", i * 7)).collect();
        let mut set = IdSet::new(ids.iter().rev().chain(ids.iter().take(10)));
        assert_eq!((set.len(), set.remaining()), (1000, 1000));
        for i in 0..7000 {
            let id = format!("JOB-{i:08}");
            assert_eq!(set.contains(&id), i % 7 == 0, "{id}");
        }
        assert!(!set.contains("JOB-0000000") && !set.contains("") && !set.contains("z"));
        for id in ids.iter().step_by(2) {
            assert!(set.take(id));
            assert!(!set.take(id), "taken twice");
        }
        assert_eq!(set.remaining(), 500);
        let missing = set.missing(usize::MAX);
        let want: Vec<String> = ids.iter().skip(1).step_by(2).cloned().collect();
        assert_eq!(missing, want);
        assert_eq!(set.missing(3), want[..3]);
    }

    #[test]
    fn ids_spread_over_many_sorted_chunks_merge_into_one_set() {
        // 200,000 ids, scattered, each given twice (in different chunks): 4 chunks and more.
        let n: u64 = 200_000;
        let scatter = |i: u64| (i * 7919) % n;
        let ids = (0..2 * n).map(|i| format!("R{}", scatter(i % n)));
        let mut set = IdSet::new(ids);
        assert_eq!(set.len(), n as usize);
        for i in (0..n).step_by(3) {
            assert!(set.take(&format!("R{i}")), "R{i}");
        }
        assert!(!set.contains(&format!("R{n}")));
        let missing = set.missing(usize::MAX);
        assert_eq!(missing.len() as u64, n - n.div_ceil(3));
        assert!(missing.windows(2).all(|w| w[0] < w[1]));
        assert!(missing
            .iter()
            .all(|m| m[1..].parse::<u64>().unwrap() % 3 != 0));
    }

    #[test]
    fn sequential_ids_take_about_ten_bytes_each() {
        let n = 100_000;
        let set = IdSet::new((0..n).map(|i| format!("JOB-{i:08}")));
        let per_id = set.heap_bytes() as f64 / n as f64;
        assert!((8.0..12.0).contains(&per_id), "{per_id} bytes an id");
    }

    #[test]
    fn empty_and_odd_ids() {
        let mut empty = IdSet::new(Vec::<String>::new());
        assert!(empty.is_empty() && !empty.take("a") && empty.missing(usize::MAX).is_empty());
        let odd = ["", "ü", "a\u{0}b", "a", "ab", &"x".repeat(300)];
        let mut set = IdSet::new(odd);
        assert_eq!(set.len(), 6);
        for id in odd {
            assert!(set.take(id), "{id:?}");
        }
        assert_eq!(set.remaining(), 0);
    }
}
