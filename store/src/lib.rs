//! The object store feedpipe keeps its snapshots, indexes, manifests and checkpoints in.
//!
//! One small interface over `file://DIR` (atomic temp-file + rename writes) and
//! `s3://bucket/prefix` (aws-sdk-s3: streaming bodies, multipart upload, conditional writes),
//! with the same keys under both (DESIGN.md §4). Filled in by the worker-lambdas issue.
#![deny(missing_docs)]
