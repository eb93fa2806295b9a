//! CheckFeed: file://, http:// with conditional GET and retries, s3://, and bad feeds.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use store::layout::{self, CheckResult, Current};
use store::{Condition, Store};
use worker::check::{check, CheckSettings};
use worker::job::{Job, RetryArgs};

use crate::common::*;

fn fast_retry() -> CheckSettings {
    CheckSettings {
        retry: RetryArgs {
            request_timeout: 5.0,
            max_attempts: 4,
            retry_base_ms: 10,
            retry_cap_ms: 100,
        },
        ..CheckSettings::default()
    }
}

async fn job(config: &std::path::Path, execution: &str) -> Job {
    let config = worker::job::load_config(config.to_str().unwrap())
        .await
        .unwrap();
    Job::new(config, "jobs", execution).await.unwrap()
}

async fn read_check(store: &Store, execution: &str) -> CheckResult {
    let o = store.get(&layout::check("jobs", execution)).await.unwrap();
    serde_json::from_slice(&o.bytes).unwrap()
}

#[tokio::test]
async fn check_of_a_file_feed_stores_snapshot_index_and_check_json() {
    let dir = tempfile::tempdir().unwrap();
    let feed = gen_feed(300, None);
    std::fs::write(dir.path().join("feed.xml"), &feed).unwrap();
    let config = local_config(dir.path());
    let job = job(&config, "e1").await;
    let checked = check(&job, &fast_retry()).await.unwrap();
    assert_eq!(checked.spilled_runs, 0);
    let result = checked.result;

    let sha = hex::encode(Sha256::digest(&feed));
    assert_eq!(
        result.snapshot.snapshot,
        format!("feeds/jobs/snapshots/{sha}.xml")
    );
    assert_eq!(result.snapshot.records, 300);
    assert_eq!(result.snapshot.bytes, feed.len() as u64);
    assert!(!result.not_modified);
    let stored = std::fs::read(dir.path().join("store").join(&result.snapshot.snapshot)).unwrap();
    assert!(stored == feed, "the snapshot is the feed, byte for byte");
    assert_eq!(read_check(&job.store, "e1").await, result);
    // The index is the feed's: a diff against nothing adds all 300 records.
    let (_, expected) = write_manifest(&job.store, &job.config, &result, None).await;
    assert_eq!(expected.upserts.len(), 300);
    // No staging files are left behind.
    let keys = job.store.list("").await.unwrap();
    // snapshot, index, check, + the diff's manifest and one part of changes
    assert_eq!(keys.len(), 5, "{keys:?}");
}

#[tokio::test]
async fn check_of_a_big_feed_spills_sorted_runs_and_stores_the_same_index() {
    let dir = tempfile::tempdir().unwrap();
    let feed = gzip(&gen_feed(3000, None));
    std::fs::write(dir.path().join("feed.xml"), &feed).unwrap();
    let config = local_config(dir.path());
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let settings = CheckSettings {
        tmp_dir: Some(tmp.clone()),
        // About 300 entries of 52 bytes: 3,000 records spill about 10 runs.
        index_memory: 16 << 10,
        ..fast_retry()
    };
    let checked = check(&job(&config, "e1").await, &settings).await.unwrap();
    assert!(checked.spilled_runs >= 5, "{checked:?}");
    assert_eq!(checked.result.snapshot.records, 3000);

    // The index an in-memory build of the same feed writes, byte for byte.
    let opts = feed::FeedOptions::new("job", feed::IdSource::Child("reference".into()));
    let in_memory = feed::index::index_reader(&feed[..], &opts).unwrap();
    assert_eq!(in_memory.spilled_runs(), 0);
    let store = Store::open(&format!("file://{}", dir.path().join("store").display()))
        .await
        .unwrap();
    let stored = store.get(&checked.result.snapshot.index).await.unwrap();
    assert!(stored.bytes == in_memory.try_to_bytes().unwrap());
    // The runs and their directory are gone.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);

    // Without room to spill, the check says where it could not.
    let settings = CheckSettings {
        tmp_dir: Some(dir.path().join("no-such-dir")),
        ..settings
    };
    let err = check(&job(&config, "e2").await, &settings)
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

/// A feed server with an ETag that answers 304 to a matching If-None-Match, and 503 to the
/// first `fail_first` requests.
#[derive(Clone)]
struct FeedServer {
    body: Bytes,
    etag: &'static str,
    fail_first: u64,
    seen: Arc<Mutex<Vec<Option<String>>>>,
}

async fn serve_feed(State(s): State<FeedServer>, headers: HeaderMap) -> axum::response::Response {
    let n = {
        let mut seen = s.seen.lock().unwrap();
        seen.push(
            headers
                .get("if-none-match")
                .map(|v| v.to_str().unwrap().to_string()),
        );
        seen.len() as u64
    };
    if n <= s.fail_first {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "0")],
            "busy",
        )
            .into_response();
    }
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(s.etag) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            ("etag", s.etag),
            ("last-modified", "Mon, 23 Nov 2026 06:00:00 GMT"),
        ],
        s.body.clone(),
    )
        .into_response()
}

