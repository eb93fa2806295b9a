//! `feedpipe graph [EXECUTION]`: the state machine as a picture: Graphviz DOT, or SVG through
//! `dot`. With an execution, the definition it ran, each state coloured by how that run went
//! (green succeeded, red failed, blue running, orange caught) and the path it took drawn heavier.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Context};
use statemachine::graph::{run_of, to_dot, to_dot_run};

use crate::config::Loaded;

/// Output format of `feedpipe graph`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Graphviz DOT text.
    Dot,
    /// SVG, rendered by Graphviz `dot` (must be installed).
    Svg,
}

/// Draw the state machine.
#[derive(clap::Args)]
pub struct GraphArgs {
    /// An execution to draw: its states coloured by how it went, its path drawn heavier.
    pub execution: Option<String>,
    /// The configuration file (default ./feedpipe.toml, else the embedded example).
    #[arg(long, env = "FEEDPIPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// dot or svg.
    #[arg(long, value_enum, default_value = "dot")]
    pub format: Format,
    /// Write the picture to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The Graphviz `dot` program used for SVG.
    #[arg(long, env = "FEEDPIPE_DOT", default_value = "dot")]
    pub dot: PathBuf,
}

/// Runs `feedpipe graph`.
pub fn run(args: GraphArgs) -> anyhow::Result<ExitCode> {
    let dot = match &args.execution {
        None => {
            let loaded = Loaded::load(args.config.as_deref())?;
            let machine = statemachine::feedpipe::definition(&loaded.pipeline_options())?;
            to_dot(&machine, &HashMap::new())
        }
        Some(name) => {
            let local = crate::run_cmd::local(args.config.as_deref(), false)?;
            crate::run_cmd::runtime()?.block_on(local.recover())?;
            let record = local.store().record(name)?;
            let (status, taken) = run_of(&record.history);
            to_dot_run(&record.definition, &status, &taken)
        }
    };
    let bytes = match args.format {
        Format::Dot => dot.into_bytes(),
        Format::Svg => render_svg(&args.dot, &dot)?,
    };
    match args.output {
        Some(path) => std::fs::write(&path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout()
            .write_all(&bytes)
            .context("cannot write to stdout")?,
    }
    Ok(ExitCode::SUCCESS)
}

fn render_svg(program: &std::path::Path, dot: &str) -> anyhow::Result<Vec<u8>> {
    let mut child = match Command::new(program)
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "SVG needs Graphviz, and {} was not found: install it (Debian/Ubuntu: apt-get install graphviz, \
             macOS: brew install graphviz) or use --format dot and render the DOT text elsewhere",
            program.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot run {}", program.display())),
    };
    child
        .stdin
        .take()
        .context("dot's stdin")?
        .write_all(dot.as_bytes())
        .context("cannot write to dot")?;
    let out = child.wait_with_output().context("dot did not finish")?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}
