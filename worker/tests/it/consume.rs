//! ConsumeFeed: delivery through 429/500/timeouts, 4xx refusal, object sinks on file:// and
//! s3://, and resuming from the checkpoint after the process is killed.

use std::collections::HashSet;
use std::time::Duration;

use store::layout::{self, ChangeList, CheckResult, Checkpoint, Manifest};
use store::{Condition, Store};
use worker::check::{check, CheckSettings};
use worker::consume::{consume, ConsumeSettings};
use worker::job::{Job, RetryArgs};

use crate::common::*;

async fn job(config: &std::path::Path, execution: &str) -> Job {
    let config = worker::job::load_config(config.to_str().unwrap())
        .await
        .unwrap();
    Job::new(config, "jobs", execution).await.unwrap()
}

async fn checkpoint(job: &Job) -> Checkpoint {
    let key = layout::checkpoint("jobs", "e1");
    serde_json::from_slice(&job.store.get(&key).await.unwrap().bytes).unwrap()
}

fn settings(manifest: &str, timeout: f64) -> ConsumeSettings {
    ConsumeSettings {
        manifest: manifest.to_string(),
        parallelism: None,
        batch_size: None,
        retry: RetryArgs {
            request_timeout: timeout,
            max_attempts: 6,
            retry_base_ms: 5,
            retry_cap_ms: 50,
        },
        checkpoint_every: Duration::from_millis(50),
        progress_every: Duration::from_secs(60),
    }
}

/// Two checked versions of a feed in `dir/store`: base (e0) and revision (e1), and the
/// manifest of e1 against e0. Returns the config path, e1's manifest key and what it must
/// deliver.
async fn two_versions(
    dir: &std::path::Path,
    records: u64,
    sink_url: &str,
    parallelism: u32,
    batch_size: u32,
) -> (std::path::PathBuf, String, Expected) {
    let config = write_config(
        dir,
        "file://store",
        "file://feed.xml",
        sink_url,
        parallelism,
        batch_size,
    );
    let settings = CheckSettings::default();
    std::fs::write(dir.join("feed.xml"), gen_feed(records, None)).unwrap();
    let base = check(&job(&config, "e0").await, &settings)
        .await
        .unwrap()
        .result;
    std::fs::write(dir.join("feed.xml"), gen_feed(records, Some(revision()))).unwrap();
    let j1 = job(&config, "e1").await;
    let new: CheckResult = check(&j1, &settings).await.unwrap().result;
    let (manifest, expected) = write_manifest(&j1.store, &j1.config, &new, Some(&base)).await;
    (config, manifest, expected)
}

fn expected_sets(expected: &Expected) -> (HashSet<String>, HashSet<String>) {
    (expected.upserts.clone(), expected.deletes.clone())
}

#[tokio::test]
async fn every_record_arrives_through_429_500_and_timeouts_and_repeats_keep_their_key() {
    let sink = Sink::new(|n| match n % 10 {
        2 => Answer::Status(429, Some("0")),
        5 => Answer::Status(503, None),
        7 if n < 60 => Answer::RecordThenStall(Duration::from_millis(1500)),
        _ => Answer::Ok,
    });
    let (url, _stop) = sink.start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, manifest, changes) = two_versions(dir.path(), 3000, &url, 8, 3).await;
    let (want_up, want_del) = expected_sets(&changes);
    assert!(
        want_up.len() > 100 && want_del.len() > 50,
        "{} {}",
        want_up.len(),
        want_del.len()
    );

    let job = job(&config, "e1").await;
    let summary = consume(&job, &settings(&manifest, 0.5)).await.unwrap();
    assert!(summary.retries > 10, "{summary:?}");
    let received = sink.received();
    let (up, del) = tally(&received);
    assert_eq!(up.keys().cloned().collect::<HashSet<_>>(), want_up);
    assert_eq!(del.keys().cloned().collect::<HashSet<_>>(), want_del);
    // Duplicates only where a stalled request was sent again: same batch, same key.
    let mut keys = std::collections::HashMap::new();
    for r in &received {
        if let Some(prev) = keys.insert(r.key.clone(), r.batch) {
            assert_eq!(prev, r.batch, "one key, one batch");
        }
    }
    let batches: HashSet<u64> = received.iter().map(|r| r.batch).collect();
    assert_eq!(batches.len() as u64, summary.batches);
    assert_eq!(keys.len() as u64, summary.batches, "one key per batch");
    assert!(
        received.len() as u64 > summary.batches,
        "the stalls caused repeats"
    );
    // Each record's JSON form arrives whole.
    let one = received.iter().flat_map(|r| &r.upserts).next().unwrap();
    assert!(
        one["title"].is_string() && one["@status"].is_string(),
        "{one}"
    );
    // The checkpoint holds every batch.
    let cp = checkpoint(&job).await;
    assert_eq!(cp.done, [(0, summary.batches - 1)]);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    // Backoff alone would wait at most 5 ms before the second attempt; the sink asks for 1 s.
    let sink = Sink::new(|n| {
        if n == 0 {
            Answer::Status(429, Some("1"))
        } else {
            Answer::Ok
        }
    });
    let (url, _stop) = sink.start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, manifest, _) = two_versions(dir.path(), 200, &url, 1, 1000).await;
    let job = job(&config, "e1").await;
    let mut settings = settings(&manifest, 5.0);
    settings.retry.retry_cap_ms = 5_000; // the cap also bounds Retry-After
    let summary = consume(&job, &settings).await.unwrap();
    assert_eq!((summary.batches, summary.retries), (2, 1)); // one upsert and one delete batch
    let arrivals = sink.arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 3);
    let waited = arrivals[1] - arrivals[0];
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
}

