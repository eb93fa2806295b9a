//! The local execution store: one folder per execution under `.feedpipe/executions/`, written
//! as the run goes so that any reader (another `feedpipe` command, a later process after a
//! crash) sees the execution as it stands.
//!
//! ```text
//! executions/NAME/description.json   DescribeExecution-like fields + feed, resume point, pid
//!                                    (replaced atomically: temp file + rename)
//! executions/NAME/definition.asl.json the definition the execution runs, as it was run
//! executions/NAME/events.jsonl       history events, one JSON line each, append-only
//! executions/NAME/engine.lock        locked by the process that runs the execution
//! executions/NAME/stop.json          a request to stop it (written by `feedpipe stop`)
//! locks/FEED.lock                    locked while an execution of FEED runs; names it
//! logs/NAME/STATE-N.log              the Batch jobs' output (the local CloudWatch streams)
//! ```
//!
//! A line of `events.jsonl` is written with one `write` on a file opened for appending, so a
//! killed process leaves at most one incomplete last line, which readers skip.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use statemachine::asl::StateMachine;
use statemachine::engine::{ExecutionRecord, ExecutionStatus, HistoryEvent, ResumePoint};

use crate::error::RunsError;

/// The local state folder (`.feedpipe/` next to the configuration).
#[derive(Debug, Clone)]
pub struct ExecutionStore {
    root: PathBuf,
    journal_limit: u64,
}

/// The change journal's size past which it is started afresh (readers then read every
/// description once).
pub const JOURNAL_LIMIT: u64 = 4 << 20;

/// What `describe` shows of an execution, kept in `description.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Description {
    /// `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`.
    pub execution_arn: String,
    /// The execution's name.
    pub name: String,
    /// The state machine's ARN.
    pub state_machine_arn: String,
    /// The feed it runs for (`input.feed`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<String>,
    /// The execution input.
    pub input: Value,
    /// Where it is.
    pub status: ExecutionStatus,
    /// Start, epoch milliseconds.
    pub start_date_ms: i64,
    /// End of the latest attempt, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_date_ms: Option<i64>,
    /// The output, when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The error name, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// How often it was redriven.
    #[serde(default)]
    pub redrive_count: u32,
    /// When it was last redriven, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_date_ms: Option<i64>,
    /// Where a redrive resumes (while it runs: the state it is in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<ResumePoint>,
    /// The process running it (while RUNNING).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Whether it runs with `--fast-waits` (Wait states and Retry backoffs skipped); a redrive
    /// keeps it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fast_waits: bool,
}

impl Description {
    /// The description of a record (its history and definition are kept apart).
    pub fn of(record: &ExecutionRecord) -> Description {
        Description {
            execution_arn: record.execution_arn.clone(),
            name: record.name.clone(),
            state_machine_arn: record.state_machine_arn.clone(),
            feed: record
                .input
                .get("feed")
                .and_then(Value::as_str)
                .map(str::to_string),
            input: record.input.clone(),
            status: record.status,
            start_date_ms: record.start_date_ms,
            stop_date_ms: record.stop_date_ms,
            output: record.output.clone(),
            error: record.error.clone(),
            cause: record.cause.clone(),
            redrive_count: record.redrive_count,
            redrive_date_ms: record.redrive_date_ms,
            resume: record.resume.clone(),
            pid: None,
            fast_waits: false,
        }
    }

    /// The execution as an item of `ListExecutions` (dates as epoch seconds; `stopDate` once
    /// it ended, `redriveCount` once redriven).
    pub fn list_item_json(&self) -> Value {
        let seconds = |ms: i64| serde_json::json!(ms as f64 / 1000.0);
        let mut v = serde_json::json!({
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status.as_str(),
            "startDate": seconds(self.start_date_ms),
        });
        if let Some(t) = self.stop_date_ms {
            v["stopDate"] = seconds(t);
        }
        if self.redrive_count > 0 {
            v["redriveCount"] = serde_json::json!(self.redrive_count);
        }
        v
    }

