//! `feedpipe executions`, `describe`, `history`, `watch` and `stop`: looking at and stopping
//! executions, those kept under `.feedpipe/executions/` or, with `--aws`, those of the deployed
//! state machine. Locally each first marks executions whose engine process died as FAILED (they
//! can be redriven).

use std::process::ExitCode;

use runs::{Description, RunsError};
use serde_json::{json, Value};
use statemachine::engine::{ExecutionStatus, HistoryEvent};

use crate::backend::{Backend, Target};
use crate::run_cmd::{runtime, status_code};
use crate::view::{short, LiveView};

/// Status filter of `feedpipe executions`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatusFilter {
    /// Still going.
    Running,
    /// Ended well.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Ran past the machine's timeout.
    TimedOut,
    /// Stopped.
    Aborted,
}

impl StatusFilter {
    /// The status it filters on.
    pub fn status(self) -> ExecutionStatus {
        match self {
            StatusFilter::Running => ExecutionStatus::Running,
            StatusFilter::Succeeded => ExecutionStatus::Succeeded,
            StatusFilter::Failed => ExecutionStatus::Failed,
            StatusFilter::TimedOut => ExecutionStatus::TimedOut,
            StatusFilter::Aborted => ExecutionStatus::Aborted,
        }
    }
}

/// List executions, newest first.
#[derive(clap::Args)]
pub struct ExecutionsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Only executions in this status.
    #[arg(long, value_enum, ignore_case = true)]
    pub status: Option<StatusFilter>,
    /// Only executions of this feed.
    #[arg(long)]
    pub feed: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Print {"executions": [...]} as ListExecutions does.
    #[arg(long)]
    pub json: bool,
}

/// One execution: status, input, output, error, cause.
#[derive(clap::Args)]
pub struct DescribeArgs {
    #[command(flatten)]
    pub target: Target,
    /// The execution's name.
    pub execution: String,
    /// Print {"execution","status","output","error","cause"}.
    #[arg(long)]
    pub json: bool,
}

/// One execution's history events.
#[derive(clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub target: Target,
    /// The execution's name.
    pub execution: String,
    /// Print GetExecutionHistory's JSON ({"events": [...]}).
    #[arg(long)]
    pub json: bool,
}

/// Follow an execution's states live until it ends.
#[derive(clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub target: Target,
    /// The execution's name.
    pub execution: String,
}

/// Stop a running execution (ABORTED; it can be redriven).
#[derive(clap::Args)]
pub struct StopArgs {
    #[command(flatten)]
    pub target: Target,
    /// The execution's name.
    pub execution: String,
    /// The error recorded (as StopExecution's `error`).
    #[arg(long)]
    pub error: Option<String>,
    /// The cause recorded.
    #[arg(long)]
    pub cause: Option<String>,
}

fn date(ms: i64) -> String {
    statemachine::eval::Timestamp::from_unix_millis(ms).to_string()
}

fn duration(d: &Description) -> String {
    let end = d
        .stop_date_ms
        .unwrap_or_else(|| statemachine::engine::Clock::now_ms(&runs::clock::SystemClock));
    format!("{:.1} s", (end - d.start_date_ms) as f64 / 1000.0)
}

/// The fields of one ListExecutions item.
fn list_item(d: &Description) -> Value {
    let mut v = json!({
        "executionArn": d.execution_arn,
        "stateMachineArn": d.state_machine_arn,
        "name": d.name,
        "status": d.status.as_str(),
        "startDate": d.start_date_ms as f64 / 1000.0,
        "redriveCount": d.redrive_count,
    });
    if let Some(t) = d.stop_date_ms {
        v["stopDate"] = json!(t as f64 / 1000.0);
    }
    if let Some(f) = &d.feed {
        v["feed"] = json!(f);
    }
    v
}

