//! The `feedpipe` command: dispatch only; each command lives in its own module and exports its
//! clap `Args` and a `run` function.
//!
//! Exit status: 0 when the command did its job (or the execution succeeded), 1 when an
//! execution failed, 2 on bad usage, configuration or input (clap's own usage errors exit 2 too).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod asl_cmd;
mod backend;
mod config;
mod deploy_cmd;
mod feed_cmd;
mod graph_cmd;
mod inspect_cmd;
mod run_cmd;
mod schedule_cmd;
mod serve_cmd;
mod synth_cmd;
mod view;

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
    /// Run the pipeline for a feed (or any ASL definition) locally, to its end.
    Run(run_cmd::RunArgs),
    /// Start a pipeline run in the background and print its execution name.
    Start(run_cmd::StartArgs),
    /// Follow an execution's states live until it ends.
    Watch(inspect_cmd::WatchArgs),
    /// List executions, newest first.
    Executions(inspect_cmd::ExecutionsArgs),
    /// Show one execution: status, input, output, error, cause.
    Describe(inspect_cmd::DescribeArgs),
    /// Show one execution's history events.
    History(inspect_cmd::HistoryArgs),
    /// Stop a running execution (ABORTED; it can be redriven).
    Stop(inspect_cmd::StopArgs),
    /// Resume a failed execution from the state that did not finish.
    Redrive(run_cmd::RedriveArgs),
    /// Start each feed on its schedule (the local EventBridge Scheduler), or print the plan.
    Schedule(schedule_cmd::ScheduleArgs),
    /// Serve the Step Functions API for local runs (AWS CLI, SDKs).
    Serve(serve_cmd::ServeArgs),
    /// Create or update the AWS deployment (CloudFormation stack), upload code and configuration.
    Deploy(deploy_cmd::DeployArgs),
    /// Print the CloudFormation template of the AWS deployment.
    Synth(synth_cmd::SynthArgs),
    /// Work with feed files directly: index, diff, extract.
    #[command(subcommand)]
    Feed(feed_cmd::FeedCommand),
}

fn main() -> ExitCode {
    // Busybox style: run as `feedpipe-worker` (the local Batch jobs re-execute this binary
    // under that name when no separate worker program is installed).
    let argv0 = std::env::args_os().next().unwrap_or_default();
    if std::path::Path::new(&argv0).file_name() == Some(std::ffi::OsStr::new("feedpipe-worker")) {
        return worker::cli::main();
    }
    quiet_broken_pipe();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Asl(args) => asl_cmd::run(args),
        Command::Graph(args) => graph_cmd::run(args),
        Command::Feed(cmd) => feed_cmd::run(cmd),
        Command::Run(args) => run_cmd::run(args),
        Command::Start(args) => run_cmd::start(args),
        Command::Watch(args) => inspect_cmd::watch(args),
        Command::Executions(args) => inspect_cmd::executions(args),
        Command::Describe(args) => inspect_cmd::describe(args),
        Command::History(args) => inspect_cmd::history(args),
        Command::Stop(args) => inspect_cmd::stop(args),
        Command::Redrive(args) => run_cmd::redrive(args),
        Command::Schedule(args) => schedule_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
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

/// Logs on stderr: warnings only by default, `-v` info, `-vv` debug, `-vvv` trace (`RUST_LOG`
/// overrides).
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .compact()
        .init();
}

/// Ends the process quietly when stdout is closed under it (`feedpipe history X | head`), as
/// command-line tools do, instead of panicking in `println!`.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
