//! Faults: a sink that is down or flaky, and feeds that are not what they should be. Whatever
//! fails, the last delivered state stays as it was, the failure is announced, and a redrive or
//! the next run delivers exactly the new version; one more run then sends nothing.

use crate::common::{gen_feed, name_of, revision, Mode, Project};

#[test]
fn a_sink_down_fails_the_run_keeps_current_and_a_redrive_delivers_exactly_the_new_version() {
    let p = Project::new();
    let v1 = gen_feed(1_000, None);
    p.write_feed(&v1);
    assert_eq!(p.run().0, 0);
    let current = p.current().unwrap();

    let v2 = gen_feed(1_000, Some(&revision()));
    p.write_feed(&v2);
    p.sink.set(Mode::Fail(500));
    let (code, failed) = p.run();
    assert_eq!(code, 1, "{failed}");
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["error"], "States.TaskFailed");
    let job: serde_json::Value = serde_json::from_str(failed["cause"].as_str().unwrap()).unwrap();
    assert_eq!(job["Status"], "FAILED");
    assert_eq!(
        job["Attempts"].as_array().unwrap().len(),
        3,
        "the job definition's attempts"
    );
    assert_eq!(p.current().unwrap(), current, "current.json is untouched");
    let last = p.outbox().pop().unwrap();
    assert!(
        last["Message"].as_str().unwrap().contains("FAILED"),
        "{last}"
    );
    let name = name_of(&failed);
    let d = p.describe(&name);
    assert_eq!(d["status"], "FAILED");
    let graph = p.feedpipe(&["graph", &name]);
    let dot = String::from_utf8_lossy(&graph.stdout);
    assert!(
        dot.contains(
            "\"ConsumeFeed\" [label=\"ConsumeFeed\\n(Task)\", shape=box, fillcolor=\"#ffcdd2\"]"
        ),
        "the failed state is red: {dot}"
    );
    assert!(dot.contains(
        "\"Updated?\" -> \"ConsumeFeed\" [label=\"$.diff.updated BooleanEquals true\", penwidth=3]"
    ));

    p.sink.set(Mode::Ok);
    let (code, redriven) = p.redrive(&name);
    assert_eq!(code, 0, "{redriven}");
    assert_eq!(redriven["status"], "SUCCEEDED");
    assert!(
        redriven["error"].is_null() && redriven["cause"].is_null(),
        "{redriven}"
    );
    p.sink.assert_holds(&v2);
    assert_ne!(p.current().unwrap(), current);
    let events = p.history(&name);
    assert!(events.iter().any(|e| e["type"] == "ExecutionRedriven"));

    let posts = p.sink.posts();
    assert_eq!(p.run().1["output"]["diff"]["updated"], false);
    assert_eq!(p.sink.posts(), posts);

    let out = p.feedpipe(&["redrive", &name]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a SUCCEEDED execution is not redrivable"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is SUCCEEDED"), "{err}");
}

#[test]
fn a_sink_that_fails_a_few_posts_is_retried_to_success() {
    let p = Project::new();
    let v1 = gen_feed(1_000, None);
    p.write_feed(&v1);
    p.sink.set(Mode::FailNext(2));
    let (code, v) = p.run();
    assert_eq!(code, 0, "{v}");
    p.sink.assert_holds(&v1);
    assert!(p.sink.posts() > p.sink.applied_batches());
}

/// Runs a bad feed: FAILED naming what `cause_has` lists, no POST, nothing committed; then the
/// good feed delivers and one more run sends nothing.
fn bad_feed_then_fixed(bytes: &[u8], cause_has: &[&str]) {
    let p = Project::new();
    p.write_feed_bytes(bytes);
    let (code, v) = p.run();
    assert_eq!(code, 1, "{v}");
    let name = name_of(&v);
    let d = p.describe(&name);
    assert_eq!(d["status"], "FAILED");
    let cause = d["cause"].as_str().unwrap();
    for needle in cause_has {
        assert!(
            cause.contains(needle),
            "{needle:?} not in the cause: {cause}"
        );
    }
    assert_eq!(p.sink.posts(), 0, "nothing is sent from a bad feed");
    assert!(p.current().is_none(), "nothing is committed");

    let good = gen_feed(200, None);
    p.write_feed(&good);
    let (code, v) = p.run();
    assert_eq!(code, 0, "{v}");
    p.sink.assert_holds(&good);
    let posts = p.sink.posts();
    p.run();
    assert_eq!(p.sink.posts(), posts);
}

#[test]
fn a_truncated_gzip_fails_the_check_naming_it() {
    let gz = feed::generate::gzip(&gen_feed(300, None));
    bad_feed_then_fixed(&gz[..gz.len() / 2], &["feed.xml.gz", "gzip"]);
}

#[test]
fn a_malformed_record_fails_naming_the_record_and_byte() {
    let xml = String::from_utf8(gen_feed(50, None)).unwrap();
    let at = xml.match_indices("<job ").nth(7).unwrap().0;
    let broken = format!(
        "{}<job><reference>BAD-1</reference><title>unclosed</job>\n{}",
        &xml[..at],
        &xml[at..]
    );
    bad_feed_then_fixed(
        &feed::generate::gzip(broken.as_bytes()),
        &["record 8", "byte"],
    );
}

#[test]
fn a_record_without_an_id_fails_naming_the_record() {
    let xml = String::from_utf8(gen_feed(50, None)).unwrap();
    let at = xml.match_indices("<job ").nth(3).unwrap().0;
    let broken = format!(
        "{}<job><title>no id here</title></job>\n{}",
        &xml[..at],
        &xml[at..]
    );
    bad_feed_then_fixed(
        &feed::generate::gzip(broken.as_bytes()),
        &["record 4", "reference"],
    );
}

#[test]
fn duplicate_ids_fail_naming_both_records() {
    let xml = String::from_utf8(gen_feed(50, None)).unwrap();
    let dup = format!(
        "<job><reference>{}</reference><title>again</title></job>",
        feed::generate::record_id(0)
    );
    let at = xml.match_indices("<job ").nth(10).unwrap().0;
    let broken = format!("{}{dup}\n{}", &xml[..at], &xml[at..]);
    bad_feed_then_fixed(
        &feed::generate::gzip(broken.as_bytes()),
        &["duplicate", "record 1"],
    );
}
