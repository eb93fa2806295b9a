//! Integration tests of the feed crate: one binary, a module per area (STYLE.md item 13).

mod common;
mod errors;
mod extract;
mod index_diff;
mod props;
mod reader;
