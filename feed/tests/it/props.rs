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

/// A one-record feed readable with `tag` and `id`.
fn feed_for(tag: &str, id: &feed::IdSource) -> String {
    match id {
        feed::IdSource::Child(c) => format!("<Root><{tag}><{c}>1</{c}></{tag}></Root>"),
        feed::IdSource::Attribute(a) => format!("<Root><{tag} {a}=\"1\"/></Root>"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the options, an index says how it was built, and a diff refuses exactly the
    /// pairs built differently.
    #[test]
    fn index_builds_round_trip_and_only_equal_builds_diff(
        tags in proptest::collection::vec("[a-z][a-z0-9_.-]{0,8}(:[a-z][a-z0-9]{0,4})?", 2),
        ids in proptest::collection::vec("@?[a-z][a-z0-9_-]{0,8}", 2),
        nulls in proptest::collection::vec(any::<bool>(), 2),
    ) {
        use feed::index::{index_reader, IndexBuild, IndexReader};
        let mut files = Vec::new();
        for k in 0..2 {
            let id = feed::IdSource::parse(&ids[k]).expect("an id source");
            let mut o = feed::FeedOptions::new(tags[k].clone(), id.clone());
            if nulls[k] {
                o.empty_cdata = feed::EmptyCdata::Null;
            }
            let bytes = index_reader(feed_for(&tags[k], &id).as_bytes(), &o)
                .unwrap()
                .try_to_bytes()
                .unwrap();
            let r = IndexReader::new(&bytes[..]).unwrap();
            prop_assert_eq!(r.build(), Some(&IndexBuild::of(&o)));
            files.push((bytes, IndexBuild::of(&o)));
        }
        let (a, b) = (&files[0], &files[1]);
        let result = feed::diff::diff(Some(&a.0[..]), &b.0[..], |_| Ok(()));
        prop_assert_eq!(result.is_ok(), a.1 == b.1, "{:?}", result.err());
        prop_assert_eq!(a.1.digest() == b.1.digest(), a.1 == b.1);
    }
}
