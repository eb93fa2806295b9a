//! The feed source: `http(s)://` (reqwest over rustls, conditional GET with the delivered
//! snapshot's `ETag`/`Last-Modified`), `file://PATH` or `s3://bucket/key`, as a stream of
//! byte chunks. The bytes are passed on exactly as they arrive (no content decoding), so the
//! snapshot is the feed as published.

use std::pin::Pin;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _};
use reqwest::StatusCode;
use store::layout::SnapshotRef;
use store::ObjectReader;
use tokio::io::AsyncReadExt as _;

use crate::error::{chain, JobError};
use crate::retry::parse_retry_after;

/// A stream of the feed's bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, JobError>> + Send>>;

/// What fetching found.
pub enum Fetched {
    /// The source answered 304: it still has the delivered snapshot.
    NotModified,
    /// The feed's bytes.
    Body {
        /// The bytes as they arrive.
        stream: ByteStream,
        /// `ETag` of an HTTP answer.
        etag: Option<String>,
        /// `Last-Modified` of an HTTP answer.
        last_modified: Option<String>,
    },
}

/// A failed fetch that may be retried after `retry_after` (when the server said so).
pub struct FetchFailure {
    /// The error.
    pub error: JobError,
    /// The server's `Retry-After`.
    pub retry_after: Option<Duration>,
}

impl From<JobError> for FetchFailure {
    fn from(error: JobError) -> Self {
        FetchFailure {
            error,
            retry_after: None,
        }
    }
}

/// An HTTP client for feeds and sinks: rustls, no automatic decompression, `timeout` for
/// connecting and for each read.
pub fn http_client(timeout: Duration, pool: usize) -> Result<reqwest::Client, JobError> {
    reqwest::Client::builder()
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .pool_max_idle_per_host(pool)
        .user_agent(concat!("feedpipe/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| JobError::Internal(format!("cannot build the HTTP client: {}", chain(&e))))
}

/// Opens the feed at `url`. For HTTP, `previous` (the delivered snapshot) gives the validators
/// of a conditional GET.
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    previous: Option<&SnapshotRef>,
) -> Result<Fetched, FetchFailure> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return fetch_http(client, url, previous).await;
    }
    let (dir, name) = store::split_object_url(url).map_err(|e| JobError::Fetch {
        url: url.to_string(),
        message: chain(&e),
        transient: false,
    })?;
    let source = store::Store::open(&dir).await.map_err(JobError::Store)?;
    let reader = source.read(&name).await.map_err(|e| JobError::Fetch {
        url: url.to_string(),
        transient: e.is_transient(),
        message: chain(&e),
    })?;
    Ok(Fetched::Body {
        stream: reader_stream(reader, url.to_string()),
        etag: None,
        last_modified: None,
    })
}

async fn fetch_http(
    client: &reqwest::Client,
    url: &str,
    previous: Option<&SnapshotRef>,
) -> Result<Fetched, FetchFailure> {
    let failure = |message: String, transient: bool| JobError::Fetch {
        url: url.to_string(),
        message,
        transient,
    };
    let mut request = client.get(url);
    if let Some(p) = previous {
        if let Some(etag) = &p.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &p.last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
        }
    }
    let response = request.send().await.map_err(|e| failure(chain(&e), true))?;
    let status = response.status();
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if status == StatusCode::NOT_MODIFIED {
        if previous.is_none() {
            return Err(failure("304 Not Modified to an unconditional GET".into(), false).into());
        }
        return Ok(Fetched::NotModified);
    }
    if !status.is_success() {
        let retry_after = header(reqwest::header::RETRY_AFTER)
            .and_then(|v| parse_retry_after(&v, SystemTime::now()));
        let transient = status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error();
        let body = response.text().await.unwrap_or_default();
        return Err(FetchFailure {
            error: failure(format!("HTTP {status}: {}", snippet(&body)), transient),
            retry_after,
        });
    }
    let etag = header(reqwest::header::ETAG);
    let last_modified = header(reqwest::header::LAST_MODIFIED);
    let url = url.to_string();
    let stream = response.bytes_stream().map(move |chunk| {
        chunk.map_err(|e| JobError::Fetch {
            url: url.clone(),
            message: format!("the body broke off: {}", chain(&e)),
            transient: true,
        })
    });
    Ok(Fetched::Body {
        stream: Box::pin(stream),
        etag,
        last_modified,
    })
}

/// The first 500 characters of a response body, on one line.
pub fn snippet(body: &str) -> String {
    let one_line: String = body
        .chars()
        .take(500)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.chars().count() > 500 {
        format!("{one_line}...")
    } else {
        one_line
    }
}

/// 1 MiB chunks of a store reader.
pub fn reader_stream(reader: ObjectReader, location: String) -> ByteStream {
    let stream =
        futures_util::stream::try_unfold((reader, location), |(mut reader, location)| async move {
            let mut buf = BytesMut::with_capacity(1 << 20);
            while buf.len() < buf.capacity() {
                let n = reader
                    .read_buf(&mut buf)
                    .await
                    .map_err(|e| JobError::Fetch {
                        url: location.clone(),
                        message: format!("read failed: {e}"),
                        transient: true,
                    })?;
                if n == 0 {
                    break;
                }
            }
            if buf.is_empty() {
                Ok(None)
            } else {
                Ok(Some((buf.freeze(), (reader, location))))
            }
        });
    Box::pin(stream)
}
