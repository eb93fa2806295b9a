//! The `feedpipe` command: dispatch only; each command lives in its own module and exports its
//! clap `Args` and a `run` function.
//!
//! Exit status: 0 when the command did its job (or the execution succeeded), 1 when an
//! execution failed, 2 on bad usage, configuration or input (clap's own usage errors exit 2 too).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod asl_cmd;
mod config;
mod deploy_cmd;
mod feed_cmd;
mod graph_cmd;
mod run_cmd;
mod synth_cmd;

/// Keep downstream systems in step with large XML feeds.
///
/// feedpipe checks a feed on a schedule, works out which records were added, changed or removed
/// since the last fully delivered version, delivers only those and announces the result. In AWS
/// it is a Step Functions state machine; on one machine the same definition runs in feedpipe's
/// local engine.
#[derive(Parser)]
#[command(name = "feedpipe", version, propagate_version = true)]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the generated ASL definition (the text that is deployed).
    Asl(asl_cmd::AslArgs),
    /// Draw the state machine (Graphviz DOT, or SVG with --format svg).
    Graph(graph_cmd::GraphArgs),
    /// Run an ASL definition locally, to its end.
    Run(run_cmd::RunArgs),
    /// Create or update the AWS deployment (CloudFormation stack), upload code and configuration.
    Deploy(deploy_cmd::DeployArgs),
    /// Print the CloudFormation template of the AWS deployment.
    Synth(synth_cmd::SynthArgs),
    /// Work with feed files directly: index, diff, extract.
    #[command(subcommand)]
    Feed(feed_cmd::FeedCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = cli.verbose;
    let result = match cli.command {
        Command::Asl(args) => asl_cmd::run(args),
        Command::Graph(args) => graph_cmd::run(args),
        Command::Feed(cmd) => feed_cmd::run(cmd),
        Command::Run(args) => run_cmd::run(args),
        Command::Synth(args) => synth_cmd::run(args),
        Command::Deploy(args) => deploy_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("feedpipe: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
