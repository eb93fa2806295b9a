//! Index builds that spill sorted runs (the external merge sort): tiny memory limits make small
//! feeds spill, the bytes must equal the in-memory build's, duplicates are found across runs,
//! a build without spill storage stops at its limit, and spill storage failures are reported.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::{generated, gz, opts};
use feed::index::{
    index_reader, index_reader_with_spill, IndexReader, Indexer, MemorySpill, Spill,
};
use feed::{ErrorKind, FeedError, FeedOptions};

/// Options whose index memory holds about `entries` generated entries (40 bytes + a 12-byte id).
fn small(entries: usize) -> FeedOptions {
    let mut o = opts();
    o.index_memory = entries * 52;
    o
}

/// One way to build an index with this spill storage.
type Build<'a> = dyn Fn(MemorySpill) -> feed::index::Index + 'a;

/// Indexes `input` pushed in 4 KiB chunks.
fn push_all(mut ix: Indexer, input: &[u8]) -> Result<feed::index::Index, FeedError> {
    for piece in input.chunks(4096) {
        ix.push(piece)?;
    }
    ix.finish()
}

#[test]
fn spilled_builds_write_the_same_bytes_as_in_memory_builds() {
    let xml = generated(3, 700);
    let want = index_reader(&xml[..], &opts())
        .unwrap()
        .try_to_bytes()
        .unwrap();
    let z = gz(&xml);
    // 1 entry a run (every record spills), 7 (fan-in 2: many merge rounds), 100 (a single
    // merge), 5,000 (nothing spills).
    for entries in [1, 7, 100, 5_000] {
        let o = small(entries);
        for input in [&xml, &z] {
            let builds: [(&str, Box<Build>); 3] = [
                (
                    "piped",
                    Box::new(|s| push_all(Indexer::with_spill(&o, s), input).unwrap()),
                ),
                (
                    "single",
                    Box::new(|s| {
                        push_all(Indexer::single_threaded_with_spill(&o, s), input).unwrap()
                    }),
                ),
                (
                    "reader",
                    Box::new(|s| index_reader_with_spill(&input[..], &o, s).unwrap()),
                ),
            ];
            for (how, build) in builds {
                let spill = MemorySpill::new();
                let index = build(spill.clone());
                assert_eq!(index.try_to_bytes().unwrap(), want, "{how}, {entries}");
                // Entries in memory can be walked; spilled ones only read back as a file.
                assert_eq!(
                    index.entries().is_some(),
                    index.spilled_runs() == 0,
                    "{how}, {entries}"
                );
                assert_eq!(index.len(), 700);
                let expect_runs = if entries == 5_000 { 0 } else { 700 / entries };
                assert!(
                    index.spilled_runs() >= expect_runs as u64,
                    "{how}, {entries}: {} runs",
                    index.spilled_runs()
                );
                if entries < 5_000 {
                    // Runs were merged and removed; only the index's own entries remain.
                    assert!(spill.runs_created() > index.spilled_runs());
                    assert_eq!(spill.live_runs(), 1, "{how}, {entries}");
                    assert!(spill.bytes_written() > want.len() as u64);
                }
                drop(index);
                assert_eq!(spill.live_runs(), 0, "{how}, {entries}: runs left behind");
            }
        }
    }
}

#[test]
fn a_spilled_index_reads_back_like_an_in_memory_one() {
    let xml = generated(4, 300);
    let memory = index_reader(&xml[..], &opts()).unwrap();
    let spilled = index_reader_with_spill(&xml[..], &small(20), MemorySpill::new()).unwrap();
    assert!(spilled.spilled_runs() >= 15);
    assert_eq!(spilled.feed_hash(), memory.feed_hash());
    assert_eq!(spilled.summary(), memory.summary());
    let mut file = Vec::new();
    spilled.write_to(&mut file).unwrap();
    let mut r = IndexReader::new(&file[..]).unwrap();
    assert!(spilled.entries().is_none());
    let mut from_memory = memory.entries().unwrap();
    while r.advance().unwrap() {
        let (id, hash) = from_memory.next().unwrap();
        assert_eq!((r.id(), r.hash()), (id, hash));
    }
    assert!(from_memory.next().is_none());
}

/// A feed of records with these ids, in this order.
fn feed_of(ids: &[&str]) -> String {
    let mut xml = String::from("<r>");
    for (i, id) in ids.iter().enumerate() {
        xml.push_str(&format!("<job><reference>{id}</reference><n>{i}</n></job>"));
    }
    xml + "</r>"
}

