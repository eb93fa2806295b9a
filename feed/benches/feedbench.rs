//! The feed benchmark: index build, extract and diff against gunzip alone, measured in the same
//! run on feeds from the deterministic generator (about 50 MB and 500 MB of XML, and 2 million
//! short records, gzipped).
//!
//! `cargo bench -p feed --bench feedbench` (env `FEEDBENCH_RUNS`, default 3; `FEEDBENCH_FEEDS`,
//! a comma list of `50mb`, `500mb`, `2m`, default all; `FEEDBENCH_QUICK=1` is `50mb` only).
//! Feeds are generated once into `target/feedbench/`; index builds spill sorted runs to a
//! directory there, as `feedpipe feed index` does to the temp directory. Every measurement
//! runs in a child process of its own (this binary with `--child`), so its peak RSS (VmHWM) is
//! its own; the table shows medians.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use feed::diff::diff;
use feed::extract::{extract_reader, Extractor};
use feed::generate::{record_id, write_revision, GenOptions, GzWriter, Revision};
use feed::index::{index_reader, index_reader_with_spill, Indexer, Spill};
use feed::{FeedOptions, IdSource};
use serde_json::{json, Value};

const SMALL: u64 = 20_000;
const LARGE: u64 = 200_000;
/// Records of the feed of short records.
const MANY: u64 = 2_000_000;
const REVISION: Revision = Revision {
    seed: 2,
    changed_bp: 200,
    removed_bp: 100,
    added_bp: 100,
};

