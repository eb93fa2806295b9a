//! What the handlers work with: the configuration and the store it names.
//!
//! In Lambda both come from `FEEDPIPE_CONFIG` (a path, `file://` or `s3://` URL of
//! `feedpipe.toml`) once per cold start; the local engine builds a [`Context`] from the
//! configuration it already has.

use feed::config::{Config, FeedConfig};
use store::Store;

use crate::error::{chain, Error, ErrorKind};

/// The configuration and the store.
#[derive(Debug, Clone)]
pub struct Context {
    /// The parsed configuration (relative paths resolved).
    pub config: Config,
    /// The store of `config.store`.
    pub store: Store,
}

impl Context {
    /// A context over an already loaded configuration.
    pub async fn new(config: Config) -> Result<Context, Error> {
        let store = Store::open(&config.store).await?;
        Ok(Context { config, store })
    }

    /// Loads the configuration named by the `FEEDPIPE_CONFIG` environment variable.
    pub async fn from_env() -> Result<Context, Error> {
        let url = std::env::var("FEEDPIPE_CONFIG").map_err(|_| {
            Error::new(
                ErrorKind::Config,
                "FEEDPIPE_CONFIG is not set: set it to the URL of feedpipe.toml (s3://... or a path)",
            )
        })?;
        Context::new(load_config(&url).await?).await
    }

    /// The configuration of `feed`.
    pub fn feed(&self, feed: &str) -> Result<&FeedConfig, Error> {
        self.config.feed(feed).ok_or_else(|| {
            Error::new(
                ErrorKind::BadRequest,
                format!(
                    "feed {feed:?} is not configured in {}; configured: {}",
                    self.config.store,
                    self.config
                        .feeds
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    }
}

/// Reads and parses `feedpipe.toml` from a path, `file://` or `s3://` URL. Relative `file://`
/// URLs inside a local file resolve against its folder.
pub async fn load_config(url: &str) -> Result<Config, Error> {
    let config_err = |m: String| Error::new(ErrorKind::Config, m);
    let file = store::read_config(url)
        .await
        .map_err(|e| config_err(format!("cannot read the configuration: {}", chain(&e))))?;
    Config::load(&file.text, &file.origin, file.dir.as_deref())
        .map_err(|e| config_err(e.to_string()))
}