#[test]
fn duplicate_ids_in_different_runs_name_both_records_as_in_memory() {
    // With 2 entries a run, the two "C"s and the three "A"s land in different runs.
    let ids = ["C", "A", "x1", "x2", "C", "x3", "A", "x4", "x5", "A", "B"];
    let xml = feed_of(&ids);
    let in_memory = match index_reader(xml.as_bytes(), &opts()) {
        Err(e) => e,
        Ok(_) => panic!("duplicates accepted"),
    };
    for entries in [1, 2, 3] {
        let spill = MemorySpill::new();
        let e = match index_reader_with_spill(xml.as_bytes(), &small(entries), spill.clone()) {
            Err(e) => e,
            Ok(_) => panic!("duplicates accepted across runs"),
        };
        assert!(spill.runs_created() >= 3, "{entries}: it did not spill");
        assert_eq!(e.to_string(), in_memory.to_string());
        match &e.kind {
            ErrorKind::DuplicateId {
                id, first_record, ..
            } => assert_eq!((id.as_str(), *first_record), ("A", 2)),
            other => panic!("{other}"),
        }
        assert_eq!(e.location.record, Some(7));
        assert_eq!(spill.live_runs(), 0, "runs left behind after the error");
    }
}

#[test]
fn without_spill_storage_the_build_stops_at_its_memory_limit() {
    let xml = generated(6, 200);
    let o = small(50);
    for result in [
        index_reader(&xml[..], &o).map(|_| ()),
        push_all(Indexer::new(&o), &xml).map(|_| ()),
        push_all(Indexer::single_threaded(&o), &xml).map(|_| ()),
    ] {
        let e = result.expect_err("limit not enforced");
        assert_eq!(e.kind.code(), "Feed.IndexTooLarge");
        assert!(
            matches!(e.kind, ErrorKind::IndexTooLarge { limit, records: 51 } if limit == 50 * 52),
            "{e}"
        );
        assert!(e.to_string().contains("no spill storage"), "{e}");
        assert!(!e.to_string().contains("::"), "no internal names: {e}");
    }
    assert_eq!(index_reader(&xml[..], &small(200)).unwrap().len(), 200);
}

/// Spill storage whose calls of one kind fail after the first few.
#[derive(Clone)]
struct Failing {
    inner: MemorySpill,
    what: &'static str,
    after: Arc<AtomicUsize>,
}

impl Failing {
    fn new(what: &'static str, after: usize) -> Failing {
        Failing {
            inner: MemorySpill::new(),
            what,
            after: Arc::new(AtomicUsize::new(after)),
        }
    }

    /// Whether this call of `what` fails (the first `after` calls succeed, later ones fail).
    fn fails(&self, what: &str) -> bool {
        what == self.what
            && self
                .after
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_err()
    }
}

fn disk_full() -> io::Error {
    io::Error::other("disk full (test)")
}

/// A writer that fails once it has taken 100 bytes.
struct FullAfter(Box<dyn Write + Send>, usize);

impl Write for FullAfter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if self.1 + b.len() > 100 {
            return Err(disk_full());
        }
        self.1 += b.len();
        self.0.write(b)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A reader that gives back only half of a run.
struct Half(Box<dyn Read + Send>);

impl Read for Half {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut all = Vec::new();
        self.0.read_to_end(&mut all)?;
        let n = (all.len() / 2).min(buf.len());
        buf[..n].copy_from_slice(&all[..n]);
        Ok(n)
    }
}

/// The run's bytes with the lowest bit of the last one flipped (a valid varint still).
fn flip_last_bit(mut r: Box<dyn Read + Send>) -> io::Result<io::Cursor<Vec<u8>>> {
    let mut all = Vec::new();
    r.read_to_end(&mut all)?;
    if let Some(last) = all.last_mut() {
        *last ^= 1;
    }
    Ok(io::Cursor::new(all))
}

impl Spill for Failing {
    fn create(&mut self, run: u64) -> io::Result<Box<dyn Write + Send>> {
        if self.fails("create") {
            return Err(disk_full());
        }
        let w = self.inner.create(run)?;
        Ok(if self.fails("write") {
            Box::new(FullAfter(w, 0))
        } else {
            w
        })
    }

