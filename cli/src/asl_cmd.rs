//! `feedpipe asl`: print the generated ASL definition (with its `${...}` placeholders, exactly
//! the text `feedpipe synth` deploys) and any validation warnings on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use statemachine::validate::{validate, Severity};

use crate::config::Loaded;

/// Print the generated ASL definition.
#[derive(clap::Args)]
pub struct AslArgs {
    /// The configuration file (default ./feedpipe.toml, else the embedded example).
    #[arg(long, env = "FEEDPIPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Write the definition to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// The definition's text as `feedpipe asl` prints it.
pub fn definition_text(loaded: &Loaded) -> anyhow::Result<String> {
    let machine = statemachine::feedpipe::definition(&loaded.pipeline_options())
        .context("the generated definition is invalid (a bug in feedpipe)")?;
    for d in validate(&machine) {
        if d.severity == Severity::Warning {
            eprintln!("feedpipe: {d}");
        }
    }
    Ok(machine.to_json_pretty() + "\n")
}

/// Runs `feedpipe asl`.
pub fn run(args: AslArgs) -> anyhow::Result<ExitCode> {
    let loaded = Loaded::load(args.config.as_deref())?;
    let text = definition_text(&loaded)?;
    match args.output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
