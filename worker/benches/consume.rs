//! Consume benchmark (worker-lambdas issue): 8,000 changed records of a 200,000-record gzipped
//! job feed (the issue calls them 2% of the feed; 8,000 of 200,000 are 4%) delivered to a
//! loopback HTTP sink that answers at once, parallelism 15, batch size 500.
//!
//! The feed compresses as real job feeds do (`GenOptions::natural`: about 5.3:1 with gzip -6,
//! as the 511 MB / 97 MB feed of the performance notes), so inflating it runs at a realistic
//! speed; the ratio is printed. Measured in the same run, round-robin (run i of every
//! measurement before run i+1 of any), medians of `FEEDPIPE_BENCH_RUNS` (5):
//!
//! - the baseline: gunzip only, of the very snapshot file consume reads (flate2/zlib-rs, the
//!   decoder `feed` uses);
//! - extraction only: feed's `Extractor` over the snapshot's bytes in memory, pipelined
//!   (inflate on this thread, split and parse on a second) and on one thread;
//! - delivery only: the same batches, already extracted, posted at parallelism 15;
//! - the whole consume (read the snapshot from the store, extract the changed records,
//!   deliver), its records/s and its ratio to gunzip + delivery (target <= 2.0).
//!
//! The load average before and after is printed: measure on a quiet machine.
//! `cargo bench -p worker --bench consume` (feeds are generated once into
//! `target/bench-data/`; `FEEDPIPE_BENCH_RECORDS` overrides the 200,000).

use std::io::Read as _;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use feed::extract::{Extracted, Extractor};
use feed::generate::{GenOptions, Revision};
use feed::FeedError;
use worker::consume::{consume, ConsumeSettings};
use worker::job::{Job, RetryArgs};
use worker::sink::{Batch, RunInfo, Sink};

#[allow(dead_code)]
#[path = "../tests/it/common.rs"]
mod common;
mod support;

