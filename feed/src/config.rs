//! `feedpipe.toml`: parsed and validated in this one place (DESIGN.md §3).
//!
//! [`Config::parse`] takes the file's text and a name to report it under; every error names the
//! key and the line it is on. Nothing here reads files: callers read the text and, if they want
//! relative `file://` URLs resolved, pass the config file's folder to [`Config::resolve_paths`].

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where snapshots, indexes and run state live: `file://DIR` or `s3://bucket/prefix`.
    pub store: String,
    /// Where notifications go: `file://DIR` (an outbox) or an SNS topic ARN.
    pub notify: String,
    /// The feeds, in file order.
    pub feeds: Vec<FeedConfig>,
    /// The optional `[pipeline]` table: settings of the state machine itself.
    pub pipeline: PipelineConfig,
    /// The optional `[aws]` table: sizes of the deployed jobs (used by `feedpipe synth`).
    pub aws: AwsConfig,
}

/// The `[aws]` table: what the CloudFormation template gives the Batch jobs.
///
/// vCPU and memory must be a pair that Fargate offers (e.g. 1 vCPU with 2048 to 8192 MiB in
/// steps of 1024); [`fargate_size_ok`] says which.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AwsConfig {
    /// vCPUs of the CheckFeed job (default 1).
    pub check_vcpu: f64,
    /// Memory of the CheckFeed job in MiB (default 2048).
    pub check_memory_mib: u32,
    /// vCPUs of the ConsumeFeed job (default 1).
    pub consume_vcpu: f64,
    /// Memory of the ConsumeFeed job in MiB (default 2048).
    pub consume_memory_mib: u32,
    /// Fargate ephemeral storage of both jobs in GiB, 21 to 200 (default 50): the index's spill
    /// directory (`FEEDPIPE_TMPDIR`) lives there.
    pub ephemeral_storage_gib: u32,
}

impl Default for AwsConfig {
    fn default() -> Self {
        AwsConfig {
            check_vcpu: 1.0,
            check_memory_mib: 2048,
            consume_vcpu: 1.0,
            consume_memory_mib: 2048,
            ephemeral_storage_gib: 50,
        }
    }
}

/// Whether Fargate offers a task of `vcpu` vCPUs with `memory_mib` MiB of memory.
pub fn fargate_size_ok(vcpu: f64, memory_mib: u32) -> bool {
    let m = memory_mib;
    let steps =
        |lo: u32, hi: u32, step: u32| (lo..=hi).contains(&m) && (m - lo).is_multiple_of(step);
    if vcpu == 0.25 {
        matches!(m, 512 | 1024 | 2048)
    } else if vcpu == 0.5 {
        steps(1024, 4096, 1024)
    } else if vcpu == 1.0 {
        steps(2048, 8192, 1024)
    } else if vcpu == 2.0 {
        steps(4096, 16384, 1024)
    } else if vcpu == 4.0 {
        steps(8192, 30720, 1024)
    } else if vcpu == 8.0 {
        steps(16384, 61440, 4096)
    } else if vcpu == 16.0 {
        steps(32768, 122880, 8192)
    } else {
        false
    }
}

/// The `[pipeline]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineConfig {
    /// TimeoutSeconds of the CheckFeed job (default 3600).
    pub check_timeout_seconds: u64,
    /// TimeoutSeconds of the ConsumeFeed job (default 14400).
    pub consume_timeout_seconds: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            check_timeout_seconds: 3600,
            consume_timeout_seconds: 4 * 3600,
        }
    }
}

/// One `[[feed]]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    /// `[a-z0-9-]{1,40}`; used in store keys and execution names.
    pub name: String,
    /// `http(s)://`, `s3://` or `file://` URL of the feed.
    pub url: String,
    /// Element name that delimits one record.
    pub record_tag: String,
    /// Where the record id is found.
    pub id: IdSource,
    /// How `<x><![CDATA[]]></x>` maps to JSON.
    pub empty_cdata: EmptyCdata,
    /// EventBridge schedule expression: `rate(...)` or 6-field `cron(...)`.
    pub schedule: String,
    /// The IANA time zone the schedule's wall-clock times are in (`schedule_timezone`, e.g.
    /// `Europe/London`); UTC when unset.
    pub schedule_timezone: Option<String>,
    /// Where the changes are delivered.
    pub sink: SinkConfig,
}

/// Where a record's id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSource {
    /// The text of a child element with this name.
    Child(String),
    /// An attribute of the record element (written `@name` in the config).
    Attribute(String),
}

impl fmt::Display for IdSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdSource::Child(name) => f.write_str(name),
            IdSource::Attribute(name) => write!(f, "@{name}"),
        }
    }
}

