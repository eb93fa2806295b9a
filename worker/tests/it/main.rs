//! The worker's integration tests: real files, a real moto server (`./scripts/test`), real HTTP
//! servers on 127.0.0.1:0, the real `feedpipe-worker` binary where a process matters.

mod check;
mod common;
mod consume;
