//! Extraction of chosen records' JSON forms.

use serde_json::json;

use crate::common::{generated, gz, opts};
use feed::extract::{extract_reader, Extractor};

#[test]
fn extracts_only_the_asked_records_with_id_hash_and_json() {
    let xml = generated(13, 60);
    let ids = ["JOB-00000003", "JOB-00000042", "NOPE"].map(String::from);
    let mut got = Vec::new();
    let s = extract_reader(&gz(&xml)[..], &opts(), ids.clone(), &mut |r| {
        got.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(s.extracted, 2);
    assert_eq!(
        (s.missing, s.missing_ids.clone()),
        (1, vec!["NOPE".to_string()])
    );
    assert_eq!(s.feed.records, 60);
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].number, got[0].id.as_str()), (4, "JOB-00000003"));
    let j = &got[0].json.to_value();
    assert_eq!(j["reference"], "JOB-00000003");
    assert_eq!(j["@status"], "active");
    assert_eq!(j["salary"]["@currency"], "EUR");
    // Record 3 is a tricky one: nested <job>, namespaced element, entities, comment/PI dropped.
    assert_eq!(j["related"], json!({"job": {"reference": "NESTED-1"}}));
    assert_eq!(j["note"], "café €5 <ok> \"q\" 'a'");
    assert_eq!(j["link"]["@title"], "a > b & c");
    assert!(j["g:price"].as_str().unwrap().ends_with(" EUR"));
    assert!(j["description"].as_str().unwrap().contains("</job>"));
    // The same records pushed in small chunks, pipelined or not.
    for piped in [true, false] {
        let mut ex = if piped {
            Extractor::new(&opts(), ids.clone())
        } else {
            Extractor::single_threaded(&opts(), ids.clone())
        };
        let mut again = Vec::new();
        for piece in xml.chunks(777) {
            ex.push(piece, &mut |r| {
                again.push(r);
                Ok(())
            })
            .unwrap();
        }
        let s2 = ex
            .finish(&mut |r| {
                again.push(r);
                Ok(())
            })
            .unwrap();
        assert_eq!(again, got);
        assert_eq!(
            (s2.extracted, s2.missing, s2.missing_ids.clone()),
            (2, 1, vec!["NOPE".to_string()])
        );
    }
}

#[test]
fn the_example_feed_maps_as_documented() {
    let xml = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/jobs.xml")).unwrap();
    let mut got = Vec::new();
    extract_reader(
        &xml[..],
        &opts(),
        ["JOB-1001", "JOB-1003"].map(String::from),
        &mut |r| {
            got.push(r.json.to_value());
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(got[0]["category"], json!(["Engineering", "Rust"]));
    assert_eq!(
        got[0]["salary"],
        json!({"@currency": "EUR", "@period": "year", "#text": "85000"})
    );
    assert_eq!(got[1]["description"], "");
    assert_eq!(got[1]["remote"], json!({"@type": "hybrid"}));
    let mut o = opts();
    o.empty_cdata = feed::EmptyCdata::Null;
    let mut got = Vec::new();
    extract_reader(&xml[..], &o, ["JOB-1003".to_string()], &mut |r| {
        got.push(r.json.to_value());
        Ok(())
    })
    .unwrap();
    assert_eq!(got[0]["description"], serde_json::Value::Null);
}

#[test]
fn extract_all_takes_every_record_in_order() {
    let xml = generated(14, 25);
    let mut ex = Extractor::all(&opts());
    let mut ids = Vec::new();
    ex.push(&gz(&xml), &mut |r| {
        ids.push(r.id);
        Ok(())
    })
    .unwrap();
    let s = ex
        .finish(&mut |r| {
            ids.push(r.id);
            Ok(())
        })
        .unwrap();
    assert_eq!((s.extracted, s.missing), (25, 0));
    let want: Vec<String> = (0..25).map(feed::generate::record_id).collect();
    assert_eq!(ids, want);
}

#[test]
fn extract_errors_name_the_record_whichever_way_it_runs() {
    let xml = b"<r><job><reference>1</reference></job><job><reference>2</reference><t>&bogus;</t></job></r>";
    for piped in [true, false] {
        let ids = ["2".to_string()];
        let mut ex = if piped {
            Extractor::new(&opts(), ids)
        } else {
            Extractor::single_threaded(&opts(), ids)
        };
        let e = match ex
            .push(xml, &mut |_| Ok(()))
            .and_then(|()| ex.finish(&mut |_| Ok(())).map(|_| ()))
        {
            Err(e) => e,
            Ok(()) => panic!("no error"),
        };
        let at = memchr::memmem::find(xml, b"&bogus;").unwrap();
        crate::common::assert_error(
            &e,
            2,
            at,
            "record 2 (id \"2\"), byte {at}: undefined entity &bogus; (entities declared in a DTD are never expanded)",
        );
    }
}
