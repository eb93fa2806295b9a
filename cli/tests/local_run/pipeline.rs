//! The pipeline's main job: a first delivery, an unchanged run, a new version's changes, and the
//! history written as AWS writes it.

use serde_json::Value;

use crate::common::{gen_feed, name_of, records_of, revision, Project};

fn counts(v: &Value) -> (u64, u64, u64, bool) {
    let d = &v["output"]["diff"];
    let n = |k: &str| d[k].as_u64().unwrap_or(0);
    (n("added"), n("changed"), n("removed"), d["updated"] == true)
}

#[test]
fn a_first_run_delivers_every_record_an_unchanged_run_nothing_and_v2_exactly_its_changes() {
    let p = Project::new();
    let v1 = gen_feed(5_000, None);
    p.write_feed(&v1);
    let (code, first) = p.run();
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["status"], "SUCCEEDED");
    assert_eq!(counts(&first), (5_000, 0, 0, true));
    p.sink.assert_holds(&v1);
    let current = p.current().expect("current.json after a delivery");

    let posts = p.sink.posts();
    let (code, same) = p.run();
    assert_eq!(code, 0, "{same}");
    assert_eq!(counts(&same), (0, 0, 0, false));
    assert_eq!(p.sink.posts(), posts, "an unchanged feed sends nothing");
    assert_eq!(p.current().unwrap(), current);

    let v2 = gen_feed(5_000, Some(&revision()));
    p.write_feed(&v2);
    let (old, new) = (records_of(&v1), records_of(&v2));
    let added = new.keys().filter(|k| !old.contains_key(*k)).count() as u64;
    let removed = old.keys().filter(|k| !new.contains_key(*k)).count() as u64;
    let changed = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
        .count() as u64;
    assert!(added > 0 && removed > 0 && changed > 0);
    let (code, second) = p.run();
    assert_eq!(code, 0, "{second}");
    assert_eq!(counts(&second), (added, changed, removed, true));
    p.sink.assert_holds(&v2);

    let posts = p.sink.posts();
    let (_, again) = p.run();
    assert_eq!(counts(&again), (0, 0, 0, false));
    assert_eq!(p.sink.posts(), posts);

    let outbox = p.outbox();
    assert_eq!(
        outbox.len(),
        2,
        "one notification per delivery (NoChange sends none)"
    );
    assert!(outbox[1]["Subject"]
        .as_str()
        .unwrap()
        .contains(&format!("{added} added")));

    let (code, list) = crate::common::json_of(p.feedpipe(&[
        "executions",
        "--feed",
        "jobs",
        "--status",
        "SUCCEEDED",
        "--json",
    ]));
    assert_eq!(code, 0);
    let names: Vec<&str> = list["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4);
    assert_eq!(names[0], name_of(&again), "newest first");
}

/// The types of a state's events, from its `*StateEntered` to its `*StateExited`.
fn state_events(events: &[Value], state: &str) -> Vec<String> {
    let start = events
        .iter()
        .position(|e| {
            e["type"].as_str().unwrap().ends_with("StateEntered")
                && e["stateEnteredEventDetails"]["name"] == state
        })
        .unwrap_or_else(|| panic!("{state} was not entered"));
    let mut out = Vec::new();
    for e in &events[start..] {
        let t = e["type"].as_str().unwrap().to_string();
        let done = t.ends_with("StateExited");
        out.push(t);
        if done {
            break;
        }
    }
    out
}

#[test]
fn history_events_come_in_aws_order_with_task_submitted_for_batch_jobs_only() {
    let p = Project::new();
    p.write_feed(&gen_feed(50, None));
    let (code, v) = p.run();
    assert_eq!(code, 0, "{v}");
    let events = p.history(&name_of(&v));
    let batch = [
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
    ];
    let plain = [
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
    ];
    for state in ["CheckFeed", "ConsumeFeed"] {
        assert_eq!(state_events(&events, state), batch, "{state}");
    }
    for state in ["DiffFeed", "Commit", "Shape", "Notify"] {
        assert_eq!(state_events(&events, state), plain, "{state}");
    }
    assert_eq!(events[0]["type"], "ExecutionStarted");
    assert_eq!(events.last().unwrap()["type"], "ExecutionSucceeded");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["id"], i as u64 + 1);
    }
    let submitted = events
        .iter()
        .find(|e| e["type"] == "TaskSubmitted")
        .unwrap();
    let output: Value = serde_json::from_str(
        submitted["taskSubmittedEventDetails"]["output"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(output["JobId"].is_string() && output["JobName"] == "feedpipe-check-jobs");
    let succeeded = events
        .iter()
        .find(|e| e["type"] == "TaskSucceeded")
        .unwrap();
    let job: Value = serde_json::from_str(
        succeeded["taskSucceededEventDetails"]["output"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(job["Status"], "SUCCEEDED");
    assert_eq!(job["Container"]["ExitCode"], 0);
    let log = job["Container"]["LogStreamName"].as_str().unwrap();
    assert!(log.ends_with("/CheckFeed-1.log"), "{log}");
    let text = std::fs::read_to_string(log).unwrap();
    assert!(text.contains("snapshot stored"), "{text}");
}
