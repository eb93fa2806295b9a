//! The Batch job programs of feedpipe: `feedpipe-worker check` (fetch the feed, store the
//! snapshot, build its index) and `feedpipe-worker consume` (deliver the changes to the sink with
//! checkpoints). Feed fetching, sinks and checkpoints live here; the parsing is `feed`'s and the
//! storage is `store`'s. Filled in by the worker-lambdas issue.
#![deny(missing_docs)]
