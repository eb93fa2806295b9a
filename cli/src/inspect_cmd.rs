//! `feedpipe executions`, `describe`, `history`, `watch` and `stop`: looking at and stopping the
//! executions kept under `.feedpipe/executions/`. Each first marks executions whose engine
//! process died as FAILED (they can be redriven).

use std::path::PathBuf;
use std::process::ExitCode;

use runs::{Description, RunsError};
use serde_json::{json, Value};
use statemachine::engine::{ExecutionStatus, HistoryEvent};

use crate::run_cmd::{local, runtime, status_code};
use crate::view::{short, LiveView};

/// Which configuration's executions.
#[derive(clap::Args)]
pub struct Where {
    /// The configuration file (default ./feedpipe.toml, else the embedded example).
    #[arg(long, env = "FEEDPIPE_CONFIG")]
    pub config: Option<PathBuf>,
}

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
    fn status(self) -> ExecutionStatus {
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
    pub r#where: Where,
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
    pub r#where: Where,
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
    pub r#where: Where,
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
    pub r#where: Where,
    /// The execution's name.
    pub execution: String,
}

/// Stop a running execution (ABORTED; it can be redriven).
#[derive(clap::Args)]
pub struct StopArgs {
    #[command(flatten)]
    pub r#where: Where,
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
    let local = local(args.r#where.config.as_deref(), false)?;
    runtime()?.block_on(local.recover())?;
    let list: Vec<Description> = local
        .store()
        .list()?
        .into_iter()
        .filter(|d| args.status.is_none_or(|s| d.status == s.status()))
        .filter(|d| {
            args.feed
                .as_deref()
                .is_none_or(|f| d.feed.as_deref() == Some(f))
        })
        .take(args.limit)
        .collect();
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

/// Runs `feedpipe describe`.
pub fn describe(args: DescribeArgs) -> anyhow::Result<ExitCode> {
    let local = local(args.r#where.config.as_deref(), false)?;
    runtime()?.block_on(local.recover())?;
    let d = local.store().description(&args.execution)?;
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
    println!("logs:       {}", local.store().logs_dir(&d.name).display());
    Ok(ExitCode::SUCCESS)
}

/// Runs `feedpipe history`.
pub fn history(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let local = local(args.r#where.config.as_deref(), false)?;
    runtime()?.block_on(local.recover())?;
    if !local.store().exists(&args.execution) {
        return Err(RunsError::NoSuchExecution(args.execution).into());
    }
    let events = local.store().events(&args.execution)?;
    if args.json {
        println!("{}", json!({ "events": events }));
        return Ok(ExitCode::SUCCESS);
    }
    let start = events.first().map_or(0, |e| e.timestamp_ms);
    println!(
        "{:>4} {:<32} {:<16} {:>9}  DETAILS",
        "ID", "TYPE", "STATE", "TIME"
    );
    for e in &events {
        print_event(e, start);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_event(e: &HistoryEvent, start: i64) {
    let d = &e.details;
    let detail = match (&d.error, &d.cause) {
        (Some(err), Some(c)) => format!("{err}: {}", short(c, 120)),
        (Some(err), None) => err.clone(),
        _ => d.resource.clone().unwrap_or_default(),
    };
    println!(
        "{:>4} {:<32} {:<16} {:>8.2}s  {}",
        e.id,
        e.kind.as_str(),
        d.name.as_deref().unwrap_or(""),
        (e.timestamp_ms - start) as f64 / 1000.0,
        detail
    );
}

/// Runs `feedpipe watch`.
pub fn watch(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let local = local(args.r#where.config.as_deref(), false)?;
    let view = LiveView::new();
    let d = runtime()?.block_on(local.follow(&args.execution, |e| view.show(e)))?;
    view.finish(&d);
    Ok(status_code(&d))
}

/// Runs `feedpipe stop`.
pub fn stop(args: StopArgs) -> anyhow::Result<ExitCode> {
    let local = local(args.r#where.config.as_deref(), false)?;
    let d = runtime()?.block_on(local.stop(
        &args.execution,
        args.error.as_deref(),
        args.cause.as_deref(),
    ))?;
    println!("{}: {}", d.name, d.status.as_str());
    Ok(ExitCode::SUCCESS)
}
