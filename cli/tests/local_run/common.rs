//! The harness of the end-to-end tests: a project folder with `feedpipe.toml`, generated feeds,
//! a real HTTP sink on 127.0.0.1:0 that applies what it receives, and `feedpipe` run as a user
//! runs it (a real process; its Batch jobs are real `feedpipe-worker` child processes).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use feed::generate::{write_revision, GenOptions, Revision};
use serde_json::Value;

/// One test's project: a folder with `feedpipe.toml` for feed `jobs`, its feed file and sink.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub sink: Sink,
}

impl Project {
    /// A project whose feed `jobs` is read from `feed.xml.gz` and delivered to a fresh sink.
    pub fn new() -> Project {
        Project::with_schedule("rate(1 day)", None)
    }

    /// The same, with this schedule expression and time zone.
    pub fn with_schedule(schedule: &str, timezone: Option<&str>) -> Project {
        let dir = tempfile::Builder::new()
            .prefix("local-run")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let sink = Sink::start();
        let config = format!(
            r#"store  = "file://.feedpipe/store"
notify = "file://.feedpipe/outbox"

[[feed]]
name       = "jobs"
url        = "file://feed.xml.gz"
record_tag = "job"
id         = "reference"
schedule   = "{schedule}"
{tz}
[feed.sink]
url         = "{}"
parallelism = 4
batch_size  = 50
"#,
            sink.url,
            tz = timezone
                .map(|t| format!("schedule_timezone = \"{t}\"\n"))
                .unwrap_or_default(),
        );
        std::fs::write(dir.path().join("feedpipe.toml"), config).unwrap();
        // The worker program: this very binary under the name feedpipe-worker (busybox style).
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_feedpipe"), bin.join("feedpipe-worker"))
            .unwrap();
        Project { dir, sink }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the feed file (gzipped).
    pub fn write_feed(&self, xml: &[u8]) {
        std::fs::write(self.path().join("feed.xml.gz"), feed::generate::gzip(xml)).unwrap();
    }

    /// Writes raw bytes as the feed file.
    pub fn write_feed_bytes(&self, bytes: &[u8]) {
        std::fs::write(self.path().join("feed.xml.gz"), bytes).unwrap();
    }

    /// `feedpipe ARGS` in the project folder, as a prepared command.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedpipe"));
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("FEEDPIPE_CONFIG")
            .env(
                "FEEDPIPE_WORKER_BIN",
                self.path().join("bin").join("feedpipe-worker"),
            )
            // Quick retries against the sink: a sink that is down fails a job in milliseconds.
            .env("FEEDPIPE_MAX_ATTEMPTS", "3")
            .env("FEEDPIPE_RETRY_BASE_MS", "5")
            .env("FEEDPIPE_RETRY_CAP_MS", "20")
            .env("FEEDPIPE_REQUEST_TIMEOUT_SECONDS", "10");
        cmd
    }

