//! `feedpipe feed index|diff|extract`: feed files examined directly, for people who debug feeds
//! (and for the benches).

use std::process::ExitCode;

/// The `feedpipe feed` subcommands.
#[derive(clap::Subcommand)]
pub enum FeedCommand {}

/// Runs one `feedpipe feed` subcommand.
pub fn run(cmd: FeedCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
