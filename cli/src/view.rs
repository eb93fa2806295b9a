//! How a run is shown while it goes: one line per state as it is entered and left (with its
//! duration), the Batch jobs' progress (records, records/s, bytes) and, at the end, what was
//! delivered. On a terminal the job progress is one line redrawn in place; elsewhere plain
//! lines only (progress every few seconds).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

use runs::integrations::JobEvent;
use runs::Description;
use serde_json::{Map, Value};
use statemachine::asl::{NumberOrExpr, State, StateMachine};
use statemachine::engine::{EventType, HistoryEvent};

/// The live view of `run`, `redrive` and `watch`.
pub struct LiveView {
    tty: bool,
    started: Instant,
    state: Mutex<ViewState>,
    /// What each top-level Wait state waits for, to say it when one is entered.
    waits: HashMap<String, Wait>,
}

/// What a Wait state waits for, as written in the definition.
enum Wait {
    Seconds(f64),
    Until(String),
    Described(String),
}

/// The Wait states of a definition's top level.
fn waits_of(machine: &StateMachine) -> HashMap<String, Wait> {
    machine
        .states
        .iter()
        .filter_map(|(name, state)| {
            let State::Wait(w) = state else { return None };
            let wait = match (&w.seconds, &w.timestamp, &w.seconds_path, &w.timestamp_path) {
                (Some(NumberOrExpr::Number(n)), ..) => Wait::Seconds(n.as_f64().unwrap_or(0.0)),
                (Some(NumberOrExpr::Expr(e)), ..) => Wait::Described(format!("for {e} seconds")),
                (_, Some(t), ..) => Wait::Until(t.clone()),
                (_, _, Some(p), _) => Wait::Described(format!("for the seconds at {p}")),
                (_, _, _, Some(p)) => Wait::Described(format!("until the time at {p}")),
                _ => return None,
            };
            Some((name.clone(), wait))
        })
        .collect()
}

#[derive(Default)]
struct ViewState {
    entered: HashMap<String, i64>,
    progress_shown: bool,
    last_plain_progress: Option<Instant>,
}

impl LiveView {
    /// A view on stderr (stdout stays for `--json`).
    pub fn new() -> LiveView {
        LiveView {
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            state: Mutex::new(ViewState::default()),
            waits: HashMap::new(),
        }
    }

    /// A view that also says how long each Wait state of `machine` waits.
    pub fn for_definition(machine: &StateMachine) -> LiveView {
        LiveView {
            waits: waits_of(machine),
            ..LiveView::new()
        }
    }

