//! Consume benchmark (worker-lambdas issue): 8,000 changed records (2% of a 200,000-record
//! gzipped job feed) delivered to a loopback HTTP sink that answers at once, parallelism 15,
//! batch size 500. Prints, from the same run:
//!
//! - the baseline: gunzip-only time of the snapshot (flate2/zlib-rs, the decoder `feed` uses);
//! - delivery-only: the same batches, already extracted, posted at parallelism 15 (records/s);
//! - the whole consume (read snapshot from the store, extract the changed records, deliver):
//!   wall time, and its ratio to gunzip + delivery (target <= 2.0).
//!
//! `cargo bench -p worker --bench consume` (feeds are generated once into
//! `target/bench-data/`; `FEEDPIPE_BENCH_RECORDS` overrides the 200,000).

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use feed::generate::{write_revision, GenOptions, Revision};
use worker::consume::{consume, ConsumeSettings};
use worker::job::{Job, RetryArgs};
use worker::sink::{Batch, RunInfo, Sink};

#[allow(dead_code)]
#[path = "../tests/it/common.rs"]
mod common;

const RUNS: usize = 3;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data")
}

/// Writes the feed version gzipped (level 6, as published feeds usually are), once.
fn feed_file(records: u64, revision: Option<&Revision>, name: &str) -> PathBuf {
    let path = data_dir().join(format!("{name}-{records}.xml.gz"));
    if !path.exists() {
        std::fs::create_dir_all(data_dir()).unwrap();
        let temp = path.with_extension("tmp");
        let file = std::fs::File::create(&temp).unwrap();
        let mut gz = flate2::write::GzEncoder::new(
            std::io::BufWriter::with_capacity(1 << 20, file),
            flate2::Compression::new(6),
        );
        write_revision(&mut gz, &GenOptions::new(42, records), revision).unwrap();
        gz.finish().unwrap().flush().unwrap();
        std::fs::rename(&temp, &path).unwrap();
    }
    path
}

