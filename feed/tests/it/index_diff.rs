//! Index files (round trip, damage detection, duplicates) and the diff of two versions of a
//! generated feed against the exact changes the generator made.

use std::collections::BTreeMap;

use crate::common::{err, gz, opts};
use feed::diff::{diff, Change};
use feed::generate::{record_id, write_revision, Fate, GenOptions, Revision};
use feed::index::{index_reader, IndexError, IndexReader, Indexer};
use feed::ErrorKind;

fn feed_bytes(o: &GenOptions, rev: Option<&Revision>) -> Vec<u8> {
    let mut v = Vec::new();
    write_revision(&mut v, o, rev).unwrap();
    v
}

fn index_of(bytes: &[u8]) -> Vec<u8> {
    index_reader(bytes, &opts())
        .unwrap()
        .try_to_bytes()
        .unwrap()
}

fn read_all(idx: &[u8]) -> Result<Vec<(String, feed::RecordHash)>, IndexError> {
    let mut r = IndexReader::new(idx)?;
    let mut out = Vec::new();
    while r.advance()? {
        out.push((r.id().to_string(), r.hash()));
    }
    Ok(out)
}

#[test]
fn index_round_trips_sorted_with_header() {
    let xml = "<r><job><reference>b</reference></job><job><reference>a</reference><x/></job><job><reference>ab</reference></job></r>";
    let index = index_reader(xml.as_bytes(), &opts()).unwrap();
    assert_eq!(index.len(), 3);
    let bytes = index.try_to_bytes().unwrap();
    assert_eq!(&bytes[..8], b"FPINDEX\n");
    let r = IndexReader::new(&bytes[..]).unwrap();
    assert_eq!(r.header().records, 3);
    assert_eq!(r.header().uncompressed_bytes, xml.len() as u64);
    assert_eq!(r.header().feed_hash, index.feed_hash());
    // The feed hash depends on the records only: reordered records and other whitespace keep it.
    let reordered = "<r>\n <job><reference>ab</reference></job>\n <job><reference>a</reference><x/></job><job><reference>b</reference></job></r>";
    let other = index_reader(reordered.as_bytes(), &opts()).unwrap();
    assert_eq!(other.feed_hash(), index.feed_hash());
    let changed = reordered.replace("<x/>", "<y/>");
    assert_ne!(
        index_reader(changed.as_bytes(), &opts())
            .unwrap()
            .feed_hash(),
        index.feed_hash()
    );
    let entries = read_all(&bytes).unwrap();
    let ids: Vec<_> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(ids, ["a", "ab", "b"]);
    let from_index: Vec<_> = index
        .entries()
        .unwrap()
        .map(|(i, h)| (i.to_string(), h))
        .collect();
    assert_eq!(entries, from_index);
}

#[test]
fn push_indexer_equals_reader_indexer_for_any_chunking_gzip_or_not() {
    let xml = crate::common::generated(11, 120);
    let want = index_of(&xml);
    let z = gz(&xml);
    for input in [&xml, &z] {
        for chunk in [1usize, 5, 1000, 1 << 20] {
            for piped in [true, false] {
                let mut ix = if piped {
                    Indexer::new(&opts())
                } else {
                    Indexer::single_threaded(&opts())
                };
                for piece in input.chunks(chunk) {
                    ix.push(piece).unwrap();
                }
                assert_eq!(
                    ix.finish().unwrap().try_to_bytes().unwrap(),
                    want,
                    "chunk {chunk}"
                );
            }
        }
    }
}

