//! [`Window`]: a read buffer that keeps the unread part of its source in view, for the decoders
//! of index files and spilled runs.

use std::io::{self, Read};

/// Bytes read from a source: `buf[pos..end]` are read but not consumed yet.
pub(super) struct Window {
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
    pub(super) end: usize,
    /// The source reported its end.
    eof: bool,
}

impl Window {
    pub(super) fn new(capacity: usize) -> Window {
        Window {
            buf: vec![0; capacity],
            pos: 0,
            end: 0,
            eof: false,
        }
    }

    /// The bytes read and not consumed.
    pub(super) fn unread(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Makes at least `n` unread bytes available if the source has them; false when it ends
    /// first. When it must move the unread bytes to the front, `dropping` first sees the
    /// consumed bytes that go.
    pub(super) fn fill(
        &mut self,
        r: &mut dyn Read,
        n: usize,
        dropping: impl FnOnce(&[u8]),
    ) -> io::Result<bool> {
        if self.end - self.pos >= n {
            return Ok(true);
        }
        dropping(&self.buf[..self.pos]);
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        if self.buf.len() < n {
            self.buf.resize(n.next_power_of_two(), 0);
        }
        while self.end < n && !self.eof {
            match r.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.pos >= n)
    }
}