    fn open(&self, run: u64) -> io::Result<Box<dyn Read + Send>> {
        if self.fails("open") {
            return Err(io::Error::new(io::ErrorKind::NotFound, "gone (test)"));
        }
        let r = self.inner.open(run)?;
        Ok(if self.fails("short") {
            Box::new(Half(r))
        } else if self.fails("flip") {
            Box::new(flip_last_bit(r)?)
        } else {
            r
        })
    }

    fn remove(&mut self, run: u64) -> io::Result<()> {
        self.inner.remove(run)
    }
}

#[test]
fn spill_storage_failures_are_reported_as_spill_errors() {
    let xml = generated(7, 120);
    let o = small(10);
    let cases = [
        ("create", 0, "writing a sorted run: disk full (test)"),
        ("create", 3, "writing a sorted run: disk full (test)"),
        ("write", 0, "writing a sorted run: disk full (test)"),
        ("open", 0, "merging sorted runs: gone (test)"),
        ("short", 2, "merging sorted runs: spilled run "),
        ("flip", 1, "merging sorted runs: spilled run "),
    ];
    for (what, after, message) in cases {
        for piped in [true, false] {
            let spill = Failing::new(what, after);
            let ix = if piped {
                Indexer::with_spill(&o, spill.clone())
            } else {
                Indexer::single_threaded_with_spill(&o, spill.clone())
            };
            let e = match push_all(ix, &xml) {
                Err(e) => e,
                Ok(_) => panic!("{what} {after}: no error"),
            };
            assert_eq!(e.kind.code(), "Feed.Spill", "{e}");
            let text = e.to_string();
            assert!(
                text.contains(&format!("the index's spill storage failed while {message}")),
                "{what} {after}: {text}"
            );
            assert!(e.location.offset > 0 && e.location.record.is_none(), "{e}");
            assert_eq!(spill.inner.live_runs(), 0, "{what}: runs left behind");
        }
    }
}

#[test]
fn a_spilled_index_that_cannot_be_read_back_fails_to_write() {
    let xml = generated(8, 60);
    let spill = Failing::new("open", usize::MAX);
    let index = index_reader_with_spill(&xml[..], &small(25), spill.clone()).unwrap();
    assert!(index.spilled_runs() > 0);
    assert!(index.try_to_bytes().is_ok());
    // The storage loses the index's entries: the next open fails.
    spill.after.store(0, Ordering::SeqCst);
    let e = index.try_to_bytes().expect_err("open should fail now");
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    assert!(
        e.to_string()
            .starts_with("reading the spilled index back: gone (test)"),
        "{e}"
    );
    let mut sink = Vec::new();
    assert!(index.write_to(&mut sink).is_err());
}

#[test]
fn runs_and_indexes_damaged_in_spill_storage_are_detected_by_their_checksums() {
    let xml = generated(9, 80);
    let spill = Failing::new("flip", 0);
    let e = match index_reader_with_spill(&xml[..], &small(30), spill) {
        Err(e) => e,
        Ok(_) => panic!("a damaged run went unnoticed"),
    };
    assert!(
        e.to_string()
            .ends_with("reads back damaged: its checksum does not match"),
        "{e}"
    );
    // The index's own entries, damaged after the build.
    let spill = Failing::new("flip", usize::MAX);
    let index = index_reader_with_spill(&xml[..], &small(30), spill.clone()).unwrap();
    spill.after.store(0, Ordering::SeqCst);
    let e = index.try_to_bytes().expect_err("damage unnoticed");
    assert!(e.to_string().contains("do not match"), "{e}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

    /// Any ids (duplicates included) and any memory limit: spilling gives the in-memory result,
    /// index bytes or error message alike.
    #[test]
    fn spilling_never_changes_the_result(
        ids in proptest::collection::vec("[a-c]{0,3}[0-9]{1,2}", 1..120),
        memory in 1usize..3000,
    ) {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let xml = feed_of(&refs);
        let want = index_reader(xml.as_bytes(), &opts()).map(|i| i.try_to_bytes().unwrap());
        let mut o = opts();
        o.index_memory = memory;
        let spill = MemorySpill::new();
        let got = index_reader_with_spill(xml.as_bytes(), &o, spill.clone())
            .map(|i| i.try_to_bytes().unwrap());
        match (want, got) {
            (Ok(a), Ok(b)) => proptest::prop_assert_eq!(a, b),
            (Err(a), Err(b)) => proptest::prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => proptest::prop_assert!(false, "{:?} vs {:?}", a.map(|_| ()), b.map(|_| ())),
        }
        proptest::prop_assert_eq!(spill.live_runs(), 0);
    }
}