    /// A RUNNING description of `name` started at `ms` (for tests).
    #[doc(hidden)]
    pub fn of_name_for_tests(name: &str, ms: i64) -> Description {
        Description {
            execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:m:{name}"),
            name: name.to_string(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
            feed: None,
            input: serde_json::json!({}),
            status: ExecutionStatus::Running,
            start_date_ms: ms,
            stop_date_ms: None,
            output: None,
            error: None,
            cause: None,
            redrive_count: 0,
            redrive_date_ms: None,
            resume: None,
            pid: None,
            fast_waits: false,
        }
    }

    /// `{"execution","status","output","error","cause"}`, what `--json` prints for `run`,
    /// `describe` and `redrive`.
    pub fn summary_json(&self) -> Value {
        serde_json::json!({
            "execution": self.name,
            "status": self.status.as_str(),
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
        })
    }

    /// The fields of `DescribeExecution`'s answer (dates as epoch seconds, input and output as
    /// JSON text), plus `feed`.
    pub fn describe_json(&self) -> Value {
        let mut v = serde_json::json!({
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status.as_str(),
            "startDate": self.start_date_ms as f64 / 1000.0,
            "input": self.input.to_string(),
            "redriveCount": self.redrive_count,
        });
        let m = v.as_object_mut().expect("a JSON object");
        if let Some(feed) = &self.feed {
            m.insert("feed".into(), feed.clone().into());
        }
        if let Some(t) = self.stop_date_ms {
            m.insert("stopDate".into(), (t as f64 / 1000.0).into());
        }
        if let Some(o) = &self.output {
            m.insert("output".into(), o.to_string().into());
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), e.clone().into());
        }
        if let Some(c) = &self.cause {
            m.insert("cause".into(), c.clone().into());
        }
        if let Some(t) = self.redrive_date_ms {
            m.insert("redriveDate".into(), (t as f64 / 1000.0).into());
        }
        let redrivable = self.status.is_redrivable() && self.resume.is_some();
        m.insert(
            "redriveStatus".into(),
            if redrivable {
                "REDRIVABLE"
            } else {
                "NOT_REDRIVABLE"
            }
            .into(),
        );
        v
    }
}

/// Whether a name is a valid execution name (Step Functions' rules: 1 to 80 characters, no
/// white space, no `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /`, no control characters).
pub fn is_execution_name(name: &str) -> bool {
    (1..=80).contains(&name.chars().count())
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c))
}

/// The change journal: one execution name per line, appended after each description write.
const JOURNAL: &str = "executions.journal";

/// Every execution's description, kept in memory and brought up to date from the change
/// journal: a refresh reads only the descriptions written since the last one (the first reads
/// them all). For a long-running process that lists executions often.
#[derive(Debug, Default)]
pub struct ListIndex {
    offset: u64,
    /// The journal file read (its inode: a compacted journal is a new file).
    inode: u64,
    loaded: bool,
    by_name: std::collections::HashMap<String, Arc<Listed>>,
    /// The executions newest first, rebuilt when something changed; shared with readers.
    sorted: Arc<Vec<Arc<Listed>>>,
}

impl ListIndex {
    /// An empty index (the first [`ListIndex::refresh`] loads everything).
    pub fn new() -> ListIndex {
        ListIndex::default()
    }

    /// Brings the index up to date with `store`.
    pub fn refresh(&mut self, store: &ExecutionStore) -> Result<(), RunsError> {
        use std::io::{Read, Seek, SeekFrom};
        use std::os::unix::fs::MetadataExt;
        let journal = store.root.join(JOURNAL);
        // Opened once: its size, inode and lines are all of the same file, even if a writer
        // compacts the journal meanwhile.
        let mut file = match File::open(&journal) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ExecutionStore::io(&journal, "open")(e)),
        };
        let (len, inode) = match &file {
            Some(f) => f
                .metadata()
                .map(|m| (m.len(), m.ino()))
                .map_err(ExecutionStore::io(&journal, "read"))?,
            None => (0, 0),
        };
        if !self.loaded || inode != self.inode || len < self.offset {
            // First load, or the journal was compacted: read everything once.
            self.inode = inode;
            self.by_name = store
                .list()?
                .into_iter()
                .map(|d| (d.name.clone(), Arc::new(Listed::of(d))))
                .collect();
            self.offset = len;
            self.loaded = true;
            self.resort();
            return Ok(());
        }
        let Some(mut file) = file.take().filter(|_| len != self.offset) else {
            return Ok(());
        };
        file.seek(SeekFrom::Start(self.offset))
            .map_err(ExecutionStore::io(&journal, "seek"))?;
        let mut text = String::new();
        file.take(len - self.offset)
            .read_to_string(&mut text)
            .map_err(ExecutionStore::io(&journal, "read"))?;
        // Only whole lines; a line being written is read next time.
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        let names: std::collections::BTreeSet<&str> =
            text[..complete].lines().filter(|n| !n.is_empty()).collect();
        for name in names {
            match store.description(name) {
                Ok(d) => {
                    self.by_name
                        .insert(name.to_string(), Arc::new(Listed::of(d)));
                }
                Err(RunsError::NoSuchExecution(_)) => {
                    self.by_name.remove(name);
                }
                Err(e) => return Err(e),
            }
        }
        self.offset += complete as u64;
        self.resort();
        Ok(())
    }

    fn resort(&mut self) {
        let mut all: Vec<Arc<Listed>> = self.by_name.values().cloned().collect();
        all.sort_by(|a, b| {
            let (a, b) = (&a.description, &b.description);
            b.start_date_ms
                .cmp(&a.start_date_ms)
                .then(b.name.cmp(&a.name))
        });
        self.sorted = Arc::new(all);
    }

    /// The executions, newest first (a shared snapshot: cheap to take, safe to keep).
    pub fn newest_first(&self) -> Arc<Vec<Arc<Listed>>> {
        self.sorted.clone()
    }
}

