//! `feedpipe serve` API benchmark (console issue): DescribeExecution and ListExecutions latency
//! (p50, p99) with 50 concurrent clients and 10,000 stored executions, and the server's memory
//! (this process's VmHWM: the server runs in it, the clients' share is small).
//!
//! `cargo bench -p serve --bench api` (`SERVE_BENCH_EXECUTIONS`, `SERVE_BENCH_REQUESTS` override
//! 10,000 and 2,000 requests per action).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use runs::store::{Description, ExecutionStore};
use serde_json::json;
use statemachine::engine::ExecutionStatus;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let executions = env("SERVE_BENCH_EXECUTIONS", 10_000);
    let requests = env("SERVE_BENCH_REQUESTS", 2_000);
    let dir = tempfile::tempdir().unwrap();
    let config = feed::config::Config::load(
        "[[feed]]\nname = \"jobs\"\nurl = \"file://feed.xml\"\nrecord_tag = \"job\"\nid = \"reference\"\n[feed.sink]\nurl = \"file://sink\"\n",
        "bench.toml",
        Some(dir.path()),
    )
    .unwrap();
    let state_dir = dir.path().join(".feedpipe");
    let store = ExecutionStore::new(&state_dir);
    let started = Instant::now();
    for i in 0..executions {
        let name = format!("jobs-{i:06}");
        store.create(&name).unwrap();
        let d = Description {
            execution_arn: format!(
                "arn:aws:states:us-east-1:123456789012:execution:feedpipe:{name}"
            ),
            name: name.clone(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:feedpipe".into(),
            feed: Some("jobs".into()),
            input: json!({"feed": "jobs"}),
            status: if i % 10 == 0 {
                ExecutionStatus::Failed
            } else {
                ExecutionStatus::Succeeded
            },
            start_date_ms: 1_796_000_000_000 + i as i64 * 1000,
            stop_date_ms: Some(1_796_000_000_500 + i as i64 * 1000),
            output: Some(json!({"diff": {"added": i}})),
            error: None,
            cause: None,
            redrive_count: 0,
            redrive_date_ms: None,
            resume: None,
            pid: None,
            fast_waits: false,
        };
        store.write_description(&d).unwrap();
    }
    println!(
        "{executions} executions written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let project = runs::Project {
        config,
        config_file: dir.path().join("bench.toml"),
        state_dir,
        definition: "{}".into(),
    };
    let local = Arc::new(runs::Local::new(project, None));
    let server = Arc::new(serve::Server::new(local, None));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            serve::router(server).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let endpoint = format!("http://{addr}/");
    let client = reqwest::Client::new();
    for (action, body) in [
        (
            "DescribeExecution",
            json!({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:feedpipe:jobs-004242"}),
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:feedpipe", "maxResults": 100, "statusFilter": "FAILED"}),
        ),
    ] {
        let body = body.to_string();
        // One request first: the server's first ListExecutions reads every description once.
        let t = Instant::now();
        client
            .post(&endpoint)
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .header("content-type", "application/x-amz-json-1.0")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        println!(
            "{action:<18} first request: {:.1} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
        let times = Arc::new(std::sync::Mutex::new(Vec::with_capacity(requests)));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..50 {
            let (client, endpoint, body, times) = (
                client.clone(),
                endpoint.clone(),
                body.clone(),
                times.clone(),
            );
            tasks.push(tokio::spawn(async move {
                for _ in (c..requests).step_by(50) {
                    let t = Instant::now();
                    let r = client
                        .post(&endpoint)
                        .header("x-amz-target", format!("AWSStepFunctions.{action}"))
                        .header("content-type", "application/x-amz-json-1.0")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success());
                    r.bytes().await.unwrap();
                    times
                        .lock()
                        .unwrap()
                        .push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let wall = started.elapsed().as_secs_f64();
        let mut t = times.lock().unwrap().clone();
        t.sort_by(|a, b| a.total_cmp(b));
        println!(
            "{action:<18} {} requests, 50 clients: p50 {:.2} ms, p99 {:.2} ms, {:.0} requests/s (target p99 <= 10 ms)",
            t.len(),
            percentile(&t, 0.5),
            percentile(&t, 0.99),
            t.len() as f64 / wall
        );
    }
    println!(
        "peak RSS of the process (server + clients): {:.1} MiB (target <= 100 MiB)",
        hwm_mib()
    );
}
