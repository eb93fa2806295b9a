//! The object store feedpipe keeps its snapshots, indexes, manifests and checkpoints in.
//!
//! One small interface, [`Store`], over `file://DIR` ([`file::FileStore`]: atomic temp-file +
//! rename writes, conditional writes with a hard link or a lock file) and `s3://bucket/prefix`
//! ([`s3::S3Store`]: aws-sdk-s3, streaming bodies, multipart upload, `If-None-Match`/`If-Match`
//! conditional writes, paginated listing), with the same keys under both (DESIGN.md §4).
//!
//! Keys are relative, `/`-separated and never contain `..`; a store's URL names its root.
//! [`layout`] names the keys feedpipe uses and the JSON documents stored under them.
//! [`blocking`] reads and writes objects through `std::io` from blocking threads.
#![deny(missing_docs)]

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use tokio::io::AsyncRead;

pub mod blocking;
pub mod file;
pub mod layout;
pub mod s3;
pub mod testing;

pub use file::FileStore;
pub use s3::S3Store;

/// A streaming reader over one object's bytes.
pub type ObjectReader = Pin<Box<dyn AsyncRead + Send>>;

/// An opaque version of an object: the S3 ETag, or a content hash under `file://`. Pass it back
/// in [`Condition::IfMatch`] to replace exactly that version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(pub String);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// When a write may happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Always (last writer wins).
    Always,
    /// Only if no object exists under the key (`If-None-Match: *`).
    IfAbsent,
    /// Only if the object is still at this version (`If-Match`).
    IfMatch(Version),
}

/// An object read whole, with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The bytes.
    pub bytes: Bytes,
    /// The version they were read at.
    pub version: Version,
}

/// What [`Store::head`] reports about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Size in bytes.
    pub size: u64,
    /// Current version.
    pub version: Version,
}

/// Errors of the store. Match on the variant; [`StoreError::is_transient`] says whether trying
/// again may help.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store URL is neither `file://DIR` nor `s3://bucket[/prefix]`.
    #[error("bad store URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key that is empty, absolute or contains `..`.
    #[error("bad store key {key:?}: keys are relative /-separated paths without '..'")]
    BadKey {
        /// The key as given.
        key: String,
    },
    /// No object under the key.
    #[error("{location}: no such object")]
    NotFound {
        /// Store URL joined with the key.
        location: String,
    },
    /// A conditional write was refused: the object exists (IfAbsent) or changed (IfMatch).
    #[error("{location}: conditional write refused: the object was changed by someone else")]
    PreconditionFailed {
        /// Store URL joined with the key.
        location: String,
    },
    /// A local file operation failed.
    #[error("{location}: {op} failed")]
    Io {
        /// The path.
        location: String,
        /// What was being done.
        op: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An S3 request failed (network, throttling, permissions, ...).
    #[error("{location}: S3 {op} failed")]
    S3 {
        /// `s3://bucket/key`.
        location: String,
        /// The S3 operation.
        op: &'static str,
        /// True when a retry may succeed (throttling, 5xx, timeouts, conflicts).
        transient: bool,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// True when trying the same operation again may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::S3 { transient, .. } => *transient,
            StoreError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::Interrupted
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::WouldBlock
            ),
            _ => false,
        }
    }
}

/// The store: `file://DIR` or `s3://bucket/prefix`.
#[derive(Debug, Clone)]
pub enum Store {
    /// A local folder.
    File(FileStore),
    /// An S3 bucket and key prefix.
    S3(S3Store),
}

/// The two kinds of store URL, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `file://DIR`.
    File(std::path::PathBuf),
    /// `s3://bucket/prefix` (prefix without leading or trailing `/`, possibly empty).
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix.
        prefix: String,
    },
}

impl StoreUrl {
    /// Parses `file://DIR` or `s3://bucket[/prefix]`.
    pub fn parse(url: &str) -> Result<StoreUrl, StoreError> {
        let bad = |reason: &str| StoreError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(bad("file:// needs a folder"));
            }
            return Ok(StoreUrl::File(path.into()));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad("s3:// needs a bucket name"));
            }
            return Ok(StoreUrl::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
            });
        }
        Err(bad("use file://DIR or s3://bucket/prefix"))
    }
}

