//! Sorted runs of index entries in spill storage: their encoding (the index file's
//! prefix-compressed entries, plus each record's number and offset), a buffered reader, and the
//! k-way merge of several sorted sources.

use std::cmp::Ordering;
use std::io::{self, Read, Write};

use xxhash_rust::xxh3::Xxh3;

use super::window::Window;
use crate::varint;

/// Size of the read and write buffers of runs.
pub(super) const RUN_BUF: usize = 64 << 10;

/// One entry as runs and merges see it.
#[derive(Clone, Copy)]
pub(crate) struct EntryRef<'a> {
    pub(crate) id: &'a [u8],
    pub(crate) hash: [u8; 16],
    /// 1-based record number (ties between equal ids go to the earlier record).
    pub(crate) number: u64,
    /// Offset of the record in the uncompressed feed.
    pub(crate) offset: u64,
}

impl EntryRef<'_> {
    fn order(&self, other: &EntryRef<'_>) -> Ordering {
        self.id.cmp(other.id).then(self.number.cmp(&other.number))
    }
}

/// Appends one entry in the index file's form: the id front-coded ([`put_id`]), the hash.
pub(super) fn put_entry(out: &mut Vec<u8>, prev: &[u8], id: &[u8], hash: &[u8; 16]) {
    put_id(out, prev, id);
    out.extend_from_slice(hash);
}

/// Appends `id` front-coded: the length of the prefix it shares with `prev`, the length of the
/// rest, the rest.
pub(crate) fn put_id(out: &mut Vec<u8>, prev: &[u8], id: &[u8]) {
    let shared = common_prefix(prev, id);
    varint::put(out, shared as u64);
    varint::put(out, (id.len() - shared) as u64);
    out.extend_from_slice(&id[shared..]);
}

