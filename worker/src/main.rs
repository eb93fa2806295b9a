//! `feedpipe-worker check|consume`: the Batch jobs of feedpipe (see [`worker::cli`]).

fn main() -> std::process::ExitCode {
    worker::cli::main()
}