/// Splits the URL of one object (`file:///a/b/c.toml`, `s3://bucket/p/c.toml`) into its
/// folder's URL and the object's name.
pub fn split_object_url(url: &str) -> Result<(String, String), StoreError> {
    match url.rsplit_once('/') {
        Some((dir, name))
            if !name.is_empty() && (dir.starts_with("file://") || dir.starts_with("s3://")) =>
        {
            let dir = if dir == "file://" { "file:///" } else { dir };
            Ok((dir.to_string(), name.to_string()))
        }
        _ => Err(StoreError::BadUrl {
            url: url.to_string(),
            reason: "expected file:///path/NAME or s3://bucket/key".into(),
        }),
    }
}

/// Reads one whole object given by its URL (`file://PATH` or `s3://bucket/key`); used for the
/// configuration in `FEEDPIPE_CONFIG`.
pub async fn read_url(url: &str) -> Result<Bytes, StoreError> {
    let (dir, name) = split_object_url(url)?;
    let store = Store::open(&dir).await?;
    Ok(store.get(&name).await?.bytes)
}

/// A configuration file's text, read from a path or a `file://`/`s3://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigText {
    /// The text.
    pub text: String,
    /// The name to report it under (path or URL).
    pub origin: String,
    /// The absolute folder of a local file, against which relative paths inside it resolve;
    /// `None` for `s3://`.
    pub dir: Option<std::path::PathBuf>,
}

/// Reads a configuration file (`FEEDPIPE_CONFIG`): a local path, `file://PATH` or
/// `s3://bucket/key`.
pub async fn read_config(url: &str) -> Result<ConfigText, StoreError> {
    let not_utf8 = |location: String| StoreError::Io {
        location,
        op: "decode as UTF-8",
        source: std::io::Error::from(std::io::ErrorKind::InvalidData),
    };
    if url.starts_with("s3://") {
        let bytes = read_url(url).await?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| not_utf8(url.to_string()))?;
        return Ok(ConfigText {
            text,
            origin: url.to_string(),
            dir: None,
        });
    }
    let path = std::path::Path::new(url.strip_prefix("file://").unwrap_or(url));
    let origin = path.display().to_string();
    let io = |op| {
        let location = origin.clone();
        move |source| StoreError::Io {
            location,
            op,
            source,
        }
    };
    let bytes = tokio::fs::read(path).await.map_err(io("read"))?;
    let text = String::from_utf8(bytes).map_err(|_| not_utf8(origin.clone()))?;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let dir = std::path::absolute(parent).map_err(io("resolve"))?;
    Ok(ConfigText {
        text,
        origin,
        dir: Some(dir),
    })
}

/// The message of an error followed by its causes, `: `-separated (for messages that cross
/// into Step Functions or a JSON line, where there is no `{:#}`).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    let ok = !key.is_empty()
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != ".");
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadKey {
            key: key.to_string(),
        })
    }
}