/// Runs `feedpipe executions`.
pub fn executions(args: ExecutionsArgs) -> anyhow::Result<ExitCode> {
    let status = args.status.map(StatusFilter::status);
    let list: Vec<Description> = runtime()?.block_on(async {
        match args.target.backend(false).await? {
            Backend::Local(local) => {
                local.recover().await?;
                Ok::<_, anyhow::Error>(
                    local
                        .store()
                        .list()?
                        .into_iter()
                        .filter(|d| status.is_none_or(|s| d.status == s))
                        .filter(|d| {
                            args.feed
                                .as_deref()
                                .is_none_or(|f| d.feed.as_deref() == Some(f))
                        })
                        .take(args.limit)
                        .collect(),
                )
            }
            Backend::Aws(sfn) => Ok(sfn.list(status, args.feed.as_deref(), args.limit).await?),
        }
    })?;
    if args.json {
        let items: Vec<Value> = list.iter().map(list_item).collect();
        println!("{}", json!({ "executions": items }));
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        eprintln!("no executions");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<44} {:<10} {:<16} {:<24} {:>9} {:>7}",
        "NAME", "STATUS", "FEED", "STARTED", "DURATION", "REDRIVES"
    );
    for d in &list {
        println!(
            "{:<44} {:<10} {:<16} {:<24} {:>9} {:>7}",
            d.name,
            d.status.as_str(),
            d.feed.as_deref().unwrap_or("-"),
            date(d.start_date_ms),
            duration(d),
            d.redrive_count
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One execution's description from either backend (local: after crash recovery).
async fn describe_on(backend: &Backend, name: &str) -> anyhow::Result<Description> {
    Ok(match backend {
        Backend::Local(local) => {
            local.recover().await?;
            local.store().description(name)?
        }
        Backend::Aws(sfn) => sfn.describe(name).await?,
    })
}

/// Runs `feedpipe describe`.
pub fn describe(args: DescribeArgs) -> anyhow::Result<ExitCode> {
    let (d, logs) = runtime()?.block_on(async {
        let backend = args.target.backend(false).await?;
        let d = describe_on(&backend, &args.execution).await?;
        let logs = match &backend {
            Backend::Local(local) => Some(local.store().logs_dir(&d.name)),
            Backend::Aws(_) => None,
        };
        Ok::<_, anyhow::Error>((d, logs))
    })?;
    if args.json {
        println!("{}", d.summary_json());
        return Ok(ExitCode::SUCCESS);
    }
    println!("execution:  {}", d.name);
    println!("arn:        {}", d.execution_arn);
    println!("status:     {}", d.status.as_str());
    if let Some(f) = &d.feed {
        println!("feed:       {f}");
    }
    println!("started:    {}", date(d.start_date_ms));
    if let Some(t) = d.stop_date_ms {
        println!("stopped:    {} ({})", date(t), duration(&d));
    }
    println!("input:      {}", d.input);
    if d.redrive_count > 0 {
        println!("redrives:   {}", d.redrive_count);
    }
    if let Some(o) = &d.output {
        println!("output:     {o}");
    }
    if let Some(e) = &d.error {
        println!("error:      {e}");
    }
    if let Some(c) = &d.cause {
        println!("cause:      {c}");
    }
    match (&d.resume, d.status) {
        (Some(r), ExecutionStatus::Running) => println!("state:      {}", r.state),
        (Some(r), s) if s.is_redrivable() => {
            println!(
                "redrive:    resumes at {} (feedpipe redrive {})",
                r.state, d.name
            )
        }
        _ => {}
    }
    if let Some(logs) = logs {
        println!("logs:       {}", logs.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `feedpipe history`.
pub fn history(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let events: Vec<Value> = runtime()?.block_on(async {
        match args.target.backend(false).await? {
            Backend::Local(local) => {
                local.recover().await?;
                if !local.store().exists(&args.execution) {
                    return Err(RunsError::NoSuchExecution(args.execution.clone()).into());
                }
                let events = local.store().events(&args.execution)?;
                Ok::<_, anyhow::Error>(events.iter().map(event_value).collect())
            }
            Backend::Aws(sfn) => Ok(sfn.history(&args.execution).await?),
        }
    })?;
    if args.json {
        println!("{}", json!({ "events": events }));
        return Ok(ExitCode::SUCCESS);
    }
    let start = events.first().map_or(0.0, timestamp);
    println!(
        "{:>4} {:<32} {:<16} {:>9}  DETAILS",
        "ID", "TYPE", "STATE", "TIME"
    );
    for e in &events {
        print_event(e, start);
    }
    Ok(ExitCode::SUCCESS)
}

fn event_value(e: &HistoryEvent) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

fn timestamp(e: &Value) -> f64 {
    e["timestamp"].as_f64().unwrap_or(0.0)
}

/// The details object of an event (`*EventDetails`), if any.
fn details(e: &Value) -> &Value {
    e.as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.ends_with("EventDetails"))
                .map(|(_, v)| v)
        })
        .unwrap_or(&Value::Null)
}

fn print_event(e: &Value, start: f64) {
    let d = details(e);
    let s = |k: &str| d.get(k).and_then(Value::as_str);
    let detail = match (s("error"), s("cause")) {
        (Some(err), Some(c)) => format!("{err}: {}", short(c, 120)),
        (Some(err), None) => err.to_string(),
        _ => s("resource").unwrap_or_default().to_string(),
    };
    println!(
        "{:>4} {:<32} {:<16} {:>8.2}s  {}",
        e["id"],
        e["type"].as_str().unwrap_or_default(),
        s("name").unwrap_or_default(),
        timestamp(e) - start,
        detail
    );
}

/// Follows an execution on either backend, showing each event; its description at the end.
pub async fn follow_on(
    backend: &Backend,
    name: &str,
    view: &LiveView,
) -> anyhow::Result<Description> {
    Ok(match backend {
        Backend::Local(local) => local.follow(name, |e| view.show(e)).await?,
        Backend::Aws(sfn) => {
            sfn.follow(name, |v| {
                if let Ok(e) = serde_json::from_value::<HistoryEvent>(v.clone()) {
                    view.show(&e);
                }
            })
            .await?
        }
    })
}

/// Runs `feedpipe watch`.
pub fn watch(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let view = LiveView::new();
    let d = runtime()?.block_on(async {
        let backend = args.target.backend(false).await?;
        follow_on(&backend, &args.execution, &view).await
    })?;
    view.finish(&d);
    Ok(status_code(&d))
}

/// Runs `feedpipe stop`.
pub fn stop(args: StopArgs) -> anyhow::Result<ExitCode> {
    let d = runtime()?.block_on(async {
        let (e, c) = (args.error.as_deref(), args.cause.as_deref());
        Ok::<_, anyhow::Error>(match args.target.backend(false).await? {
            Backend::Local(local) => local.stop(&args.execution, e, c).await?,
            Backend::Aws(sfn) => sfn.stop(&args.execution, e, c).await?,
        })
    })?;
    println!("{}: {}", d.name, d.status.as_str());
    Ok(ExitCode::SUCCESS)
}
