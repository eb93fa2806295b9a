//! The Amazon States Language in Rust: typed definitions ([`asl`]), a builder ([`builder`]),
//! static validation ([`validate`]), the feedpipe definition ([`feedpipe`]) and the local engine
//! ([`engine`], with [`eval`] for the data side) that runs a definition as Step Functions would.
//!
//! This crate does no I/O: it takes JSON values, a clock and task integrations, and never opens
//! files or sockets, reads the environment or the system time.
#![deny(missing_docs)]

pub mod asl;
pub mod builder;
pub mod engine;
pub mod eval;
pub mod feedpipe;
pub mod graph;
pub mod validate;
