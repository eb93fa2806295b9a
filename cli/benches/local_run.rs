//! Local-run benchmark (local-run issue): `feedpipe run --feed` on a 200,000-record job feed
//! (~470 MB of XML, ~90 MB gzipped, compressing as real job feeds do), first v1 (every record
//! delivered to a loopback HTTP sink that answers at once), then v2 (4% of the records changed:
//! the revision changes, removes and adds about 1.3% each).
//!
//! Printed, measured in the same run: gunzip only of both files (the baseline, flate2/zlib-rs as
//! `feed` inflates); each run's wall time and every state's wall time (from the history); the
//! peak RSS (VmHWM, sampled every 20 ms until the process ends) of the `feedpipe` process
//! running the engine and of each `feedpipe-worker` job; the ratio of v1 + v2 to gunzip of both
//! (target <= 3); and the overhead of the local integrations per state transition, process
//! start excluded: (execution wall - time inside the Batch jobs' processes) / transitions, on
//! the v2 run and on a run of the 3-record example feed (target <= 5 ms).
//!
//! `cargo bench -p feedpipe --bench local_run` (feeds are generated once into
//! `target/bench-data/`; `FEEDPIPE_BENCH_RECORDS` overrides the 200,000). Measure on a quiet
//! machine: the load average before and after is printed.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use feed::generate::{GenOptions, Revision};
use serde_json::Value;

#[allow(dead_code)]
#[path = "../../worker/benches/support/mod.rs"]
mod support;

fn gunzip(path: &Path) -> f64 {
    let started = Instant::now();
    let file = std::fs::File::open(path).unwrap();
    let mut gz =
        flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut buf = vec![0u8; 1 << 20];
    while gz.read(&mut buf).unwrap() > 0 {}
    started.elapsed().as_secs_f64()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// VmHWM of a process, in KiB.
fn hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `feedpipe-worker JOB` processes of `execution`: pid → job.
fn workers(execution: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let want = format!("FEEDPIPE_EXECUTION={execution}");
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        if !args
            .first()
            .is_some_and(|a| a.ends_with(b"feedpipe-worker"))
        {
            continue;
        }
        let env = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if env.split(|&b| b == 0).any(|e| e == want.as_bytes()) {
            let job =
                String::from_utf8_lossy(args.get(1).copied().unwrap_or_default()).into_owned();
            out.push((pid, job));
        }
    }
    out
}

struct Measured {
    wall: f64,
    summary: Value,
    /// Process label → peak RSS in KiB.
    peaks: Vec<(String, u64)>,
}