    /// Where a Wait state entered at `entered_ms` waits until.
    fn wait_note(&self, name: &str, entered_ms: i64) -> String {
        match self.waits.get(name) {
            Some(Wait::Seconds(s)) => format!(
                ": waiting {s} s, until {} (--fast-waits skips waits)",
                statemachine::eval::Timestamp::from_unix_millis(entered_ms + (s * 1000.0) as i64)
            ),
            Some(Wait::Until(t)) => format!(": waiting until {t} (--fast-waits skips waits)"),
            Some(Wait::Described(d)) => format!(": waiting {d} (--fast-waits skips waits)"),
            None => ": waiting".to_string(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ViewState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn line(&self, s: &mut ViewState, text: &str) {
        let mut err = std::io::stderr().lock();
        if s.progress_shown {
            let _ = write!(err, "\r\x1b[2K");
            s.progress_shown = false;
        }
        let _ = writeln!(err, "{text}");
    }

    /// Shows one history event.
    pub fn show(&self, e: &HistoryEvent) {
        let mut s = self.lock();
        let name = e.details.name.clone().unwrap_or_default();
        let ty = e.kind.as_str();
        let text = if e.kind == EventType::WaitStateEntered {
            s.entered.insert(name.clone(), e.timestamp_ms);
            Some(format!(
                "  → {name}{}",
                self.wait_note(&name, e.timestamp_ms)
            ))
        } else if ty.ends_with("StateEntered") {
            s.entered.insert(name.clone(), e.timestamp_ms);
            Some(format!("  → {name}"))
        } else if ty.ends_with("StateExited") {
            let took = s
                .entered
                .remove(&name)
                .map(|t| format!(" ({})", seconds(e.timestamp_ms - t)))
                .unwrap_or_default();
            Some(format!("  ✓ {name}{took}"))
        } else {
            match e.kind {
                EventType::ExecutionStarted => Some("execution started".to_string()),
                EventType::ExecutionRedriven => Some(format!(
                    "execution redriven (redrive {})",
                    e.details.redrive_count.unwrap_or(0)
                )),
                EventType::TaskFailed
                | EventType::TaskTimedOut
                | EventType::LambdaFunctionFailed
                | EventType::ExecutionFailed
                | EventType::ExecutionTimedOut
                | EventType::ExecutionAborted => Some(format!(
                    "  ✗ {ty}: {}{}",
                    e.details.error.as_deref().unwrap_or(""),
                    e.details
                        .cause
                        .as_deref()
                        .map(|c| format!(": {}", short(c, 300)))
                        .unwrap_or_default()
                )),
                _ => None,
            }
        };
        if let Some(t) = text {
            self.line(&mut s, &t);
        }
    }

    fn progress(&self, state: &str, fields: &Map<String, Value>) {
        let num = |k: &str| fields.get(k).and_then(Value::as_f64);
        let message = fields.get("message").and_then(Value::as_str).unwrap_or("");
        let text = match (num("records"), num("of"), num("bytes")) {
            (Some(records), of, _) => {
                let rate = num("records_per_second")
                    .map(|r| format!(", {} records/s", r.round()))
                    .unwrap_or_default();
                let batches = match (num("batches"), of) {
                    (Some(b), Some(of)) if of > 0.0 => {
                        format!(" {} {:>3.0}% of {of} batches", bar(b / of), 100.0 * b / of)
                    }
                    _ => String::new(),
                };
                format!("    {state}: {message} {records} records{rate}{batches}")
            }
            (None, _, Some(bytes)) => {
                let rate = num("mb_per_s")
                    .map(|r| format!(", {r:.1} MB/s"))
                    .unwrap_or_default();
                format!("    {state}: {message} {:.1} MB{rate}", bytes / 1e6)
            }
            _ => return,
        };
        let mut s = self.lock();
        if self.tty {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{text}");
            let _ = err.flush();
            s.progress_shown = true;
        } else if s
            .last_plain_progress
            .is_none_or(|t| t.elapsed().as_secs() >= 5)
        {
            s.last_plain_progress = Some(Instant::now());
            self.line(&mut s, &text);
        }
    }

    /// The end of a run: status, what was delivered or what failed.
    pub fn finish(&self, d: &Description) {
        let mut s = self.lock();
        let took = self.started.elapsed().as_secs_f64();
        let mut text = format!(
            "{}: {} in {took:.2} s",
            d.name,
            d.status.as_str().to_lowercase()
        );
        if let Some(diff) = d.output.as_ref().and_then(|o| o.get("diff")) {
            let n = |k: &str| diff.get(k).and_then(Value::as_u64).unwrap_or(0);
            if diff.get("updated").and_then(Value::as_bool) == Some(true) {
                text.push_str(&format!(
                    "\n  delivered: {} added, {} changed, {} removed",
                    n("added"),
                    n("changed"),
                    n("removed")
                ));
            } else {
                text.push_str("\n  no change since the last delivered version: nothing sent");
            }
        }
        if let Some(e) = &d.error {
            text.push_str(&format!("\n  error: {e}"));
        }
        if let Some(c) = &d.cause {
            text.push_str(&format!("\n  cause: {}", short(c, 2000)));
        }
        if d.status.is_redrivable() && d.resume.is_some() {
            text.push_str(&format!(
                "\n  redrive it from {} with: feedpipe redrive {}",
                d.resume
                    .as_ref()
                    .map(|r| r.state.as_str())
                    .unwrap_or_default(),
                d.name
            ));
        }
        self.line(&mut s, &text);
    }
}

impl statemachine::engine::Observer for LiveView {
    fn event(&self, event: &HistoryEvent) {
        self.show(event);
    }
}

impl runs::RunWatcher for LiveView {
    fn event(&self, event: &HistoryEvent) {
        self.show(event);
    }
}

impl runs::integrations::JobWatcher for LiveView {
    fn job(&self, event: JobEvent) {
        match event {
            JobEvent::Started {
                state,
                attempt,
                log,
            } => {
                let mut s = self.lock();
                self.line(
                    &mut s,
                    &format!(
                        "    {state}: job attempt {attempt} started (log: {})",
                        log.display()
                    ),
                );
            }
            JobEvent::Log { state, fields } => self.progress(&state, &fields),
            JobEvent::Ended {
                state,
                attempt,
                exit_code,
            } if exit_code != Some(0) => {
                let mut s = self.lock();
                let code = exit_code.map_or("none (killed)".to_string(), |c| c.to_string());
                self.line(
                    &mut s,
                    &format!("    {state}: job attempt {attempt} ended with exit code {code}"),
                );
            }
            JobEvent::Ended { .. } => {}
        }
    }
}

fn bar(fraction: f64) -> String {
    let width = 20;
    let full = ((fraction.clamp(0.0, 1.0)) * width as f64).round() as usize;
    format!("[{}{}]", "#".repeat(full), ".".repeat(width - full))
}

fn seconds(ms: i64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

/// At most `n` characters of `s`, with an ellipsis when cut.
pub fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect::<String>() + "…"
    }
}