/// Gunzips the file at `path` (1 MiB reads); seconds and the XML's length.
fn gunzip(path: &Path) -> (f64, u64) {
    let started = Instant::now();
    let file = std::fs::File::open(path).unwrap();
    let mut gz =
        flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = gz.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    (started.elapsed().as_secs_f64(), total)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Extracts `ids` from `gz` (pushed in 1 MiB chunks) with `extractor`: the records.
fn extract(mut extractor: Extractor, gz: &[u8]) -> Vec<Extracted> {
    let mut out = Vec::new();
    let mut on = |e: Extracted| -> Result<(), FeedError> {
        out.push(e);
        Ok(())
    };
    for chunk in gz.chunks(1 << 20) {
        extractor.push(chunk, &mut on).unwrap();
    }
    extractor.finish(&mut on).unwrap();
    out
}

/// Posts `batches` at parallelism 15: seconds.
async fn deliver(sink_url: &str, batches: &[Batch]) -> f64 {
    let run = RunInfo {
        feed: "jobs".into(),
        execution: "bench".into(),
        snapshot: "s".into(),
    };
    let sink = Arc::new(
        Sink::open(sink_url, run, &RetryArgs::default(), 15)
            .await
            .unwrap(),
    );
    let started = Instant::now();
    let queue = Arc::new(std::sync::Mutex::new(batches.to_vec()));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..15 {
        let (sink, queue) = (sink.clone(), queue.clone());
        tasks.spawn(async move {
            loop {
                let next = queue.lock().unwrap().pop();
                let Some(batch) = next else { return };
                sink.deliver(&batch).await.unwrap();
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    started.elapsed().as_secs_f64()
}

fn main() {
    let records: u64 = std::env::var("FEEDPIPE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let runs: usize = std::env::var("FEEDPIPE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let revision = Revision {
        seed: 9,
        changed_bp: 400, // 4% of the records: about 8,000 of 200,000
        removed_bp: 0,
        added_bp: 0,
    };
    eprintln!(
        "preparing {records}-record feeds in {}",
        support::data_dir().display()
    );
    let mut opts = GenOptions::new(42, records);
    opts.natural = true;
    let base = support::feed_file(&format!("natural-base-{records}"), &opts, None);
    let next = support::feed_file(
        &format!("natural-changed-{records}"),
        &opts,
        Some(&revision),
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (sink_url, sink_bytes) = support::start_sink();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&base, dir.path().join("feed.xml.gz")).unwrap();
    let config = common::write_config(
        dir.path(),
        "file://store",
        "file://feed.xml.gz",
        &sink_url,
        15,
        500,
    );
    let (job, manifest, expected, snapshot_key) = rt.block_on(async {
        let load = |e: &'static str| {
            let config = config.clone();
            async move {
                let c = worker::job::load_config(config.to_str().unwrap())
                    .await
                    .unwrap();
                Job::new(c, "jobs", e).await.unwrap()
            }
        };
        let checking = worker::check::CheckSettings::default();
        let c0 = worker::check::check(&load("e0").await, &checking)
            .await
            .unwrap()
            .result;
        std::fs::copy(&next, dir.path().join("feed.xml.gz")).unwrap();
        let job = load("e1").await;
        let c1 = worker::check::check(&job, &checking).await.unwrap().result;
        let (manifest, expected) =
            common::write_manifest(&job.store, &job.config, &c1, Some(&c0)).await;
        (job, manifest, expected, c1.snapshot.snapshot)
    });
    let changed = expected.upserts.len() as u64;
    // The one file every measurement reads: the snapshot as consume finds it in the store.
    let snapshot = dir.path().join("store").join(&snapshot_key);
    let gz_bytes = std::fs::read(&snapshot).unwrap();
    let opts = feed::FeedOptions::from_config(&job.feed);
    let ids = || feed::IdSet::new(expected.upserts.iter());

    // The delivery-only batches: the records extracted once, cut as consume cuts them.
    let batches: Vec<Batch> = extract(Extractor::with_ids(&opts, ids()), &gz_bytes)
        .chunks(500)
        .enumerate()
        .map(|(n, chunk)| Batch {
            number: n as u64,
            upserts: chunk
                .iter()
                .map(|e| (e.id.clone(), e.hash.to_string(), e.json.clone()))
                .collect(),
            deletes: vec![],
        })
        .collect();

    let load_before = load_average();
    let (mut gunzips, mut piped, mut single, mut delivery, mut walls) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut plain = 0;
    for _ in 0..runs {
        let (secs, xml) = gunzip(&snapshot);
        gunzips.push(secs);
        plain = xml;

        let started = Instant::now();
        let got = extract(Extractor::with_ids(&opts, ids()), &gz_bytes);
        piped.push(started.elapsed().as_secs_f64());
        assert_eq!(got.len() as u64, changed);

        let started = Instant::now();
        let one = Extractor::single_threaded(&opts, expected.upserts.iter().cloned());
        let got = extract(one, &gz_bytes);
        single.push(started.elapsed().as_secs_f64());
        assert_eq!(got.len() as u64, changed);

        delivery.push(rt.block_on(deliver(&sink_url, &batches)));

        walls.push(rt.block_on(async {
            job.store
                .delete(&store::layout::checkpoint("jobs", "e1"))
                .await
                .unwrap();
            let settings = ConsumeSettings {
                manifest: manifest.clone(),
                parallelism: Some(15),
                batch_size: Some(500),
                retry: RetryArgs::default(),
                checkpoint_every: Duration::from_secs(2),
                progress_every: Duration::from_secs(60),
            };
            let s = consume(&job, &settings).await.unwrap();
            assert_eq!(s.upserts, changed);
            s.seconds
        }));
    }
    let load_after = load_average();
    let (gunzip, piped, single, delivery, wall) = (
        median(gunzips),
        median(piped),
        median(single),
        median(delivery),
        median(walls),
    );
    let gz_len = gz_bytes.len() as f64;
    let row = |what: &str, secs: f64, note: &str| {
        // Delivery reads no XML: no MB/s.
        let mb_s = if note.ends_with(" records/s") {
            String::new()
        } else {
            format!("{:.0}", plain as f64 / 1e6 / secs)
        };
        println!(
            "| {what} | {secs:.3} | {mb_s} | {:.2} | {note} |",
            secs / gunzip
        );
    };
    println!(
        "consume bench: {records} records, {changed} changed ({:.1}%), snapshot {:.1} MB gz / \
         {:.1} MB XML (gzip ratio {:.2}:1), parallelism 15, batch 500, medians of {runs} \
         round-robin runs; load average {load_before} before, {load_after} after",
        changed as f64 * 100.0 / records as f64,
        gz_len / 1e6,
        plain as f64 / 1e6,
        plain as f64 / gz_len
    );
    println!("| measurement | median s | MB/s (XML) | x gunzip | |");
    println!("|---|---|---|---|---|");
    row("gunzip only (baseline; the snapshot file)", gunzip, "");
    row(
        "extract only, pipelined (Extractor::with_ids)",
        piped,
        "gz in memory; inflate here, split on a second thread",
    );
    row(
        "extract only, one thread (Extractor::single_threaded)",
        single,
        "gz in memory",
    );
    row(
        "delivery only (extracted batches, parallelism 15)",
        delivery,
        &format!("{:.0} records/s", changed as f64 / delivery),
    );
    row(
        "consume (store read + extract + deliver)",
        wall,
        &format!("{:.0} records/s end to end", changed as f64 / wall),
    );
    println!(
        "consume / (gunzip + delivery) = {:.2} (target <= 2.0); delivery {:.0} records/s \
         (target >= 30,000); consume {:.0} changed records/s end to end (the whole snapshot \
         is inflated to find them); sink received {:.1} MB",
        wall / (gunzip + delivery),
        changed as f64 / delivery,
        changed as f64 / wall,
        sink_bytes.load(Ordering::Relaxed) as f64 / 1e6
    );
}
