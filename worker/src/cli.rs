//! The `feedpipe-worker` command line: `check` and `consume`, with the environment variables the
//! state machine sets (`FEEDPIPE_CONFIG`, `FEEDPIPE_FEED`, `FEEDPIPE_EXECUTION`,
//! `FEEDPIPE_MANIFEST`, `PARALLELISM`, `BATCH_SIZE`) as fallbacks of the flags.
//!
//! Logs go to stderr: JSON lines when running in AWS (Batch or Lambda environment detected),
//! readable lines otherwise. The last line on stdout is one JSON object saying how the job
//! ended, for people reading CloudWatch. Exit status: 0 done, 1 failed but a retry may succeed,
//! 2 bad configuration, input or feed, 3 the sink refused a delivery.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::json;
use tracing::Instrument as _;

use crate::check::CheckSettings;
use crate::consume::{consume, ConsumeSettings};
use crate::error::{chain, JobError};
use crate::job::{Job, JobArgs, RetryArgs};

/// feedpipe's Batch jobs.
#[derive(Debug, Parser)]
#[command(name = "feedpipe-worker", version)]
pub struct Cli {
    /// More log output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The job.
    #[command(subcommand)]
    pub command: Command,
}

/// The two jobs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// CheckFeed: fetch the feed, store the snapshot and its record index, write check.json.
    Check(CheckArgs),
    /// ConsumeFeed: deliver the manifest's changes to the sink, resuming from the checkpoint.
    Consume(ConsumeArgs),
}

/// Arguments of `check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Feed, execution, configuration.
    #[command(flatten)]
    pub job: JobArgs,
    /// Fetch timeouts and retries.
    #[command(flatten)]
    pub retry: RetryArgs,
    /// Directory for the index build's temporary files (sorted runs of big feeds); default: the
    /// system's temporary directory.
    #[arg(long, env = "FEEDPIPE_TMPDIR")]
    pub tmp_dir: Option<std::path::PathBuf>,
    /// Memory for index entries before sorted runs are spilled, in KiB.
    #[arg(long, env = "FEEDPIPE_INDEX_MEMORY_KIB",
        default_value_t = (feed::options::DEFAULT_INDEX_MEMORY >> 10) as u64)]
    pub index_memory_kib: u64,
}

impl CheckArgs {
    /// The settings of [`crate::check::check`].
    pub fn settings(&self) -> CheckSettings {
        CheckSettings {
            retry: self.retry.clone(),
            tmp_dir: self.tmp_dir.clone(),
            index_memory: usize::try_from(self.index_memory_kib.saturating_mul(1024))
                .unwrap_or(usize::MAX),
        }
    }
}

/// Arguments of `consume`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsumeArgs {
    /// Feed, execution, configuration.
    #[command(flatten)]
    pub job: JobArgs,
    /// The manifest key DiffFeed returned.
    #[arg(long, env = "FEEDPIPE_MANIFEST")]
    pub manifest: String,
    /// Batches in flight (default: the feed's sink.parallelism).
    #[arg(long, env = "PARALLELISM")]
    pub parallelism: Option<u32>,
    /// Records per batch (default: the feed's sink.batch_size).
    #[arg(long, env = "BATCH_SIZE")]
    pub batch_size: Option<u32>,
    /// Seconds between checkpoint writes.
    #[arg(long, env = "FEEDPIPE_CHECKPOINT_SECONDS", default_value_t = 2.0,
          value_parser = crate::job::seconds)]
    pub checkpoint_seconds: f64,
    /// Seconds between progress lines.
    #[arg(long, env = "FEEDPIPE_PROGRESS_SECONDS", default_value_t = 10.0,
          value_parser = crate::job::seconds)]
    pub progress_seconds: f64,
    /// Delivery timeouts and retries.
    #[command(flatten)]
    pub retry: RetryArgs,
}

impl ConsumeArgs {
    /// The settings of [`consume`].
    pub fn settings(&self) -> ConsumeSettings {
        ConsumeSettings {
            manifest: self.manifest.clone(),
            parallelism: self.parallelism,
            batch_size: self.batch_size,
            retry: self.retry.clone(),
            checkpoint_every: Duration::from_secs_f64(self.checkpoint_seconds.max(0.01)),
            progress_every: Duration::from_secs_f64(self.progress_seconds.max(0.01)),
        }
    }
}

/// True when running in AWS Batch or Lambda.
pub fn in_aws() -> bool {
    [
        "AWS_BATCH_JOB_ID",
        "AWS_LAMBDA_FUNCTION_NAME",
        "ECS_CONTAINER_METADATA_URI_V4",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some())
}

/// Sets up `tracing` on stderr: JSON in AWS, readable locally.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if in_aws() {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.compact().init();
    }
}

/// With `FEEDPIPE_EXIT_WITH_PARENT` set (the local Batch integration sets it and keeps the
/// job's stdin open), the job exits when its stdin ends: when the process that started it died.
/// A local job so never outlives its engine and races a redriven attempt.
fn exit_with_parent() {
    if std::env::var_os("FEEDPIPE_EXIT_WITH_PARENT").is_none() {
        return;
    }
    std::thread::spawn(|| {
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin().lock();
        while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
        tracing::error!("the process that started this job has ended; stopping");
        std::process::exit(1);
    });
}

/// Runs one job and returns the final JSON line and the exit code.
pub async fn run(command: Command) -> (serde_json::Value, u8) {
    let started = Instant::now();
    let (name, feed, execution) = match &command {
        Command::Check(a) => ("check", a.job.feed.clone(), a.job.execution.clone()),
        Command::Consume(a) => ("consume", a.job.feed.clone(), a.job.execution.clone()),
    };
    // Every log line of the job carries these fields (JSON: under "span").
    let span = tracing::info_span!("job", job = name, feed = %feed, execution = %execution);
    let work = async {
        match &command {
            Command::Check(a) => {
                let job = Job::load(&a.job).await?;
                let checked = crate::check::check(&job, &a.settings()).await?;
                let r = &checked.result;
                Ok(json!({
                    "not_modified": r.not_modified,
                    "snapshot": r.snapshot.snapshot,
                    "index": r.snapshot.index,
                    "bytes": r.snapshot.bytes,
                    "records": r.snapshot.records,
                    "spilled_runs": checked.spilled_runs,
                }))
            }
            Command::Consume(a) => {
                let job = Job::load(&a.job).await?;
                let s = consume(&job, &a.settings()).await?;
                serde_json::to_value(s).map_err(|e| JobError::Internal(e.to_string()))
            }
        }
    };
    let result: Result<serde_json::Value, JobError> = async {
        let result = work.await;
        if let Err(e) = &result {
            tracing::error!(error = %chain(e), "{name} failed");
        }
        result
    }
    .instrument(span)
    .await;
    let mut line = json!({
        "job": name,
        "feed": feed,
        "execution": execution,
        "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    });
    let code = match result {
        Ok(fields) => {
            line["status"] = json!("SUCCEEDED");
            if let (Some(line), Some(fields)) = (line.as_object_mut(), fields.as_object()) {
                line.extend(fields.clone());
            }
            0
        }
        Err(e) => {
            let code = e.exit_code();
            line["status"] = json!("FAILED");
            line["error"] = json!(e.kind());
            line["cause"] = json!(chain(&e));
            line["exit_code"] = json!(code);
            code
        }
    };
    (line, code)
}

/// The `feedpipe-worker` program.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    exit_with_parent();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("feedpipe-worker: error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let (line, code) = runtime.block_on(run(cli.command));
    println!("{line}");
    ExitCode::from(code)
}