#[tokio::test]
async fn check_over_http_retries_then_uses_conditional_get() {
    let feed = gzip(&gen_feed(200, None));
    let server = FeedServer {
        body: Bytes::from(feed.clone()),
        etag: "\"v1\"",
        fail_first: 2,
        seen: Arc::default(),
    };
    let router = axum::Router::new()
        .route("/feed.xml.gz", axum::routing::get(serve_feed))
        .with_state(server.clone());
    let (addr, _stop) = serve(router).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/feed.xml.gz");
    let config = write_config(dir.path(), "file://store", &url, "file://sink", 2, 50);

    let first = check(&job(&config, "e1").await, &fast_retry())
        .await
        .unwrap()
        .result;
    assert_eq!(server.seen.lock().unwrap().len(), 3, "two 503s, then 200");
    assert!(first.snapshot.snapshot.ends_with(".xml.gz"));
    assert_eq!(first.snapshot.records, 200);
    assert_eq!(first.snapshot.etag.as_deref(), Some("\"v1\""));

    // What Commit would write after a successful consume.
    let j2 = job(&config, "e2").await;
    let current = Current {
        feed: "jobs".into(),
        execution: "e1".into(),
        snapshot: first.snapshot.clone(),
    };
    j2.store
        .put(
            &layout::current("jobs"),
            Bytes::from(serde_json::to_vec(&current).unwrap()),
            Condition::Always,
        )
        .await
        .unwrap();
    let second = check(&j2, &fast_retry()).await.unwrap().result;
    assert!(second.not_modified);
    assert_eq!(second.snapshot, first.snapshot);
    assert_eq!(
        server.seen.lock().unwrap().last().unwrap().as_deref(),
        Some("\"v1\""),
        "the second GET is conditional"
    );
}

#[tokio::test]
async fn check_gives_up_on_a_missing_feed_and_on_lasting_http_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "file://store",
        "file://none.xml",
        "file://sink",
        2,
        50,
    );
    let err = check(&job(&config, "e1").await, &fast_retry())
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(err.to_string().contains("none.xml"), "{err}");

    let server = FeedServer {
        body: Bytes::new(),
        etag: "\"x\"",
        fail_first: 100,
        seen: Arc::default(),
    };
    let router = axum::Router::new()
        .route("/f", axum::routing::get(serve_feed))
        .with_state(server.clone());
    let (addr, _stop) = serve(router).await;
    let config = write_config(
        dir.path(),
        "file://store",
        &format!("http://{addr}/f"),
        "file://sink",
        2,
        50,
    );
    let err = check(&job(&config, "e1").await, &fast_retry())
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 1, "{err}");
    assert_eq!(
        server.seen.lock().unwrap().len(),
        4,
        "max_attempts requests"
    );
    assert!(err.to_string().contains("503"), "{err}");
}

