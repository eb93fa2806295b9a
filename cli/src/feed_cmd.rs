//! `feedpipe feed index|diff|extract`: feed files examined directly, for people who debug feeds
//! (and for the benches). Gzip is detected from the bytes, not the file name.
//!
//! Memory stays bounded for feeds of any size: index builds spill sorted runs to a temporary
//! directory (`worker::spill::TempSpill`), the diff streams index files and its id lists through temporary
//! files, and extract keeps the wanted ids in a compact [`IdSet`].

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use feed::config::{EmptyCdata, IdSource};
use feed::diff::{diff, Change};
use feed::extract::extract_reader_with_ids;
use feed::index::{index_reader_with_spill, Index, MAGIC};
use feed::{ErrorKind, FeedError, FeedOptions, IdSet};
use serde_json::json;
use worker::spill::TempSpill;

/// The `feedpipe feed` subcommands.
#[derive(clap::Subcommand)]
pub enum FeedCommand {
    /// Build a feed file's record index; prints records, bytes and MB/s.
    Index(IndexArgs),
    /// Compare two feed files (or two index files): added, changed and removed ids. Indexes
    /// built with other options (record tag, id, empty CDATA) are refused.
    Diff(DiffArgs),
    /// Print chosen records of a feed file as JSON lines, once the whole feed was read
    /// (nothing is printed for a damaged feed); exit 1 when some of the ids are not in it.
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
    /// Largest record accepted, in MiB (at least 1).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_record_mib: u64,
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
        o.max_record_bytes =
            usize::try_from(self.max_record_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        o.validate = self.validate;
        Ok(o)
    }
}

/// Where index builds keep what does not fit their memory.
#[derive(clap::Args)]
pub struct SpillArgs {
    /// Directory for temporary files (sorted runs of big indexes); default: the system's
    /// temporary directory.
    #[arg(long, env = "FEEDPIPE_TMPDIR")]
    pub tmp_dir: Option<PathBuf>,
    /// Memory for index entries before sorted runs are spilled, in KiB.
    #[arg(long, default_value_t = (feed::options::DEFAULT_INDEX_MEMORY >> 10) as u64)]
    pub index_memory_kib: u64,
}

impl SpillArgs {
    fn apply(&self, opts: &mut FeedOptions) {
        opts.index_memory = usize::try_from(self.index_memory_kib.saturating_mul(1024))
            .unwrap_or(usize::MAX)
            .max(1);
    }

    /// A new temporary directory.
    fn temp_dir(&self) -> anyhow::Result<tempfile::TempDir> {
        Ok(worker::spill::temp_dir(self.tmp_dir.as_deref())?)
    }

    /// Spill storage in a new temporary directory.
    fn storage(&self) -> anyhow::Result<TempSpill> {
        Ok(TempSpill::new(self.tmp_dir.as_deref())?)
    }
}

