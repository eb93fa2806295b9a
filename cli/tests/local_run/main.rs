//! End to end: `feedpipe run --feed` and the execution commands on one machine, with real
//! processes (`feedpipe`, its `feedpipe-worker` jobs), real files and a real HTTP sink.

mod common;
mod faults;
mod kills;
mod pipeline;
mod schedule;