/// Runs `feedpipe run --feed jobs --name NAME --json` in `dir`, sampling peak RSS.
fn run(dir: &Path, name: &str) -> Measured {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(["run", "--feed", "jobs", "--json", "--name", name])
        .current_dir(dir)
        .env("FEEDPIPE_WORKER_BIN", dir.join("bin/feedpipe-worker"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let engine = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let peaks = Arc::new(Mutex::new(HashMap::<String, u64>::new()));
    let sampler = {
        let (done, peaks, name) = (done.clone(), peaks.clone(), name.to_string());
        std::thread::spawn(move || {
            while !done.load(Ordering::Acquire) {
                let mut p = peaks.lock().unwrap();
                if let Some(k) = hwm_kib(engine) {
                    let e = p.entry("feedpipe (engine)".into()).or_default();
                    *e = (*e).max(k);
                }
                for (pid, job) in workers(&name) {
                    if let Some(k) = hwm_kib(pid) {
                        let e = p
                            .entry(format!("feedpipe-worker {job} (pid {pid})"))
                            .or_default();
                        *e = (*e).max(k);
                    }
                }
                drop(p);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    let wall = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Release);
    sampler.join().unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(summary["status"], "SUCCEEDED", "{summary}");
    let mut peaks: Vec<(String, u64)> = peaks.lock().unwrap().clone().into_iter().collect();
    peaks.sort();
    Measured {
        wall,
        summary,
        peaks,
    }
}

fn history(dir: &Path, name: &str) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(["history", name, "--json"])
        .current_dir(dir)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["events"].as_array().unwrap().clone()
}

/// Each state's wall time in seconds, in order; the number of transitions (states entered);
/// the execution's wall time; the time spent inside Batch job processes.
fn states(events: &[Value]) -> (Vec<(String, f64)>, usize, f64, f64) {
    let ts = |e: &Value| e["timestamp"].as_f64().unwrap();
    let mut entered: HashMap<String, f64> = HashMap::new();
    let mut out = Vec::new();
    let mut transitions = 0;
    let mut in_jobs = 0.0;
    for e in events {
        let ty = e["type"].as_str().unwrap();
        if ty.ends_with("StateEntered") {
            transitions += 1;
            let n = e["stateEnteredEventDetails"]["name"].as_str().unwrap();
            entered.insert(n.to_string(), ts(e));
        } else if ty.ends_with("StateExited") {
            let n = e["stateExitedEventDetails"]["name"].as_str().unwrap();
            out.push((n.to_string(), ts(e) - entered[n]));
        } else if ty == "TaskSucceeded" {
            let output = e["taskSucceededEventDetails"]["output"]
                .as_str()
                .unwrap_or("{}");
            let job: Value = serde_json::from_str(output).unwrap_or(Value::Null);
            for a in job["Attempts"].as_array().into_iter().flatten() {
                let (s, t) = (a["StartedAt"].as_f64(), a["StoppedAt"].as_f64());
                if let (Some(s), Some(t)) = (s, t) {
                    in_jobs += (t - s) / 1000.0;
                }
            }
        }
    }
    let wall = ts(events.last().unwrap()) - ts(&events[0]);
    (out, transitions, wall, in_jobs)
}

fn print_run(label: &str, m: &Measured, events: &[Value]) -> (f64, usize, f64, f64) {
    let (per_state, transitions, wall, in_jobs) = states(events);
    let d = &m.summary["output"]["diff"];
    println!(
        "{label}: {:.3} s wall ({:.3} s in the execution), added {} changed {} removed {}",
        m.wall, wall, d["added"], d["changed"], d["removed"]
    );
    for (state, secs) in &per_state {
        println!("    {state:<12} {:>8.3} s", secs);
    }
    for (process, kib) in &m.peaks {
        println!(
            "    peak RSS {process:<40} {:>8.1} MiB",
            *kib as f64 / 1024.0
        );
    }
    (m.wall, transitions, wall, in_jobs)
}

fn project(dir: &Path, feed_url: &str, sink: &str) {
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let worker = dir.join("bin/feedpipe-worker");
    if !worker.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_feedpipe"), &worker).unwrap();
    }
    std::fs::write(
        dir.join("feedpipe.toml"),
        format!(
            "store = \"file://.feedpipe/store\"\nnotify = \"file://.feedpipe/outbox\"\n\n[[feed]]\nname = \"jobs\"\nurl = \"{feed_url}\"\nrecord_tag = \"job\"\nid = \"reference\"\n\n[feed.sink]\nurl = \"{sink}\"\nparallelism = 15\nbatch_size = 500\n"
        ),
    )
    .unwrap();
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = support::data_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn main() {
    let records: u64 = std::env::var("FEEDPIPE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let mut opts = GenOptions::new(42, records);
    opts.natural = true;
    let revision = Revision {
        seed: 9,
        changed_bp: 134,
        removed_bp: 133,
        added_bp: 133,
    };
    let v1 = support::feed_file(&format!("natural-base-{records}"), &opts, None);
    let v2 = support::feed_file(&format!("natural-rev4-{records}"), &opts, Some(&revision));
    println!("load average before: {}", load_average());
    println!(
        "feeds: v1 {:.1} MB gz, v2 {:.1} MB gz, {records} records",
        std::fs::metadata(&v1).unwrap().len() as f64 / 1e6,
        std::fs::metadata(&v2).unwrap().len() as f64 / 1e6
    );
    let (sink, received) = support::start_sink();

    // The baseline, in the same run: gunzip only of both files (a warm-up read first).
    gunzip(&v1);
    let base = gunzip(&v1) + gunzip(&v2);
    println!("gunzip only, v1 + v2: {base:.3} s");

    let dir = fresh_dir("local-run");
    let link = dir.join("feed.xml.gz");
    project(&dir, "file://feed.xml.gz", &sink);
    std::os::unix::fs::symlink(&v1, &link).unwrap();
    let m1 = run(&dir, "v1");
    let (w1, _, _, _) = print_run("v1 (every record)", &m1, &history(&dir, "v1"));
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&v2, &link).unwrap();
    let m2 = run(&dir, "v2");
    let (w2, transitions, wall, in_jobs) = print_run("v2 (4% changed)", &m2, &history(&dir, "v2"));
    println!(
        "sink received {:.1} MB",
        received.load(Ordering::Relaxed) as f64 / 1e6
    );
    println!(
        "v1 + v2: {:.3} s = {:.2}x gunzip only of both files (target <= 3)",
        w1 + w2,
        (w1 + w2) / base
    );
    println!(
        "overhead per state transition, v2: {:.2} ms ({transitions} transitions, {:.3} s outside job processes)",
        (wall - in_jobs) * 1000.0 / transitions as f64,
        wall - in_jobs
    );

    // The same overhead on the tiny example feed, where the jobs do almost nothing.
    let small = fresh_dir("local-run-small");
    std::fs::write(
        small.join("jobs.xml"),
        include_str!("../../examples/jobs.xml"),
    )
    .unwrap();
    project(&small, "file://jobs.xml", &sink);
    let m = run(&small, "small");
    let (_, transitions, wall, in_jobs) = print_run("3-record feed", &m, &history(&small, "small"));
    println!(
        "overhead per state transition, 3-record feed: {:.2} ms (target <= 5; {transitions} transitions, {:.3} s outside job processes)",
        (wall - in_jobs) * 1000.0 / transitions as f64,
        wall - in_jobs
    );
    println!("load average after: {}", load_average());
}
