//! The console's GET endpoints of `feedpipe serve` over HTTP (a real `feedpipe serve` process on
//! 127.0.0.1): `/events`, the server-sent events of an execution's history and status and of
//! the executions list, and `/logs`, a Batch job's log, with what it must refuse.

use std::time::Duration;

#[path = "support/serve.rs"]
mod support;

use serde_json::{json, Value};
use support::serve;

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:feedpipe";

/// How long a test waits for what it expects before failing.
const DEADLINE: Duration = Duration::from_secs(90);

async fn call(endpoint: &str, action: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(endpoint)
        .header("x-amz-target", format!("AWSStepFunctions.{action}"))
        .header("content-type", "application/x-amz-json-1.0")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(status.is_success(), "{action}: {v}");
    v
}

async fn start(endpoint: &str, name: &str) -> String {
    let v = call(
        endpoint,
        "StartExecution",
        json!({"stateMachineArn": MACHINE, "name": name, "input": "{\"feed\": \"jobs\"}"}),
    )
    .await;
    v["executionArn"].as_str().unwrap().to_string()
}

/// One server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    event: String,
    id: Option<String>,
    data: String,
}

/// Reads the events of a `text/event-stream` answer.
struct SseReader {
    response: reqwest::Response,
    buf: String,
}

impl SseReader {
    async fn open(url: &str, last_event_id: Option<&str>) -> SseReader {
        let mut req = reqwest::Client::new().get(url);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        SseReader {
            response,
            buf: String::new(),
        }
    }

    /// The next event (comments skipped); panics when the stream ends.
    async fn next(&mut self) -> Sse {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut e = Sse {
                    event: "message".into(),
                    id: None,
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "" => continue,
                        "event" => e.event = value.into(),
                        "id" => e.id = Some(value.into()),
                        "data" => {
                            if !e.data.is_empty() {
                                e.data.push('\n');
                            }
                            e.data.push_str(value);
                        }
                        _ => continue,
                    }
                    any = true;
                }
                if any {
                    return e;
                }
                continue;
            }
            let chunk = self
                .response
                .chunk()
                .await
                .unwrap()
                .expect("the event stream ended");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Events until `done` says the last one was the one wanted.
    async fn until(&mut self, mut done: impl FnMut(&Sse) -> bool) -> Vec<Sse> {
        let mut seen = Vec::new();
        let all = tokio::time::timeout(DEADLINE, async {
            loop {
                let e = self.next().await;
                seen.push(e.clone());
                if done(&e) {
                    return;
                }
            }
        })
        .await;
        assert!(all.is_ok(), "timed out; events so far: {seen:#?}");
        seen
    }
}