#[tokio::test]
async fn a_4xx_fails_the_job_with_the_sinks_answer() {
    let sink = Sink::new(|n| {
        if n == 3 {
            Answer::Status(422, None)
        } else {
            Answer::Ok
        }
    });
    let (url, _stop) = sink.start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, manifest, _) = two_versions(dir.path(), 600, &url, 1, 5).await;
    let job = job(&config, "e1").await;
    let err = consume(&job, &settings(&manifest, 5.0)).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(
        text.contains("422") && text.contains("sink says 422 to request 3"),
        "{text}"
    );
    let cp = checkpoint(&job).await;
    assert_eq!(cp.done, [(0, 2)], "the three batches before the refusal");
}

#[tokio::test]
async fn object_sink_on_file_writes_one_ndjson_part_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (config, manifest, changes) = two_versions(dir.path(), 800, "file://sink", 3, 7).await;
    let job = job(&config, "e1").await;
    let summary = consume(&job, &settings(&manifest, 5.0)).await.unwrap();
    let sink = Store::open(&format!("file://{}", dir.path().join("sink").display()))
        .await
        .unwrap();
    assert_parts_cover(&sink, summary.batches, &changes).await;
}

#[tokio::test]
async fn object_sink_and_store_on_s3() {
    let bucket = moto_bucket("consume").await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("s3://{bucket}/state"),
        "file://feed.xml",
        &format!("s3://{bucket}/sink"),
        4,
        9,
    );
    let checking = CheckSettings::default();
    std::fs::write(dir.path().join("feed.xml"), gen_feed(500, None)).unwrap();
    let base = check(&job(&config, "e0").await, &checking)
        .await
        .unwrap()
        .result;
    std::fs::write(dir.path().join("feed.xml"), gen_feed(500, Some(revision()))).unwrap();
    let j1 = job(&config, "e1").await;
    let new = check(&j1, &checking).await.unwrap().result;
    let (manifest, changes) = write_manifest(&j1.store, &j1.config, &new, Some(&base)).await;
    let summary = consume(&j1, &settings(&manifest, 5.0)).await.unwrap();
    let sink = Store::open(&format!("s3://{bucket}/sink")).await.unwrap();
    assert_parts_cover(&sink, summary.batches, &changes).await;
}

async fn assert_parts_cover(sink: &Store, batches: u64, changes: &Expected) {
    let parts = sink.list("jobs/e1/").await.unwrap();
    assert_eq!(parts.len() as u64, batches, "{parts:?}");
    let (mut up, mut del) = (HashSet::new(), HashSet::new());
    for p in parts {
        let text = sink.get(&p).await.unwrap().bytes;
        for line in std::str::from_utf8(&text).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = v["id"].as_str().unwrap().to_string();
            match v["op"].as_str().unwrap() {
                "upsert" => {
                    assert_eq!(v["record"]["reference"], v["id"]);
                    up.insert(id);
                }
                "delete" => {
                    del.insert(id);
                }
                other => panic!("{other}"),
            }
        }
    }
    assert_eq!((up, del), expected_sets(changes));
}