/// Length of the longest common prefix of `a` and `b`, compared 8 bytes at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let word = |s: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&s[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let diff = word(a) ^ word(b);
        if diff != 0 {
            return i + (diff.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// A run written to spill storage, as its readers check it.
#[derive(Clone, Copy)]
pub(super) struct Run {
    /// The run's number in spill storage.
    pub(super) id: u64,
    pub(super) entries: u64,
    pub(super) bytes: u64,
    /// xxh3-64 of its bytes.
    pub(super) checksum: u64,
}

/// Writes entries in order, buffered: in the index file's form (the body of a spilled index),
/// or with each record's number and offset after the hash (a run).
pub(super) struct RunWriter {
    w: Box<dyn Write + Send>,
    buf: Vec<u8>,
    prev: Vec<u8>,
    positions: bool,
    bytes: u64,
    entries: u64,
    hasher: Xxh3,
}

impl RunWriter {
    pub(super) fn new(w: Box<dyn Write + Send>, positions: bool) -> RunWriter {
        RunWriter {
            w,
            buf: Vec::with_capacity(RUN_BUF + 256),
            prev: Vec::new(),
            positions,
            bytes: 0,
            entries: 0,
            hasher: Xxh3::new(),
        }
    }

    pub(super) fn put(&mut self, e: &EntryRef<'_>) -> io::Result<()> {
        put_entry(&mut self.buf, &self.prev, e.id, &e.hash);
        if self.positions {
            varint::put(&mut self.buf, e.number);
            varint::put(&mut self.buf, e.offset);
        }
        self.prev.clear();
        self.prev.extend_from_slice(e.id);
        self.entries += 1;
        if self.buf.len() >= RUN_BUF {
            self.drain()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> io::Result<()> {
        self.hasher.update(&self.buf);
        self.w.write_all(&self.buf)?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is buffered and flushes: the run `id` it wrote.
    pub(super) fn finish(mut self, id: u64) -> io::Result<Run> {
        self.drain()?;
        self.w.flush()?;
        Ok(Run {
            id,
            entries: self.entries,
            bytes: self.bytes,
            checksum: self.hasher.digest(),
        })
    }
}

/// Reads back a run written by a [`RunWriter`] with positions, and checks it is what was
/// written.
pub(super) struct RunReader {
    r: Box<dyn Read + Send>,
    win: Window,
    run: Run,
    /// Entries not read yet.
    left: u64,
    hasher: Xxh3,
    /// Bytes of the window's buffer before this index are already hashed.
    hashed: usize,
    id: Vec<u8>,
    hash: [u8; 16],
    number: u64,
    offset: u64,
}

/// Longest entry head or tail: two varints.
const VARINTS: usize = 20;

impl RunReader {
    pub(super) fn new(r: Box<dyn Read + Send>, run: Run) -> RunReader {
        RunReader {
            r,
            win: Window::new(RUN_BUF),
            run,
            left: run.entries,
            hasher: Xxh3::new(),
            hashed: 0,
            id: Vec::new(),
            hash: [0; 16],
            number: 0,
            offset: 0,
        }
    }

    pub(super) fn current(&self) -> EntryRef<'_> {
        EntryRef {
            id: &self.id,
            hash: self.hash,
            number: self.number,
            offset: self.offset,
        }
    }

    /// Moves to the next entry; false after the last (and the run must end there).
    pub(super) fn advance(&mut self) -> io::Result<bool> {
        if self.left == 0 {
            if self.fill(1)? {
                return Err(self.damaged("bytes after the last entry"));
            }
            self.hasher.update(&self.win.buf[self.hashed..self.win.pos]);
            self.hashed = self.win.pos;
            if self.hasher.digest() != self.run.checksum {
                return Err(self.damaged("its checksum does not match"));
            }
            return Ok(false);
        }
        self.fill(VARINTS)?;
        let shared = self.varint()? as usize;
        let suffix = self.varint()? as usize;
        if shared > self.id.len() || suffix > super::MAX_ID_BYTES {
            return Err(self.damaged("impossible id length"));
        }
        if !self.fill(suffix + 16 + VARINTS)? && self.win.unread().len() < suffix + 16 {
            return Err(self.damaged("it ends early"));
        }
        self.id.truncate(shared);
        self.id.extend_from_slice(&self.win.unread()[..suffix]);
        self.win.pos += suffix;
        self.hash.copy_from_slice(&self.win.unread()[..16]);
        self.win.pos += 16;
        self.number = self.varint()?;
        self.offset = self.varint()?;
        self.left -= 1;
        Ok(true)
    }

    fn damaged(&self, why: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("spilled run {} reads back damaged: {why}", self.run.id),
        )
    }

    fn varint(&mut self) -> io::Result<u64> {
        varint::get(&self.win.buf[..self.win.end], &mut self.win.pos)
            .ok_or_else(|| self.damaged("bad number"))
    }

    /// Makes `n` unread bytes available if the run has them; false when it ends first.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        let (hasher, hashed) = (&mut self.hasher, &mut self.hashed);
        self.win.fill(&mut self.r, n, |gone| {
            hasher.update(&gone[*hashed..]);
            *hashed = 0;
        })
    }
}

/// Entries in sorted order, one at a time.
pub(crate) trait Sorted {
    /// The current entry (after `advance` returned true).
    fn current(&self) -> EntryRef<'_>;
    /// Moves to the next entry; false at the end.
    fn advance(&mut self) -> io::Result<bool>;
}

impl Sorted for RunReader {
    fn current(&self) -> EntryRef<'_> {
        RunReader::current(self)
    }

    fn advance(&mut self) -> io::Result<bool> {
        RunReader::advance(self)
    }
}

/// Merges sorted sources into one sorted stream (by id, then record number), calling `out` for
/// each entry. `io` turns a source's read error into the caller's error.
pub(crate) fn merge<E>(
    sources: Vec<Box<dyn Sorted + '_>>,
    io: &dyn Fn(io::Error) -> E,
    out: &mut dyn FnMut(&EntryRef<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut live = Vec::with_capacity(sources.len());
    for mut s in sources {
        if s.advance().map_err(io)? {
            live.push(s);
        }
    }
    // A binary min-heap of indexes into `live`.
    let mut heap: Vec<usize> = (0..live.len()).collect();
    let less = |live: &[Box<dyn Sorted + '_>], a: usize, b: usize| {
        live[a].current().order(&live[b].current()) == Ordering::Less
    };
    for i in (0..heap.len() / 2).rev() {
        sift_down(&mut heap, i, &|a, b| less(&live, a, b));
    }
    while let Some(&top) = heap.first() {
        out(&live[top].current())?;
        if !live[top].advance().map_err(io)? {
            heap.swap_remove(0);
        }
        sift_down(&mut heap, 0, &|a, b| less(&live, a, b));
    }
    Ok(())
}

fn sift_down(heap: &mut [usize], mut i: usize, less: &dyn Fn(usize, usize) -> bool) {
    loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut min = i;
        if l < heap.len() && less(heap[l], heap[min]) {
            min = l;
        }
        if r < heap.len() && less(heap[r], heap[min]) {
            min = r;
        }
        if min == i {
            return;
        }
        heap.swap(i, min);
        i = min;
    }
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn common_prefix_at_every_length() {
        let a: Vec<u8> = (0..40).collect();
        for len in 0..=40 {
            for cut in 0..=len {
                let mut b = a[..len].to_vec();
                if cut < len {
                    b[cut] ^= 0x80;
                }
                assert_eq!(common_prefix(&a, &b), cut, "len {len}, cut {cut}");
                assert_eq!(common_prefix(&b, &a), cut);
            }
        }
    }
}