/// An execution in a [`ListIndex`]: its description and its `ListExecutions` item, serialized
/// once when the description changes (a list answer is then these texts joined).
#[derive(Debug)]
pub struct Listed {
    /// The description.
    pub description: Description,
    /// [`Description::list_item_json`] as JSON text.
    pub item: String,
}

impl Listed {
    fn of(description: Description) -> Listed {
        let item = description.list_item_json().to_string();
        Listed { description, item }
    }
}

/// An exclusive lock on a file, released when dropped (or when its process dies).
#[derive(Debug)]
pub struct Held {
    _file: File,
}

impl ExecutionStore {
    /// The store in `root` (created when first written).
    pub fn new(root: impl Into<PathBuf>) -> ExecutionStore {
        ExecutionStore {
            root: root.into(),
            journal_limit: JOURNAL_LIMIT,
        }
    }

    /// The same store with another journal limit (tests compact small journals).
    pub fn with_journal_limit(mut self, bytes: u64) -> ExecutionStore {
        self.journal_limit = bytes;
        self
    }

    /// The state folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// An execution's folder.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.join("executions").join(name)
    }

    /// The folder of an execution's Batch job logs.
    pub fn logs_dir(&self, name: &str) -> PathBuf {
        self.root.join("logs").join(name)
    }

    fn io<'p>(path: &'p Path, op: &'static str) -> impl FnOnce(std::io::Error) -> RunsError + 'p {
        move |source| RunsError::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    }

    /// Creates a new execution's folder; [`RunsError::AlreadyExists`] when the name is taken.
    pub fn create(&self, name: &str) -> Result<PathBuf, RunsError> {
        if !is_execution_name(name) {
            return Err(RunsError::BadName(name.to_string()));
        }
        let parent = self.root.join("executions");
        std::fs::create_dir_all(&parent).map_err(Self::io(&parent, "create"))?;
        let dir = self.dir(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(RunsError::AlreadyExists(name.to_string()))
            }
            Err(e) => Err(Self::io(&dir, "create")(e)),
        }
    }

    /// Whether an execution exists.
    pub fn exists(&self, name: &str) -> bool {
        is_execution_name(name) && self.dir(name).join("description.json").is_file()
    }

    /// Writes the description atomically.
    pub fn write_description(&self, d: &Description) -> Result<(), RunsError> {
        let dir = self.dir(&d.name);
        let text = serde_json::to_vec_pretty(d).expect("a description serializes");
        write_atomic(&dir.join("description.json"), &text)?;
        // Then the change journal, which lets a long-running reader (feedpipe serve) keep its
        // list of executions without reading every description again.
        let journal = self.root.join(JOURNAL);
        let line = format!("{}\n", d.name);
        self.append_journal(&journal, line.as_bytes())
            .map_err(Self::io(&journal, "append to"))
    }

    /// Appends one line to the journal; past the limit, starts it afresh (a new file renamed
    /// over it, so readers see a new inode and reload). A line appended to a journal replaced
    /// between opening and writing is appended again to the new one.
    fn append_journal(&self, journal: &Path, line: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        for _ in 0..3 {
            let mut f = OpenOptions::new().create(true).append(true).open(journal)?;
            f.write_all(line)?;
            let written = f.metadata()?;
            let current = std::fs::metadata(journal)?;
            if written.ino() != current.ino() {
                continue;
            }
            if written.len() > self.journal_limit {
                let fresh = journal.with_extension(format!("journal.{}", std::process::id()));
                File::create(&fresh)?;
                std::fs::rename(&fresh, journal)?;
            }
            return Ok(());
        }
        Ok(())
    }

    /// Reads a description; [`RunsError::NoSuchExecution`] when there is none.
    pub fn description(&self, name: &str) -> Result<Description, RunsError> {
        if !is_execution_name(name) {
            return Err(RunsError::NoSuchExecution(name.to_string()));
        }
        let path = self.dir(name).join("description.json");
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RunsError::NoSuchExecution(name.to_string()))
            }
            Err(e) => return Err(Self::io(&path, "read")(e)),
        };
        serde_json::from_slice(&text).map_err(|e| RunsError::Corrupt {
            path,
            what: e.to_string(),
        })
    }

    /// Writes the definition an execution runs.
    pub fn write_definition(&self, name: &str, text: &str) -> Result<(), RunsError> {
        write_atomic(&self.dir(name).join("definition.asl.json"), text.as_bytes())
    }

    /// The definition an execution runs, as text.
    pub fn definition_text(&self, name: &str) -> Result<String, RunsError> {
        let path = self.dir(name).join("definition.asl.json");
        std::fs::read_to_string(&path).map_err(Self::io(&path, "read"))
    }

    /// Opens the history for appending. An incomplete last line (left by a process that died
    /// while writing it) is cut off first, so the next event starts a line of its own.
    pub fn events_writer(&self, name: &str) -> Result<EventsWriter, RunsError> {
        let path = self.dir(name).join("events.jsonl");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(Self::io(&path, "open"))?;
        let bytes = std::fs::read(&path).map_err(Self::io(&path, "read"))?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete < bytes.len() {
            file.set_len(complete as u64)
                .map_err(Self::io(&path, "truncate"))?;
        }
        Ok(EventsWriter { file })
    }

    /// The history written so far (an incomplete last line is skipped).
    pub fn events(&self, name: &str) -> Result<Vec<HistoryEvent>, RunsError> {
        let mut events = Vec::new();
        self.events_from(name, 0, &mut events)?;
        Ok(events)
    }

    /// Reads complete event lines from byte `offset` on into `out`; returns the offset after the
    /// last complete line (where the next read starts).
    pub fn events_from(
        &self,
        name: &str,
        offset: u64,
        out: &mut Vec<HistoryEvent>,
    ) -> Result<u64, RunsError> {
        use std::io::{Seek, SeekFrom};
        let path = self.dir(name).join("events.jsonl");
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(offset),
            Err(e) => return Err(Self::io(&path, "open")(e)),
        };
        file.seek(SeekFrom::Start(offset))
            .map_err(Self::io(&path, "seek"))?;
        let mut reader = BufReader::new(file);
        let mut pos = offset;
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(Self::io(&path, "read"))?;
            if n == 0 || !line.ends_with('\n') {
                return Ok(pos);
            }
            let event: HistoryEvent =
                serde_json::from_str(&line).map_err(|e| RunsError::Corrupt {
                    path: path.clone(),
                    what: format!("event at byte {pos}: {e}"),
                })?;
            pos += n as u64;
            out.push(event);
        }
    }

    /// The whole record (description, definition, history), as the engine redrives it.
    pub fn record(&self, name: &str) -> Result<ExecutionRecord, RunsError> {
        let d = self.description(name)?;
        let text = self.definition_text(name)?;
        let path = self.dir(name).join("definition.asl.json");
        let definition = StateMachine::from_json(&text).map_err(|e| RunsError::Corrupt {
            path,
            what: e.to_string(),
        })?;
        Ok(ExecutionRecord {
            execution_arn: d.execution_arn,
            name: d.name,
            state_machine_arn: d.state_machine_arn,
            definition,
            input: d.input,
            status: d.status,
            start_date_ms: d.start_date_ms,
            stop_date_ms: d.stop_date_ms,
            output: d.output,
            error: d.error,
            cause: d.cause,
            redrive_count: d.redrive_count,
            redrive_date_ms: d.redrive_date_ms,
            history: self.events(name)?,
            resume: d.resume,
        })
    }

    /// Every execution's description, newest first. Unreadable folders are skipped with a
    /// warning.
    pub fn list(&self) -> Result<Vec<Description>, RunsError> {
        let dir = self.root.join("executions");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::io(&dir, "list")(e)),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            match self.description(&name) {
                Ok(d) => out.push(d),
                // A folder whose run is being created has no description yet.
                Err(RunsError::NoSuchExecution(_)) => {}
                Err(e) => tracing::warn!("skipping execution {name}: {e}"),
            }
        }
        out.sort_by(|a, b| {
            b.start_date_ms
                .cmp(&a.start_date_ms)
                .then(b.name.cmp(&a.name))
        });
        Ok(out)
    }

    /// Takes the lock of the process that runs `name`; `None` when another process holds it.
    pub fn lock_engine(&self, name: &str) -> Result<Option<Held>, RunsError> {
        lock_file(
            &self.dir(name).join("engine.lock"),
            &std::process::id().to_string(),
        )
    }

    /// Whether a process holds the engine lock of `name` (runs it now).
    pub fn engine_alive(&self, name: &str) -> Result<bool, RunsError> {
        let path = self.dir(name).join("engine.lock");
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Self::io(&path, "open")(e)),
        };
        match file.try_lock() {
            Ok(()) => Ok(false),
            Err(TryLockError::WouldBlock) => Ok(true),
            Err(TryLockError::Error(e)) => Err(Self::io(&path, "lock")(e)),
        }
    }

    /// Takes the lock of `feed` for `execution`; `Err(AlreadyRunning)` naming the execution
    /// that holds it.
    pub fn lock_feed(&self, feed: &str, execution: &str) -> Result<Held, RunsError> {
        let dir = self.root.join("locks");
        std::fs::create_dir_all(&dir).map_err(Self::io(&dir, "create"))?;
        let path = dir.join(format!("{feed}.lock"));
        match lock_file(&path, execution)? {
            Some(held) => Ok(held),
            None => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                Err(RunsError::AlreadyRunning {
                    feed: feed.to_string(),
                    execution: holder.trim().to_string(),
                })
            }
        }
    }

    /// Asks the process running `name` to stop it.
    pub fn request_stop(
        &self,
        name: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), RunsError> {
        let body = serde_json::json!({"error": error, "cause": cause});
        write_atomic(
            &self.dir(name).join("stop.json"),
            body.to_string().as_bytes(),
        )
    }

    /// A stop request for `name`, if one was written: `(error, cause)`.
    pub fn stop_requested(&self, name: &str) -> Option<(Option<String>, Option<String>)> {
        let text = std::fs::read(self.dir(name).join("stop.json")).ok()?;
        let v: Value = serde_json::from_slice(&text).ok()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some((s("error"), s("cause")))
    }

    /// Removes a handled stop request.
    pub fn clear_stop(&self, name: &str) {
        let _ignored_if_absent = std::fs::remove_file(self.dir(name).join("stop.json"));
    }
}

