//! `feedpipe synth`: the CloudFormation template of the whole AWS side (`infra::synth`), with
//! the state machine's definition exactly as `feedpipe asl` prints it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Loaded;

/// Print the CloudFormation template.
#[derive(clap::Args)]
pub struct SynthArgs {
    /// The configuration file (default ./feedpipe.toml, else the embedded example).
    #[arg(long, env = "FEEDPIPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Write the template to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// The template's text for a loaded configuration: pretty JSON and a final newline.
pub fn template_text(loaded: &Loaded) -> anyhow::Result<String> {
    let definition = crate::asl_cmd::definition_text(loaded)?;
    let template = infra::synth(&loaded.config, &definition)
        .context("cannot build the CloudFormation template")?;
    Ok(serde_json::to_string_pretty(&template)? + "\n")
}

/// Runs `feedpipe synth`.
pub fn run(args: SynthArgs) -> anyhow::Result<ExitCode> {
    let loaded = Loaded::load(args.config.as_deref())?;
    let text = template_text(&loaded)?;
    match args.output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
