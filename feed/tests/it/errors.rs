//! Every error the issue lists, each checked for what it says and where (record number, byte
//! offset in the uncompressed stream, id when known).

use crate::common::{err, generated, gz, opts};
use feed::{ErrorKind, FeedOptions, IdSource};

#[test]
fn truncated_gzip_names_the_compressed_and_uncompressed_position() {
    let xml = generated(1, 30);
    let z = gz(&xml);
    let e = err(&z[..z.len() / 2], &opts());
    assert!(matches!(e.kind, ErrorKind::TruncatedGzip), "{e}");
    assert_eq!(e.location.compressed_offset, Some((z.len() / 2) as u64));
    assert!(e.location.offset > 0 && e.location.offset < xml.len() as u64);
    assert!(e.location.record.is_some(), "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
    // Cut inside the 8-byte trailer: all XML is there, the member is not complete.
    let e = err(&z[..z.len() - 3], &opts());
    assert!(matches!(e.kind, ErrorKind::TruncatedGzip), "{e}");
    // Cut inside the header.
    let e = err(&z[..5], &opts());
    assert!(matches!(e.kind, ErrorKind::TruncatedGzip), "{e}");
}

#[test]
fn corrupt_gzip_is_reported_not_misread() {
    let xml = generated(2, 30);
    // An invalid deflate block type right after the header.
    let mut z = gz(&xml);
    z[10] = 0x07;
    let e = err(&z, &opts());
    assert!(matches!(e.kind, ErrorKind::CorruptGzip { .. }), "{e}");
    assert_eq!(e.location.compressed_offset, Some(11));
    assert!(
        e.to_string()
            .contains("the compressed (gzip) data is corrupt: invalid deflate data"),
        "{e}"
    );
    // Random bytes anywhere in a member: reported as corrupt compressed data, whether the
    // inflater, the CRC or first the XML reader (on what the damage inflated into) notices.
    let z0 = gz(&xml);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut via_xml = 0;
    for round in 0..40 {
        let mut z = z0.clone();
        let at = 10 + (next() as usize) % (z.len() - 30);
        let len = 1 + (next() as usize) % 24;
        for b in &mut z[at..at + len] {
            *b = next() as u8;
        }
        if z == z0 {
            continue;
        }
        let e = err(&z, &opts());
        assert!(
            matches!(e.kind, ErrorKind::CorruptGzip { .. }),
            "round {round}, {len} bytes at {at}: {e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("the compressed (gzip) data is corrupt")
                && msg.contains("in the gzip member that starts at compressed byte 0"),
            "{msg}"
        );
        assert!(e.location.compressed_offset.unwrap() as usize >= at, "{e}");
        via_xml += msg.contains("the XML reader had stopped") as u32;
        // The indexers (pipelined: the splitter on a thread of its own) say the same.
        for piped in [true, false] {
            let mut ix = if piped {
                feed::index::Indexer::new(&opts())
            } else {
                feed::index::Indexer::single_threaded(&opts())
            };
            let got = match ix.push(&z).and_then(|()| ix.finish().map(|_| ())) {
                Err(e) => e.to_string(),
                Ok(()) => panic!("damage accepted"),
            };
            assert_eq!(got, msg, "piped: {piped}");
        }
    }
    assert!(
        via_xml > 0,
        "no damage reached the XML reader: the test tests too little"
    );
    // Intact gzip of malformed XML is still malformed XML.
    let bad = String::from_utf8(xml.clone())
        .unwrap()
        .replacen("</reference>", "</referencx>", 3);
    let e = err(&gz(bad.as_bytes()), &opts());
    assert!(matches!(e.kind, ErrorKind::Malformed { .. }), "{e}");
    // A second member's damage names where that member starts.
    let mut two = gz(&xml[..xml.len() / 2]);
    let second = two.len();
    let mut z = gz(&xml[xml.len() / 2..]);
    let n = z.len();
    z[n - 8] ^= 1;
    two.extend_from_slice(&z);
    let e = err(&two, &opts());
    assert!(
        e.to_string().contains(&format!(
            "CRC-32 mismatch in the gzip member that starts at compressed byte {second}"
        )),
        "{e}"
    );
    // A damaged CRC in the trailer.
    let mut z = gz(&xml);
    let n = z.len();
    z[n - 8] ^= 1;
    let e = err(&z, &opts());
    assert!(e.to_string().contains("CRC-32 mismatch"), "{e}");
    // Garbage after the last member.
    let mut z = gz(&xml);
    z.extend_from_slice(b"garbage");
    let e = err(&z, &opts());
    assert!(matches!(e.kind, ErrorKind::CorruptGzip { .. }), "{e}");
}

#[test]
fn malformed_xml_at_record_k_names_record_id_and_offset() {
    let good = "<job><reference>A</reference><t>x</t></job>";
    let bad = "<job><reference>C</reference><title>x</titel></job>";
    let xml = format!("<r>{good}{good}{bad}</r>").replace(
        "A</reference><t>x</t></job><job><reference>A",
        "A</reference><t>x</t></job><job><reference>B",
    );
    let e = err(xml.as_bytes(), &opts());
    assert!(matches!(e.kind, ErrorKind::Malformed { .. }), "{e}");
    assert_eq!(e.location.id.as_deref(), Some("C"));
    crate::common::assert_error(
        &e,
        3,
        xml.find("</titel>").unwrap(),
        "record 3 (id \"C\"), byte {at}: malformed XML: end tag </titel> does not match the start tag <title>",
    );
    for (xml, what) in [
        (
            "<r><job><reference>1</reference><a b></a></job></r>",
            "has no value",
        ),
        (
            "<r><job><reference>1</reference><a b=1></a></job></r>",
            "not quoted",
        ),
        (
            "<r><job><reference>1</reference><1a></1a></job></r>",
            "invalid start tag",
        ),
        (
            "<r><job><reference>1</reference></job></r></x>",
            "after the root",
        ),
        ("<r></r><r2/>", "second root element"),
        (
            "<r><job><reference>1</reference></job><!DOCTYPE x></r>",
            "DOCTYPE",
        ),
        (
            "<r><job><reference>1</reference></job></r><?xml version='1.0'?>",
            "XML declaration",
        ),
        ("{\"not\": \"xml\"}", "text before the root element"),
    ] {
        let e = err(xml.as_bytes(), &opts());
        assert!(e.to_string().contains(what), "{xml}: {e}");
    }
}

#[test]
fn malformed_inside_a_record_found_by_the_full_parse_when_extracting() {
    let xml = b"<r><job><reference>1</reference><t>&bogus;</t></job></r>";
    let o = opts();
    let mut s = feed::Scanner::new(&o);
    let mut errs = Vec::new();
    s.push(xml, &mut |r| {
        errs.push(r.to_json(&o).unwrap_err());
        Ok(())
    })
    .unwrap();
    s.finish(&mut |_| Ok(())).unwrap();
    let e = &errs[0];
    assert!(
        matches!(e.kind, ErrorKind::UndefinedEntity { ref name } if name == "bogus"),
        "{e}"
    );
    assert_eq!(e.location.record, Some(1));
    assert_eq!(e.location.id.as_deref(), Some("1"));
    assert!(e.to_string().contains("never expanded"), "{e}");
}

#[test]
fn validating_index_finds_what_only_the_full_parse_finds() {
    let xml = b"<r><job><reference>1</reference></job><job><reference>2</reference><t>&bogus;</t></job></r>";
    assert!(feed::index::index_reader(&xml[..], &opts()).is_ok());
    let mut o = opts();
    o.validate = true;
    for piped in [true, false] {
        let mut ix = if piped {
            feed::index::Indexer::new(&o)
        } else {
            feed::index::Indexer::single_threaded(&o)
        };
        let e = match ix.push(xml).and_then(|()| ix.finish().map(|_| ())) {
            Err(e) => e,
            Ok(()) => panic!("validation passed"),
        };
        assert!(
            matches!(e.kind, ErrorKind::UndefinedEntity { ref name } if name == "bogus"),
            "{e}"
        );
        assert_eq!(
            (e.location.record, e.location.id.as_deref()),
            (Some(2), Some("2"))
        );
    }
}

/// The error of indexing `xml` with `--validate` (both indexers must agree).
fn validate_error(xml: &[u8]) -> feed::FeedError {
    let mut o = opts();
    o.validate = true;
    let mut errors = Vec::new();
    for piped in [true, false] {
        let mut ix = if piped {
            feed::index::Indexer::new(&o)
        } else {
            feed::index::Indexer::single_threaded(&o)
        };
        match ix.push(xml).and_then(|()| ix.finish().map(|_| ())) {
            Err(e) => errors.push(e),
            Ok(()) => panic!("validation passed"),
        }
    }
    assert_eq!(errors[0].to_string(), errors[1].to_string());
    errors.remove(0)
}

/// The error of extracting record `id` of `xml`.
fn extract_error(xml: &[u8], id: &str) -> feed::FeedError {
    match feed::extract::extract_reader(xml, &opts(), [id.to_string()], &mut |_| Ok(())) {
        Err(e) => e,
        Ok(s) => panic!("extracted {}", s.extracted),
    }
}

#[test]
fn characters_xml_forbids_fail_validate_and_extract_naming_record_and_byte() {
    for (text, code) in [
        ("a\u{0}b", "U+0000 (NUL)"),
        ("\u{1b}[31m", "U+001B"),
        ("x\u{FFFF}", "U+FFFF"),
    ] {
        // In text, an attribute value, CDATA, a comment: all are the document's characters.
        for body in [
            format!("<t>{text}</t>"),
            format!("<t a=\"{text}\"/>"),
            format!("<t><![CDATA[{text}]]></t>"),
            format!("<!--{text}-->"),
        ] {
            let xml = format!("<r><job><reference>1</reference></job><job><reference>2</reference>{body}</job></r>");
            let at = xml.find(['\u{0}', '\u{1b}', '\u{FFFF}']).unwrap();
            // The splitter alone (index without --validate) does not parse text.
            assert!(feed::index::index_reader(xml.as_bytes(), &opts()).is_ok());
            for e in [
                validate_error(xml.as_bytes()),
                extract_error(xml.as_bytes(), "2"),
            ] {
                assert!(matches!(e.kind, ErrorKind::Malformed { .. }), "{e}");
                assert_eq!(
                    (e.location.record, e.location.id.as_deref()),
                    (Some(2), Some("2")),
                    "{e}"
                );
                assert_eq!(e.location.offset as usize, at, "{body}: {e}");
                let msg = e.to_string();
                assert!(
                    msg.contains(code) && msg.contains("not allowed in an XML 1.0 document"),
                    "{msg}"
                );
            }
        }
    }
    // In the id, the splitter finds it: every index and extract, validating or not.
    let xml = "<r><job><reference>A\u{0}B</reference></job></r>";
    let e = err(xml.as_bytes(), &opts());
    assert_eq!(e.location.record, Some(1));
    assert_eq!(e.location.offset as usize, xml.find('\u{0}').unwrap());
    assert!(
        e.to_string().contains("in the id: character U+0000 (NUL)"),
        "{e}"
    );
    // By character reference too.
    let xml = "<r><job><reference>1</reference><t>&#1;</t></job></r>";
    let e = extract_error(xml.as_bytes(), "1");
    assert!(
        e.to_string().contains("invalid character reference &#1;"),
        "{e}"
    );
}

#[test]
fn signed_character_references_are_refused() {
    for r in ["&#+65;", "&#x+41;"] {
        let xml = format!("<r><job><reference>1</reference><t>{r}</t></job></r>");
        let e = extract_error(xml.as_bytes(), "1");
        assert!(
            e.to_string()
                .contains(&format!("invalid character reference {r}")),
            "{e}"
        );
        assert_eq!(e.location.offset as usize, xml.find(r).unwrap(), "{e}");
        let e = validate_error(xml.as_bytes());
        assert!(e.to_string().contains("invalid character reference"), "{e}");
        // In an id (decoded by the splitter) and an attribute value.
        let xml = format!("<r><job><reference>{r}</reference></job></r>");
        assert!(err(xml.as_bytes(), &opts())
            .to_string()
            .contains("invalid character reference"));
        let xml = format!("<r><job a=\"{r}\"><reference>1</reference></job></r>");
        let e = extract_error(xml.as_bytes(), "1");
        assert!(e.to_string().contains("invalid character reference"), "{e}");
    }
}

#[test]
fn record_without_id() {
    let xml = "<r><job><reference>1</reference></job><job><title>no id</title></job></r>";
    let e = err(xml.as_bytes(), &opts());
    assert!(matches!(e.kind, ErrorKind::MissingId { .. }), "{e}");
    assert_eq!(e.location.record, Some(2));
    assert_eq!(e.location.offset as usize, xml.rfind("<job>").unwrap());
    assert!(
        e.to_string().contains("no <reference> child element"),
        "{e}"
    );
    let e = err(b"<r><job><reference>  </reference></job></r>", &opts());
    assert!(e.to_string().contains("an empty <reference>"), "{e}");
    let o = FeedOptions::new("job", IdSource::Attribute("id".into()));
    let e = err(b"<r><job><reference>1</reference></job></r>", &o);
    assert!(e.to_string().contains("no @id attribute"), "{e}");
    // The id must be a direct child: a nested <reference> does not count.
    let e = err(
        b"<r><job><x><reference>1</reference></x></job></r>",
        &opts(),
    );
    assert!(matches!(e.kind, ErrorKind::MissingId { .. }), "{e}");
}

#[test]
fn a_record_with_two_ids_is_an_error_naming_it() {
    let xml = "<r><job><reference>1</reference></job><job><reference>2</reference><t/><reference>3</reference></job></r>";
    let e = err(xml.as_bytes(), &opts());
    assert!(matches!(e.kind, ErrorKind::TwoIds { .. }), "{e}");
    assert_eq!(e.kind.code(), "Feed.TwoIds");
    crate::common::assert_error(
        &e,
        2,
        xml.rfind("<reference>").unwrap(),
        "record 2 (id \"2\"), byte {at}: the record has two ids: a second <reference> child element; an id must be unique within its record (keep one, or choose another id)",
    );
    // Self-closing, and prefixed names that match the same local name.
    let e = err(
        b"<r><job><reference>1</reference><a:reference/></job></r>",
        &opts(),
    );
    assert!(matches!(e.kind, ErrorKind::TwoIds { .. }), "{e}");
    // Deeper elements of the same name are content, not ids.
    assert!(crate::common::scan(
        b"<r><job><reference>1</reference><x><reference>2</reference></x></job></r>",
        &opts()
    )
    .is_ok());
    // Two attributes that match the id attribute's local name.
    let o = FeedOptions::new("job", IdSource::Attribute("id".into()));
    let xml = "<r><job id=\"1\"/><job a:id=\"2\" b:id=\"3\"/></r>";
    let e = err(xml.as_bytes(), &o);
    assert!(matches!(e.kind, ErrorKind::TwoIds { .. }), "{e}");
    assert_eq!(e.location.record, Some(2));
    assert_eq!(e.location.offset as usize, xml.rfind("<job").unwrap());
    assert!(e.to_string().contains("a second @id attribute"), "{e}");
}

/// Scans `xml` with a record limit of `limit` bytes, expecting the limit error.
fn too_large(xml: &str, limit: usize) -> feed::FeedError {
    let mut o = opts();
    o.max_record_bytes = limit;
    let e = err(xml.as_bytes(), &o);
    assert!(
        matches!(e.kind, ErrorKind::RecordTooLarge { limit: l } if l == limit),
        "{e}"
    );
    e
}

#[test]
fn oversize_record() {
    let big = format!(
        "<r><job><reference>1</reference></job><job><reference>2</reference><d>{}</d></job></r>",
        "x".repeat(300)
    );
    let e = too_large(&big, 100);
    assert!(
        e.to_string()
            .ends_with("the record is larger than the limit of 100 bytes"),
        "no internal names: {e}"
    );
    assert_eq!(e.location.record, Some(2));
    assert_eq!(e.location.id.as_deref(), Some("2"));
    assert_eq!(e.location.offset as usize, big.rfind("<job>").unwrap());
    // The default limit is 64 MiB.
    assert_eq!(opts().max_record_bytes, 64 << 20);
    // An endless comment outside records is bounded too.
    let mut o = opts();
    o.max_record_bytes = 100;
    let e = err(format!("<r><!-- {}", "y".repeat(300)).as_bytes(), &o);
    assert!(matches!(e.kind, ErrorKind::MarkupTooLarge { .. }), "{e}");
}

#[test]
fn empty_feeds() {
    for input in [
        &b""[..],
        b"   \n",
        b"<?xml version=\"1.0\"?>\n<!-- nothing -->",
        &gz(b""),
    ] {
        let e = err(input, &opts());
        assert!(matches!(e.kind, ErrorKind::Empty), "{input:?}: {e}");
        assert_eq!(
            e.to_string(),
            format!(
                "byte {}: the feed is empty (no root element)",
                e.location.offset
            )
        );
    }
}

#[test]
fn feed_without_record_tag() {
    let e = err(
        b"<source><item><reference>1</reference></item></source>",
        &opts(),
    );
    assert!(
        matches!(e.kind, ErrorKind::NoRecords { ref root, ref tag } if root == "source" && tag == "job"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("no <job> records below the root element <source>"),
        "{e}"
    );
}

#[test]
fn wrong_root() {
    let e = err(b"<job><reference>1</reference></job>", &opts());
    assert!(
        matches!(e.kind, ErrorKind::WrongRoot { ref found, .. } if found == "job"),
        "{e}"
    );
    let mut o = opts();
    o.expected_root = Some("source".into());
    let e = err(
        b"<html><body><job><reference>1</reference></job></body></html>",
        &o,
    );
    assert!(
        e.to_string()
            .contains("wrong root element <html>: expected <source>"),
        "{e}"
    );
    assert_eq!(e.location.offset, 0);
}

#[test]
fn declared_non_utf8_encoding_is_refused_clearly() {
    let e = err(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r><job><reference>\xe9</reference></job></r>", &opts());
    assert!(
        matches!(e.kind, ErrorKind::Encoding { ref encoding } if encoding == "ISO-8859-1"),
        "{e}"
    );
    assert!(e.to_string().contains("convert the feed to UTF-8"), "{e}");
    let e = err(b"\xff\xfe<\x00r\x00>\x00", &opts());
    assert!(
        matches!(e.kind, ErrorKind::Encoding { ref encoding } if encoding == "UTF-16LE"),
        "{e}"
    );
    // Undeclared non-UTF-8 bytes in an id are an error, not mangled.
    let e = err(b"<r><job><reference>\xe9</reference></job></r>", &opts());
    assert!(e.to_string().contains("not valid UTF-8"), "{e}");
}

#[test]
fn truncated_xml() {
    let xml = "<r><job><reference>1</reference></job><job><reference>2</reference><d>";
    let e = err(xml.as_bytes(), &opts());
    assert!(matches!(e.kind, ErrorKind::UnexpectedEof { .. }), "{e}");
    assert_eq!(e.location.record, Some(2));
    assert_eq!(e.location.id.as_deref(), Some("2"));
    let e = err(b"<r><job><reference>1</reference></job><!-- x", &opts());
    assert!(e.to_string().contains("inside a comment"), "{e}");
    let e = err(b"<r><job><reference>1</reference></job>", &opts());
    assert!(
        e.to_string().contains("inside <r>, which is never closed"),
        "{e}"
    );
}

#[test]
fn no_dtd_expansion_billion_laughs() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<r><job><reference>&lol3;</reference></job></r>"#;
    let e = err(xml.as_bytes(), &opts());
    assert!(
        matches!(e.kind, ErrorKind::UndefinedEntity { ref name } if name == "lol3"),
        "{e}"
    );
    assert_eq!(e.location.record, Some(1));
}

/// Found by the fuzz target: a malformed `<!x` past the record limit gave "malformed" when the
/// record arrived whole but "too large" when it arrived in pieces.
#[test]
fn regression_record_limit_before_unknown_markup_is_independent_of_chunking() {
    for markup in ["<!x>", "<!DOCTYPE x>"] {
        let xml = format!(
            "<r><job><reference>1</reference>{}{markup}</job></r>",
            "a".repeat(80)
        );
        too_large(&xml, 64);
    }
}

#[test]
fn a_record_that_fails_its_json_form_stops_extraction_after_the_records_before_it() {
    // Record 3 of 400 fails only in the full parse; the feed is also cut short at its end,
    // which the splitter finds later: the earlier error is the one reported, and no record
    // after record 3 is handed over.
    let mut xml = String::from("<r>");
    for i in 1..=400 {
        let t = if i == 3 { "&bogus;" } else { "ok" };
        xml.push_str(&format!(
            "<job><reference>{i}</reference><t>{t} {}</t></job>",
            "x".repeat(2000)
        ));
    }
    xml.push_str("<job><reference>401</reference>");
    let o = opts();
    for (label, mut ex) in [
        ("pipelined", feed::extract::Extractor::all(&o)),
        (
            "single-threaded",
            feed::extract::Extractor::single_threaded(&o, (1..=401).map(|i| i.to_string())),
        ),
    ] {
        let mut got = Vec::new();
        let mut on = |r: feed::extract::Extracted| {
            got.push(r.id);
            Ok(())
        };
        let e = match ex
            .push(xml.as_bytes(), &mut on)
            .and_then(|()| ex.finish(&mut on).map(|_| ()))
        {
            Err(e) => e,
            Ok(()) => panic!("{label}: extraction passed"),
        };
        assert!(
            matches!(e.kind, ErrorKind::UndefinedEntity { ref name } if name == "bogus"),
            "{label}: {e}"
        );
        assert_eq!(e.location.record, Some(3), "{label}: {e}");
        assert_eq!(got, ["1", "2"], "{label}");
    }
}
