//! `feedpipe feed index|diff|extract`: feed files examined directly, for people who debug feeds
//! (and for the benches). Gzip is detected from the bytes, not the file name.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use feed::config::{EmptyCdata, IdSource};
use feed::diff::{diff, Change};
use feed::extract::extract_reader;
use feed::index::{index_reader, Index, MAGIC};
use feed::FeedOptions;
use serde_json::json;

/// The `feedpipe feed` subcommands.
#[derive(clap::Subcommand)]
pub enum FeedCommand {
    /// Build a feed file's record index; prints records, bytes and MB/s.
    Index(IndexArgs),
    /// Compare two feed files (or two index files): added, changed and removed ids.
    Diff(DiffArgs),
    /// Print chosen records of a feed file as JSON lines.
    Extract(ExtractArgs),
}

/// How records are found (the `[[feed]]` keys of feedpipe.toml).
#[derive(clap::Args)]
pub struct RecordArgs {
    /// Element that delimits one record.
    #[arg(long)]
    pub record_tag: String,
    /// Child element (or @attribute) holding the record id.
    #[arg(long)]
    pub id: String,
    /// How <x><![CDATA[]]></x> maps to JSON: empty or null.
    #[arg(long, default_value = "empty", value_parser = ["empty", "null"])]
    pub empty_cdata: String,
    /// Largest record accepted, in MiB.
    #[arg(long, default_value_t = 64)]
    pub max_record_mib: usize,
    /// Parse every record fully while indexing (finds undefined entities and the like now,
    /// not at extract time; slower).
    #[arg(long)]
    pub validate: bool,
}

impl RecordArgs {
    fn options(&self) -> anyhow::Result<FeedOptions> {
        let id = IdSource::parse(&self.id).with_context(|| {
            format!(
                "--id {:?} is neither a child element name nor @attribute",
                self.id
            )
        })?;
        let mut o = FeedOptions::new(self.record_tag.clone(), id);
        o.empty_cdata = if self.empty_cdata == "null" {
            EmptyCdata::Null
        } else {
            EmptyCdata::Empty
        };
        o.max_record_bytes = self.max_record_mib.saturating_mul(1 << 20);
        o.validate = self.validate;
        Ok(o)
    }
}

