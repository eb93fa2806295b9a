//! The store layout (DESIGN.md §4): the keys feedpipe writes and the small JSON documents under
//! them, shared by the Batch jobs (`worker`) and the Lambdas (`lambdas`), which do not depend on
//! each other.
//!
//! ```text
//! config/feedpipe.toml                   the deployed configuration (AWS only)
//! feeds/NAME/snapshots/SHA256.xml[.gz]   the feed bytes exactly as fetched
//! feeds/NAME/indexes/SHA256-BUILD.idx    the record index of that snapshot, BUILD naming the
//!                                        options it was built with (record tag, id, empty CDATA)
//! feeds/NAME/current.json                last fully delivered snapshot; written only by Commit
//! runs/NAME/EXECUTION/check.json         CheckFeed result
//! runs/NAME/EXECUTION/diff.json          the manifest: counts, and where the change lists are
//! runs/NAME/EXECUTION/changes/upserts-NNNNNN.idx   added and changed records: (id, new hash)
//! runs/NAME/EXECUTION/changes/deletes-NNNNNN.idx   removed records: (id, old hash)
//! runs/NAME/EXECUTION/checkpoint.json    ConsumeFeed progress
//! ```
//!
//! The change lists can hold millions of ids (a first delivery adds every record), so they are
//! not JSON read whole: each list is cut into parts of at most [`CHANGE_PART_ENTRIES`] entries,
//! in id order, each part an index file (the `feed::index` format: prefix-compressed ids with
//! their record hashes, a record count, a checksum; `uncompressed_bytes` 0). DiffFeed writes
//! them as its streaming diff produces them and ConsumeFeed reads them as streams, so neither
//! holds a list. The manifest says how many parts each list has ([`Changes`]).

use serde::{Deserialize, Serialize};

/// `feeds/NAME/current.json`.
pub fn current(feed: &str) -> String {
    format!("feeds/{feed}/current.json")
}

/// `feeds/NAME/snapshots/SHA256.xml` or `.xml.gz`.
pub fn snapshot(feed: &str, sha256: &str, gzipped: bool) -> String {
    let ext = if gzipped { "xml.gz" } else { "xml" };
    format!("feeds/{feed}/snapshots/{sha256}.{ext}")
}

/// `feeds/NAME/indexes/SHA256-BUILD.idx`: the index of a snapshot built with the options whose
/// digest is `build` (`feed::index::IndexBuild::digest`). One snapshot indexed again after the
/// feed's record_tag, id or empty_cdata changed gets a key of its own, so it never replaces the
/// index `current.json` refers to (DiffFeed then refuses the two builds). Keys written before
/// (`SHA256.idx`) stay readable: `current.json` and `check.json` hold the whole key.
pub fn index(feed: &str, sha256: &str, build: &str) -> String {
    format!("feeds/{feed}/indexes/{sha256}-{build}.idx")
}

/// `runs/NAME/EXECUTION/FILE`.
pub fn run_file(feed: &str, execution: &str, file: &str) -> String {
    format!("runs/{feed}/{execution}/{file}")
}

/// `runs/NAME/EXECUTION/check.json`.
pub fn check(feed: &str, execution: &str) -> String {
    run_file(feed, execution, "check.json")
}

/// `runs/NAME/EXECUTION/diff.json`.
pub fn manifest(feed: &str, execution: &str) -> String {
    run_file(feed, execution, "diff.json")
}

/// `runs/NAME/EXECUTION/changes/`: the prefix of the change lists' parts.
pub fn changes(feed: &str, execution: &str) -> String {
    run_file(feed, execution, "changes/")
}

/// Entries in one part of a change list (the last part of a list may hold fewer): about 2 MiB
/// of index file with ids like `JOB-00012345`.
pub const CHANGE_PART_ENTRIES: u64 = 65_536;

/// `runs/NAME/EXECUTION/checkpoint.json`.
pub fn checkpoint(feed: &str, execution: &str) -> String {
    run_file(feed, execution, "checkpoint.json")
}

/// Whether an execution name is safe inside a key: 1 to 80 of `A-Za-z0-9-_`, as Step Functions
/// allows, plus `.` and `:` not at the start.
pub fn is_execution_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// One stored snapshot with its index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRef {
    /// Key of the feed bytes.
    pub snapshot: String,
    /// Key of the record index.
    pub index: String,
    /// SHA-256 of the feed bytes (hex).
    pub sha256: String,
    /// Size of the feed bytes.
    pub bytes: u64,
    /// Records in the snapshot.
    pub records: u64,
    /// The source's `ETag`, for the next conditional GET.
    #[serde(default)]
    pub etag: Option<String>,
    /// The source's `Last-Modified`, for the next conditional GET.
    #[serde(default)]
    pub last_modified: Option<String>,
}

/// `runs/NAME/EXECUTION/check.json`: what CheckFeed found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Feed name.
    pub feed: String,
    /// Execution name.
    pub execution: String,
    /// The feed URL fetched.
    pub source: String,
    /// True when the source answered 304 Not Modified (the snapshot is the delivered one).
    pub not_modified: bool,
    /// The snapshot this run works on.
    #[serde(flatten)]
    pub snapshot: SnapshotRef,
}

/// `feeds/NAME/current.json`: the last fully delivered snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Current {
    /// Feed name.
    pub feed: String,
    /// The execution that delivered it (a repeated commit of it is a no-op).
    pub execution: String,
    /// The snapshot.
    #[serde(flatten)]
    pub snapshot: SnapshotRef,
}

