//! Blocking adapters for threads that do CPU work on store objects through `std::io`:
//! [`BlockingReader`] reads an object ([`Read`] over an [`ObjectReader`]) and
//! [`BlockingUpload`] writes one ([`Write`] into an [`Upload`]), so that `feed`'s index readers
//! and writers, which take `std::io` streams, work on objects of any size without holding them.
//!
//! They drive the async store with [`Handle::block_on`], so they belong on a blocking thread
//! (`tokio::task::spawn_blocking` or a thread of one's own), never on a runtime worker thread,
//! where `block_on` is not allowed. Store errors travel inside the `io::Error`s they return;
//! [`into_store_error`] takes them out again, so a caller can still tell a throttled store
//! (worth a retry) from damaged bytes.

use std::io::{self, Read, Write};

use bytes::Bytes;
use tokio::io::AsyncReadExt as _;
use tokio::runtime::Handle;

use crate::{ObjectReader, Store, StoreError, Upload};

/// The store error an `io::Error` of these adapters carries, or the `io::Error` itself when it
/// carries none.
pub fn into_store_error(e: io::Error) -> Result<StoreError, io::Error> {
    if !e.get_ref().is_some_and(|inner| inner.is::<StoreError>()) {
        return Err(e);
    }
    match e.into_inner().map(|inner| inner.downcast::<StoreError>()) {
        Some(Ok(store)) => Ok(*store),
        // Not reached: checked above.
        _ => Err(io::Error::other("an error lost on its way")),
    }
}

/// An object read through [`Read`] on a blocking thread.
pub struct BlockingReader {
    inner: ObjectReader,
    handle: Handle,
}

impl BlockingReader {
    /// Reads `inner` with the runtime of `handle`.
    pub fn new(inner: ObjectReader, handle: Handle) -> BlockingReader {
        BlockingReader { inner, handle }
    }

    /// Opens `key` of `store` (on the runtime of `handle`) for reading.
    pub fn open(store: &Store, key: &str, handle: Handle) -> Result<BlockingReader, StoreError> {
        let inner = handle.block_on(store.read(key))?;
        Ok(BlockingReader::new(inner, handle))
    }
}

impl Read for BlockingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.handle.block_on(self.inner.read(buf))
    }
}

/// An [`Upload`] written through [`Write`] on a blocking thread. Take the upload back with
/// [`BlockingUpload::into_inner`] to finish it.
pub struct BlockingUpload {
    upload: Upload,
    handle: Handle,
}

impl BlockingUpload {
    /// Writes into `upload` with the runtime of `handle`.
    pub fn new(upload: Upload, handle: Handle) -> BlockingUpload {
        BlockingUpload { upload, handle }
    }

    /// The upload, to [`Upload::finish`] or [`Upload::abort`].
    pub fn into_inner(self) -> Upload {
        self.upload
    }
}

impl Write for BlockingUpload {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let chunk = Bytes::copy_from_slice(buf);
        self.handle
            .block_on(self.upload.write(chunk))
            .map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_read_and_written_through_std_io_on_a_blocking_thread() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let store = Store::File(crate::FileStore::new(dir.path()));
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let handle = rt.handle().clone();
        let (s, d) = (store.clone(), data.clone());
        let read_back = rt
            .block_on(rt.spawn_blocking(move || {
                let upload = handle.block_on(s.upload("staging/x")).unwrap();
                let mut w = BlockingUpload::new(upload, handle.clone());
                for piece in d.chunks(7_000) {
                    w.write_all(piece).unwrap();
                }
                handle.block_on(w.into_inner().finish("objects/x")).unwrap();
                let mut back = Vec::new();
                BlockingReader::open(&s, "objects/x", handle.clone())
                    .unwrap()
                    .read_to_end(&mut back)
                    .unwrap();
                let missing = BlockingReader::open(&s, "objects/none", handle);
                assert!(matches!(missing, Err(StoreError::NotFound { .. })));
                back
            }))
            .unwrap();
        assert!(read_back == data);
    }

    #[test]
    fn store_errors_are_found_in_io_errors() {
        let e = io::Error::other(StoreError::BadKey { key: "/x".into() });
        assert!(matches!(into_store_error(e), Ok(StoreError::BadKey { .. })));
        let plain = into_store_error(io::Error::new(io::ErrorKind::InvalidData, "plain"));
        assert_eq!(plain.unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