/// `feedpipe feed index`.
#[derive(clap::Args)]
pub struct IndexArgs {
    /// The feed file (gzip or plain XML).
    pub file: PathBuf,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub spill: SpillArgs,
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
    #[command(flatten)]
    pub spill: SpillArgs,
    /// Print one JSON object (counts and ids) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `feedpipe feed extract`.
///
/// The records go to a temporary file first and reach stdout only once the whole feed was read
/// without error: a feed that turns out damaged (exit 2) leaves stdout empty. Exit 1 when some
/// of the ids are not in the feed (stderr names them; the records found are printed).
#[derive(clap::Args)]
pub struct ExtractArgs {
    /// The feed file (gzip or plain XML).
    pub file: PathBuf,
    #[command(flatten)]
    pub record: RecordArgs,
    /// The ids: ID,ID,... or @FILE with one id a line.
    #[arg(long)]
    pub ids: String,
    /// Directory for the records held back until the feed is verified; default: the system's
    /// temporary directory.
    #[arg(long, env = "FEEDPIPE_TMPDIR")]
    pub tmp_dir: Option<PathBuf>,
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

/// The index of a feed file, spilling sorted runs to a temporary directory when it is big.
fn build_index(path: &Path, opts: &FeedOptions, spill: &SpillArgs) -> anyhow::Result<Index> {
    index_reader_with_spill(open(path)?, opts, spill.storage()?).map_err(|e| feed_error(e, path))
}

/// A feed error of `path`, with the flag that changes what it is about when there is one.
fn feed_error(e: FeedError, path: &Path) -> anyhow::Error {
    let hint = match e.kind {
        ErrorKind::RecordTooLarge { .. } | ErrorKind::MarkupTooLarge { .. } => {
            "; raise the limit with --max-record-mib"
        }
        ErrorKind::NoRecords { .. } => "; check --record-tag",
        ErrorKind::MissingId { .. } | ErrorKind::TwoIds { .. } => "; check --id",
        _ => "",
    };
    anyhow::anyhow!("{}: {e}{hint}", path.display())
}

fn write_index(index: &Index, out: &Path) -> anyhow::Result<()> {
    let f = File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    index
        .write_to(BufWriter::new(f))
        .with_context(|| format!("cannot write {}", out.display()))
}

fn index(args: IndexArgs) -> anyhow::Result<ExitCode> {
    let mut opts = args.record.options()?;
    args.spill.apply(&mut opts);
    let started = Instant::now();
    let index = build_index(&args.file, &opts, &args.spill)?;
    if let Some(out) = &args.output {
        write_index(&index, out)?;
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
            "spilled_runs": index.spilled_runs(),
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

/// The index file of `path`: the file itself when it is an index, else one built from the feed
/// into `work` (as `name`).
fn index_file(
    path: &Path,
    opts: &FeedOptions,
    spill: &SpillArgs,
    work: &Path,
    name: &str,
) -> anyhow::Result<PathBuf> {
    let mut head = [0u8; 8];
    let n = open(path)?
        .read(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if n == 8 && &head == MAGIC {
        return Ok(path.to_path_buf());
    }
    let out = work.join(name);
    write_index(&build_index(path, opts, spill)?, &out)?;
    Ok(out)
}

/// The ids of one kind of change, written to a temporary file as the diff finds them.
struct IdList {
    path: PathBuf,
    w: BufWriter<File>,
    json: bool,
    n: u64,
}

impl IdList {
    fn new(work: &Path, name: &str, json: bool) -> anyhow::Result<IdList> {
        let path = work.join(name);
        let f = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(IdList {
            path,
            w: BufWriter::new(f),
            json,
            n: 0,
        })
    }

    /// `mark ID` lines, or JSON strings separated by commas.
    fn push(&mut self, mark: char, id: &str) -> io::Result<()> {
        if self.json {
            let sep = if self.n > 0 { "," } else { "" };
            write!(self.w, "{sep}{}", serde_json::Value::from(id))?;
        } else {
            writeln!(self.w, "{mark} {id}")?;
        }
        self.n += 1;
        Ok(())
    }

    /// Copies the list to `out`.
    fn copy_to(mut self, out: &mut dyn Write) -> anyhow::Result<()> {
        self.w
            .flush()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        let mut r = open(&self.path)?;
        io::copy(&mut r, out).context("cannot write to stdout")?;
        Ok(())
    }
}

fn diff_cmd(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let mut opts = args.record.options()?;
    args.spill.apply(&mut opts);
    let work = args.spill.temp_dir()?;
    // The two sides are independent: index them on two threads.
    let (old, new) = std::thread::scope(|s| {
        let old = s.spawn(|| index_file(&args.old, &opts, &args.spill, work.path(), "old.idx"));
        let new = index_file(&args.new, &opts, &args.spill, work.path(), "new.idx");
        (
            old.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("indexing panicked"))),
            new,
        )
    });
    let (old, new) = (old?, new?);
    let mut lists = [
        IdList::new(work.path(), "added", args.json)?,
        IdList::new(work.path(), "changed", args.json)?,
        IdList::new(work.path(), "removed", args.json)?,
    ];
    let summary = diff(
        Some(BufReader::new(open(&old)?)),
        BufReader::new(open(&new)?),
        |c| match c {
            Change::Added { id, .. } => lists[0].push('+', id),
            Change::Changed { id, .. } => lists[1].push('~', id),
            Change::Removed { id, .. } => lists[2].push('-', id),
        },
    )
    .with_context(|| format!("{} vs {}", args.old.display(), args.new.display()))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        let head = json!({
            "old": args.old.display().to_string(),
            "new": args.new.display().to_string(),
            "added": summary.added,
            "changed": summary.changed,
            "removed": summary.removed,
            "unchanged": summary.unchanged,
            "updated": summary.updated(),
        })
        .to_string();
        // The object without its closing brace, then the id lists streamed in.
        write!(out, "{},\"ids\":{{", &head[..head.len() - 1])?;
        for (k, (name, list)) in ["added", "changed", "removed"]
            .into_iter()
            .zip(lists)
            .enumerate()
        {
            write!(out, "{}\"{name}\":[", if k > 0 { "," } else { "" })?;
            list.copy_to(&mut out)?;
            write!(out, "]")?;
        }
        writeln!(out, "}}}}")?;
    } else {
        writeln!(
            out,
            "{} added, {} changed, {} removed, {} unchanged",
            summary.added, summary.changed, summary.removed, summary.unchanged
        )?;
        for list in lists {
            list.copy_to(&mut out)?;
        }
    }
    out.flush().context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// The ids of `--ids`: a comma list, or `@FILE` with one id a line (read as a stream).
fn id_set(ids: &str) -> anyhow::Result<IdSet> {
    let set = match ids.strip_prefix('@') {
        Some(file) => {
            let f = File::open(file).with_context(|| format!("cannot read the id list {file}"))?;
            let mut failed = None;
            let lines = BufReader::new(f).lines().map_while(|l| match l {
                Ok(l) => Some(l),
                Err(e) => {
                    failed = Some(e);
                    None
                }
            });
            let set = IdSet::new(lines.filter_map(|l| {
                let t = l.trim();
                (!t.is_empty()).then(|| t.to_string())
            }));
            if let Some(e) = failed {
                return Err(e).with_context(|| format!("cannot read the id list {file}"));
            }
            set
        }
        None => IdSet::new(ids.split(',').map(str::trim).filter(|s| !s.is_empty())),
    };
    if set.is_empty() {
        anyhow::bail!("--ids names no id");
    }
    Ok(set)
}

fn extract(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let opts = args.record.options()?;
    let ids = id_set(&args.ids)?;
    let held = match &args.tmp_dir {
        Some(dir) => tempfile::tempfile_in(dir),
        None => tempfile::tempfile(),
    }
    .with_context(|| match &args.tmp_dir {
        Some(dir) => format!("cannot create a temporary file in {}", dir.display()),
        None => "cannot create a temporary file".to_string(),
    })?;
    let mut out = BufWriter::new(held);
    let mut write_err = None;
    let summary = extract_reader_with_ids(open(&args.file)?, &opts, ids, &mut |r| {
        // The record's text goes in as it is: it is compact JSON already.
        let head = json!({"id": r.id, "hash": r.hash.to_string()}).to_string();
        let line = format!("{},\"record\":{}}}", &head[..head.len() - 1], r.json);
        if let Err(e) = writeln!(out, "{line}") {
            write_err.get_or_insert(e);
        }
        Ok(())
    })
    .map_err(|e| feed_error(e, &args.file))?;
    if let Some(e) = write_err {
        return Err(e).context("cannot write the records to a temporary file");
    }
    // The feed is verified to its end: now the records may go out.
    let mut held = out
        .into_inner()
        .map_err(|e| e.into_error())
        .context("cannot write the records to a temporary file")?;
    held.seek(SeekFrom::Start(0))
        .context("cannot read the records back from the temporary file")?;
    let stdout = io::stdout();
    let mut stdout = stdout.lock();
    io::copy(&mut held, &mut stdout).context("cannot write to stdout")?;
    stdout.flush().context("cannot write to stdout")?;
    if summary.missing > 0 {
        let more = summary.missing - summary.missing_ids.len() as u64;
        eprintln!(
            "feedpipe: {}: {} of the ids are not in the feed: {}{}",
            args.file.display(),
            summary.missing,
            summary.missing_ids.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