/// `runs/NAME/EXECUTION/diff.json`: the manifest DiffFeed writes and ConsumeFeed and Commit read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Feed name.
    pub feed: String,
    /// Execution name.
    pub execution: String,
    /// The new snapshot.
    pub new: SnapshotRef,
    /// The snapshot it was compared with (`current.json` at diff time), if any.
    pub base: Option<SnapshotRef>,
    /// Version of `current.json` at diff time (`None`: there was none). Commit replaces
    /// `current.json` only if it is still at this version.
    pub base_version: Option<String>,
    /// Records in the new snapshot that the base lacks.
    pub added: u64,
    /// Records in both whose content hash differs.
    pub changed: u64,
    /// Records of the base that the new snapshot lacks.
    pub removed: u64,
    /// Where the ids to deliver are.
    pub changes: Changes,
}

/// The two change lists of a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeList {
    /// Added and changed records, each with the hash of its new version (`upserts-*.idx`).
    Upserts,
    /// Removed records, each with the hash of its old version (`deletes-*.idx`).
    Deletes,
}

impl ChangeList {
    /// `upserts` or `deletes`, as in the parts' names.
    pub fn name(self) -> &'static str {
        match self {
            ChangeList::Upserts => "upserts",
            ChangeList::Deletes => "deletes",
        }
    }
}

/// Where a manifest's change lists are: parts `PREFIX{upserts,deletes}-NNNNNN.idx` (see the
/// module documentation), numbered from 0; reading a list's parts in order gives its ids in
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Key prefix of the parts: `runs/NAME/EXECUTION/changes/`.
    pub prefix: String,
    /// Parts of the upsert list.
    pub upsert_parts: u64,
    /// Parts of the delete list.
    pub delete_parts: u64,
}

impl Changes {
    /// Number of parts of `list`.
    pub fn parts(&self, list: ChangeList) -> u64 {
        match list {
            ChangeList::Upserts => self.upsert_parts,
            ChangeList::Deletes => self.delete_parts,
        }
    }

    /// Key of part `n` of `list`.
    pub fn part(&self, list: ChangeList, n: u64) -> String {
        format!("{}{}-{n:06}.idx", self.prefix, list.name())
    }

    /// Keys of the parts of `list`, in order.
    pub fn keys(&self, list: ChangeList) -> impl Iterator<Item = String> + '_ {
        (0..self.parts(list)).map(move |n| self.part(list, n))
    }
}

/// `runs/NAME/EXECUTION/checkpoint.json`: which batches ConsumeFeed has delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The manifest being delivered.
    pub manifest: String,
    /// SHA-256 (hex) of the manifest's bytes: a checkpoint is resumed only for the same content.
    pub manifest_sha256: String,
    /// Records per batch (fixed by the first attempt; a resumed attempt keeps it).
    pub batch_size: u64,
    /// Batches in all (upsert batches first, then delete batches).
    pub batches: u64,
    /// Delivered batches as sorted, disjoint, inclusive ranges `[first, last]`.
    pub done: Vec<(u64, u64)>,
}

impl Checkpoint {
    /// True when batch `n` is delivered.
    pub fn is_done(&self, n: u64) -> bool {
        self.done.iter().any(|&(a, b)| a <= n && n <= b)
    }

    /// Marks batch `n` delivered.
    pub fn mark(&mut self, n: u64) {
        if self.is_done(n) {
            return;
        }
        self.done.push((n, n));
        self.done.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.done.len());
        for &(a, b) in &self.done {
            match merged.last_mut() {
                Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.done = merged;
    }

    /// Number of delivered batches.
    pub fn done_count(&self) -> u64 {
        self.done.iter().map(|&(a, b)| b - a + 1).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_snapshot_indexed_two_ways_has_two_index_keys() {
        let a = index("jobs", "ab12", "0011223344556677");
        assert_eq!(a, "feeds/jobs/indexes/ab12-0011223344556677.idx");
        assert_ne!(a, index("jobs", "ab12", "8899aabbccddeeff"));
    }

    #[test]
    fn checkpoint_ranges_merge() {
        let mut c = Checkpoint {
            manifest: "m".into(),
            manifest_sha256: "0".repeat(64),
            batch_size: 10,
            batches: 10,
            done: vec![],
        };
        for n in [3, 1, 2, 7, 0, 5, 6, 2] {
            c.mark(n);
        }
        assert_eq!(c.done, [(0, 3), (5, 7)]);
        assert_eq!(c.done_count(), 7);
        assert!(c.is_done(6) && !c.is_done(4) && !c.is_done(8));
    }

    #[test]
    fn keys_follow_the_layout() {
        assert_eq!(
            snapshot("jobs", "ab", true),
            "feeds/jobs/snapshots/ab.xml.gz"
        );
        assert_eq!(manifest("jobs", "e1"), "runs/jobs/e1/diff.json");
        let changes = Changes {
            prefix: changes("jobs", "e1"),
            upsert_parts: 2,
            delete_parts: 0,
        };
        assert_eq!(
            changes.keys(ChangeList::Upserts).collect::<Vec<_>>(),
            [
                "runs/jobs/e1/changes/upserts-000000.idx",
                "runs/jobs/e1/changes/upserts-000001.idx"
            ]
        );
        assert_eq!(changes.keys(ChangeList::Deletes).count(), 0);
        assert_eq!(
            changes.part(ChangeList::Deletes, 7),
            "runs/jobs/e1/changes/deletes-000007.idx"
        );
        assert!(is_execution_name("jobs-2026-11-23T06-00Z"));
        assert!(!is_execution_name("../x") && !is_execution_name(""));
    }
}