fn opts() -> FeedOptions {
    FeedOptions::new("job", IdSource::Child("reference".into()))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let v = child(&args[i + 1..]);
        println!("{v}");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/feedbench");
    std::fs::create_dir_all(&dir).expect("target/feedbench");
    let runs: usize = std::env::var("FEEDBENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let feeds = if std::env::var_os("FEEDBENCH_QUICK").is_some() {
        "50mb".to_string()
    } else {
        std::env::var("FEEDBENCH_FEEDS").unwrap_or_else(|_| "50mb,500mb,2m".into())
    };
    let sizes: Vec<(&str, u64)> = [
        ("50mb", "50 MB", SMALL),
        ("500mb", "500 MB", LARGE),
        ("2m", "2M short", MANY),
    ]
    .into_iter()
    .filter(|(key, _, _)| feeds.split(',').any(|f| f.trim() == *key))
    .map(|(_, label, records)| (label, records))
    .collect();
    println!(
        "| measurement | feed | median s | MB/s (XML) | records/s | peak RSS MiB | × gunzip |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (label, records) in sizes {
        let gz = generated(&dir, records, None);
        let idx = dir.join(format!("jobs-{records}.idx"));
        let n = records.to_string();
        let many = records == MANY;
        let mut plan: Vec<(&str, Vec<&str>)> = vec![
            (
                "gunzip only (flate2 zlib-rs, MultiGzDecoder)",
                vec!["gunzip", s(&gz)],
            ),
            (
                "index build, 2 threads (= feedpipe feed index; spills past 32 MiB of entries)",
                vec!["index", s(&gz), s(&idx)],
            ),
            (
                "index build, 1 thread (Indexer::single_threaded_with_spill)",
                vec!["index1", s(&gz), s(&idx)],
            ),
        ];
        if many {
            plan.push((
                "index build, 2 threads, in memory (index_memory 1 GiB)",
                vec!["indexm", s(&gz), s(&idx)],
            ));
        } else {
            plan.push((
                "index build, 2 threads, validate (full parse of every record)",
                vec!["indexv", s(&gz), s(&idx)],
            ));
        }
        plan.push((
            "record splitter alone (XML already in memory, 1 thread)",
            vec!["split", s(&gz)],
        ));
        if !many {
            plan.push((
                "JSON text of every record (quick-xml; XML in memory, 1 thread)",
                vec!["json", s(&gz)],
            ));
        }
        plan.push((
            "extract 2% of the records as JSON (extract_reader)",
            vec!["extract", s(&gz), &n],
        ));
        if many {
            plan.push((
                "extract 100% by id (2,000,000 ids: every record changed)",
                vec!["extractids", s(&gz), &n],
            ));
        } else {
            plan.push((
                "extract 2%, push-style Extractor (256 KiB pushes)",
                vec!["extractp", s(&gz), &n],
            ));
        }
        // Round-robin: run i of every measurement before run i+1 of any, so that load from
        // elsewhere on the machine falls on all of them alike.
        let mut results: Vec<Vec<Value>> = vec![Vec::new(); plan.len()];
        for _ in 0..runs.max(1) {
            for (k, (_, args)) in plan.iter().enumerate() {
                results[k].push(run_child(args));
            }
        }
        let medians: Vec<Value> = results.into_iter().map(median).collect();
        let gunzip = secs(&medians[0]);
        let xml = medians[0]["bytes"].as_f64().unwrap_or(0.0);
        let feed = format!("{label} ({records} records, {:.0} MB XML)", xml / 1e6);
        for ((what, _), m) in plan.iter().zip(&medians) {
            row(what, &feed, m, gunzip);
        }
        if records == LARGE {
            let gz2 = generated(&dir, records, Some(&REVISION));
            let idx2 = dir.join(format!("jobs-{records}-v2.idx"));
            run_child(&["index", s(&gz2), s(&idx2)]);
            let m = median(
                (0..runs.max(1))
                    .map(|_| run_child(&["diff", s(&idx), s(&idx2)]))
                    .collect(),
            );
            println!(
                "| diff of two {records}-record indexes ({} changes) | {label} | {:.4} | | {:.0} | {:.1} | |",
                m["changes"], secs(&m), m["records"].as_f64().unwrap_or(0.0) / secs(&m), hwm(&m)
            );
        }
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn secs(m: &Value) -> f64 {
    m["secs"].as_f64().unwrap_or(f64::NAN)
}

fn hwm(m: &Value) -> f64 {
    m["hwm_kib"].as_f64().unwrap_or(0.0) / 1024.0
}

fn row(what: &str, feed: &str, m: &Value, gunzip: f64) {
    let t = secs(m);
    let bytes = m["bytes"].as_f64().unwrap_or(0.0);
    let records = m["records"].as_f64().unwrap_or(0.0);
    let rec_s = if records > 0.0 {
        format!("{:.0}", records / t)
    } else {
        String::new()
    };
    println!(
        "| {what} | {feed} | {t:.3} | {:.0} | {rec_s} | {:.1} | {:.2} |",
        bytes / 1e6 / t,
        hwm(m),
        t / gunzip
    );
}

/// The generated feed (gzip), made once.
fn generated(dir: &Path, records: u64, rev: Option<&Revision>) -> PathBuf {
    let name = format!(
        "jobs-{records}{}.xml.gz",
        if rev.is_some() { "-v2" } else { "" }
    );
    let short = records == MANY;
    let path = dir.join(name);
    if path.exists() {
        return path;
    }
    let started = Instant::now();
    let tmp = path.with_extension("tmp");
    let mut gz = GzWriter::new(BufWriter::new(File::create(&tmp).expect("create feed")));
    let mut o = GenOptions::new(42, records);
    o.tricky = true;
    o.short = short;
    let stats = write_revision(&mut gz, &o, rev).expect("generate");
    gz.finish().expect("gzip").flush().expect("flush");
    std::fs::rename(&tmp, &path).expect("rename");
    eprintln!(
        "generated {} ({} records, {} bytes XML) in {:.1} s",
        path.display(),
        stats.records,
        stats.bytes,
        started.elapsed().as_secs_f64()
    );
    path
}

/// Runs one measurement in a child process.
fn run_child(args: &[&str]) -> Value {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(&exe)
        .arg("--child")
        .args(args)
        .output()
        .expect("child runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("child JSON")
}

/// The run with the median time.
fn median(mut all: Vec<Value>) -> Value {
    all.sort_by(|a, b| secs(a).total_cmp(&secs(b)));
    all.swap_remove(all.len() / 2)
}

/// The whole feed, gunzipped into memory.
fn gunzipped(path: &str) -> Vec<u8> {
    let mut xml = Vec::new();
    flate2::read::MultiGzDecoder::new(BufReader::new(File::open(path).expect("open")))
        .read_to_end(&mut xml)
        .expect("gunzip");
    xml
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Writes the index file; the record and byte counts.
fn save(index: feed::index::Index, path: &str) -> (u64, u64, u64) {
    let file = File::create(path).expect("create the index file");
    index
        .write_to(BufWriter::new(file))
        .expect("write the index file");
    (
        index.summary().records,
        index.summary().uncompressed_bytes,
        0,
    )
}

/// One measurement, in this (child) process.
fn child(args: &[String]) -> Value {
    let open = |p: &str| File::open(p).expect("open");
    let started = Instant::now();
    let (records, bytes, changes) = match args[0].as_str() {
        "gunzip" => {
            let mut d = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                1 << 20,
                open(&args[1]),
            ));
            let mut buf = vec![0u8; 1 << 20];
            let mut total = 0u64;
            loop {
                let n = d.read(&mut buf).expect("gunzip");
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            (0, total, 0)
        }
        "json" => {
            let xml = gunzipped(&args[1]);
            // Where the records are, then their JSON forms alone.
            let mut spans = Vec::new();
            let mut scanner = feed::Scanner::new(&opts());
            let mut found = |r: feed::RecordRef<'_>| {
                spans.push((r.number, r.offset as usize, r.bytes.len(), r.id.to_string()));
                Ok(())
            };
            scanner.push(&xml, &mut found).expect("split");
            let s = scanner.finish(&mut found).expect("split");
            let started = Instant::now();
            let mut keys = 0usize;
            for (number, offset, len, id) in &spans {
                let bytes = &xml[*offset..offset + len];
                let r = feed::RecordRef {
                    number: *number,
                    offset: *offset as u64,
                    id,
                    hash: feed::RecordHash(0),
                    bytes,
                };
                // The JSON text, as the sinks send it.
                keys += r.to_json_text(&opts()).expect("json").as_str().len();
            }
            let secs = started.elapsed().as_secs_f64();
            assert!(keys > 0);
            return json!({"secs": secs, "records": s.records, "bytes": s.uncompressed_bytes, "changes": 0, "hwm_kib": vm_hwm_kib()});
        }
        "split" => {
            let xml = gunzipped(&args[1]);
            let started = Instant::now();
            let mut scanner = feed::Scanner::new(&opts());
            let mut n = 0u64;
            let mut count = |_: feed::RecordRef<'_>| {
                n += 1;
                Ok(())
            };
            scanner.push(&xml, &mut count).expect("split");
            let s = scanner.finish(&mut count).expect("split");
            let secs = started.elapsed().as_secs_f64();
            return json!({"secs": secs, "records": s.records, "bytes": s.uncompressed_bytes, "changes": n, "hwm_kib": vm_hwm_kib()});
        }
        "index" => {
            let spill = DirSpill::new(&args[2]);
            save(
                index_reader_with_spill(open(&args[1]), &opts(), spill).expect("index"),
                &args[2],
            )
        }
        "indexm" => {
            let mut o = opts();
            o.index_memory = 1 << 30;
            save(index_reader(open(&args[1]), &o).expect("index"), &args[2])
        }
        "indexv" => {
            let mut o = opts();
            o.validate = true;
            save(index_reader(open(&args[1]), &o).expect("index"), &args[2])
        }
        "index1" => {
            let mut ix = Indexer::single_threaded_with_spill(&opts(), DirSpill::new(&args[2]));
            let mut f = open(&args[1]);
            let mut buf = vec![0u8; 256 << 10];
            loop {
                let n = f.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                ix.push(&buf[..n]).expect("index");
            }
            save(ix.finish().expect("index"), &args[2])
        }
        "extract" => {
            let n: u64 = args[2].parse().expect("records");
            let ids = (0..n).step_by(50).map(record_id);
            let mut json_bytes = 0usize;
            let s = extract_reader(open(&args[1]), &opts(), ids, &mut |r| {
                json_bytes += r.json.to_string().len();
                Ok(())
            })
            .expect("extract");
            assert!(s.missing == 0 && json_bytes > 0);
            (s.feed.records, s.feed.uncompressed_bytes, s.extracted)
        }
        "extractids" => {
            let n: u64 = args[2].parse().expect("records");
            let mut json_bytes = 0usize;
            let s = extract_reader(open(&args[1]), &opts(), (0..n).map(record_id), &mut |r| {
                json_bytes += r.json.to_string().len();
                Ok(())
            })
            .expect("extract");
            assert!(s.missing == 0 && s.extracted == n && json_bytes > 0);
            (s.feed.records, s.feed.uncompressed_bytes, s.extracted)
        }
        "extractp" => {
            let n: u64 = args[2].parse().expect("records");
            let mut ex = Extractor::new(&opts(), (0..n).step_by(50).map(record_id));
            let mut json_bytes = 0usize;
            let mut on = |r: feed::extract::Extracted| {
                json_bytes += r.json.to_string().len();
                Ok(())
            };
            let mut f = open(&args[1]);
            let mut buf = vec![0u8; 256 << 10];
            loop {
                let k = f.read(&mut buf).expect("read");
                if k == 0 {
                    break;
                }
                ex.push(&buf[..k], &mut on).expect("extract");
            }
            let s = ex.finish(&mut on).expect("extract");
            assert!(s.missing == 0 && json_bytes > 0);
            (s.feed.records, s.feed.uncompressed_bytes, s.extracted)
        }
        "diff" => {
            let old = std::fs::read(&args[1]).expect("old index");
            let new = std::fs::read(&args[2]).expect("new index");
            let started = Instant::now();
            let mut changes = 0u64;
            let s = diff(Some(&old[..]), &new[..], |_| {
                changes += 1;
                Ok(())
            })
            .expect("diff");
            let secs = started.elapsed().as_secs_f64();
            return json!({"secs": secs, "records": s.new.records, "bytes": 0, "changes": changes, "hwm_kib": vm_hwm_kib()});
        }
        other => panic!("unknown measurement {other}"),
    };
    let secs = started.elapsed().as_secs_f64();
    json!({"secs": secs, "records": records, "bytes": bytes, "changes": changes, "hwm_kib": vm_hwm_kib()})
}

/// Spill storage in a directory next to the index file, removed when dropped.
struct DirSpill(PathBuf);

impl DirSpill {
    fn new(index: &str) -> DirSpill {
        let dir = PathBuf::from(format!("{index}.spill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("spill directory");
        DirSpill(dir)
    }

    fn run(&self, run: u64) -> PathBuf {
        self.0.join(format!("run-{run}"))
    }
}

impl Spill for DirSpill {
    fn create(&mut self, run: u64) -> std::io::Result<Box<dyn Write + Send>> {
        Ok(Box::new(File::create(self.run(run))?))
    }

    fn open(&self, run: u64) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(self.run(run))?))
    }

    fn remove(&mut self, run: u64) -> std::io::Result<()> {
        std::fs::remove_file(self.run(run))
    }
}

impl Drop for DirSpill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