#[test]
fn pipelined_indexer_reports_the_same_errors() {
    let xml = crate::common::generated(12, 40);
    let z = gz(&xml);
    let mut bad = xml.clone();
    let at = xml.len() / 2 + memchr::memmem::find(&xml[xml.len() / 2..], b"<reference>").unwrap();
    bad.splice(at..at, b"</oops>".iter().copied());
    for input in [&z[..z.len() - 100], &bad[..], &gz(&bad)[..]] {
        let mut errors = Vec::new();
        for piped in [true, false] {
            let mut ix = if piped {
                Indexer::new(&opts())
            } else {
                Indexer::single_threaded(&opts())
            };
            let mut result = Ok(());
            for piece in input.chunks(3000) {
                result = ix.push(piece);
                if result.is_err() {
                    break;
                }
            }
            let e = match result {
                Err(e) => e,
                Ok(()) => ix.finish().err().expect("an error"),
            };
            errors.push(e.to_string());
        }
        assert_eq!(errors[0], errors[1]);
        assert!(errors[0].contains("record "), "{}", errors[0]);
    }
}

#[test]
fn damaged_index_files_are_detected() {
    let idx = index_of(&crate::common::generated(5, 20));
    assert!(matches!(
        read_all(b"not an index at all, really not"),
        Err(IndexError::NotAnIndex)
    ));
    assert!(matches!(
        read_all(&idx[..idx.len() - 3]),
        Err(IndexError::Truncated { .. })
    ));
    assert!(matches!(
        read_all(&idx[..60]),
        Err(IndexError::Truncated { .. })
    ));
    let mut flipped = idx.clone();
    flipped[70] ^= 0x01;
    assert!(read_all(&flipped).is_err());
    let mut sum = idx.clone();
    let n = sum.len();
    sum[n - 1] ^= 0x80;
    assert!(matches!(read_all(&sum), Err(IndexError::Checksum)));
    let mut v3 = idx.clone();
    v3[8] = 3;
    assert!(matches!(read_all(&v3), Err(IndexError::Version(3))));
    let mut flags = idx.clone();
    flags[12] |= 0x02;
    assert!(matches!(read_all(&flags), Err(IndexError::Corrupt { .. })));
    // A damaged build description is found before anything is decided on it.
    let mut desc = idx.clone();
    desc[53] ^= 0x01;
    assert!(
        matches!(read_all(&desc), Err(IndexError::Corrupt { entry: 0, ref detail }) if detail.contains("build description")),
        "{:?}",
        read_all(&desc).err()
    );
    // A build description that claims more than the file holds, or more than 4 MiB.
    for len in [1000u32, 5 << 20] {
        let mut long = idx.clone();
        long[48..52].copy_from_slice(&len.to_le_bytes());
        let e = read_all(&long).unwrap_err();
        assert!(
            matches!(e, IndexError::Truncated { .. } | IndexError::Corrupt { .. }),
            "{e}"
        );
    }
    let mut extra = idx;
    extra.push(0);
    assert!(matches!(read_all(&extra), Err(IndexError::Corrupt { .. })));
}

#[test]
fn duplicate_ids_name_both_records() {
    let xml = "<r><job><reference>A</reference></job><job><reference>B</reference></job><job><reference>A</reference><x/></job></r>";
    let e = match index_reader(xml.as_bytes(), &opts()) {
        Err(e) => e,
        Ok(_) => panic!("duplicate accepted"),
    };
    match &e.kind {
        ErrorKind::DuplicateId {
            id,
            first_record,
            first_offset,
        } => {
            assert_eq!((id.as_str(), *first_record, *first_offset), ("A", 1, 3));
        }
        other => panic!("{other}"),
    }
    crate::common::assert_error(
        &e,
        3,
        xml.rfind("<job>").unwrap(),
        "record 3 (id \"A\"), byte {at}: duplicate id \"A\": also record 1 at byte 3",
    );
    let _ = err; // the scanner alone accepts duplicates; the index rejects them
}

