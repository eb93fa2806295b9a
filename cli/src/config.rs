//! Finding and loading `feedpipe.toml`, or the embedded example when there is none.
//!
//! `--config F` names the file; without it `./feedpipe.toml` is used if it exists, else the
//! example configuration compiled into the binary (`examples/feedpipe.toml` with its feed), so a
//! newcomer's first command works anywhere. Relative `file://` paths resolve against the config
//! file's folder; for the embedded example, against `.feedpipe/example/`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use feed::config::Config;

/// The example configuration, embedded.
pub const EXAMPLE_CONFIG: &str = include_str!("../../examples/feedpipe.toml");

/// A loaded configuration and where it came from.
pub struct Loaded {
    /// The parsed configuration, relative paths resolved.
    pub config: Config,
}

impl Loaded {
    /// Loads `--config F`, or `./feedpipe.toml`, or the embedded example.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Loaded> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("feedpipe.toml")).filter(|p| p.exists()),
        };
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read the configuration {}", path.display()))?;
                let mut config = Config::parse(&text, &path.display().to_string())?;
                let dir = absolute(path.parent().unwrap_or(Path::new(".")))?;
                config.resolve_paths(&dir);
                Ok(Loaded { config })
            }
            None => {
                let cwd = std::env::current_dir().context("cannot read the current directory")?;
                let dir = cwd.join(".feedpipe").join("example");
                let mut config = Config::parse(EXAMPLE_CONFIG, "(embedded example feedpipe.toml)")?;
                config.resolve_paths(&dir);
                Ok(Loaded { config })
            }
        }
    }

    /// The pipeline options the definition is generated from.
    pub fn pipeline_options(&self) -> statemachine::feedpipe::PipelineOptions {
        statemachine::feedpipe::PipelineOptions {
            feeds: self.config.feeds.iter().map(|f| f.name.clone()).collect(),
            check_timeout_seconds: self.config.pipeline.check_timeout_seconds,
            consume_timeout_seconds: self.config.pipeline.consume_timeout_seconds,
        }
    }
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    std::fs::canonicalize(p).with_context(|| format!("cannot resolve {}", p.display()))
}
