//! Finding and loading `feedpipe.toml`, or the embedded example when there is none.
//!
//! `--config F` (or `FEEDPIPE_CONFIG`) names the file; without it `./feedpipe.toml` is used if it
//! exists, else the example configuration compiled into the binary (`examples/feedpipe.toml`
//! with its feed), so a newcomer's first command works anywhere. Relative `file://` paths
//! resolve against the config file's folder, and local state (`.feedpipe/`: executions, logs,
//! the default store, outbox and sink) lives next to it.
//!
//! The embedded example is written out to `./.feedpipe/example/` when a command runs it (the
//! Batch jobs read the configuration from a file, as they do in AWS): `feedpipe.toml` with its
//! state paths pointing at `./.feedpipe/`, the feed `jobs.xml` and its next version
//! `jobs-v2.xml`. Files already there are kept, so a user may replace `jobs.xml`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use feed::config::Config;

/// The example configuration, embedded.
pub const EXAMPLE_CONFIG: &str = include_str!("../../examples/feedpipe.toml");
/// The example feed.
pub const EXAMPLE_FEED: &str = include_str!("../../examples/jobs.xml");
/// The example feed's next version: one record changed, one removed, one added.
pub const EXAMPLE_FEED_V2: &str = include_str!("../../examples/jobs-v2.xml");

/// A loaded configuration and where it came from.
pub struct Loaded {
    /// The parsed configuration, relative paths resolved.
    pub config: Config,
    /// The configuration file (absolute); for the embedded example, where it is written out.
    pub file: PathBuf,
    /// The local state folder (`.feedpipe/`).
    pub state_dir: PathBuf,
    /// Whether this is the embedded example (written out on [`Loaded::materialize`]).
    pub embedded: bool,
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
                let dir = absolute(path.parent().unwrap_or(Path::new(".")))?;
                let config = Config::load(&text, &path.display().to_string(), Some(&dir))?;
                let file = dir.join(path.file_name().unwrap_or_default());
                Ok(Loaded {
                    config,
                    file,
                    state_dir: dir.join(".feedpipe"),
                    embedded: false,
                })
            }
            None => {
                let cwd = std::env::current_dir().context("cannot read the current directory")?;
                let state_dir = cwd.join(".feedpipe");
                let dir = state_dir.join("example");
                let config = Config::load(
                    &example_text(),
                    "(embedded example feedpipe.toml)",
                    Some(&dir),
                )?;
                Ok(Loaded {
                    config,
                    file: dir.join("feedpipe.toml"),
                    state_dir,
                    embedded: true,
                })
            }
        }
    }

    /// Writes the embedded example's files out (a no-op for a real configuration file).
    pub fn materialize(&self) -> anyhow::Result<()> {
        if !self.embedded {
            return Ok(());
        }
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, text) in [
            ("feedpipe.toml", example_text()),
            ("jobs.xml", EXAMPLE_FEED.to_string()),
            ("jobs-v2.xml", EXAMPLE_FEED_V2.to_string()),
        ] {
            let path = dir.join(name);
            if !path.exists() {
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        Ok(())
    }

    /// The pipeline options the definition is generated from.
    pub fn pipeline_options(&self) -> statemachine::feedpipe::PipelineOptions {
        statemachine::feedpipe::PipelineOptions {
            feeds: self.config.feeds.iter().map(|f| f.name.clone()).collect(),
            check_timeout_seconds: self.config.pipeline.check_timeout_seconds,
            consume_timeout_seconds: self.config.pipeline.consume_timeout_seconds,
        }
    }

    /// What the local backend needs: the configuration, its file, the state folder and the
    /// definition as `feedpipe asl` prints it. Writes the embedded example out if it is used.
    pub fn project(&self) -> anyhow::Result<runs::Project> {
        self.materialize()?;
        Ok(runs::Project {
            config: self.config.clone(),
            config_file: self.file.clone(),
            state_dir: self.state_dir.clone(),
            definition: crate::asl_cmd::definition_text(self)?,
        })
    }
}

/// The embedded example as written out to `.feedpipe/example/feedpipe.toml`: its state paths
/// (`file://.feedpipe/...`) point at the `.feedpipe/` folder that holds it.
fn example_text() -> String {
    EXAMPLE_CONFIG.replace("file://.feedpipe/", "file://../")
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    std::fs::canonicalize(p).with_context(|| format!("cannot resolve {}", p.display()))
}