fn is_final_status(e: &Sse) -> bool {
    e.event == "status"
        && serde_json::from_str::<Value>(&e.data).unwrap()["status"].as_str() != Some("RUNNING")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_a_run_as_it_goes_and_resume_after_the_last_event_id() {
    let s = serve();
    let enc = |arn: &str| arn.replace(':', "%3A");
    // The feed is a named pipe: the run's first job waits in it until the test writes the feed,
    // so the run is seen while it goes.
    let feed = s.dir.path().join("feed.xml");
    let xml = std::fs::read(&feed).unwrap();
    std::fs::remove_file(&feed).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&feed)
        .status()
        .unwrap();
    assert!(made.success());

    // The list's stream: the counts at first, then whenever an execution starts or ends.
    let mut list = SseReader::open(&format!("{}/events", s.endpoint), None).await;
    let counts = |e: &Sse| -> Value {
        assert_eq!(e.event, "executions");
        serde_json::from_str(&e.data).unwrap()
    };
    let first = list.until(|_| true).await;
    assert_eq!(counts(&first[0]), json!({"executions": 0, "running": 0}));

    let arn = start(&s.endpoint, "sse-1").await;
    list.until(|e| counts(e) == json!({"executions": 1, "running": 1}))
        .await;
    let url = format!("{}/events?execution={}", s.endpoint, enc(&arn));
    let mut stream = SseReader::open(&url, None).await;
    // While the first job waits: its state entered, the execution RUNNING.
    let (mut running, mut submitted) = (false, false);
    let mut seen = stream
        .until(|e| {
            if e.event == "status" {
                let d: Value = serde_json::from_str(&e.data).unwrap();
                assert_eq!(d["status"], "RUNNING", "{d}");
                running = true;
            }
            submitted |= e.event == "history" && e.data.contains("\"TaskSubmitted\"");
            running && submitted
        })
        .await;
    assert!(!seen.iter().any(|e| e.data.contains("\"TaskSucceeded\"")));
    let writer = std::thread::spawn(move || std::fs::write(feed, xml).unwrap());
    seen.extend(stream.until(is_final_status).await);
    writer.join().unwrap();
    let history: Vec<&Sse> = seen.iter().filter(|e| e.event == "history").collect();
    let statuses: Vec<Value> = seen
        .iter()
        .filter(|e| e.event == "status")
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let last = statuses.last().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    // The status is DescribeExecution's answer.
    let described = call(
        &s.endpoint,
        "DescribeExecution",
        json!({"executionArn": arn}),
    )
    .await;
    assert_eq!(*last, described);

    // Every history event, in order, each as GetExecutionHistory shows it, before the status
    // that ends the run.
    let got = call(
        &s.endpoint,
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 1000}),
    )
    .await;
    let expected = got["events"].as_array().unwrap();
    assert_eq!(history.len(), expected.len());
    for (e, want) in history.iter().zip(expected) {
        let data: Value = serde_json::from_str(&e.data).unwrap();
        assert_eq!(&data, want);
        assert_eq!(e.id.as_deref(), Some(want["id"].to_string().as_str()));
    }
    assert!(history.last().unwrap().data.contains("ExecutionSucceeded"));

    // A reconnect with Last-Event-ID gets only what came after it.
    let mut resumed = SseReader::open(&url, Some("5")).await;
    let again = resumed.until(is_final_status).await;
    let ids: Vec<u64> = again
        .iter()
        .filter(|e| e.event == "history")
        .map(|e| e.id.as_deref().unwrap().parse().unwrap())
        .collect();
    let want: Vec<u64> = (6..=expected.len() as u64).collect();
    assert_eq!(ids, want);

    // The list's stream said so when the run ended.
    list.until(|e| counts(e) == json!({"executions": 1, "running": 0}))
        .await;

    // Names and ARNs of no execution.
    for bad in [
        "arn:aws:states:us-east-1:123456789012:execution:feedpipe:nope".to_string(),
        "arn:aws:states:us-east-1:123456789012:execution:feedpipe:..".to_string(),
        "nonsense".to_string(),
    ] {
        let r = reqwest::get(format!("{}/events?execution={}", s.endpoint, enc(&bad)))
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{bad}");
        let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(v["__type"], "ExecutionDoesNotExist", "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_serve_a_job_log_and_refuse_anything_else() {
    let s = serve();
    let arn = start(&s.endpoint, "logs-1").await;
    // Until the run ends (the stream's final status).
    let url = format!("{}/events?execution={arn}", s.endpoint);
    SseReader::open(&url, None)
        .await
        .until(is_final_status)
        .await;
    let history = call(
        &s.endpoint,
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 1000}),
    )
    .await;
    let job: Value = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["taskSucceededEventDetails"]["output"].as_str())
        .map(|o| serde_json::from_str(o).unwrap())
        .unwrap();
    let stream_name = job["Container"]["LogStreamName"].as_str().unwrap();
    let path = s.dir.path().join(stream_name);
    let file = path.file_name().unwrap().to_str().unwrap().to_string();
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(!on_disk.is_empty());

    let get = |query: String| {
        let url = format!("{}/logs?{query}", s.endpoint);
        async move {
            let r = reqwest::get(&url).await.unwrap();
            let status = r.status().as_u16();
            let kind = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, kind, r.text().await.unwrap())
        }
    };
    let (status, kind, text) = get(format!("execution={arn}&stream={file}")).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(kind, "text/plain; charset=utf-8");
    assert_eq!(text, on_disk);

    // A log planted in the folder that points out of .feedpipe/.
    let secret = s.dir.path().join("secret.log");
    std::fs::write(&secret, "not for you\n").unwrap();
    let logs_dir = path.parent().unwrap();
    std::os::unix::fs::symlink(&secret, logs_dir.join("Planted-1.log")).unwrap();
    // ...and a file of another execution's log folder.
    let other = logs_dir.parent().unwrap().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("X-1.log"), "other\n").unwrap();

    let absolute = path.display().to_string();
    for (query, want) in [
        (format!("execution={arn}&stream=Planted-1.log"), 404),
        (format!("execution={arn}&stream=Missing-1.log"), 404),
        (format!("execution={arn}&stream=../other/X-1.log"), 400),
        (format!("execution={arn}&stream=..%2Fother%2FX-1.log"), 400),
        (
            format!("execution={arn}&stream=%2e%2e%2fother%2fX-1.log"),
            400,
        ),
        (format!("execution={arn}&stream=%2e%2e"), 400),
        (format!("execution={arn}&stream=..%5Cother%5CX-1.log"), 400),
        (format!("execution={arn}&stream={absolute}"), 400),
        (format!("execution={arn}&stream=%2Fetc%2Fpasswd"), 400),
        (format!("execution={arn}&stream={file}%00.log"), 400),
        (format!("execution={arn}&stream=feedpipe.toml"), 400),
        (format!("execution={arn}"), 400),
        (
            format!("execution={}&stream={file}", arn.replace("logs-1", "other")),
            404,
        ),
        (format!("execution=..&stream={file}"), 404),
    ] {
        let (status, _, text) = get(query.clone()).await;
        assert_eq!(status, want, "{query}: {text}");
        assert!(
            !text.contains("not for you") && !text.contains("other\n"),
            "{query}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(v["__type"].is_string(), "{query}: {text}");
    }
    let (_, _, text) = get(format!(
        "execution={}&stream={file}",
        arn.replace("logs-1", "other")
    ))
    .await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["__type"], "ExecutionDoesNotExist");
}
