//! feedpipe executions as users see them: start, run, watch, list, describe, history, stop and
//! redrive, over the local backend ([`Local`]): the engine of `statemachine` with the local
//! task integrations ([`integrations`]: Batch jobs as `feedpipe-worker` child processes, the
//! Lambdas in process, SNS to an outbox or a real topic) and the execution store under
//! `.feedpipe/` ([`store`]), which survives the process; and the local EventBridge Scheduler
//! ([`scheduler`]) that starts the feeds on their schedules.
#![deny(missing_docs)]

pub mod callbacks;
pub mod clock;
pub mod error;
pub mod integrations;
pub mod local;
pub mod machines;
pub mod scheduler;
pub mod sfn;
pub mod store;

pub use error::RunsError;
pub use local::{Local, Project, RunWatcher};
pub use store::{Description, ExecutionStore};