#[test]
fn diff_of_two_generated_versions_is_exact() {
    let o = GenOptions::new(21, 400);
    let rev = Revision {
        seed: 4,
        changed_bp: 500,
        removed_bp: 300,
        added_bp: 200,
    };
    let old = index_of(&feed_bytes(&o, None));
    let new = index_of(&gz(&feed_bytes(&o, Some(&rev))));
    let mut want: BTreeMap<String, &str> = BTreeMap::new();
    for i in 0..o.records {
        match rev.fate(i) {
            Fate::Changed => {
                want.insert(record_id(i), "changed");
            }
            Fate::Removed => {
                want.insert(record_id(i), "removed");
            }
            Fate::Kept => {}
        }
        if rev.adds_after(i) {
            want.insert(record_id(o.records + i), "added");
        }
    }
    let mut got = BTreeMap::new();
    let s = diff(Some(&old[..]), &new[..], |c| {
        let (id, what) = match c {
            Change::Added { id, .. } => (id, "added"),
            Change::Changed { id, old, new } => {
                assert_ne!(old, new);
                (id, "changed")
            }
            Change::Removed { id, .. } => (id, "removed"),
        };
        assert!(got.insert(id.to_string(), what).is_none());
        Ok(())
    })
    .unwrap();
    assert_eq!(got, want);
    let count = |w: &str| want.values().filter(|v| **v == w).count() as u64;
    assert_eq!(
        (s.added, s.changed, s.removed),
        (count("added"), count("changed"), count("removed"))
    );
    assert!(s.added > 0 && s.changed > 0 && s.removed > 0);
    assert_eq!(s.unchanged + s.changed + s.removed, 400);
    assert!(s.updated());
    // Ids come in sorted order across kinds.
    let keys: Vec<_> = got.keys().cloned().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn diff_without_an_old_index_adds_everything_and_equal_indexes_have_no_changes() {
    let idx = index_of(&crate::common::generated(9, 25));
    let mut n = 0;
    let s = diff(None::<&[u8]>, &idx[..], |c| {
        assert!(matches!(c, Change::Added { .. }));
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!((s.added, n, s.old), (25, 25, None));
    let s = diff(Some(&idx[..]), &idx[..], |_| panic!("no change expected")).unwrap();
    assert_eq!((s.unchanged, s.updated()), (25, false));
}

#[test]
fn diff_reports_which_index_is_damaged() {
    let idx = index_of(&crate::common::generated(9, 25));
    let bad = &idx[..idx.len() - 1];
    let e = diff(Some(bad), &idx[..], |_| Ok(())).unwrap_err();
    assert!(e.to_string().starts_with("old index: "), "{e}");
    let e = diff(Some(&idx[..]), bad, |_| Ok(())).unwrap_err();
    assert!(e.to_string().starts_with("new index: "), "{e}");
}

#[test]
fn pipelined_and_single_threaded_agree_on_multi_megabyte_feeds_with_big_records() {
    let mut xml = crate::common::generated(5, 1500);
    // A 300 KB record in the middle: longer than the room the pipeline keeps in front of a block.
    let big = format!(
        "<job><reference>BIG</reference><d><![CDATA[{}]]></d></job>",
        "x</job>y".repeat(40_000)
    );
    let at = 1_800_000 + memchr::memmem::find(&xml[1_800_000..], b"  <job status").unwrap();
    xml.splice(at..at, big.bytes());
    let piped = index_reader(&xml[..], &opts()).unwrap();
    let mut single = Indexer::single_threaded(&opts());
    single.push(&xml).unwrap();
    let single = single.finish().unwrap();
    assert_eq!(piped.len(), 1501);
    assert_eq!(
        piped.try_to_bytes().unwrap(),
        single.try_to_bytes().unwrap()
    );
    let z = gz(&xml);
    assert_eq!(
        index_reader(&z[..], &opts())
            .unwrap()
            .try_to_bytes()
            .unwrap(),
        single.try_to_bytes().unwrap()
    );
    assert_eq!(piped.summary(), single.summary());
}

/// Found by the fuzz target: a huge id length in a damaged index made the reader allocate it
/// (out of memory) or overflow; it is now a corrupt-index error.
#[test]
fn regression_huge_id_length_in_an_index_is_corrupt_not_an_allocation() {
    let idx = index_of(&crate::common::generated(5, 3));
    for huge in [&[0xFFu8, 0xFF, 0xFF, 0xFF, 0x0F][..], &[0xFF; 9][..]] {
        let mut bad = idx[..48].to_vec();
        bad.push(0); // shared prefix 0
        bad.extend_from_slice(huge);
        bad.push(0x01);
        bad.extend_from_slice(&[0u8; 64]);
        assert!(
            matches!(read_all(&bad), Err(IndexError::Corrupt { .. })),
            "{:?}",
            read_all(&bad)
        );
    }
}

/// An index file of format version 1 with the entries of `v2` (written by the previous
/// version of this crate: no flag, no build description).
fn as_version_1(v2: &[u8]) -> Vec<u8> {
    let len = u32::from_le_bytes(v2[48..52].try_into().unwrap()) as usize;
    let mut v1 = v2[..48].to_vec();
    v1[8..12].copy_from_slice(&1u32.to_le_bytes());
    v1[12..16].copy_from_slice(&0u32.to_le_bytes());
    v1.extend_from_slice(&v2[52 + len + 8..v2.len() - 8]);
    let sum = xxhash_rust::xxh3::xxh3_64(&v1);
    v1.extend_from_slice(&sum.to_le_bytes());
    v1
}

#[test]
fn an_index_records_how_it_was_built_and_diff_refuses_two_different_builds() {
    use feed::config::{EmptyCdata, IdSource};
    use feed::diff::DiffError;
    use feed::index::IndexBuild;
    let xml = b"<r><job id=\"9\"><reference>a</reference></job><job id=\"8\"><reference>b</reference></job></r>";
    let by_child = index_of(xml);
    let r = IndexReader::new(&by_child[..]).unwrap();
    assert_eq!(r.header().version, 2);
    let want = IndexBuild {
        record_tag: "job".into(),
        id: IdSource::Child("reference".into()),
        empty_cdata: EmptyCdata::Empty,
    };
    assert_eq!(r.build(), Some(&want));
    assert_eq!(
        want.to_string(),
        "--record-tag job --id reference --empty-cdata empty"
    );
    // The digest is stable (store keys depend on it) and tells builds apart.
    assert_eq!(want.digest(), "35564cf2b6271fd1");
    let other = IndexBuild {
        empty_cdata: EmptyCdata::Null,
        ..want.clone()
    };
    assert_ne!(other.digest(), want.digest());
    let mut o = opts();
    o.id = IdSource::Attribute("id".into());
    let by_attr = index_reader(&xml[..], &o).unwrap().try_to_bytes().unwrap();
    let mut null = opts();
    null.empty_cdata = EmptyCdata::Null;
    let with_null = index_reader(&xml[..], &null)
        .unwrap()
        .try_to_bytes()
        .unwrap();
    for (other, differs) in [(&by_attr, "--id @id"), (&with_null, "--empty-cdata null")] {
        let mut changes = 0;
        let e = diff(Some(&by_child[..]), &other[..], |_| {
            changes += 1;
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(e, DiffError::Mismatch { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("old: --record-tag job --id reference --empty-cdata empty"),
            "{msg}"
        );
        assert!(msg.contains(differs), "{msg}");
        assert_eq!(changes, 0, "no change is reported before the refusal");
    }
    // Same build: diffed as ever.
    let s = diff(Some(&by_child[..]), &by_child[..], |_| Ok(())).unwrap();
    assert_eq!((s.unchanged, s.updated()), (2, false));
    // A version 1 index (no build description) is still read, and compared with anything.
    let old = as_version_1(&by_attr);
    let r = IndexReader::new(&old[..]).unwrap();
    assert_eq!((r.header().version, r.build()), (1, None));
    assert_eq!(read_all(&old).unwrap(), read_all(&by_attr).unwrap());
    let s = diff(Some(&old[..]), &by_child[..], |_| Ok(())).unwrap();
    assert_eq!((s.added, s.removed), (2, 2));
}
