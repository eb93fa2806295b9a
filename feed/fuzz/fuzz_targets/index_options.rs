//! Index files built with options chosen by the input: the build description round-trips, the
//! entries read back as built, and a diff against an index built with other options is refused
//! before any change is reported. The first byte picks the options, the rest is the feed.
#![no_main]

use feed::config::{EmptyCdata, IdSource};
use feed::diff::{diff, DiffError};
use feed::index::{IndexBuild, IndexReader, Indexer};
use feed::FeedOptions;
use libfuzzer_sys::fuzz_target;

fn options(first: u8) -> FeedOptions {
    let tag = ["job", "item", "x:job", "r"][usize::from(first & 3)];
    let id = match (first >> 2) & 3 {
        0 => IdSource::Child("reference".into()),
        1 => IdSource::Child("id".into()),
        2 => IdSource::Attribute("id".into()),
        _ => IdSource::Attribute("x:ref".into()),
    };
    let mut o = FeedOptions::new(tag, id);
    if first & 0x10 != 0 {
        o.empty_cdata = EmptyCdata::Null;
    }
    o.validate = first & 0x20 != 0;
    o.max_record_bytes = 1 << 16;
    o
}

fn index(feed: &[u8], opts: &FeedOptions) -> Option<Vec<u8>> {
    let mut ix = Indexer::single_threaded(opts);
    ix.push(feed).ok()?;
    ix.finish().ok()?.try_to_bytes().ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, feed)) = data.split_first() else {
        return;
    };
    let opts = options(first);
    let Some(bytes) = index(feed, &opts) else {
        return;
    };
    let mut r = IndexReader::new(&bytes[..]).expect("an index this crate wrote opens");
    assert_eq!(r.build(), Some(&IndexBuild::of(&opts)));
    let mut n = 0u64;
    while r.advance().expect("an index this crate wrote reads to its end") {
        n += 1;
    }
    assert_eq!(n, r.header().records);
    // Same options: no change. Other options (the same feed read otherwise): refused.
    let same = diff(Some(&bytes[..]), &bytes[..], |_| panic!("a change against itself"))
        .expect("an index diffs against itself");
    assert!(!same.updated());
    let mut other = opts.clone();
    other.empty_cdata = match opts.empty_cdata {
        EmptyCdata::Empty => EmptyCdata::Null,
        EmptyCdata::Null => EmptyCdata::Empty,
    };
    if let Some(theirs) = index(feed, &other) {
        let refused = diff(Some(&bytes[..]), &theirs[..], |_| {
            panic!("a change reported before the refusal")
        });
        assert!(matches!(refused, Err(DiffError::Mismatch { .. })));
    }
    // Damage anywhere in the file: read as far as it goes, never a panic.
    let at = usize::from(first) * 7 % bytes.len();
    let mut damaged = bytes.clone();
    damaged[at] ^= 0x55;
    if let Ok(mut r) = IndexReader::new(&damaged[..]) {
        let _ = r.build();
        while let Ok(true) = r.advance() {}
    }
});
