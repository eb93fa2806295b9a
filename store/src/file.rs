//! The `file://DIR` store: objects are files under `DIR`, keys are relative paths.
//!
//! Every write goes to a temporary file next to its target, is flushed to disk and renamed into
//! place, so a reader sees the old object or the new one, never a part. Conditional writes hold
//! as they do on S3: "create only if absent" hard-links the finished temporary file to the key
//! (the link fails if anything is there), and "replace only this version" holds a lock file
//! (`KEY.lock`, created exclusively) while it compares the current version and renames. A lock
//! left behind by a dead process is broken after [`STALE_LOCK`]. Versions are SHA-256 digests
//! of the content.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt;

use crate::{Condition, Meta, Object, ObjectReader, StoreError, Version};

/// Age after which a lock file is taken to be left by a dead process.
pub const STALE_LOCK: Duration = Duration::from_secs(30);

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A store in a local folder.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

fn io_err(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StoreError {
    let location = path.display().to_string();
    move |source| StoreError::Io {
        location,
        op,
        source,
    }
}

fn version_of(bytes: &[u8]) -> Version {
    Version(hex::encode(&Sha256::digest(bytes)[..16]))
}

fn temp_path(target: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(StoreError::Io {
            location: "(file store worker thread)".into(),
            op: "join",
            source: std::io::Error::other(e.to_string()),
        }),
    }
}

impl FileStore {
    /// A store rooted at `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> FileStore {
        FileStore { root: root.into() }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `file://ROOT`.
    pub fn url(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Object, StoreError> {
        let path = self.path(key);
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Object {
                version: version_of(&bytes),
                bytes: bytes.into(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound {
                location: path.display().to_string(),
            }),
            Err(e) => Err(io_err(&path, "read")(e)),
        }
    }

    pub(crate) async fn read(&self, key: &str) -> Result<ObjectReader, StoreError> {
        let path = self.path(key);
        match tokio::fs::File::open(&path).await {
            Ok(f) => Ok(Box::pin(tokio::io::BufReader::with_capacity(1 << 20, f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound {
                location: path.display().to_string(),
            }),
            Err(e) => Err(io_err(&path, "open")(e)),
        }
    }

    /// Size and version without holding the object: the content hash is computed over a
    /// 1 MiB buffer, so a head of a 500 MB snapshot costs a read of it, not its size in memory.
    pub(crate) async fn head(&self, key: &str) -> Result<Option<Meta>, StoreError> {
        let path = self.path(key);
        blocking(move || {
            let mut file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_err(&path, "open")(e)),
            };
            let mut sha = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut size = 0u64;
            loop {
                let n = std::io::Read::read(&mut file, &mut buf).map_err(io_err(&path, "read"))?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                sha.update(&buf[..n]);
            }
            Ok(Some(Meta {
                size,
                version: Version(hex::encode(&sha.finalize()[..16])),
            }))
        })
        .await
    }

    pub(crate) async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        condition: Condition,
    ) -> Result<Version, StoreError> {
        let target = self.path(key);
        blocking(move || {
            let version = version_of(&bytes);
            let temp = write_temp(&target, &bytes)?;
            let placed = place(&temp, &target, &condition);
            // Gone after a rename; a leftover after a link or a refusal.
            let _ = std::fs::remove_file(&temp);
            placed.map(|()| version)
        })
        .await
    }

    pub(crate) async fn upload(&self, staging: &str) -> Result<FileUpload, StoreError> {
        let staging = self.path(staging);
        let temp = temp_path(&staging);
        if let Some(dir) = temp.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(io_err(dir, "create folder"))?;
        }
        let file = tokio::fs::File::create(&temp)
            .await
            .map_err(io_err(&temp, "create"))?;
        Ok(FileUpload {
            root: self.root.clone(),
            writer: tokio::io::BufWriter::with_capacity(1 << 20, file),
            temp,
            len: 0,
        })
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path, "delete")(e)),
        }
    }

    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let root = self.root.clone();
        let prefix = prefix.to_string();
        blocking(move || {
            let mut out = Vec::new();
            // Walk the deepest folder the prefix names, then filter by the full prefix.
            let dir_part = prefix.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            walk(&root, &root.join(dir_part), &mut out)?;
            out.retain(|k| k.starts_with(&prefix));
            Ok(out)
        })
        .await
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir, "list")(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir, "list"))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // temporary files and locks
        }
        let kind = entry.file_type().map_err(io_err(&path, "stat"))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if !name.ends_with(".lock") {
            if let Ok(rel) = path.strip_prefix(root) {
                let key: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(key.join("/"));
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to a fresh temporary file next to `target`, flushed to disk.
fn write_temp(target: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir, "create folder"))?;
    }
    let temp = temp_path(target);
    let mut f = std::fs::File::create(&temp).map_err(io_err(&temp, "create"))?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io_err(&temp, "write")(e));
    }
    Ok(temp)
}

/// Moves the finished temporary file `temp` to `target` if `condition` holds (renamed, or
/// linked for [`Condition::IfAbsent`]; the caller removes what is left of `temp`).
fn place(temp: &Path, target: &Path, condition: &Condition) -> Result<(), StoreError> {
    let refused = || StoreError::PreconditionFailed {
        location: target.display().to_string(),
    };
    match condition {
        Condition::Always => std::fs::rename(temp, target).map_err(io_err(target, "rename")),
        Condition::IfAbsent => match std::fs::hard_link(temp, target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(refused()),
            Err(e) => Err(io_err(target, "link")(e)),
        },
        Condition::IfMatch(expected) => {
            let _lock = Lock::acquire(target)?;
            let current = match std::fs::read(target) {
                Ok(bytes) => version_of(&bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(refused()),
                Err(e) => return Err(io_err(target, "read")(e)),
            };
            if &current != expected {
                return Err(refused());
            }
            std::fs::rename(temp, target).map_err(io_err(target, "rename"))
        }
    }
}

/// An exclusive lock file `KEY.lock`, removed on drop.
struct Lock {
    path: PathBuf,
}

impl Lock {
    fn acquire(target: &Path) -> Result<Lock, StoreError> {
        let mut name = target.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(Lock { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if std::time::Instant::now() > deadline {
                        return Err(io_err(&path, "lock")(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the lock file is held by another writer",
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(io_err(&path, "lock")(e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A streaming write into a temporary file of a [`FileStore`].
pub struct FileUpload {
    root: PathBuf,
    writer: tokio::io::BufWriter<tokio::fs::File>,
    temp: PathBuf,
    len: u64,
}

impl FileUpload {
    pub(crate) async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.writer
            .write_all(chunk)
            .await
            .map_err(io_err(&self.temp, "write"))?;
        self.len += chunk.len() as u64;
        Ok(())
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) async fn finish(mut self, key: &str) -> Result<(), StoreError> {
        self.writer
            .flush()
            .await
            .map_err(io_err(&self.temp, "write"))?;
        let file = self.writer.into_inner();
        file.sync_all().await.map_err(io_err(&self.temp, "sync"))?;
        drop(file);
        let target = self.root.join(key);
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(io_err(dir, "create folder"))?;
        }
        tokio::fs::rename(&self.temp, &target)
            .await
            .map_err(io_err(&target, "rename"))
    }

    pub(crate) async fn abort(self) -> Result<(), StoreError> {
        drop(self.writer);
        match tokio::fs::remove_file(&self.temp).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&self.temp, "delete")(e)),
        }
    }
}
