//! `feedpipe feed index|diff|extract` as a user runs them, on feeds made by the deterministic
//! generator: exit codes (0 done, 2 bad input or usage), the `--json` shapes, errors that name
//! the file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use feed::generate::{gzip, record_id, write_revision, Fate, GenOptions, Revision};
use serde_json::Value;

const RECORD: [&str; 4] = ["--record-tag", "job", "--id", "reference"];

fn feedpipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(args)
        .output()
        .expect("feedpipe runs")
}

fn with_record<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(RECORD);
    v
}

/// A file under the build's target directory, unique per name.
fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("feed_cli");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

const REV: Revision = Revision {
    seed: 8,
    changed_bp: 400,
    removed_bp: 300,
    added_bp: 300,
};

fn feeds(prefix: &str) -> (PathBuf, PathBuf) {
    let o = GenOptions::new(31, 300);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    write_revision(&mut a, &o, None).unwrap();
    write_revision(&mut b, &o, Some(&REV)).unwrap();
    (
        file(&format!("{prefix}-v1.xml"), &a),
        file(&format!("{prefix}-v2.xml.gz"), &gzip(&b)),
    )
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn index_prints_counts_and_writes_the_index_file() {
    let (_, v2) = feeds("index");
    let idx = v2.with_extension("idx");
    let out = feedpipe(&with_record(&[
        "feed",
        "index",
        s(&v2),
        "-o",
        s(&idx),
        "--json",
    ]));
    let v = ok_json(&out);
    for key in [
        "file",
        "records",
        "uncompressed_bytes",
        "input_bytes",
        "gzip",
        "root",
        "feed_hash",
        "index",
        "seconds",
        "mb_per_s",
        "records_per_s",
    ] {
        assert!(v.get(key).is_some(), "no {key} in {v}");
    }
    let expected = (0..300).filter(|i| REV.fate(*i) != Fate::Removed).count()
        + (0..300).filter(|i| REV.adds_after(*i)).count();
    assert_eq!(v["records"], expected as u64);
    assert_eq!(v["gzip"], true);
    assert_eq!(v["root"], "source");
    assert_eq!(&std::fs::read(&idx).unwrap()[..8], b"FPINDEX\n");
    let text = feedpipe(&with_record(&["feed", "index", s(&v2)]));
    assert!(text.status.success());
    let line = String::from_utf8(text.stdout).unwrap();
    assert!(
        line.contains(&format!("{expected} records")) && line.contains("MB/s"),
        "{line}"
    );
}

#[test]
fn diff_of_feeds_and_of_their_indexes_gives_the_generators_changes() {
    let (v1, v2) = feeds("diff");
    let v = ok_json(&feedpipe(&with_record(&[
        "feed",
        "diff",
        s(&v1),
        s(&v2),
        "--json",
    ])));
    let ids = |kind: &str| -> Vec<String> {
        v["ids"][kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    let want_changed: Vec<String> = (0..300)
        .filter(|i| REV.fate(*i) == Fate::Changed)
        .map(record_id)
        .collect();
    let want_removed: Vec<String> = (0..300)
        .filter(|i| REV.fate(*i) == Fate::Removed)
        .map(record_id)
        .collect();
    let want_added: Vec<String> = (0..300)
        .filter(|i| REV.adds_after(*i))
        .map(|i| record_id(300 + i))
        .collect();
    assert_eq!(ids("changed"), want_changed);
    assert_eq!(ids("removed"), want_removed);
    assert_eq!(ids("added"), want_added);
    assert_eq!(v["changed"], want_changed.len() as u64);
    assert_eq!(v["updated"], true);
    // The same from the index files.
    let (i1, i2) = (v1.with_extension("idx"), v2.with_extension("idx"));
    for (feed, idx) in [(&v1, &i1), (&v2, &i2)] {
        assert!(
            feedpipe(&with_record(&["feed", "index", s(feed), "-o", s(idx)]))
                .status
                .success()
        );
    }
    let w = ok_json(&feedpipe(&with_record(&[
        "feed",
        "diff",
        s(&i1),
        s(&i2),
        "--json",
    ])));
    assert_eq!(w["ids"], v["ids"]);
    // Text form.
    let out = feedpipe(&with_record(&["feed", "diff", s(&i1), s(&v2)]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "{} added, {} changed",
            want_added.len(),
            want_changed.len()
        )),
        "{text}"
    );
    assert!(text.contains(&format!("~ {}", want_changed[0])), "{text}");
}

#[test]
fn extract_prints_json_lines_for_the_ids() {
    let (_, v2) = feeds("extract");
    let list = file(
        "extract-ids.txt",
        b"JOB-00000001\n\nJOB-00000010\nNOT-THERE\n",
    );
    for ids in [
        "JOB-00000001,JOB-00000010,NOT-THERE".to_string(),
        format!("@{}", s(&list)),
    ] {
        let out = feedpipe(&with_record(&["feed", "extract", s(&v2), "--ids", &ids]));
        assert_eq!(
            out.status.code(),
            Some(1),
            "an asked id is missing: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let got: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
        let want: Vec<&str> = ["JOB-00000001", "JOB-00000010"]
            .into_iter()
            .filter(|id| {
                let i: u64 = id[4..].parse().unwrap();
                REV.fate(i) != Fate::Removed
            })
            .collect();
        assert_eq!(got, want);
        for l in &lines {
            assert_eq!(l["hash"].as_str().unwrap().len(), 32);
            assert_eq!(l["record"]["reference"], l["id"]);
        }
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("NOT-THERE") && err.contains("1 of the ids") && err.contains(s(&v2)),
            "{err}"
        );
    }
    // All there: exit 0.
    let out = feedpipe(&with_record(&[
        "feed",
        "extract",
        s(&v2),
        "--ids",
        "JOB-00000001",
    ]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    // None there: exit 1, nothing printed, every id named.
    let out = feedpipe(&with_record(&[
        "feed",
        "extract",
        s(&v2),
        "--ids",
        "NOPE-1,NOPE-2",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("2 of the ids") && err.contains("NOPE-1") && err.contains("NOPE-2"),
        "{err}"
    );
}

#[test]
fn extract_prints_nothing_when_the_feed_turns_out_damaged() {
    // Many records (well over any stdout buffer) before a malformed one near the end.
    let mut xml = String::from("<jobs>");
    let mut ids = Vec::new();
    for i in 0..2000 {
        xml.push_str(&format!(
            "<job><reference>R{i}</reference><t>{}</t></job>",
            "x".repeat(40)
        ));
        ids.push(format!("R{i}"));
    }
    // A cut feed: the last record never ends.
    xml.push_str("<job><reference>BAD</reference><t>cut off her");
    let path = file("extract-damaged.xml", xml.as_bytes());
    let list = file("extract-damaged-ids.txt", ids.join("\n").as_bytes());
    let out = feedpipe(&with_record(&[
        "feed",
        "extract",
        s(&path),
        "--ids",
        &format!("@{}", s(&list)),
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{} bytes of partial output",
        out.stdout.len()
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(s(&path)) && err.contains("record 2001"),
        "{err}"
    );
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let (v1, v2) = feeds("errors");
    let gz = std::fs::read(&v2).unwrap();
    let cut = file("errors-cut.xml.gz", &gz[..gz.len() / 2]);
    let out = feedpipe(&with_record(&["feed", "index", s(&cut)]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(s(&cut)) && err.contains("truncated") && err.contains("record "),
        "{err}"
    );

    let out = feedpipe(&with_record(&["feed", "diff", s(&v1), s(&cut), "--json"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains(s(&cut)));

    let missing = v1.with_extension("nope");
    let out = feedpipe(&with_record(&[
        "feed",
        "extract",
        s(&missing),
        "--ids",
        "x",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains(s(&missing)));

    let out = feedpipe(&["feed", "index", s(&v1), "--record-tag", "job", "--id", "@"]);
    assert_eq!(out.status.code(), Some(2));
    let out = feedpipe(&["feed", "index", s(&v1), "--id", "reference"]);
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit 2");

    let out = feedpipe(&[
        "feed",
        "index",
        s(&v1),
        "--record-tag",
        "item",
        "--id",
        "reference",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no <item> records") && err.contains("check --record-tag"),
        "{err}"
    );
}

#[test]
fn limits_are_named_by_their_flag() {
    let xml = format!(
        "<jobs><job><reference>1</reference><t>{}</t></job></jobs>",
        "x".repeat(1 << 20)
    );
    let big = file("limits-big-record.xml", xml.as_bytes());
    for cmd in [
        &["feed", "index", s(&big)][..],
        &["feed", "extract", s(&big), "--ids", "1"],
    ] {
        let mut args = with_record(cmd);
        args.extend(["--max-record-mib", "1"]);
        let out = feedpipe(&args);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(s(&big))
                && err.contains("record 1 (id \"1\"), byte 6")
                && err.contains("larger than the limit of 1048576 bytes")
                && err.contains("--max-record-mib")
                && !err.contains("FeedOptions")
                && !err.contains("max_record_bytes"),
            "{err}"
        );
    }
    // A limit of 0 is a usage error naming the flag.
    let mut args = with_record(&["feed", "index", s(&big)]);
    args.extend(["--max-record-mib", "0"]);
    let out = feedpipe(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--max-record-mib"), "{err}");
}

/// A fresh, empty directory for temporary files.
fn tmp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("feed_cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn index_and_diff_spill_to_the_temp_dir_and_give_the_same_results() {
    let (v1, v2) = feeds("spill");
    let tmp = tmp_dir("spill-tmp");
    let (plain, spilled) = (
        v2.with_extension("plain.idx"),
        v2.with_extension("spilled.idx"),
    );
    let p = ok_json(&feedpipe(&with_record(&[
        "feed",
        "index",
        s(&v2),
        "-o",
        s(&plain),
        "--json",
    ])));
    assert_eq!(p["spilled_runs"], 0);
    // 1 KiB of entries: about 20 a run.
    let small = ["--index-memory-kib", "1", "--tmp-dir", s(&tmp)];
    let mut args = with_record(&["feed", "index", s(&v2), "-o", s(&spilled), "--json"]);
    args.extend(small);
    let v = ok_json(&feedpipe(&args));
    assert!(v["spilled_runs"].as_u64().unwrap() >= 10, "{v}");
    assert_eq!(v["feed_hash"], p["feed_hash"]);
    assert_eq!(
        std::fs::read(&spilled).unwrap(),
        std::fs::read(&plain).unwrap()
    );
    let mut args = with_record(&["feed", "diff", s(&v1), s(&v2), "--json"]);
    let want = ok_json(&feedpipe(&args));
    args.extend(small);
    let got = ok_json(&feedpipe(&args));
    assert_eq!(got, want);
    assert!(want["changed"].as_u64().unwrap() > 0);
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "temporary files left behind"
    );
}

#[test]
fn an_unusable_temp_dir_is_an_error_naming_it() {
    let (_, v2) = feeds("badtmp");
    let missing = tmp_dir("badtmp").join("not-there");
    let mut args = with_record(&["feed", "index", s(&v2)]);
    args.extend(["--index-memory-kib", "1", "--tmp-dir", s(&missing)]);
    let out = feedpipe(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(s(&missing)), "{err}");
}

#[test]
fn diff_refuses_indexes_built_with_other_options_naming_both() {
    let (v1, v2) = feeds("mismatch");
    let (i1, i2) = (v1.with_extension("idx"), v2.with_extension("null.idx"));
    assert!(
        feedpipe(&with_record(&["feed", "index", s(&v1), "-o", s(&i1)]))
            .status
            .success()
    );
    let mut args = with_record(&["feed", "index", s(&v2), "-o", s(&i2)]);
    args.extend(["--empty-cdata", "null"]);
    assert!(feedpipe(&args).status.success());
    // Two indexes, and an index against a feed read with the index's options' neighbours.
    for (old, new) in [(&i1, &i2), (&i2, &v1)] {
        let out = feedpipe(&with_record(&["feed", "diff", s(old), s(new), "--json"]));
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty(), "nothing on stdout");
        let err = String::from_utf8(out.stderr).unwrap();
        for part in [
            s(old),
            s(new),
            "built with different options",
            "--empty-cdata null",
            "--empty-cdata empty",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
    }
}

#[test]
fn run_refuses_bad_definitions_before_the_run() {
    for (name, definition, needles) in [
        (
            "array",
            r#"[{"StartAt": "A"}]"#,
            &["the definition must be a JSON object", "not an array"][..],
        ),
        (
            "timestamp",
            r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2026-02-30T00:00:00Z", "End": true}}}"#,
            &["state \"W\", Timestamp", "2026-02-30T00:00:00Z"][..],
        ),
        (
            "seconds",
            r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100000000, "End": true}}}"#,
            &["state \"W\", Seconds: 100000000 must be an integer from 0 to 99999999"][..],
        ),
    ] {
        let path = file(
            &format!("definition-{name}.asl.json"),
            definition.as_bytes(),
        );
        let out = feedpipe(&["run", "--definition", s(&path), "--input", "{}"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(s(&path)), "{name}: {err}");
        for n in needles {
            assert!(err.contains(n), "{name}: {n}: {err}");
        }
        assert!(out.stdout.is_empty(), "{name}: the run did not start");
    }
}