impl IdSource {
    /// Parses the config form: `reference` or `@id`.
    pub fn parse(text: &str) -> Option<IdSource> {
        match text.strip_prefix('@') {
            Some(attr) if is_xml_name(attr) => Some(IdSource::Attribute(attr.to_string())),
            None if is_xml_name(text) => Some(IdSource::Child(text.to_string())),
            _ => None,
        }
    }
}

/// How an element holding only an empty CDATA section maps to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmptyCdata {
    /// `""`
    #[default]
    Empty,
    /// `null`
    Null,
}

/// The `[feed.sink]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    /// `http(s)://`, `s3://` or `file://`.
    pub url: String,
    /// Requests in flight at once.
    pub parallelism: u32,
    /// Records per request.
    pub batch_size: u32,
}

/// A configuration error, naming the file, key and line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{origin}:{line}: {key}: {message}")]
pub struct ConfigError {
    /// The name the text was parsed under (usually the file path).
    pub origin: String,
    /// 1-based line of the offending key or value (0 when unknown).
    pub line: usize,
    /// Dotted key, e.g. `feed[1].sink.parallelism`.
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Option<Spanned<String>>,
    notify: Option<Spanned<String>>,
    #[serde(default)]
    feed: Vec<Spanned<RawFeed>>,
    pipeline: Option<RawPipeline>,
    aws: Option<RawAws>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAws {
    check_vcpu: Option<Spanned<f64>>,
    check_memory_mib: Option<Spanned<i64>>,
    consume_vcpu: Option<Spanned<f64>>,
    consume_memory_mib: Option<Spanned<i64>>,
    ephemeral_storage_gib: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    check_timeout_seconds: Option<Spanned<i64>>,
    consume_timeout_seconds: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    name: Spanned<String>,
    url: Spanned<String>,
    record_tag: Spanned<String>,
    id: Spanned<String>,
    empty_cdata: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    schedule_timezone: Option<Spanned<String>>,
    sink: Spanned<RawSink>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSink {
    url: Spanned<String>,
    parallelism: Option<Spanned<i64>>,
    batch_size: Option<Spanned<i64>>,
}

/// Default store when `store` is not set.
pub const DEFAULT_STORE: &str = "file://.feedpipe/store";
/// Default notification target when `notify` is not set.
pub const DEFAULT_NOTIFY: &str = "file://.feedpipe/outbox";
/// Default schedule when a feed sets none.
pub const DEFAULT_SCHEDULE: &str = "cron(0 6 * * ? *)";

impl Config {
    /// The one loader of `feedpipe.toml`, for the CLI, the Batch jobs and the Lambdas alike:
    /// parses and validates `text` (`origin` names it in errors) and resolves relative `file://`
    /// paths against `dir`, the folder of a local file (`None` for a file read from S3).
    pub fn load(text: &str, origin: &str, dir: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = Config::parse(text, origin)?;
        if let Some(dir) = dir {
            config.resolve_paths(dir);
        }
        Ok(config)
    }

    /// Parses and validates `text`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let at = |span: Range<usize>, key: &str, message: String| ConfigError {
            origin: origin.to_string(),
            line: line_of(text, span.start),
            key: key.to_string(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            ConfigError {
                origin: origin.to_string(),
                line,
                key: "(file)".to_string(),
                message: e.message().to_string(),
            }
        })?;
        let store = match raw.store {
            Some(s) => {
                check_url(&s, "store", &["file://", "s3://"])
                    .map_err(|m| at(s.span(), "store", m))?;
                s.into_inner()
            }
            None => DEFAULT_STORE.to_string(),
        };
        let notify = match raw.notify {
            Some(s) => {
                if !s.get_ref().starts_with("arn:") {
                    check_url(&s, "notify", &["file://"]).map_err(|m| {
                        at(
                            s.span(),
                            "notify",
                            format!("{m}, or an SNS topic ARN (arn:aws:sns:...)"),
                        )
                    })?;
                }
                s.into_inner()
            }
            None => DEFAULT_NOTIFY.to_string(),
        };
        if raw.feed.is_empty() {
            return Err(at(
                0..0,
                "feed",
                "no [[feed]] table: configure at least one feed".into(),
            ));
        }
        let mut feeds: Vec<FeedConfig> = Vec::new();
        for (i, spanned) in raw.feed.into_iter().enumerate() {
            let f = spanned.into_inner();
            let k = |field: &str| format!("feed[{i}].{field}");
            let name = f.name.get_ref().clone();
            if !is_feed_name(&name) {
                return Err(at(
                    f.name.span(),
                    &k("name"),
                    format!("{name:?} is not a valid feed name: use 1 to 40 of a-z, 0-9 and -"),
                ));
            }
            if feeds.iter().any(|g| g.name == name) {
                return Err(at(
                    f.name.span(),
                    &k("name"),
                    format!("feed {name:?} is configured twice"),
                ));
            }
            check_url(&f.url, "url", &["http://", "https://", "file://", "s3://"])
                .map_err(|m| at(f.url.span(), &k("url"), m))?;
            if !is_xml_name(f.record_tag.get_ref()) {
                return Err(at(
                    f.record_tag.span(),
                    &k("record_tag"),
                    format!("{:?} is not an XML element name", f.record_tag.get_ref()),
                ));
            }
            let id = IdSource::parse(f.id.get_ref()).ok_or_else(|| {
                at(
                    f.id.span(),
                    &k("id"),
                    format!(
                        "{:?} is neither a child element name nor @attribute",
                        f.id.get_ref()
                    ),
                )
            })?;
            let empty_cdata = match &f.empty_cdata {
                None => EmptyCdata::Empty,
                Some(s) => match s.get_ref().as_str() {
                    "empty" => EmptyCdata::Empty,
                    "null" => EmptyCdata::Null,
                    other => {
                        return Err(at(
                            s.span(),
                            &k("empty_cdata"),
                            format!("{other:?} is not one of \"empty\", \"null\""),
                        ))
                    }
                },
            };
            let schedule = match f.schedule {
                None => DEFAULT_SCHEDULE.to_string(),
                Some(s) => {
                    check_schedule(s.get_ref()).map_err(|m| at(s.span(), &k("schedule"), m))?;
                    s.into_inner()
                }
            };
            let schedule_timezone = match f.schedule_timezone {
                None => None,
                Some(tz) => {
                    schedule::parse_time_zone(tz.get_ref())
                        .map_err(|e| at(tz.span(), &k("schedule_timezone"), e.to_string()))?;
                    Some(tz.into_inner())
                }
            };
            let sink_span = f.sink.span();
            let sink = f.sink.into_inner();
            check_url(
                &sink.url,
                "url",
                &["http://", "https://", "file://", "s3://"],
            )
            .map_err(|m| at(sink.url.span(), &k("sink.url"), m))?;
            let bounded = |v: Option<Spanned<i64>>, key: &str, default: u32, max: i64| match v {
                None => Ok(default),
                Some(v) if (1..=max).contains(v.get_ref()) => Ok(*v.get_ref() as u32),
                Some(v) => Err(at(
                    v.span(),
                    &k(key),
                    format!("{} is out of range: use 1 to {max}", v.get_ref()),
                )),
            };
            let parallelism = bounded(sink.parallelism, "sink.parallelism", 15, 256)?;
            let batch_size = bounded(sink.batch_size, "sink.batch_size", 500, 100_000)?;
            let _ = sink_span;
            feeds.push(FeedConfig {
                name,
                url: f.url.into_inner(),
                record_tag: f.record_tag.into_inner(),
                id,
                empty_cdata,
                schedule,
                schedule_timezone,
                sink: SinkConfig {
                    url: sink.url.into_inner(),
                    parallelism,
                    batch_size,
                },
            });
        }
        let mut pipeline = PipelineConfig::default();
        if let Some(p) = raw.pipeline {
            let seconds = |v: Option<Spanned<i64>>, key: &str, default: u64| match v {
                None => Ok(default),
                Some(v) if (1..=604_800).contains(v.get_ref()) => Ok(*v.get_ref() as u64),
                Some(v) => Err(at(
                    v.span(),
                    &format!("pipeline.{key}"),
                    format!(
                        "{} is out of range: use 1 to 604800 seconds (7 days)",
                        v.get_ref()
                    ),
                )),
            };
            pipeline.check_timeout_seconds = seconds(
                p.check_timeout_seconds,
                "check_timeout_seconds",
                pipeline.check_timeout_seconds,
            )?;
            pipeline.consume_timeout_seconds = seconds(
                p.consume_timeout_seconds,
                "consume_timeout_seconds",
                pipeline.consume_timeout_seconds,
            )?;
        }
        let aws = match raw.aws {
            None => AwsConfig::default(),
            Some(a) => parse_aws(a, &at)?,
        };
        Ok(Config {
            store,
            notify,
            feeds,
            pipeline,
            aws,
        })
    }