impl Store {
    /// Opens the store at `url`. For `s3://` the AWS configuration comes from the standard
    /// chain (environment, profile, container/instance credentials; `AWS_ENDPOINT_URL` honoured,
    /// with path-style addressing when an endpoint is set).
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        match StoreUrl::parse(url)? {
            StoreUrl::File(dir) => Ok(Store::File(FileStore::new(dir))),
            StoreUrl::S3 { bucket, prefix } => {
                Ok(Store::S3(S3Store::from_env(bucket, prefix).await))
            }
        }
    }

    /// The store's URL.
    pub fn url(&self) -> String {
        match self {
            Store::File(s) => s.url(),
            Store::S3(s) => s.url(),
        }
    }

    /// The URL of one key, for messages.
    pub fn location(&self, key: &str) -> String {
        format!("{}/{key}", self.url().trim_end_matches('/'))
    }

    /// Reads a whole object; [`StoreError::NotFound`] when there is none.
    pub async fn get(&self, key: &str) -> Result<Object, StoreError> {
        check_key(key)?;
        match self {
            Store::File(s) => s.get(key).await,
            Store::S3(s) => s.get(key).await,
        }
    }

    /// Reads a whole object, `None` when there is none.
    pub async fn get_opt(&self, key: &str) -> Result<Option<Object>, StoreError> {
        match self.get(key).await {
            Ok(o) => Ok(Some(o)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens a streaming reader over an object.
    pub async fn read(&self, key: &str) -> Result<ObjectReader, StoreError> {
        check_key(key)?;
        match self {
            Store::File(s) => s.read(key).await,
            Store::S3(s) => s.read(key).await,
        }
    }

    /// Size and version of an object, `None` when there is none.
    pub async fn head(&self, key: &str) -> Result<Option<Meta>, StoreError> {
        check_key(key)?;
        match self {
            Store::File(s) => s.head(key).await,
            Store::S3(s) => s.head(key).await,
        }
    }

    /// Writes a whole object atomically if `condition` holds; returns its new version.
    pub async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        condition: Condition,
    ) -> Result<Version, StoreError> {
        check_key(key)?;
        match self {
            Store::File(s) => s.put(key, bytes, condition).await,
            Store::S3(s) => s.put(key, bytes, condition).await,
        }
    }

    /// Starts a streaming upload. `staging` is a key the store may use for the bytes while they
    /// arrive; [`Upload::finish`] names the final key, which may be decided only at the end
    /// (snapshots are named by their SHA-256).
    pub async fn upload(&self, staging: &str) -> Result<Upload, StoreError> {
        check_key(staging)?;
        match self {
            Store::File(s) => Ok(Upload::File(s.upload(staging).await?)),
            Store::S3(s) => Ok(Upload::S3(s.upload(staging))),
        }
    }

    /// Deletes an object; deleting a missing object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        match self {
            Store::File(s) => s.delete(key).await,
            Store::S3(s) => s.delete(key).await,
        }
    }

    /// Every key under `prefix` (a folder such as `runs/NAME/`), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = match self {
            Store::File(s) => s.list(prefix).await?,
            Store::S3(s) => s.list(prefix).await?,
        };
        keys.sort();
        Ok(keys)
    }
}

/// A streaming write in progress. Feed it with [`Upload::write`], then [`Upload::finish`] or
/// [`Upload::abort`].
pub enum Upload {
    /// Into a temporary file.
    File(file::FileUpload),
    /// Into S3 (one PUT when small, multipart otherwise).
    S3(s3::S3Upload),
}

impl Upload {
    /// Appends bytes.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        match self {
            Upload::File(u) => u.write(&chunk).await,
            Upload::S3(u) => u.write(chunk).await,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        match self {
            Upload::File(u) => u.len(),
            Upload::S3(u) => u.len(),
        }
    }

    /// True when nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Completes the upload as the object `key`, replacing any object there.
    pub async fn finish(self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        match self {
            Upload::File(u) => u.finish(key).await,
            Upload::S3(u) => u.finish(key).await,
        }
    }

    /// Drops what was written.
    pub async fn abort(self) -> Result<(), StoreError> {
        match self {
            Upload::File(u) => u.abort().await,
            Upload::S3(u) => u.abort().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_keys() {
        assert_eq!(
            StoreUrl::parse("s3://b/p/q/").unwrap(),
            StoreUrl::S3 {
                bucket: "b".into(),
                prefix: "p/q".into()
            }
        );
        assert_eq!(
            StoreUrl::parse("s3://b").unwrap(),
            StoreUrl::S3 {
                bucket: "b".into(),
                prefix: "".into()
            }
        );
        assert!(matches!(
            StoreUrl::parse("http://x"),
            Err(StoreError::BadUrl { .. })
        ));
        assert!(matches!(
            StoreUrl::parse("s3:///x"),
            Err(StoreError::BadUrl { .. })
        ));
        assert!(check_key("feeds/a/current.json").is_ok());
        for bad in ["", "/abs", "a/../b", "a//b", "a/./b", "a/"] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
        assert_eq!(
            split_object_url("s3://b/config/feedpipe.toml").unwrap(),
            ("s3://b/config".into(), "feedpipe.toml".into())
        );
        assert_eq!(
            split_object_url("file:///etc/f.toml").unwrap(),
            ("file:///etc".into(), "f.toml".into())
        );
        assert!(split_object_url("file:///etc/").is_err());
    }
}