/// `feedpipe feed index`.
#[derive(clap::Args)]
pub struct IndexArgs {
    /// The feed file (gzip or plain XML).
    pub file: PathBuf,
    #[command(flatten)]
    pub record: RecordArgs,
    /// Write the index file here.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `feedpipe feed diff`.
#[derive(clap::Args)]
pub struct DiffArgs {
    /// The old feed file or index file.
    pub old: PathBuf,
    /// The new feed file or index file.
    pub new: PathBuf,
    #[command(flatten)]
    pub record: RecordArgs,
    /// Print one JSON object (counts and ids) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `feedpipe feed extract`.
#[derive(clap::Args)]
pub struct ExtractArgs {
    /// The feed file (gzip or plain XML).
    pub file: PathBuf,
    #[command(flatten)]
    pub record: RecordArgs,
    /// The ids: ID,ID,... or @FILE with one id a line.
    #[arg(long)]
    pub ids: String,
}

/// Runs one `feedpipe feed` subcommand.
pub fn run(cmd: FeedCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FeedCommand::Index(args) => index(args),
        FeedCommand::Diff(args) => diff_cmd(args),
        FeedCommand::Extract(args) => extract(args),
    }
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

fn build_index(path: &Path, opts: &FeedOptions) -> anyhow::Result<Index> {
    index_reader(open(path)?, opts).with_context(|| path.display().to_string())
}

fn index(args: IndexArgs) -> anyhow::Result<ExitCode> {
    let opts = args.record.options()?;
    let started = Instant::now();
    let index = build_index(&args.file, &opts)?;
    if let Some(out) = &args.output {
        let f = File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
        index
            .write_to(BufWriter::new(f))
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let s = index.summary();
    let mb_s = s.uncompressed_bytes as f64 / 1e6 / secs;
    let rec_s = s.records as f64 / secs;
    if args.json {
        let v = json!({
            "file": args.file.display().to_string(),
            "records": s.records,
            "uncompressed_bytes": s.uncompressed_bytes,
            "input_bytes": s.input_bytes,
            "gzip": s.gzip,
            "root": s.root,
            "feed_hash": format!("{:032x}", index.feed_hash()),
            "index": args.output.as_ref().map(|p| p.display().to_string()),
            "seconds": secs,
            "mb_per_s": mb_s,
            "records_per_s": rec_s,
        });
        println!("{v}");
    } else {
        println!(
            "{}: {} records, {} bytes XML ({} bytes {}), {:.3} s, {:.0} MB/s, {:.0} records/s",
            args.file.display(),
            s.records,
            s.uncompressed_bytes,
            s.input_bytes,
            if s.gzip { "gzip" } else { "plain" },
            secs,
            mb_s,
            rec_s
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The index bytes of a file: the file itself when it is an index, else built from the feed.
fn index_bytes(path: &Path, opts: &FeedOptions) -> anyhow::Result<Vec<u8>> {
    let mut head = [0u8; 8];
    let n = open(path)?
        .read(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if n == 8 && &head == MAGIC {
        return std::fs::read(path).with_context(|| format!("cannot read {}", path.display()));
    }
    Ok(build_index(path, opts)?.to_bytes())
}

fn diff_cmd(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let opts = args.record.options()?;
    // The two sides are independent: index them on two threads.
    let (old, new) = std::thread::scope(|s| {
        let old = s.spawn(|| index_bytes(&args.old, &opts));
        let new = index_bytes(&args.new, &opts);
        (
            old.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("indexing panicked"))),
            new,
        )
    });
    let (old, new) = (old?, new?);
    let mut ids: [Vec<String>; 3] = Default::default();
    let summary = diff(Some(&old[..]), &new[..], |c| {
        match c {
            Change::Added { id, .. } => ids[0].push(id.to_string()),
            Change::Changed { id, .. } => ids[1].push(id.to_string()),
            Change::Removed { id, .. } => ids[2].push(id.to_string()),
        }
        Ok(())
    })
    .with_context(|| format!("{} vs {}", args.old.display(), args.new.display()))?;
    let [added, changed, removed] = ids;
    if args.json {
        let v = json!({
            "old": args.old.display().to_string(),
            "new": args.new.display().to_string(),
            "added": summary.added,
            "changed": summary.changed,
            "removed": summary.removed,
            "unchanged": summary.unchanged,
            "updated": summary.updated(),
            "ids": {"added": added, "changed": changed, "removed": removed},
        });
        println!("{v}");
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{} added, {} changed, {} removed, {} unchanged",
            summary.added, summary.changed, summary.removed, summary.unchanged
        )?;
        for (mark, list) in [('+', &added), ('~', &changed), ('-', &removed)] {
            for id in list {
                writeln!(out, "{mark} {id}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn extract(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let opts = args.record.options()?;
    let ids: Vec<String> = match args.ids.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the id list {file}"))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        None => args
            .ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    };
    if ids.is_empty() {
        anyhow::bail!("--ids names no id");
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut write_err = None;
    let summary = extract_reader(open(&args.file)?, &opts, ids, &mut |r| {
        let line = json!({"id": r.id, "hash": r.hash.to_string(), "record": r.json});
        if let Err(e) = writeln!(out, "{line}") {
            write_err.get_or_insert(e);
        }
        Ok(())
    })
    .with_context(|| args.file.display().to_string())?;
    if let Some(e) = write_err {
        return Err(e).context("cannot write to stdout");
    }
    out.flush().context("cannot write to stdout")?;
    if !summary.missing.is_empty() {
        eprintln!(
            "feedpipe: {}: {} of the ids are not in the feed: {}",
            args.file.display(),
            summary.missing.len(),
            summary.missing.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