    /// The feed called `name`, if configured.
    pub fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.name == name)
    }

    /// Rewrites relative `file://` URLs (store, notify, feed and sink URLs) to absolute ones
    /// under `base`, the folder of the config file.
    pub fn resolve_paths(&mut self, base: &Path) {
        let fix = |url: &mut String| {
            if let Some(rest) = url.strip_prefix("file://") {
                let p = Path::new(rest);
                if p.is_relative() {
                    *url = format!("file://{}", base.join(p).display());
                }
            }
        };
        fix(&mut self.store);
        fix(&mut self.notify);
        for f in &mut self.feeds {
            fix(&mut f.url);
            fix(&mut f.sink.url);
        }
    }
}

fn parse_aws(
    a: RawAws,
    at: &impl Fn(Range<usize>, &str, String) -> ConfigError,
) -> Result<AwsConfig, ConfigError> {
    let d = AwsConfig::default();
    let int = |v: Option<Spanned<i64>>, key: &str, default: u32, range: Range<i64>| match v {
        None => Ok((default, 0..0)),
        Some(v) if range.contains(v.get_ref()) => Ok((*v.get_ref() as u32, v.span())),
        Some(v) => Err(at(
            v.span(),
            &format!("aws.{key}"),
            format!(
                "{} is out of range: use {} to {}",
                v.get_ref(),
                range.start,
                range.end - 1
            ),
        )),
    };
    let float = |v: Option<Spanned<f64>>, default: f64| match v {
        None => (default, 0..0),
        Some(v) => (*v.get_ref(), v.span()),
    };
    let (check_memory_mib, check_memory_span) = int(
        a.check_memory_mib,
        "check_memory_mib",
        d.check_memory_mib,
        512..122_881,
    )?;
    let (consume_memory_mib, consume_memory_span) = int(
        a.consume_memory_mib,
        "consume_memory_mib",
        d.consume_memory_mib,
        512..122_881,
    )?;
    let (ephemeral_storage_gib, _) = int(
        a.ephemeral_storage_gib,
        "ephemeral_storage_gib",
        d.ephemeral_storage_gib,
        21..201,
    )?;
    let (check_vcpu, check_vcpu_span) = float(a.check_vcpu, d.check_vcpu);
    let (consume_vcpu, consume_vcpu_span) = float(a.consume_vcpu, d.consume_vcpu);
    for (job, vcpu, vcpu_span, memory, memory_span) in [
        (
            "check",
            check_vcpu,
            check_vcpu_span,
            check_memory_mib,
            check_memory_span,
        ),
        (
            "consume",
            consume_vcpu,
            consume_vcpu_span,
            consume_memory_mib,
            consume_memory_span,
        ),
    ] {
        if !fargate_size_ok(vcpu, memory) {
            let (key, span) = if vcpu_span.is_empty() {
                (format!("aws.{job}_memory_mib"), memory_span)
            } else {
                (format!("aws.{job}_vcpu"), vcpu_span)
            };
            return Err(at(
                span,
                &key,
                format!(
                    "Fargate has no task of {vcpu} vCPU with {memory} MiB: use 0.25, 0.5, 1, 2, 4, 8 \
                     or 16 vCPU with a memory size Fargate offers for it (1 vCPU: 2048 to 8192 MiB \
                     in steps of 1024)"
                ),
            ));
        }
    }
    Ok(AwsConfig {
        check_vcpu,
        check_memory_mib,
        consume_vcpu,
        consume_memory_mib,
        ephemeral_storage_gib,
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn check_url(url: &Spanned<String>, what: &str, schemes: &[&str]) -> Result<(), String> {
    let u = url.get_ref();
    match schemes.iter().find(|s| u.starts_with(**s)) {
        Some(s) if u.len() > s.len() => Ok(()),
        _ => Err(format!(
            "{what} {u:?} must start with one of {}",
            schemes.join(", ")
        )),
    }
}

/// `[a-z0-9-]{1,40}`.
pub fn is_feed_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// Checks an EventBridge Scheduler expression (`rate(...)`, 6-field `cron(...)`, `at(...)`)
/// with the `schedule` crate's rules; the error says what is wrong.
pub fn check_schedule(expr: &str) -> Result<(), String> {
    schedule::Schedule::parse(expr)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
store = "file://.feedpipe/store"

[[feed]]
name = "jobs"
url = "file://feed.xml"
record_tag = "job"
id = "reference"
schedule = "cron(0 6 * * ? *)"

[feed.sink]
url = "http://127.0.0.1:8080/jobs"
parallelism = 4
"#;

    #[test]
    fn parses_a_full_config_with_defaults() {
        let c = Config::parse(GOOD, "feedpipe.toml").unwrap();
        assert_eq!(c.notify, DEFAULT_NOTIFY);
        let f = c.feed("jobs").unwrap();
        assert_eq!(f.id, IdSource::Child("reference".into()));
        assert_eq!(f.sink.parallelism, 4);
        assert_eq!(f.sink.batch_size, 500);
        assert_eq!(f.empty_cdata, EmptyCdata::Empty);
    }

    #[test]
    fn errors_name_key_and_line() {
        let bad = GOOD.replace("parallelism = 4", "parallelism = 0");
        let e = Config::parse(&bad, "x.toml").unwrap_err();
        assert_eq!(e.key, "feed[0].sink.parallelism");
        assert_eq!(e.line, 13);
        assert!(
            e.to_string()
                .starts_with("x.toml:13: feed[0].sink.parallelism:"),
            "{e}"
        );

        let bad = GOOD.replace("name = \"jobs\"", "name = \"Jobs!\"");
        let e = Config::parse(&bad, "x.toml").unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("feed[0].name", 5));

        let bad = GOOD.replace("record_tag", "recordtag");
        let e = Config::parse(&bad, "x.toml").unwrap_err();
        assert!(e.message.contains("recordtag"), "{e}");
        assert_eq!(e.line, 7, "{e}");
    }

    #[test]
    fn id_attribute_and_schedules() {
        assert_eq!(
            IdSource::parse("@id"),
            Some(IdSource::Attribute("id".into()))
        );
        assert_eq!(IdSource::parse("@"), None);
        assert!(check_schedule("rate(1 day)").is_ok());
        assert!(check_schedule("rate(5 minutes)").is_ok());
        assert!(check_schedule("rate(1 days)").is_err());
        assert!(check_schedule("cron(0 6 * * *)").is_err());
        assert!(check_schedule("cron(0 6 * * * *)").is_err());
    }

    #[test]
    fn aws_table_and_timezone() {
        let c = Config::parse(GOOD, "x.toml").unwrap();
        assert_eq!(c.aws, AwsConfig::default());
        assert_eq!(c.feeds[0].schedule_timezone, None);

        let text = GOOD.replace(
            "schedule = \"cron(0 6 * * ? *)\"",
            "schedule = \"cron(0 6 * * ? *)\"\nschedule_timezone = \"Europe/London\"",
        )
            + "\n[aws]\ncheck_vcpu = 2\ncheck_memory_mib = 4096\nephemeral_storage_gib = 100\n";
        let c = Config::parse(&text, "x.toml").unwrap();
        assert_eq!(
            c.feeds[0].schedule_timezone.as_deref(),
            Some("Europe/London")
        );
        assert_eq!((c.aws.check_vcpu, c.aws.check_memory_mib), (2.0, 4096));
        assert_eq!(c.aws.ephemeral_storage_gib, 100);
        assert_eq!(c.aws.consume_memory_mib, 2048);

        let bad = GOOD.replace(
            "schedule = \"cron(0 6 * * ? *)\"",
            "schedule_timezone = \"london time\"",
        );
        let e = Config::parse(&bad, "x.toml").unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.line),
            ("feed[0].schedule_timezone", 9),
            "{e}"
        );

        // 1 vCPU cannot have 1024 MiB on Fargate: the error names the key given and its line.
        let e = Config::parse(
            &(GOOD.to_string() + "\n[aws]\nconsume_memory_mib = 1024\n"),
            "x.toml",
        )
        .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.line),
            ("aws.consume_memory_mib", 16),
            "{e}"
        );
        assert!(e.message.contains("1 vCPU with 1024 MiB"), "{e}");
        let e =
            Config::parse(&(GOOD.to_string() + "\n[aws]\ncheck_vcpu = 3\n"), "x.toml").unwrap_err();
        assert_eq!(e.key, "aws.check_vcpu", "{e}");
        let e = Config::parse(
            &(GOOD.to_string() + "\n[aws]\nephemeral_storage_gib = 20\n"),
            "x.toml",
        )
        .unwrap_err();
        assert_eq!(e.key, "aws.ephemeral_storage_gib", "{e}");
        assert!(fargate_size_ok(0.25, 512) && !fargate_size_ok(0.25, 4096));
        assert!(fargate_size_ok(8.0, 20480) && !fargate_size_ok(8.0, 17408));
    }

    #[test]
    fn relative_file_urls_resolve_against_the_config_folder() {
        let mut c = Config::parse(GOOD, "feedpipe.toml").unwrap();
        c.resolve_paths(Path::new("/srv/app"));
        assert_eq!(c.store, "file:///srv/app/.feedpipe/store");
        assert_eq!(c.feeds[0].url, "file:///srv/app/feed.xml");
        assert_eq!(c.feeds[0].sink.url, "http://127.0.0.1:8080/jobs");
    }
}
