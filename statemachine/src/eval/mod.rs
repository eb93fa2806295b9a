//! Data evaluation for the local engine: every place a Step Functions state reads or shapes
//! JSON, as pure functions over `serde_json::Value`, matching AWS's results, error names and
//! cause texts.
//!
//! The engine does control flow; it calls in here for:
//! - input/output processing: [`apply_input_path`], [`evaluate_payload`] (Parameters,
//!   ItemSelector, ResultSelector, Arguments, Output in either query language),
//!   [`apply_result_path`], [`apply_output_path`];
//! - variables: [`evaluate_assign`];
//! - Choice rules: [`choice::evaluate_rule`];
//! - per-state fields: [`wait_target`], [`map_items`], [`map_limits`], [`fail_fields`],
//!   [`task_timeouts`];
//! - the payload limits (256 KiB of text, [`MAX_PAYLOAD_DEPTH`] levels): [`check_payload_size`],
//!   [`payload_text`];
//! - a Distributed Map's [`item_reader`] (reading JSON, JSON Lines, CSV and listings into items),
//!   [`item_batcher`] (grouping items into batch inputs) and [`result_writer`] (the exported
//!   result files and manifest, as JSON or JSON Lines).
//!
//! What an evaluation sees is a [`Scope`]; what goes wrong is an [`EvalError`]. Randomness comes
//! from the caller's [`Random`]; nothing here reads the clock or the OS.
//!
//! Modules: [`jsonpath`] (Jayway-style JSONPath), [`intrinsics`] (`States.*` functions),
//! [`choice`], [`jsonata`], [`timestamp`].

pub mod choice;
mod error;
mod fields;
pub mod intrinsics;
pub mod item_batcher;
pub mod item_reader;
pub mod jsonata;
pub mod jsonpath;
mod limits;
#[cfg(test)]
mod proptests;
mod random;
pub mod result_writer;
mod scope;
mod state_fields;
mod template;
pub mod timestamp;

pub use error::{ErrorKind, EvalError};
pub use fields::{
    apply_input_path, apply_output_path, apply_result_path, evaluate_assign, evaluate_payload,
    input_path_ref, output_path_owned,
};
pub use limits::{
    check_payload_size, drop_deep, exceeds_depth, json_len, payload_text, too_deep, too_large,
    MAX_PAYLOAD_DEPTH, PAYLOAD_LIMIT_BYTES,
};
pub use random::{uuid_v4, Random, SeededRandom};
pub use scope::{Layered, NoVariables, Scope, Variables};
pub use state_fields::{
    fail_fields, map_items, map_limits, task_timeouts, wait_target, FailFields, MapLimits,
    TaskTimeouts, WaitTarget,
};
pub use timestamp::Timestamp;
