//! Errors of the feed reader: what went wrong ([`ErrorKind`], stable and matchable) and where
//! ([`Location`]: byte offset in the uncompressed stream, record number, record id when known).
//!
//! File names are the caller's business: the feed crate never sees them, so callers wrap a
//! [`FeedError`] with the file or key it came from.

use std::fmt;

/// Where in a feed an error was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// Byte offset in the uncompressed stream (0-based).
    pub offset: u64,
    /// 1-based number of the record the error is in, if it is inside one.
    pub record: Option<u64>,
    /// The record's id, when it was known before the error.
    pub id: Option<String>,
    /// Byte offset in the compressed (gzip) stream, for gzip errors.
    pub compressed_offset: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.record {
            write!(f, "record {n}")?;
            if let Some(id) = &self.id {
                write!(f, " (id {id:?})")?;
            }
            f.write_str(", ")?;
        }
        write!(f, "byte {}", self.offset)?;
        if let Some(c) = self.compressed_offset {
            write!(f, " (compressed byte {c})")?;
        }
        Ok(())
    }
}

/// What went wrong. The variants are stable: match on them, or on [`ErrorKind::code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The gzip stream ended before its end: an interrupted download or a cut file.
    #[error("the gzip stream is truncated (the feed was cut off; fetch it again)")]
    TruncatedGzip,
    /// The gzip stream is damaged.
    #[error("the compressed (gzip) data is corrupt: {detail}")]
    CorruptGzip {
        /// What the decoder found.
        detail: String,
    },
    /// The feed declares (or starts with the byte-order mark of) an encoding other than UTF-8.
    #[error("the feed is encoded as {encoding}; feedpipe reads UTF-8 (and its ASCII subset) only: convert the feed to UTF-8 first (e.g. iconv -f {encoding} -t UTF-8)")]
    Encoding {
        /// The declared or detected encoding.
        encoding: String,
    },
    /// The XML is not well-formed.
    #[error("malformed XML: {detail}")]
    Malformed {
        /// What is wrong.
        detail: String,
    },
    /// The document ends before it is complete (inside a record, a tag, a comment, the root).
    #[error("the XML document ends early, {detail} (the feed is truncated)")]
    UnexpectedEof {
        /// What was still open.
        detail: String,
    },
    /// An entity reference other than the five predefined ones and character references.
    #[error("undefined entity &{name}; (entities declared in a DTD are never expanded)")]
    UndefinedEntity {
        /// The entity name.
        name: String,
    },
    /// A record without an id.
    #[error("the record has no id: {detail}")]
    MissingId {
        /// Where the id was looked for.
        detail: String,
    },
    /// A record with two id elements (or two attributes matching the id attribute's name).
    #[error("the record has two ids: {detail}; an id must be unique within its record (keep one, or choose another id)")]
    TwoIds {
        /// The second id source found.
        detail: String,
    },
    /// Two records with the same id in one feed.
    #[error("duplicate id {id:?}: also record {first_record} at byte {first_offset}")]
    DuplicateId {
        /// The id.
        id: String,
        /// The first record with that id.
        first_record: u64,
        /// Byte offset of the first record.
        first_offset: u64,
    },
    /// A record larger than the configured limit.
    #[error("the record is larger than the limit of {limit} bytes")]
    RecordTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Markup outside records (a comment, a text run, a tag) larger than the record limit.
    #[error("markup outside records is larger than the limit of {limit} bytes")]
    MarkupTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No data, or no root element.
    #[error("the feed is empty (no root element)")]
    Empty,
    /// A well-formed document without a single record.
    #[error("no <{tag}> records below the root element <{root}> (is the record tag right?)")]
    NoRecords {
        /// The root element's name.
        root: String,
        /// The configured record tag.
        tag: String,
    },
    /// The root element is not what the feed should have.
    #[error("wrong root element <{found}>: {detail}")]
    WrongRoot {
        /// The root element found.
        found: String,
        /// What was expected instead.
        detail: String,
    },
    /// The underlying reader failed.
    #[error("read error: {0}")]
    Read(#[source] std::io::Error),
    /// An index build without spill storage outgrew its memory limit.
    #[error("the index of this feed outgrew its memory limit of {limit} bytes at record {records}, and the build has no spill storage to go on with")]
    IndexTooLarge {
        /// The limit in bytes.
        limit: usize,
        /// Records read when it was reached.
        records: u64,
    },
    /// The spill storage of an index build failed.
    #[error("the index's spill storage failed while {action}: {source}")]
    Spill {
        /// What the build was doing.
        action: String,
        /// The storage's error.
        #[source]
        source: std::io::Error,
    },
}

impl ErrorKind {
    /// A stable name for the kind, fit for an error type in Step Functions (`Feed.Truncated`...).
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::TruncatedGzip => "Feed.TruncatedGzip",
            ErrorKind::CorruptGzip { .. } => "Feed.CorruptGzip",
            ErrorKind::Encoding { .. } => "Feed.Encoding",
            ErrorKind::Malformed { .. } => "Feed.Malformed",
            ErrorKind::UnexpectedEof { .. } => "Feed.UnexpectedEof",
            ErrorKind::UndefinedEntity { .. } => "Feed.UndefinedEntity",
            ErrorKind::MissingId { .. } => "Feed.MissingId",
            ErrorKind::TwoIds { .. } => "Feed.TwoIds",
            ErrorKind::DuplicateId { .. } => "Feed.DuplicateId",
            ErrorKind::RecordTooLarge { .. } => "Feed.RecordTooLarge",
            ErrorKind::MarkupTooLarge { .. } => "Feed.MarkupTooLarge",
            ErrorKind::Empty => "Feed.Empty",
            ErrorKind::NoRecords { .. } => "Feed.NoRecords",
            ErrorKind::WrongRoot { .. } => "Feed.WrongRoot",
            ErrorKind::Read(_) => "Feed.Read",
            ErrorKind::IndexTooLarge { .. } => "Feed.IndexTooLarge",
            ErrorKind::Spill { .. } => "Feed.Spill",
        }
    }
}

/// An error reading a feed: what, and where.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct FeedError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where.
    pub location: Location,
}

impl FeedError {
    /// An error at `offset` of the uncompressed stream, outside any record.
    pub fn at(kind: ErrorKind, offset: u64) -> FeedError {
        FeedError {
            kind,
            location: Location {
                offset,
                ..Location::default()
            },
        }
    }

    /// Sets the record number and id (when the error is inside a record).
    pub fn in_record(mut self, record: u64, id: Option<String>) -> FeedError {
        self.location.record = Some(record);
        if self.location.id.is_none() {
            self.location.id = id;
        }
        self
    }

    pub(crate) fn malformed(detail: impl Into<String>, offset: u64) -> FeedError {
        FeedError::at(
            ErrorKind::Malformed {
                detail: detail.into(),
            },
            offset,
        )
    }
}
