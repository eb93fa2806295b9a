//! The two Lambdas of feedpipe as plain async handler functions: `feedpipe-diff` (op `diff`:
//! index of the last delivered snapshot vs the new one → manifest; op `commit`: advance
//! `current.json`) and `feedpipe-shape` (the SNS notification). The `lambda_runtime` binaries
//! only wire these; the local engine calls them in-process. Filled in by the worker-lambdas issue.
#![deny(missing_docs)]