/// Appends history events, one JSON line per `write`.
#[derive(Debug)]
pub struct EventsWriter {
    file: File,
}

impl EventsWriter {
    /// Appends one event.
    pub fn append(&mut self, event: &HistoryEvent) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }
}

/// Opens (creating) `path` and takes its exclusive lock without waiting; on success writes
/// `content` into it.
fn lock_file(path: &Path, content: &str) -> Result<Option<Held>, RunsError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(ExecutionStore::io(path, "open"))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(None),
        Err(TryLockError::Error(e)) => return Err(ExecutionStore::io(path, "lock")(e)),
    }
    file.set_len(0)
        .map_err(ExecutionStore::io(path, "truncate"))?;
    file.write_all(content.as_bytes())
        .map_err(ExecutionStore::io(path, "write"))?;
    Ok(Some(Held { _file: file }))
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(ExecutionStore::io(dir, "create"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(ExecutionStore::io(&tmp, "write"))?;
    std::fs::rename(&tmp, path).map_err(ExecutionStore::io(path, "rename"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_names_follow_step_functions_rules() {
        assert!(is_execution_name("example-jobs-2026-12-02T06-00Z"));
        assert!(!is_execution_name(""));
        assert!(!is_execution_name("a/b"));
        assert!(!is_execution_name(".."));
        assert!(!is_execution_name("a b"));
        assert!(!is_execution_name(&"x".repeat(81)));
    }

    #[test]
    fn an_incomplete_last_event_line_is_skipped_and_read_later() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ExecutionStore::new(tmp.path());
        store.create("e1").unwrap();
        let event: HistoryEvent = serde_json::from_value(serde_json::json!({
            "id": 1, "previousEventId": 0, "timestamp": 1.0, "type": "ExecutionStarted",
            "executionStartedEventDetails": {"input": "{}", "inputDetails": {"truncated": false}}
        }))
        .unwrap();
        store.events_writer("e1").unwrap().append(&event).unwrap();
        let path = store.dir("e1").join("events.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"id\":2,").unwrap();
        let mut got = Vec::new();
        let next = store.events_from("e1", 0, &mut got).unwrap();
        assert_eq!(got, vec![event]);
        assert_eq!(next, std::fs::read(&path).unwrap().len() as u64 - 8);
    }

    #[test]
    fn the_list_index_reads_only_what_changed_and_sees_every_change() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ExecutionStore::new(tmp.path());
        let describe = |name: &str, t: i64, status: ExecutionStatus| Description {
            status,
            ..Description::of_name_for_tests(name, t)
        };
        for (n, t) in [("a", 1), ("b", 2)] {
            store.create(n).unwrap();
            store
                .write_description(&describe(n, t, ExecutionStatus::Running))
                .unwrap();
        }
        let mut index = ListIndex::new();
        index.refresh(&store).unwrap();
        let first = index.newest_first();
        let names: Vec<&str> = first.iter().map(|d| d.description.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        store
            .write_description(&describe("a", 1, ExecutionStatus::Succeeded))
            .unwrap();
        store.create("c").unwrap();
        store
            .write_description(&describe("c", 3, ExecutionStatus::Running))
            .unwrap();
        index.refresh(&store).unwrap();
        let snapshot = index.newest_first();
        let now: Vec<(&str, &str)> = snapshot
            .iter()
            .map(|d| (d.description.name.as_str(), d.description.status.as_str()))
            .collect();
        assert_eq!(
            now,
            [("c", "RUNNING"), ("b", "RUNNING"), ("a", "SUCCEEDED")]
        );
    }

    #[test]
    fn a_compacted_journal_is_read_afresh_and_keeps_every_change() {
        let tmp = tempfile::tempdir().unwrap();
        // A journal of at most ~10 lines: it is compacted many times below.
        let store = ExecutionStore::new(tmp.path()).with_journal_limit(64);
        let journal = tmp.path().join(JOURNAL);
        let mut index = ListIndex::new();
        let mut compactions = 0;
        let mut last_len = 0;
        for i in 0..200 {
            let name = format!("run-{i:03}");
            store.create(&name).unwrap();
            let mut d = Description::of_name_for_tests(&name, i);
            store.write_description(&d).unwrap();
            d.status = ExecutionStatus::Succeeded;
            store.write_description(&d).unwrap();
            let len = std::fs::metadata(&journal).unwrap().len();
            if len < last_len {
                compactions += 1;
            }
            last_len = len;
            assert!(len <= 64 + 16, "the journal stays small: {len} bytes");
            if i % 7 == 0 {
                index.refresh(&store).unwrap();
            }
        }
        index.refresh(&store).unwrap();
        assert!(compactions > 10, "{compactions} compactions");
        let all = index.newest_first();
        assert_eq!(all.len(), 200);
        assert!(all
            .iter()
            .all(|d| d.description.status == ExecutionStatus::Succeeded));
        assert_eq!(all[0].description.name, "run-199");
        // Each item is the ListExecutions entry of its description, as it is now.
        let item: Value = serde_json::from_str(&all[0].item).unwrap();
        assert_eq!(item, all[0].description.list_item_json());
        assert_eq!(item["status"], "SUCCEEDED");
    }

    #[test]
    fn a_second_lock_of_a_feed_names_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ExecutionStore::new(tmp.path());
        let held = store.lock_feed("jobs", "run-1").unwrap();
        match store.lock_feed("jobs", "run-2") {
            Err(RunsError::AlreadyRunning { feed, execution }) => {
                assert_eq!((feed.as_str(), execution.as_str()), ("jobs", "run-1"))
            }
            other => panic!("expected AlreadyRunning, got {other:?}"),
        }
        drop(held);
        store.lock_feed("jobs", "run-2").unwrap();
    }
}
