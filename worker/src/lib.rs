//! The Batch job programs of feedpipe: `feedpipe-worker check` (fetch the feed, store the
//! snapshot, build its index, in one pass) and `feedpipe-worker consume` (deliver the changes to
//! the sink, `PARALLELISM` wide, with checkpoints). Feed fetching, sinks and checkpoints live
//! here; the parsing is `feed`'s and the storage is `store`'s.
//!
//! - [`cli`]: the `feedpipe-worker` command line (clap, with the environment variables the state
//!   machine sets as fallbacks), logging setup, exit codes and the final JSON line.
//! - [`job`]: the settings of one job and what it loads (configuration, store).
//! - [`fetch`]: the feed source: `http(s)://` with conditional GET, `file://`, `s3://`.
//! - [`check`]: the CheckFeed job.
//! - [`consume`]: the ConsumeFeed job; [`sink`]: where records go; [`retry`]: backoff.
//! - [`digest`]: CheckFeed's SHA-256 on a second core, beside the indexer.
//! - [`spill`]: the index build's spill storage in a temporary directory (also the CLI's).
//! - [`changes`]: the manifest's change lists read as streams.
#![deny(missing_docs)]

pub mod changes;
pub mod check;
pub mod cli;
pub mod consume;
pub mod digest;
pub mod error;
pub mod fetch;
pub mod job;
pub mod retry;
pub mod sink;
pub mod spill;

pub use error::JobError;
