//! [`FeedOptions`]: how records are found in a feed (record tag, id source, limits), built from
//! a [`FeedConfig`] or by hand.
//!
//! Names match by local name unless they carry a prefix: `record_tag = "job"` matches `<job>`
//! and `<ns:job>`; `record_tag = "ns:job"` matches only `<ns:job>`. The same holds for an id
//! child element and an id attribute.

use crate::config::{EmptyCdata, FeedConfig, IdSource};

/// The default limit on one record's size: 64 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 << 20;

/// How records are found and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedOptions {
    /// Element that delimits one record, at any depth below the root.
    pub record_tag: String,
    /// Where a record's id comes from.
    pub id: IdSource,
    /// How `<x><![CDATA[]]></x>` maps to JSON.
    pub empty_cdata: EmptyCdata,
    /// Records (and any markup outside records) larger than this are an error.
    pub max_record_bytes: usize,
    /// When set, a root element of another name is an error.
    pub expected_root: Option<String>,
    /// Index building parses every record fully (as for its JSON form), so that what only a
    /// full parse finds (undefined entities, invalid UTF-8 outside the id, attribute syntax of
    /// nested elements) fails the index instead of a later extract. Off by default: it costs
    /// a full XML parse of the feed.
    pub validate: bool,
}

impl FeedOptions {
    /// Options with the defaults: empty CDATA maps to `""`, 64 MiB record limit, any root.
    pub fn new(record_tag: impl Into<String>, id: IdSource) -> FeedOptions {
        FeedOptions {
            record_tag: record_tag.into(),
            id,
            empty_cdata: EmptyCdata::Empty,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            expected_root: None,
            validate: false,
        }
    }

    /// The options a configured feed uses.
    pub fn from_config(feed: &FeedConfig) -> FeedOptions {
        FeedOptions {
            empty_cdata: feed.empty_cdata,
            ..FeedOptions::new(feed.record_tag.clone(), feed.id.clone())
        }
    }
}

/// Whether the qualified name `qname` is matched by the configured name `pattern` (local-name
/// match unless `pattern` has a prefix).
pub(crate) fn name_matches(pattern: &[u8], qname: &[u8]) -> bool {
    if qname == pattern {
        return true;
    }
    if pattern.contains(&b':') || qname.len() <= pattern.len() {
        return false;
    }
    let split = qname.len() - pattern.len();
    qname[split - 1] == b':' && &qname[split..] == pattern
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn local_names_match_any_prefix_unless_the_pattern_has_one() {
        assert!(name_matches(b"job", b"job"));
        assert!(name_matches(b"job", b"x:job"));
        assert!(!name_matches(b"job", b"xjob"));
        assert!(!name_matches(b"job", b"jobs"));
        assert!(name_matches(b"x:job", b"x:job"));
        assert!(!name_matches(b"x:job", b"y:job"));
        assert!(!name_matches(b"x:job", b"job"));
    }
}
