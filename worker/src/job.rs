//! One job's settings (arguments or the environment the state machine sets) and what it loads.

use std::time::Duration;

use feed::config::{Config, FeedConfig};
use store::Store;

use crate::error::{chain, JobError};
use crate::retry::RetryPolicy;

/// Which feed and execution a job works for.
#[derive(Debug, Clone, clap::Args)]
pub struct JobArgs {
    /// `feedpipe.toml`: a path, `file://` or `s3://` URL.
    #[arg(long, env = "FEEDPIPE_CONFIG")]
    pub config: String,
    /// The feed's name.
    #[arg(long, env = "FEEDPIPE_FEED")]
    pub feed: String,
    /// The execution's name (run state lives under `runs/FEED/EXECUTION/`).
    #[arg(long, env = "FEEDPIPE_EXECUTION")]
    pub execution: String,
}

/// Timeouts and retries of network calls (feed fetch, sink delivery).
#[derive(Debug, Clone, clap::Args)]
pub struct RetryArgs {
    /// Timeout of one request, in seconds (a positive number, at most a year).
    #[arg(long, env = "FEEDPIPE_REQUEST_TIMEOUT_SECONDS", default_value_t = 60.0,
          value_parser = seconds)]
    pub request_timeout: f64,
    /// Attempts per request or batch before the job fails.
    #[arg(long, env = "FEEDPIPE_MAX_ATTEMPTS", default_value_t = 8)]
    pub max_attempts: u32,
    /// First backoff, in milliseconds (doubles each attempt, full jitter).
    #[arg(long, env = "FEEDPIPE_RETRY_BASE_MS", default_value_t = 500)]
    pub retry_base_ms: u64,
    /// Longest backoff (and longest `Retry-After` honoured), in milliseconds.
    #[arg(long, env = "FEEDPIPE_RETRY_CAP_MS", default_value_t = 60_000)]
    pub retry_cap_ms: u64,
}

/// The longest span a seconds flag takes: 365 days.
pub const MAX_SECONDS: f64 = 365.0 * 86_400.0;

/// The clap value parser of flags in seconds: a positive, finite number of at most
/// [`MAX_SECONDS`]. (`inf` would panic when made a `Duration`; NaN, 0 and negative spans mean
/// nothing.)
pub fn seconds(text: &str) -> Result<f64, String> {
    let bad = || {
        format!("{text:?} is not a number of seconds: give a positive number, at most {MAX_SECONDS} (365 days)")
    };
    let v: f64 = text.trim().parse().map_err(|_| bad())?;
    if v.is_finite() && v > 0.0 && v <= MAX_SECONDS {
        Ok(v)
    } else {
        Err(bad())
    }
}

impl RetryArgs {
    /// The policy these arguments describe.
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            base: Duration::from_millis(self.retry_base_ms),
            cap: Duration::from_millis(self.retry_cap_ms),
        }
    }

    /// The per-request timeout (clamped to 1 ms .. [`MAX_SECONDS`], whatever the field holds).
    pub fn timeout(&self) -> Duration {
        let secs = self.request_timeout;
        Duration::from_secs_f64(if secs.is_nan() {
            0.001
        } else {
            secs.clamp(0.001, MAX_SECONDS)
        })
    }
}

impl Default for RetryArgs {
    fn default() -> Self {
        RetryArgs {
            request_timeout: 60.0,
            max_attempts: 8,
            retry_base_ms: 500,
            retry_cap_ms: 60_000,
        }
    }
}

/// A loaded job: the configuration, the feed's part of it, the store.
#[derive(Debug, Clone)]
pub struct Job {
    /// The whole configuration.
    pub config: Config,
    /// The feed's configuration.
    pub feed: FeedConfig,
    /// The store.
    pub store: Store,
    /// The execution name.
    pub execution: String,
}

impl Job {
    /// Loads the configuration and opens the store.
    pub async fn load(args: &JobArgs) -> Result<Job, JobError> {
        let config = load_config(&args.config).await?;
        Job::new(config, &args.feed, &args.execution).await
    }

    /// A job over an already loaded configuration.
    pub async fn new(config: Config, feed: &str, execution: &str) -> Result<Job, JobError> {
        let feed = config.feed(feed).cloned().ok_or_else(|| {
            JobError::Config(format!(
                "feed {feed:?} is not configured (configured: {})",
                config
                    .feeds
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if !store::layout::is_execution_name(execution) {
            return Err(JobError::Config(format!(
                "{execution:?} is not a valid execution name"
            )));
        }
        let store = Store::open(&config.store).await?;
        Ok(Job {
            config,
            feed,
            store,
            execution: execution.to_string(),
        })
    }
}

/// Reads and parses `feedpipe.toml` from a path, `file://` or `s3://` URL; relative `file://`
/// URLs inside a local file resolve against its folder.
pub async fn load_config(url: &str) -> Result<Config, JobError> {
    let file = store::read_config(url)
        .await
        .map_err(|e| JobError::Config(format!("cannot read the configuration: {}", chain(&e))))?;
    Config::load(&file.text, &file.origin, file.dir.as_deref())
        .map_err(|e| JobError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        retry: RetryArgs,
    }

    #[test]
    fn request_timeouts_that_are_no_span_are_usage_errors() {
        for bad in [
            "inf", "-inf", "NaN", "nan", "-1", "0", "-0", "1e300", "x", "",
        ] {
            let e = Cli::try_parse_from(["w".to_string(), format!("--request-timeout={bad}")])
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(e.exit_code(), 2, "{bad:?}");
            let msg = e.to_string();
            assert!(
                msg.contains("--request-timeout") && msg.contains("not a number of seconds"),
                "{bad:?}: {msg}"
            );
        }
        for (good, want) in [("0.5", 0.5), ("60", 60.0), ("31536000", MAX_SECONDS)] {
            let cli = Cli::try_parse_from(["w", "--request-timeout", good]).unwrap();
            assert_eq!(cli.retry.timeout(), Duration::from_secs_f64(want));
        }
        // A hand-built value never panics either.
        for v in [f64::INFINITY, f64::NAN, -5.0] {
            let args = RetryArgs {
                request_timeout: v,
                ..RetryArgs::default()
            };
            assert!(args.timeout() >= Duration::from_millis(1));
        }
    }
}