// Multi-threaded: the sink keeps answering while this test waits for the child process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_consume_resumes_from_its_checkpoint_without_resending_done_batches() {
    let sink = Sink::new(|_| Answer::Slow(Duration::from_millis(15)));
    let (url, _stop) = sink.start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, manifest, changes) = two_versions(dir.path(), 4000, &url, 4, 3).await;
    let checkpoint_path = dir
        .path()
        .join("store")
        .join(layout::checkpoint("jobs", "e1"));
    let consume_cmd = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_feedpipe-worker"));
        cmd.arg("consume")
            .env("FEEDPIPE_CONFIG", &config)
            .env("FEEDPIPE_FEED", "jobs")
            .env("FEEDPIPE_EXECUTION", "e1")
            .env("FEEDPIPE_MANIFEST", &manifest)
            .env("PARALLELISM", "4")
            .env("BATCH_SIZE", "3")
            .env("FEEDPIPE_CHECKPOINT_SECONDS", "0.02")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    };
    let mut child = consume_cmd().spawn().unwrap();
    // Let it deliver a good part, then kill it without warning.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let delivered = sink.received.lock().unwrap().len();
        let checkpointed = std::fs::read(&checkpoint_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Checkpoint>(&b).ok())
            .is_some_and(|c| c.done_count() >= 20);
        if delivered >= 30 && checkpointed {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        assert!(std::time::Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill: Checkpoint =
        serde_json::from_slice(&std::fs::read(&checkpoint_path).unwrap()).unwrap();
    let first_run = sink.received();
    assert!(at_kill.done_count() < at_kill.batches);
    // Everything the checkpoint says was delivered was accepted by the sink.
    let first_batches: HashSet<u64> = first_run.iter().map(|r| r.batch).collect();
    for n in 0..at_kill.batches {
        if at_kill.is_done(n) {
            assert!(
                first_batches.contains(&n),
                "batch {n} checkpointed but not delivered"
            );
        }
    }

    let mut again = consume_cmd();
    let out = tokio::task::spawn_blocking(move || again.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(line["status"], "SUCCEEDED");
    assert_eq!(line["resumed"], at_kill.done_count());
    let all = sink.received();
    let second_run = &all[first_run.len()..];
    for r in second_run {
        assert!(
            !at_kill.is_done(r.batch),
            "batch {} was sent again after its checkpoint",
            r.batch
        );
    }
    // Batches sent by both runs were in flight at the kill: same key both times.
    for r in second_run {
        if let Some(f) = first_run.iter().find(|f| f.batch == r.batch) {
            assert_eq!(f.key, r.key);
        }
    }
    let (up, del) = tally(&all);
    assert_eq!(
        (
            up.keys().cloned().collect::<HashSet<_>>(),
            del.keys().cloned().collect::<HashSet<_>>()
        ),
        expected_sets(&changes),
        "nothing lost"
    );
}

#[tokio::test]
async fn a_first_delivery_sends_every_record_of_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "file://store",
        "file://feed.xml",
        "file://sink",
        3,
        40,
    );
    std::fs::write(dir.path().join("feed.xml"), gen_feed(700, None)).unwrap();
    let j1 = job(&config, "e1").await;
    let new = check(&j1, &CheckSettings::default()).await.unwrap().result;
    let (manifest, expected) = write_manifest(&j1.store, &j1.config, &new, None).await;
    assert_eq!((expected.upserts.len(), expected.deletes.len()), (700, 0));
    let summary = consume(&j1, &settings(&manifest, 5.0)).await.unwrap();
    assert_eq!((summary.upserts, summary.batches), (700, 18));
    let sink = Store::open(&format!("file://{}", dir.path().join("sink").display()))
        .await
        .unwrap();
    assert_parts_cover(&sink, summary.batches, &expected).await;
}

