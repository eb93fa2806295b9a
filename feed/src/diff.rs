//! The diff of two snapshots: a streaming merge of their index files into added, changed and
//! removed ids, in id order. Memory is two entries, whatever the size of the indexes.
//!
//! Two indexes built with different record tags, id sources or empty CDATA mappings are
//! refused ([`DiffError::Mismatch`]) before any change is reported: compared, they would list
//! every record as removed and added (or hide changes of the records' JSON form). An index
//! without a build description (format version 1) is compared with anything.

use std::io::{self, Read};

use crate::index::{IndexBuild, IndexError, IndexHeader, IndexReader};
use crate::record::RecordHash;

/// One difference between the old and the new index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    /// In the new index only.
    Added {
        /// Record id.
        id: &'a str,
        /// Its hash in the new snapshot.
        hash: RecordHash,
    },
    /// In both, with different hashes.
    Changed {
        /// Record id.
        id: &'a str,
        /// Hash in the old snapshot.
        old: RecordHash,
        /// Hash in the new snapshot.
        new: RecordHash,
    },
    /// In the old index only.
    Removed {
        /// Record id.
        id: &'a str,
        /// Its hash in the old snapshot.
        hash: RecordHash,
    },
}

/// Counts of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffSummary {
    /// Ids only in the new index.
    pub added: u64,
    /// Ids in both with different hashes.
    pub changed: u64,
    /// Ids only in the old index.
    pub removed: u64,
    /// Ids in both with equal hashes.
    pub unchanged: u64,
    /// The old index's header (None when there was no old index).
    pub old: Option<IndexHeader>,
    /// The new index's header.
    pub new: IndexHeader,
}

impl DiffSummary {
    /// Whether anything was added, changed or removed.
    pub fn updated(&self) -> bool {
        self.added + self.changed + self.removed > 0
    }
}

/// Why a diff failed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The old index is unreadable.
    #[error("old index: {0}")]
    Old(#[source] IndexError),
    /// The new index is unreadable.
    #[error("new index: {0}")]
    New(#[source] IndexError),
    /// The change callback failed.
    #[error("writing the changes: {0}")]
    Sink(#[source] io::Error),
    /// The two indexes were built with different options.
    #[error("the indexes were built with different options (old: {old}; new: {new}): index both feeds with the same record tag, id and empty CDATA mapping")]
    Mismatch {
        /// How the old index was built.
        old: Box<IndexBuild>,
        /// How the new index was built.
        new: Box<IndexBuild>,
    },
}

/// Merges `old` (None: no earlier snapshot, everything is added) and `new`, calling
/// `on_change` for each difference in id order. Both checksums are verified before this
/// returns Ok; on error, discard what `on_change` received.
pub fn diff<O: Read, N: Read>(
    old: Option<O>,
    new: N,
    mut on_change: impl FnMut(Change<'_>) -> io::Result<()>,
) -> Result<DiffSummary, DiffError> {
    let mut new = IndexReader::new(new).map_err(DiffError::New)?;
    let mut old = old
        .map(IndexReader::new)
        .transpose()
        .map_err(DiffError::Old)?;
    if let (Some(o), Some(n)) = (old.as_ref().and_then(|o| o.build()), new.build()) {
        if o != n {
            return Err(DiffError::Mismatch {
                old: Box::new(o.clone()),
                new: Box::new(n.clone()),
            });
        }
    }
    let mut s = DiffSummary {
        added: 0,
        changed: 0,
        removed: 0,
        unchanged: 0,
        old: old.as_ref().map(|o| *o.header()),
        new: *new.header(),
    };
    let mut has_new = new.advance().map_err(DiffError::New)?;
    let mut has_old = match &mut old {
        Some(o) => o.advance().map_err(DiffError::Old)?,
        None => false,
    };
    loop {
        let order = match (has_old, has_new, &old) {
            (false, false, _) => break,
            (true, true, Some(o)) => o.id().as_bytes().cmp(new.id().as_bytes()),
            (true, _, _) => std::cmp::Ordering::Less,
            (false, _, _) => std::cmp::Ordering::Greater,
        };
        let o = old.as_mut();
        match (order, o) {
            (std::cmp::Ordering::Less, Some(o)) => {
                s.removed += 1;
                on_change(Change::Removed {
                    id: o.id(),
                    hash: o.hash(),
                })
                .map_err(DiffError::Sink)?;
                has_old = o.advance().map_err(DiffError::Old)?;
            }
            (std::cmp::Ordering::Equal, Some(o)) => {
                if o.hash() == new.hash() {
                    s.unchanged += 1;
                } else {
                    s.changed += 1;
                    on_change(Change::Changed {
                        id: new.id(),
                        old: o.hash(),
                        new: new.hash(),
                    })
                    .map_err(DiffError::Sink)?;
                }
                has_old = o.advance().map_err(DiffError::Old)?;
                has_new = new.advance().map_err(DiffError::New)?;
            }
            _ => {
                s.added += 1;
                on_change(Change::Added {
                    id: new.id(),
                    hash: new.hash(),
                })
                .map_err(DiffError::Sink)?;
                has_new = new.advance().map_err(DiffError::New)?;
            }
        }
    }
    Ok(s)
}
