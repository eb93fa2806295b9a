//! Shared helpers: generated feeds, configurations, moto buckets, manifests, and the HTTP
//! servers (feed source and sink) that answer on a schedule.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes as B;
use feed::generate::{write_revision, GenOptions, Revision};
use store::layout::{self, CheckResult, Current};
use store::{Condition, Store};

/// A new bucket on moto, unique to this run.
pub async fn moto_bucket(name: &str) -> String {
    store::testing::moto_bucket(name).await.1
}

/// A generated job feed: base version, or a revision of it.
pub fn gen_feed(records: u64, revision: Option<Revision>) -> Vec<u8> {
    let mut out = Vec::new();
    write_revision(&mut out, &GenOptions::new(7, records), revision.as_ref()).unwrap();
    out
}

/// A revision changing, removing and adding about 3% each.
pub fn revision() -> Revision {
    Revision {
        seed: 11,
        changed_bp: 300,
        removed_bp: 300,
        added_bp: 300,
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Writes `feedpipe.toml` for feed `jobs` into `dir`.
pub fn write_config(
    dir: &Path,
    store: &str,
    feed_url: &str,
    sink_url: &str,
    parallelism: u32,
    batch_size: u32,
) -> PathBuf {
    let path = dir.join("feedpipe.toml");
    std::fs::write(
        &path,
        format!(
            r#"store = "{store}"

[[feed]]
name = "jobs"
url = "{feed_url}"
record_tag = "job"
id = "reference"

[feed.sink]
url = "{sink_url}"
parallelism = {parallelism}
batch_size = {batch_size}
"#
        ),
    )
    .unwrap();
    path
}

/// `feedpipe.toml` in `dir` for a local feed `feed.xml`, store `dir/store`, sink `dir/sink`.
pub fn local_config(dir: &Path) -> PathBuf {
    write_config(dir, "file://store", "file://feed.xml", "file://sink", 2, 50)
}

/// The ids a diff of `check` against `base` (`None`: first run) must deliver: upserts (added
/// and changed) and deletes, worked out from the two index files directly.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expected {
    pub upserts: HashSet<String>,
    pub deletes: HashSet<String>,
}

/// Runs DiffFeed (the Lambda's handler) for `check`'s execution as the pipeline would after
/// `base` was delivered: `base` is made `current.json` first, as Commit leaves it. Returns the
/// manifest key and the ids the manifest must deliver.
pub async fn write_manifest(
    store: &Store,
    config: &feed::config::Config,
    check: &CheckResult,
    base: Option<&CheckResult>,
) -> (String, Expected) {
    let current = layout::current(&check.feed);
    match base {
        Some(b) => {
            let doc = Current {
                feed: b.feed.clone(),
                execution: b.execution.clone(),
                snapshot: b.snapshot.clone(),
            };
            let body = B::from(serde_json::to_vec(&doc).unwrap());
            store.put(&current, body, Condition::Always).await.unwrap();
        }
        None => store.delete(&current).await.unwrap(),
    }
    let ctx = lambdas::Context::new(config.clone()).await.unwrap();
    let request = lambdas::diff::DiffRequest {
        feed: check.feed.clone(),
        execution: check.execution.clone(),
    };
    let response = lambdas::diff::diff(&ctx, request).await.unwrap();

    let new = store.get(&check.snapshot.index).await.unwrap().bytes;
    let old = match base {
        Some(b) => Some(store.get(&b.snapshot.index).await.unwrap().bytes),
        None => None,
    };
    let mut expected = Expected::default();
    feed::diff::diff(old.as_deref(), &new[..], |c| {
        match c {
            feed::diff::Change::Added { id, .. } | feed::diff::Change::Changed { id, .. } => {
                expected.upserts.insert(id.into())
            }
            feed::diff::Change::Removed { id, .. } => expected.deletes.insert(id.into()),
        };
        Ok(())
    })
    .unwrap();
    assert_eq!(
        response.added + response.changed,
        expected.upserts.len() as u64
    );
    (response.manifest, expected)
}

/// Serves `router` on 127.0.0.1:0 until the returned guard drops.
pub async fn serve(router: axum::Router) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (addr, stop)
}

/// What the sink does with request number `n` (from 0).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 200.
    Ok,
    /// This status, with `Retry-After` if given; nothing is recorded.
    Status(u16, Option<&'static str>),
    /// Record the batch, then wait this long before answering 200 (the client times out first:
    /// the sink has the batch and will see it again under the same key).
    RecordThenStall(Duration),
    /// Wait, then 200.
    Slow(Duration),
}

/// One batch the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub key: String,
    pub batch: u64,
    pub upserts: Vec<serde_json::Value>,
    pub deletes: Vec<String>,
}

/// A sink server whose answers follow `schedule`.
#[derive(Clone)]
pub struct Sink {
    pub received: Arc<Mutex<Vec<Received>>>,
    pub requests: Arc<Mutex<u64>>,
    /// When each request arrived.
    pub arrivals: Arc<Mutex<Vec<std::time::Instant>>>,
    schedule: Arc<dyn Fn(u64) -> Answer + Send + Sync>,
}

impl Sink {
    pub fn new(schedule: impl Fn(u64) -> Answer + Send + Sync + 'static) -> Sink {
        Sink {
            received: Arc::default(),
            requests: Arc::default(),
            arrivals: Arc::default(),
            schedule: Arc::new(schedule),
        }
    }

    pub async fn start(&self) -> (String, tokio::sync::oneshot::Sender<()>) {
        let router = axum::Router::new()
            .route("/jobs", axum::routing::post(accept))
            .with_state(self.clone());
        let (addr, stop) = serve(router).await;
        (format!("http://{addr}/jobs"), stop)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn accept(State(sink): State<Sink>, headers: HeaderMap, body: Bytes) -> Response {
    sink.arrivals
        .lock()
        .unwrap()
        .push(std::time::Instant::now());
    let n = {
        let mut r = sink.requests.lock().unwrap();
        *r += 1;
        *r - 1
    };
    let answer = (sink.schedule)(n);
    let record = || {
        let v: serde_json::Value = serde_json::from_slice(&body).expect("the body is JSON");
        let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_string();
        sink.received.lock().unwrap().push(Received {
            key: header("idempotency-key"),
            batch: header("feedpipe-batch").parse().unwrap(),
            upserts: v["upserts"].as_array().unwrap().clone(),
            deletes: v["deletes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect(),
        });
    };
    match answer {
        Answer::Ok => {
            record();
            StatusCode::OK.into_response()
        }
        Answer::Status(code, retry_after) => {
            let status = StatusCode::from_u16(code).unwrap();
            let mut resp = (status, format!("sink says {code} to request {n}")).into_response();
            if let Some(ra) = retry_after {
                resp.headers_mut()
                    .insert("retry-after", ra.parse().unwrap());
            }
            resp
        }
        Answer::RecordThenStall(d) => {
            record();
            tokio::time::sleep(d).await;
            StatusCode::OK.into_response()
        }
        Answer::Slow(d) => {
            tokio::time::sleep(d).await;
            record();
            StatusCode::OK.into_response()
        }
    }
}

/// The ids a set of accepted batches upserted and deleted, with how often.
pub fn tally(received: &[Received]) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let mut up = HashMap::new();
    let mut del = HashMap::new();
    for r in received {
        for u in &r.upserts {
            *up.entry(u["reference"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        for d in &r.deletes {
            *del.entry(d.clone()).or_default() += 1;
        }
    }
    (up, del)
}
