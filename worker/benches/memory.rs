//! Peak memory of the pipeline's programs on a feed of 2,000,000 short records (about 250 bytes
//! each, `feed::generate::GenOptions::short`, gzipped): `feedpipe-worker check` and
//! `feedpipe-worker consume` measured by GNU time (`/usr/bin/time -v`, maximum resident set
//! size), DiffFeed in a child process of this bench (its VmHWM at the end).
//!
//! Three executions on one store, each committed before the next, as the pipeline runs them:
//! the first delivery (every record added), a revision (2% changed, 1% removed, 1% added) and a
//! revision that changes every record (about 1,960,000 upserts found by id). Consume delivers to
//! a loopback HTTP sink served by this process, at parallelism 15 with batches of 500.
//!
//! `cargo bench -p worker --bench memory` (feeds are generated once into
//! `target/bench-data/`; `FEEDPIPE_BENCH_RECORDS` overrides the 2,000,000).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use feed::generate::{GenOptions, Revision};
use store::layout::{self, CheckResult, Current};
use store::{Condition, Store};

mod support;

/// The feed of short records (base, or a revision of it), generated once.
fn feed_file(records: u64, revision: Option<(&str, Revision)>) -> PathBuf {
    let name = revision.map_or("base", |r| r.0);
    let mut opts = GenOptions::new(42, records);
    opts.short = true;
    let revision = revision.map(|r| r.1);
    support::feed_file(&format!("short-{name}-{records}"), &opts, revision.as_ref())
}

/// Runs `feedpipe-worker ARGS` under GNU time: its final JSON line, wall seconds, peak RSS KiB.
fn worker(args: &[&str], env: &[(&str, &str)]) -> (serde_json::Value, f64, u64) {
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_feedpipe-worker"))
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .output()
        .expect("/usr/bin/time (GNU time) runs");
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let rss = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|n| n.parse().ok())
        .expect("GNU time's maximum resident set size");
    (line, secs, rss)
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// The child: runs DiffFeed for `execution` and prints its response with its VmHWM.
fn diff_child(config: &str, execution: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let response = rt.block_on(async {
        let config = lambdas::context::load_config(config).await.unwrap();
        let ctx = lambdas::Context::new(config).await.unwrap();
        let request = lambdas::diff::DiffRequest {
            feed: "jobs".into(),
            execution: execution.into(),
        };
        lambdas::diff::diff(&ctx, request).await.unwrap()
    });
    let v = serde_json::json!({
        "response": response,
        "secs": started.elapsed().as_secs_f64(),
        "hwm_kib": vm_hwm_kib(),
    });
    println!("{v}");
}

/// DiffFeed in a child process: its response, wall seconds, VmHWM KiB.
fn diff(config: &str, execution: &str) -> (serde_json::Value, f64, u64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--diff-child", config, execution])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secs = v["secs"].as_f64().unwrap();
    (v["response"].clone(), secs, v["hwm_kib"].as_u64().unwrap())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--diff-child") {
        return diff_child(&args[i + 1], &args[i + 2]);
    }
    let records: u64 = std::env::var("FEEDPIPE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let feeds = [
        ("first delivery", feed_file(records, None)),
        (
            "revision (2% changed, 1% removed, 1% added)",
            feed_file(
                records,
                Some((
                    "rev",
                    Revision {
                        seed: 5,
                        changed_bp: 200,
                        removed_bp: 100,
                        added_bp: 100,
                    },
                )),
            ),
        ),
        (
            "every record changed",
            feed_file(
                records,
                Some((
                    "all",
                    Revision {
                        seed: 6,
                        changed_bp: 10_000,
                        removed_bp: 0,
                        added_bp: 0,
                    },
                )),
            ),
        ),
    ];
    let (sink_url, _) = support::start_sink();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feedpipe.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"file://store\"\n[[feed]]\nname = \"jobs\"\nurl = \"file://feed.xml.gz\"\n\
             record_tag = \"job\"\nid = \"reference\"\n[feed.sink]\nurl = \"{sink_url}\"\n\
             parallelism = 15\nbatch_size = 500\n"
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt
        .block_on(Store::open(&format!(
            "file://{}",
            dir.path().join("store").display()
        )))
        .unwrap();

    println!(
        "memory bench: {records} short records a feed, store file://, HTTP sink on loopback, \
         parallelism 15, batch 500"
    );
    println!("| execution | program | what it did | wall s | peak RSS MiB |");
    println!("|---|---|---|---|---|");
    for (n, (what, feed)) in feeds.iter().enumerate() {
        std::fs::copy(feed, dir.path().join("feed.xml.gz")).unwrap();
        let execution = format!("e{n}");
        let env = [
            ("FEEDPIPE_CONFIG", config.as_str()),
            ("FEEDPIPE_FEED", "jobs"),
            ("FEEDPIPE_EXECUTION", execution.as_str()),
        ];
        let (line, secs, rss) = worker(&["check"], &env);
        println!(
            "| {what} | check | {} records, {:.0} MB gz, {} spilled runs | {secs:.2} | {:.1} |",
            line["records"],
            line["bytes"].as_f64().unwrap() / 1e6,
            line["spilled_runs"],
            mib(rss)
        );
        let (response, secs, hwm) = diff(&config, &execution);
        println!(
            "| {what} | diff (Lambda handler) | {} added, {} changed, {} removed | {secs:.2} | {:.1} |",
            response["added"],
            response["changed"],
            response["removed"],
            mib(hwm)
        );
        let manifest = response["manifest"].as_str().unwrap();
        let mut env = env.to_vec();
        env.push(("FEEDPIPE_MANIFEST", manifest));
        let (line, secs, rss) = worker(&["consume"], &env);
        let count = |k: &str| response[k].as_u64().unwrap();
        assert_eq!(line["upserts"], count("added") + count("changed"));
        assert_eq!(line["deletes"], count("removed"));
        println!(
            "| {what} | consume | {} upserts, {} deletes, {:.0} records/s | {secs:.2} | {:.1} |",
            line["upserts"],
            line["deletes"],
            line["records_per_second"].as_f64().unwrap(),
            mib(rss)
        );
        // Commit, as the Lambda would after a successful consume.
        rt.block_on(async {
            let check = store.get(&layout::check("jobs", &execution)).await.unwrap();
            let check: CheckResult = serde_json::from_slice(&check.bytes).unwrap();
            let current = Current {
                feed: "jobs".into(),
                execution: execution.clone(),
                snapshot: check.snapshot,
            };
            let body = bytes::Bytes::from(serde_json::to_vec(&current).unwrap());
            store
                .put(&layout::current("jobs"), body, Condition::Always)
                .await
                .unwrap();
        });
    }
}