/// Regression: the checkpoint was matched by the manifest's key alone. DiffFeed run again for
/// the same execution after `current.json` moved rewrites the manifest under the same key
/// with other batches, and a stale checkpoint would have skipped records never delivered.
#[tokio::test]
async fn a_checkpoint_is_not_resumed_for_a_manifest_rewritten_under_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "file://store",
        "file://feed.xml",
        "file://sink",
        2,
        25,
    );
    std::fs::write(dir.path().join("feed.xml"), gen_feed(300, None)).unwrap();
    let base = check(&job(&config, "e0").await, &CheckSettings::default())
        .await
        .unwrap()
        .result;
    std::fs::write(dir.path().join("feed.xml"), gen_feed(300, Some(revision()))).unwrap();
    let j1 = job(&config, "e1").await;
    let new = check(&j1, &CheckSettings::default()).await.unwrap().result;
    let (manifest, revised) = write_manifest(&j1.store, &j1.config, &new, Some(&base)).await;
    let first = consume(&j1, &settings(&manifest, 5.0)).await.unwrap();
    assert_eq!(first.resumed, 0);
    assert_eq!(
        first.delivered, first.batches,
        "the checkpoint holds every batch"
    );

    let (again, everything) = write_manifest(&j1.store, &j1.config, &new, None).await;
    assert_eq!(again, manifest, "same execution, same manifest key");
    assert!(everything.upserts.len() > revised.upserts.len());
    let second = consume(&j1, &settings(&manifest, 5.0)).await.unwrap();
    assert_eq!(second.resumed, 0, "the old checkpoint must not count");
    assert_eq!(second.upserts, everything.upserts.len() as u64);
    assert_eq!(checkpoint(&j1).await.done_count(), second.batches);
}

/// The upsert list's entries, one of them replaced by `edit`, written back over its only part.
async fn tamper(
    store: &Store,
    manifest: &str,
    edit: impl Fn(&mut Vec<(String, feed::RecordHash)>),
) {
    let m: Manifest = serde_json::from_slice(&store.get(manifest).await.unwrap().bytes).unwrap();
    assert_eq!(m.changes.upsert_parts, 1);
    let key = m.changes.part(ChangeList::Upserts, 0);
    let bytes = store.get(&key).await.unwrap().bytes;
    let mut r = feed::index::IndexReader::new(&bytes[..]).unwrap();
    let mut entries = Vec::new();
    while r.advance().unwrap() {
        entries.push((r.id().to_string(), r.hash()));
    }
    edit(&mut entries);
    let mut list = feed::index::ListBuilder::new();
    for (id, hash) in &entries {
        list.push(id, *hash).unwrap();
    }
    let body = bytes::Bytes::from(list.take_bytes());
    store.put(&key, body, Condition::Always).await.unwrap();
}

#[tokio::test]
async fn records_that_do_not_match_the_change_list_fail_the_consume() {
    let dir = tempfile::tempdir().unwrap();
    let (config, manifest, _) = two_versions(dir.path(), 600, "file://sink", 2, 50).await;
    let j1 = job(&config, "e1").await;
    let m: Manifest =
        serde_json::from_slice(&j1.store.get(&manifest).await.unwrap().bytes).unwrap();
    let upserts = m.changes.part(ChangeList::Upserts, 0);
    let original = j1.store.get(&upserts).await.unwrap().bytes;
    // A record's hash in the list is not the snapshot's.
    tamper(&j1.store, &manifest, |e| e[3].1 = feed::RecordHash(42)).await;
    let err = consume(&j1, &settings(&manifest, 5.0)).await.unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(err.to_string().contains("are not the"), "{err}");
    assert!(err.to_string().contains("changes/"), "{err}");

    // An id the snapshot does not have.
    tamper(&j1.store, &manifest, |e| {
        let last = e.len() - 1;
        e[last].0 = "ZZZ-not-in-the-feed".into();
    })
    .await;
    j1.store
        .delete(&layout::checkpoint("jobs", "e1"))
        .await
        .unwrap();
    let err = consume(&j1, &settings(&manifest, 5.0)).await.unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("1 changed records are not in the snapshot (first: ZZZ-not-in-the-feed)"),
        "{text}"
    );

    // A damaged part is named.
    j1.store
        .put(&upserts, original, Condition::Always)
        .await
        .unwrap();
    j1.store
        .delete(&layout::checkpoint("jobs", "e1"))
        .await
        .unwrap();
    let part = m.changes.part(ChangeList::Deletes, 0);
    let mut bytes = j1.store.get(&part).await.unwrap().bytes.to_vec();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x55;
    j1.store
        .put(&part, bytes::Bytes::from(bytes), Condition::Always)
        .await
        .unwrap();
    let err = consume(&j1, &settings(&manifest, 5.0)).await.unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(err.to_string().contains("deletes-000000.idx"), "{err}");
}