fn gunzip_seconds(path: &Path) -> (f64, u64) {
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

/// A sink that reads each body and answers 200 at once, on its own thread and runtime.
fn start_sink() -> (String, Arc<AtomicU64>) {
    let bytes = Arc::new(AtomicU64::new(0));
    let counter = bytes.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let router = axum::Router::new().route(
                "/jobs",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(body.len() as u64, Ordering::Relaxed);
                        "ok"
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (format!("http://{addr}/jobs"), bytes)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let records: u64 = std::env::var("FEEDPIPE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let revision = Revision {
        seed: 9,
        changed_bp: 400, // 4% of records: about 8,000 of 200,000
        removed_bp: 0,
        added_bp: 0,
    };
    eprintln!(
        "preparing {records}-record feeds in {}",
        data_dir().display()
    );
    let base = feed_file(records, None, "base");
    let next = feed_file(records, Some(&revision), "changed");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (sink_url, sink_bytes) = start_sink();
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
    let (job, manifest, changes, snapshot_key) = rt.block_on(async {
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
        let started = Instant::now();
        let c1 = worker::check::check(&job, &checking).await.unwrap().result;
        eprintln!(
            "check (store + index, file://): {:.2} s for {} bytes",
            started.elapsed().as_secs_f64(),
            c1.snapshot.bytes
        );
        let (manifest, expected) =
            common::write_manifest(&job.store, &job.config, &c1, Some(&c0)).await;
        (job, manifest, expected, c1.snapshot.snapshot)
    });
    let changed = changes.upserts.len() as u64;
    let snapshot = dir.path().join("store").join(&snapshot_key);

    // Baseline: gunzip only.
    let gunzip: Vec<(f64, u64)> = (0..RUNS).map(|_| gunzip_seconds(&snapshot)).collect();
    let plain = gunzip[0].1;
    let gunzip = median(gunzip.into_iter().map(|g| g.0).collect());

    // Extraction only, from memory (feed's Extractor; it inflates, pipelined inside), and
    // the same on the already inflated XML: the scanner's own floor.
    let gz_bytes = std::fs::read(&snapshot).unwrap();
    let mut plain_bytes = Vec::new();
    flate2::read::MultiGzDecoder::new(&gz_bytes[..])
        .read_to_end(&mut plain_bytes)
        .unwrap();
    let extract = |input: &[u8]| {
        median(
            (0..RUNS)
                .map(|_| {
                    let started = Instant::now();
                    let opts = feed::FeedOptions::from_config(&job.feed);
                    let mut ex =
                        feed::extract::Extractor::new(&opts, changes.upserts.iter().cloned());
                    let mut n = 0u64;
                    let mut on = |_e: feed::extract::Extracted| -> Result<(), feed::FeedError> {
                        n += 1;
                        Ok(())
                    };
                    for chunk in input.chunks(1 << 20) {
                        ex.push(chunk, &mut on).unwrap();
                    }
                    ex.finish(&mut on).unwrap();
                    assert_eq!(n, changed);
                    started.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let extract_only = extract(&gz_bytes);
    let scan_plain = extract(&plain_bytes);
    drop(plain_bytes);

    // Delivery only: the same records, already extracted, posted at parallelism 15.
    let batches: Vec<Batch> = rt.block_on(async {
        let mut out = Vec::new();
        let opts = feed::FeedOptions::from_config(&job.feed);
        let mut extractor = feed::extract::Extractor::new(&opts, changes.upserts.iter().cloned());
        let bytes = job.store.get(&snapshot_key).await.unwrap().bytes;
        let mut records = Vec::new();
        let mut on = |e: feed::extract::Extracted| -> Result<(), feed::FeedError> {
            records.push((e.id, e.hash.to_string(), e.json));
            Ok(())
        };
        extractor.push(&bytes, &mut on).unwrap();
        extractor.finish(&mut on).unwrap();
        for (n, chunk) in records.chunks(500).enumerate() {
            out.push(Batch {
                number: n as u64,
                upserts: chunk.to_vec(),
                deletes: vec![],
            });
        }
        out
    });
    let retry = RetryArgs::default();
    let delivery: Vec<f64> = (0..RUNS)
        .map(|_| {
            rt.block_on(async {
                let run = RunInfo {
                    feed: "jobs".into(),
                    execution: "bench".into(),
                    snapshot: "s".into(),
                };
                let sink = Arc::new(Sink::open(&sink_url, run, &retry, 15).await.unwrap());
                let started = Instant::now();
                let queue = Arc::new(std::sync::Mutex::new(batches.clone()));
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
            })
        })
        .collect();
    let delivery = median(delivery);

    // The whole consume, from a fresh checkpoint each run.
    let walls: Vec<f64> = (0..RUNS)
        .map(|_| {
            rt.block_on(async {
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
            })
        })
        .collect();
    let wall = median(walls);

    println!("consume bench: {records} records, {changed} changed, snapshot {:.1} MB gz / {:.1} MB xml, parallelism 15, batch 500, median of {RUNS}", std::fs::metadata(&snapshot).unwrap().len() as f64 / 1e6, plain as f64 / 1e6);
    println!(
        "  baseline gunzip only      {gunzip:>7.3} s  ({:.0} MB/s)",
        plain as f64 / 1e6 / gunzip
    );
    println!("  extract only              {extract_only:>7.3} s  (feed's Extractor, gz in memory)");
    println!(
        "  extract only, plain XML   {scan_plain:>7.3} s  (already inflated: the scanner's floor)"
    );
    println!(
        "  delivery only             {delivery:>7.3} s  ({:.0} records/s)",
        changed as f64 / delivery
    );
    println!(
        "  consume (extract+deliver) {wall:>7.3} s  ({:.0} records/s)",
        changed as f64 / wall
    );
    println!(
        "  consume / (gunzip + delivery) = {:.2}  (target <= 2.0); delivery {:.0} records/s (target >= 30000)",
        wall / (gunzip + delivery),
        changed as f64 / delivery
    );
    println!(
        "  sink received {:.1} MB",
        sink_bytes.load(Ordering::Relaxed) as f64 / 1e6
    );
}
