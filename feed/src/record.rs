//! One record as the reader yields it ([`RecordRef`]) and its content hash ([`RecordHash`]).
//!
//! The hash is xxh3-128 of the record's exact bytes, from the `<` of its start tag to the `>`
//! of its end tag: stable across runs, machines and versions of feedpipe, independent of what
//! surrounds the record (whitespace between records, buffer boundaries, record order).

use std::fmt;

use serde_json::Value;

use crate::error::FeedError;
use crate::options::FeedOptions;

/// The 128-bit content hash of a record (xxh3-128 of its raw bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordHash(pub u128);

impl RecordHash {
    /// The 16 bytes, big-endian (the form stored in index files).
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// From the 16 big-endian bytes.
    pub fn from_bytes(b: [u8; 16]) -> RecordHash {
        RecordHash(u128::from_be_bytes(b))
    }

    /// Parses the 32 lowercase hex digits [`Display`](fmt::Display) prints.
    pub fn from_hex(s: &str) -> Option<RecordHash> {
        (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u128::from_str_radix(s, 16).ok().map(RecordHash))
            .flatten()
    }
}

impl fmt::Display for RecordHash {
    /// 32 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// A record found in a feed, borrowed from the reader's buffer for the time of a callback.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// 1-based position of the record in the feed.
    pub number: u64,
    /// Offset of the record's `<` in the uncompressed stream.
    pub offset: u64,
    /// The record's id (entities decoded, whitespace-trimmed, never empty).
    pub id: &'a str,
    /// The content hash of `bytes`.
    pub hash: RecordHash,
    /// The record's raw bytes, start tag to end tag.
    pub bytes: &'a [u8],
}

impl RecordRef<'_> {
    /// The record's JSON form (DESIGN.md §5; the rules are in [`crate::json`]). Errors name this
    /// record, its id and the byte offset in the feed.
    pub fn to_json(&self, opts: &FeedOptions) -> Result<Value, FeedError> {
        self.to_json_text(opts).map(|t| t.to_value())
    }

    /// The record's JSON form as compact JSON text, written straight from the parse (what the
    /// sinks send: no `Value` is built).
    pub fn to_json_text(&self, opts: &FeedOptions) -> Result<crate::json::RecordJson, FeedError> {
        crate::json::record_to_json_text(self.bytes, opts.empty_cdata).map_err(|(kind, at)| {
            FeedError::at(kind, self.offset + at).in_record(self.number, Some(self.id.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RecordHash;

    #[test]
    fn hash_hex_round_trips() {
        let h = RecordHash(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(h.to_string(), "0123456789abcdef0011223344556677");
        assert_eq!(RecordHash::from_hex(&h.to_string()), Some(h));
        assert_eq!(RecordHash::from_bytes(h.to_bytes()), h);
        assert_eq!(
            RecordHash::from_hex("+123456789abcdef0011223344556677"),
            None
        );
    }
}