fn run_worker(args: &[&str], envs: &[(&str, &str)]) -> (i32, serde_json::Value, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedpipe-worker"))
        .args(args)
        .envs(envs.iter().copied())
        .env("FEEDPIPE_RETRY_BASE_MS", "10")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap_or_default().to_string();
    let line = serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {stdout:?}"));
    (
        out.status.code().unwrap_or(-1),
        line,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_check_binary_rejects_a_bad_feed_with_exit_code_2_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut feed = gen_feed(50, None);
    feed.truncate(feed.len() / 2);
    feed.extend_from_slice(b"</source>");
    std::fs::write(dir.path().join("feed.xml"), &feed).unwrap();
    let config = local_config(dir.path());
    let (code, line, stderr) = run_worker(
        &["check"],
        &[
            ("FEEDPIPE_CONFIG", config.to_str().unwrap()),
            ("FEEDPIPE_FEED", "jobs"),
            ("FEEDPIPE_EXECUTION", "e1"),
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(line["status"], "FAILED");
    assert_eq!(line["error"], "Feedpipe.BadFeed");
    assert!(
        line["cause"].as_str().unwrap().contains("feed.xml"),
        "{line}"
    );
    let left: Vec<_> = walk(&dir.path().join("store"));
    assert!(left.is_empty(), "{left:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn the_check_binary_works_on_s3_for_store_and_feed() {
    let bucket = moto_bucket("check").await;
    let feed = gzip(&gen_feed(400, None));
    let s3 = Store::open(&format!("s3://{bucket}/src")).await.unwrap();
    s3.put("feed.xml.gz", Bytes::from(feed.clone()), Condition::Always)
        .await
        .unwrap();
    let config = format!(
        r#"store = "s3://{bucket}/state"
[[feed]]
name = "jobs"
url = "s3://{bucket}/src/feed.xml.gz"
record_tag = "job"
id = "reference"
[feed.sink]
url = "s3://{bucket}/sink"
"#
    );
    let state = Store::open(&format!("s3://{bucket}/state")).await.unwrap();
    state
        .put(
            "config/feedpipe.toml",
            Bytes::from(config),
            Condition::Always,
        )
        .await
        .unwrap();
    let config_url = format!("s3://{bucket}/state/config/feedpipe.toml");
    let tmp = tempfile::tempdir().unwrap();
    let (code, line, stderr) = run_worker(
        &["check"],
        &[
            ("FEEDPIPE_CONFIG", &config_url),
            ("FEEDPIPE_FEED", "jobs"),
            ("FEEDPIPE_EXECUTION", "jobs-2026-11-23T06-00Z"),
            ("AWS_BATCH_JOB_ID", "test-job"),
            // 4 KiB of entries: the index spills sorted runs into FEEDPIPE_TMPDIR.
            ("FEEDPIPE_INDEX_MEMORY_KIB", "4"),
            ("FEEDPIPE_TMPDIR", tmp.path().to_str().unwrap()),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(line["status"], "SUCCEEDED");
    assert_eq!(line["records"], 400);
    assert!(line["spilled_runs"].as_u64().unwrap() > 1, "{line}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    // In AWS the log lines are JSON, with the job's feed and execution (under "span") and
    // the record counts as fields.
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let logged = lines
        .iter()
        .find(|l| l["fields"]["message"] == "snapshot stored")
        .unwrap_or_else(|| panic!("no \"snapshot stored\" line in {stderr}"));
    assert_eq!(logged["fields"]["records"], 400, "{logged}");
    assert_eq!(logged["span"]["feed"], "jobs", "{logged}");
    assert_eq!(
        logged["span"]["execution"], "jobs-2026-11-23T06-00Z",
        "{logged}"
    );
    let check = read_check(&state, "jobs-2026-11-23T06-00Z").await;
    let stored = state.get(&check.snapshot.snapshot).await.unwrap();
    assert!(stored.bytes == feed);
    // The index streamed to S3 is the one an in-memory build writes.
    let opts = feed::FeedOptions::new("job", feed::IdSource::Child("reference".into()));
    let in_memory = feed::index::index_reader(&feed[..], &opts).unwrap();
    let index = state.get(&check.snapshot.index).await.unwrap();
    assert!(index.bytes == in_memory.try_to_bytes().unwrap());
}
