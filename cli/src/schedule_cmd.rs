//! `feedpipe schedule`: the local EventBridge Scheduler. Starts each feed on its `schedule`
//! under the execution name of the tick (`NAME-2026-12-02T06-00Z`), until stopped (Ctrl-C or
//! SIGTERM); or, with `--plan`, prints the next starts without starting anything.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use runs::scheduler::{self, Planned, ScheduleWatcher};
use runs::{Description, RunsError};
use schedule::chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use statemachine::engine::Clock;

use crate::run_cmd::{local, runtime};

/// Start each feed on its schedule (the local EventBridge Scheduler), or print the plan.
#[derive(clap::Args)]
pub struct ScheduleArgs {
    /// The configuration file (default ./feedpipe.toml, else the embedded example).
    #[arg(long, env = "FEEDPIPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print the next starts instead of running the scheduler.
    #[arg(long)]
    pub plan: bool,
    /// With --plan: from this time on (RFC 3339, e.g. 2026-12-02T00:00:00Z; default now).
    #[arg(long, requires = "plan")]
    pub from: Option<String>,
    /// With --plan: how many starts.
    #[arg(long, default_value_t = 10, requires = "plan")]
    pub count: usize,
    /// Only this feed.
    #[arg(long)]
    pub feed: Option<String>,
    /// With --plan: print a JSON array of {"feed","time","execution"}.
    #[arg(long, requires = "plan")]
    pub json: bool,
    /// Run the scheduler on a simulated clock that starts at this time (RFC 3339), to try a
    /// schedule: executions are named after the simulated ticks.
    #[arg(long, conflicts_with = "plan")]
    pub clock_from: Option<String>,
    /// With --clock-from: how many times faster than real time the simulated clock runs.
    #[arg(long, default_value_t = 1.0, requires = "clock_from")]
    pub clock_speed: f64,
    /// Stop after this many ticks were handled (started or skipped).
    #[arg(long, conflicts_with = "plan")]
    pub stop_after: Option<usize>,
}

fn time_arg(flag: &str, text: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| {
            format!("{flag} {text:?} is not an RFC 3339 time (e.g. 2026-12-02T06:00:00Z)")
        })
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Runs `feedpipe schedule`.
pub fn run(args: ScheduleArgs) -> anyhow::Result<ExitCode> {
    let local = local(args.config.as_deref(), !args.plan)?;
    let feeds = &local.project().config.feeds;
    if let Some(f) = &args.feed {
        if !feeds.iter().any(|c| &c.name == f) {
            anyhow::bail!(
                "feed {f:?} is not configured in {}",
                local.project().config_file.display()
            );
        }
    }
    if args.plan {
        let from = match &args.from {
            Some(t) => time_arg("--from", t)?,
            None => schedule::chrono::TimeZone::timestamp_millis_opt(
                &Utc,
                runs::clock::SystemClock.now_ms(),
            )
            .single()
            .context("the system clock is out of range")?,
        };
        let plan = scheduler::plan(feeds, args.feed.as_deref(), from, args.count)?;
        if args.json {
            let items: Vec<_> = plan
                .iter()
                .map(|p| json!({"feed": p.feed, "time": rfc3339(p.time), "execution": p.execution}))
                .collect();
            println!("{}", serde_json::Value::Array(items));
        } else {
            for p in &plan {
                println!("{}  {:<16} {}", rfc3339(p.time), p.feed, p.execution);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let clock: Box<dyn Clock> = match &args.clock_from {
        Some(t) => Box::new(runs::clock::ScaledClock::new(
            time_arg("--clock-from", t)?.timestamp_millis(),
            args.clock_speed,
        )),
        None => Box::new(runs::clock::SystemClock),
    };
    let project_feeds: Vec<_> = feeds
        .iter()
        .filter(|f| args.feed.as_deref().is_none_or(|o| f.name == o))
        .map(|f| format!("{} {}", f.name, f.schedule))
        .collect();
    eprintln!("feedpipe schedule: {}", project_feeds.join("; "));
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    runtime()?.block_on(scheduler::run(
        &local,
        clock.as_ref(),
        args.feed.as_deref(),
        args.stop_after,
        &Printer,
        None,
        shutdown,
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints what the scheduler does, one line each.
pub struct Printer;

impl ScheduleWatcher for Printer {
    fn started(&self, p: &Planned, result: &Result<Description, RunsError>) {
        match result {
            Ok(d) => println!(
                "{}  {:<16} {} {}",
                rfc3339(p.time),
                p.feed,
                p.execution,
                d.status.as_str()
            ),
            Err(e) => println!(
                "{}  {:<16} {} not started: {e}",
                rfc3339(p.time),
                p.feed,
                p.execution
            ),
        }
    }

    fn skipped(&self, p: &Planned, why: &str) {
        println!(
            "{}  {:<16} {} skipped: {why}",
            rfc3339(p.time),
            p.feed,
            p.execution
        );
    }

    fn next(&self, feed: &str, time: Option<DateTime<Utc>>) {
        match time {
            Some(t) => eprintln!("feedpipe schedule: {feed}: next at {}", rfc3339(t)),
            None => eprintln!("feedpipe schedule: {feed}: no more ticks"),
        }
    }
}