    /// Runs `feedpipe ARGS` to its end.
    pub fn feedpipe(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `feedpipe run --feed jobs --json`: exit code and the JSON summary.
    pub fn run(&self) -> (i32, Value) {
        json_of(self.feedpipe(&["run", "--feed", "jobs", "--json", "--fast-waits"]))
    }

    /// `feedpipe redrive NAME --json`.
    pub fn redrive(&self, name: &str) -> (i32, Value) {
        json_of(self.feedpipe(&["redrive", name, "--json"]))
    }

    /// `feedpipe describe NAME --json`.
    pub fn describe(&self, name: &str) -> Value {
        json_of(self.feedpipe(&["describe", name, "--json"])).1
    }

    /// The history events' types and state names.
    pub fn history(&self, name: &str) -> Vec<Value> {
        let (code, v) = json_of(self.feedpipe(&["history", name, "--json"]));
        assert_eq!(code, 0);
        v["events"].as_array().unwrap().clone()
    }

    /// `feeds/jobs/current.json`, if there is one.
    pub fn current(&self) -> Option<Vec<u8>> {
        std::fs::read(self.path().join(".feedpipe/store/feeds/jobs/current.json")).ok()
    }

    /// The messages in the outbox.
    pub fn outbox(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path().join(".feedpipe/outbox/messages.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// Exit code and stdout as JSON (stderr shown when stdout is not JSON).
pub fn json_of(out: Output) -> (i32, Value) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

/// A generated job feed of `records` records (seed 7), or a revision of it.
pub fn gen_feed(records: u64, revision: Option<&Revision>) -> Vec<u8> {
    let mut out = Vec::new();
    write_revision(&mut out, &GenOptions::new(7, records), revision).unwrap();
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

/// Every record of a feed as the sink must end up holding it: id → JSON form.
pub fn records_of(xml: &[u8]) -> BTreeMap<String, Value> {
    let opts =
        feed::options::FeedOptions::new("job", feed::config::IdSource::parse("reference").unwrap());
    let mut out = BTreeMap::new();
    let mut extractor = feed::extract::Extractor::all(&opts);
    let mut on = |r: feed::extract::Extracted| {
        out.insert(r.id, r.json.to_value());
        Ok(())
    };
    extractor.push(xml, &mut on).unwrap();
    extractor.finish(&mut on).unwrap();
    out
}

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 200, applying the batch.
    Ok,
    /// This status to every POST, applying nothing.
    Fail(u16),
    /// 500 to the next N POSTs, then 200.
    FailNext(u32),
    /// Wait this many milliseconds, then apply and answer 200.
    Slow(u64),
}

#[derive(Default)]
struct SinkState {
    mode: Option<Mode>,
    posts: u64,
    /// What the sink holds: id → record.
    records: BTreeMap<String, Value>,
    /// Every record version applied (id + record JSON text) → the idempotency keys it came with.
    versions: HashMap<String, HashSet<String>>,
    /// Idempotency keys seen.
    keys: HashSet<String>,
    applied_batches: u64,
}

/// A real HTTP sink on 127.0.0.1:0 that applies batches (a repeated idempotency key is
/// acknowledged and dropped, as a sink that honours the key does).
#[derive(Clone)]
pub struct Sink {
    pub url: String,
    state: Arc<Mutex<SinkState>>,
}

impl Sink {
    fn start() -> Sink {
        let state = Arc::new(Mutex::new(SinkState {
            mode: Some(Mode::Ok),
            ..SinkState::default()
        }));
        let (tx, rx) = std::sync::mpsc::channel();
        let s = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let router = axum::Router::new()
                    .route("/jobs", axum::routing::post(accept))
                    .with_state(s);
                axum::serve(listener, router).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        Sink {
            url: format!("http://{addr}/jobs"),
            state,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SinkState> {
        self.state.lock().unwrap()
    }

    pub fn set(&self, mode: Mode) {
        self.lock().mode = Some(mode);
    }

    /// POSTs received (accepted or not).
    pub fn posts(&self) -> u64 {
        self.lock().posts
    }

    /// Batches applied (repeats dropped).
    pub fn applied_batches(&self) -> u64 {
        self.lock().applied_batches
    }

    /// What the sink holds.
    pub fn records(&self) -> BTreeMap<String, Value> {
        self.lock().records.clone()
    }

    /// Record versions that arrived under more than one idempotency key.
    pub fn versions_under_two_keys(&self) -> usize {
        self.lock()
            .versions
            .values()
            .filter(|k| k.len() > 1)
            .count()
    }

    /// Asserts the sink holds exactly the records of `xml`.
    pub fn assert_holds(&self, xml: &[u8]) {
        let want = records_of(xml);
        let got = self.records();
        let missing: Vec<_> = want
            .keys()
            .filter(|k| !got.contains_key(*k))
            .take(5)
            .collect();
        let extra: Vec<_> = got
            .keys()
            .filter(|k| !want.contains_key(*k))
            .take(5)
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "the sink lacks {missing:?} and has extra {extra:?}"
        );
        let differ: Vec<_> = want
            .iter()
            .filter(|(k, v)| got[*k] != **v)
            .map(|(k, _)| k)
            .take(5)
            .collect();
        assert!(differ.is_empty(), "records differ: {differ:?}");
        assert_eq!(
            self.versions_under_two_keys(),
            0,
            "a record version came under two keys"
        );
    }
}

async fn accept(
    State(state): State<Arc<Mutex<SinkState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mode = {
        let mut s = state.lock().unwrap();
        s.posts += 1;
        let mode = s.mode.unwrap_or(Mode::Ok);
        if let Mode::FailNext(n) = mode {
            s.mode = Some(if n <= 1 {
                Mode::Ok
            } else {
                Mode::FailNext(n - 1)
            });
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "sink: failing on purpose",
            )
                .into_response();
        }
        mode
    };
    match mode {
        Mode::Fail(code) => {
            return (StatusCode::from_u16(code).unwrap(), "sink: down on purpose").into_response()
        }
        Mode::Slow(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Mode::Ok | Mode::FailNext(_) => {}
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let v: Value = serde_json::from_slice(&body).unwrap();
    let mut s = state.lock().unwrap();
    if !s.keys.insert(key.clone()) {
        return StatusCode::OK.into_response();
    }
    s.applied_batches += 1;
    for r in v["upserts"].as_array().unwrap() {
        let id = r["reference"].as_str().unwrap().to_string();
        s.versions
            .entry(format!("{id}\n{r}"))
            .or_default()
            .insert(key.clone());
        s.records.insert(id, r.clone());
    }
    for d in v["deletes"].as_array().unwrap() {
        s.records.remove(d.as_str().unwrap());
    }
    StatusCode::OK.into_response()
}

/// The pids of `feedpipe-worker JOB` processes working for `execution`.
pub fn worker_pids(job: &str, execution: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let is_worker = args
            .first()
            .is_some_and(|a| a.ends_with(b"feedpipe-worker"))
            && args.get(1) == Some(&job.as_bytes());
        if !is_worker {
            continue;
        }
        let env = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let want = format!("FEEDPIPE_EXECUTION={execution}");
        if env.split(|&b| b == 0).any(|e| e == want.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

/// Waits up to `secs` seconds for `f` to return `Some`.
pub fn wait_for<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting after {secs} s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGKILL to `pid`.
pub fn kill9(pid: u32) {
    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
}

/// The execution name of a `--json` summary.
pub fn name_of(v: &Value) -> String {
    v["execution"].as_str().unwrap().to_string()
}

/// The files under a folder, for "nothing else was written" checks.
#[allow(dead_code)]
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}
