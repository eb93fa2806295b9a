//! The record reader on documents that trip naive scanners.

use crate::common::{gz, ok, opts, scan};
use feed::{FeedOptions, IdSource};

fn ids(xml: &str) -> Vec<String> {
    ok(xml).into_iter().map(|r| r.id).collect()
}

#[test]
fn records_at_any_depth_with_offsets_and_exact_bytes() {
    let xml = "<feed><meta>x</meta><jobs><job><reference>A</reference></job></jobs>\n<job><reference> B </reference><t/></job></feed>";
    let r = ok(xml);
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].number, r[0].id.as_str()), (1, "A"));
    assert_eq!(r[0].bytes, "<job><reference>A</reference></job>");
    assert_eq!(r[0].offset as usize, xml.find("<job>").unwrap());
    assert_eq!((r[1].number, r[1].id.as_str()), (2, "B"));
    assert_eq!(r[1].bytes, "<job><reference> B </reference><t/></job>");
}

#[test]
fn end_tags_inside_cdata_comments_pis_and_attributes_are_not_record_ends() {
    let xml = r#"<r><job a="x>y" b='>'><reference>1</reference><d><![CDATA[</job><job>]]]]></d><!-- </job> --><?pi </job>?></job><job><reference>2</reference></job></r>"#;
    let r = ok(xml);
    assert_eq!(ids(xml), ["1", "2"]);
    assert!(
        r[0].bytes.ends_with("<?pi </job>?></job>"),
        "{}",
        r[0].bytes
    );
}

#[test]
fn nested_elements_named_like_the_record_stay_inside_it() {
    let xml = "<r><job><reference>1</reference><related><job><reference>N</reference></job></related></job><job><reference>2</reference></job></r>";
    assert_eq!(ids(xml), ["1", "2"]);
    assert!(ok(xml)[0].bytes.ends_with("</related></job>"));
}

#[test]
fn namespaced_records_and_ids_match_by_local_name() {
    let xml = r#"<r xmlns:j="urn:j"><j:job><j:reference>1</j:reference></j:job><job><reference>2</reference></job></r>"#;
    assert_eq!(ids(xml), ["1", "2"]);
    let mut o = FeedOptions::new("j:job", IdSource::Child("reference".into()));
    o.max_record_bytes = 1 << 20;
    let r = scan(xml.as_bytes(), &o).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].id, "1");
}

#[test]
fn ids_from_attributes_with_entities() {
    let o = FeedOptions::new("job", IdSource::Attribute("id".into()));
    let xml = r#"<r><job x="1" id=" a&amp;b "/><job id='c&#x41;'><t>x</t></job></r>"#;
    let r = scan(xml.as_bytes(), &o).unwrap();
    assert_eq!(
        r.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a&b", "cA"]
    );
}

#[test]
fn id_with_cdata_and_whitespace_is_trimmed() {
    assert_eq!(
        ids("<r><job><reference>\n  <![CDATA[X-1]]>\n</reference></job></r>"),
        ["X-1"]
    );
}

#[test]
fn bom_crlf_declaration_doctype_and_prolog_comments() {
    let xml = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<!-- c -->\r\n<!DOCTYPE r [\r\n<!ENTITY x \"<job>\">\r\n]>\r\n<?pi x?>\r\n<r>\r\n<job>\r\n<reference>1</reference>\r\n</job>\r\n</r>\r\n<!-- after -->\r\n";
    let r = ok(xml);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].bytes, "<job>\r\n<reference>1</reference>\r\n</job>");
}

#[test]
fn gzip_is_detected_by_magic_and_multi_member_gzip_is_one_stream() {
    let xml = "<r><job><reference>1</reference></job><job><reference>2</reference></job></r>";
    let plain = ok(xml);
    let (a, b) = xml.split_at(20);
    let mut two = gz(a.as_bytes());
    two.extend(gz(b.as_bytes()));
    let r = scan(&two, &opts()).unwrap();
    assert_eq!(r, plain);
    assert_eq!(scan(&gz(xml.as_bytes()), &opts()).unwrap(), plain);
}

#[test]
fn summary_counts_and_hashes_are_stable() {
    let xml = crate::common::generated(7, 50);
    let mut s = feed::Scanner::new(&opts());
    let mut hashes = Vec::new();
    s.push(&gz(&xml), &mut |r| {
        hashes.push(r.hash);
        Ok(())
    })
    .unwrap();
    let sum = s.finish(&mut |_| Ok(())).unwrap();
    assert_eq!(
        (sum.records, sum.uncompressed_bytes),
        (50, xml.len() as u64)
    );
    assert!(sum.gzip);
    assert_eq!(sum.gzip_members, 1);
    assert_eq!(sum.root, "source");
    // The hash is xxh3-128 of the record's bytes: pinned so it never changes between versions.
    let first = ok("<r><job><reference>1</reference></job></r>");
    assert_eq!(first[0].bytes, "<job><reference>1</reference></job>");
    assert_eq!(
        feed::RecordHash(xxhash_rust::xxh3::xxh3_128(first[0].bytes.as_bytes())).to_string(),
        format!(
            "{:032x}",
            xxhash_rust::xxh3::xxh3_128(b"<job><reference>1</reference></job>")
        )
    );
}

#[test]
fn generated_feeds_with_bom_and_crlf_read_the_same_ids() {
    let mut o = feed::generate::GenOptions::new(3, 40);
    let base = crate::common::generated(3, 40);
    o.bom = true;
    o.crlf = true;
    let mut v = Vec::new();
    feed::generate::write_feed(&mut v, &o).unwrap();
    let a: Vec<_> = scan(&base, &opts())
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let b: Vec<_> = scan(&v, &opts())
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(a, b);
    assert_eq!(a.len(), 40);
    assert_eq!(a[0], "JOB-00000000");
}
