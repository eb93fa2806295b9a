//! Processes that die: a Batch job killed with SIGKILL, `feedpipe` itself killed mid-consume, a
//! stopped execution, and a second run of a feed while one runs. Each ends with the sink holding
//! exactly the feed and one more run sending nothing.

use std::time::Duration;

use crate::common::{gen_feed, json_of, kill9, name_of, wait_for, worker_pids, Mode, Project};

/// One more run sends nothing.
fn nothing_more(p: &Project) {
    let posts = p.sink.posts();
    let (code, v) = p.run();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["output"]["diff"]["updated"], false);
    assert_eq!(p.sink.posts(), posts);
}

#[test]
fn consume_killed_with_sigkill_is_retried_or_redriven_to_the_exact_end_state() {
    let p = Project::new();
    let xml = gen_feed(2_000, None);
    p.write_feed(&xml);
    p.sink.set(Mode::Slow(25));
    let name = "killed-consume";
    let run = p
        .command(&["run", "--feed", "jobs", "--name", name, "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..2 {
        let pid = wait_for(60, || worker_pids("consume", name).first().copied());
        std::thread::sleep(Duration::from_millis(300));
        kill9(pid);
        wait_for(10, || {
            (!worker_pids("consume", name).contains(&pid)).then_some(())
        });
    }
    let out = run.wait_with_output().unwrap();
    let (code, v) = json_of(out);
    if code != 0 {
        assert_eq!(v["status"], "FAILED", "{v}");
        let (code, v) = p.redrive(name);
        assert_eq!(code, 0, "{v}");
    }
    p.sink.set(Mode::Ok);
    p.sink.assert_holds(&xml);
    nothing_more(&p);
}

#[test]
fn feedpipe_killed_mid_consume_is_marked_failed_and_redrives_to_the_exact_end_state() {
    let p = Project::new();
    let xml = gen_feed(2_000, None);
    p.write_feed(&xml);
    p.sink.set(Mode::Slow(25));
    let name = "killed-engine";
    let mut run = p
        .command(&["run", "--feed", "jobs", "--name", name])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let worker = wait_for(60, || worker_pids("consume", name).first().copied());
    std::thread::sleep(Duration::from_millis(200));
    kill9(run.id());
    run.wait().unwrap();
    // The job notices that its engine is gone and stops.
    wait_for(10, || {
        (!worker_pids("consume", name).contains(&worker)).then_some(())
    });

    let d = p.describe(name);
    assert_eq!(d["status"], "FAILED", "{d}");
    assert_eq!(d["error"], "States.Runtime");
    assert!(d["cause"].as_str().unwrap().contains("ConsumeFeed"), "{d}");
    let events = p.history(name);
    assert_eq!(events.last().unwrap()["type"], "ExecutionFailed");
    assert!(p.current().is_none());

    p.sink.set(Mode::Ok);
    let (code, v) = p.redrive(name);
    assert_eq!(code, 0, "{v}");
    p.sink.assert_holds(&xml);
    nothing_more(&p);
}

#[test]
fn a_second_run_of_a_running_feed_is_refused_and_a_stopped_run_redrives() {
    let p = Project::new();
    let xml = gen_feed(1_000, None);
    p.write_feed(&xml);
    p.sink.set(Mode::Slow(50));
    let out = p.feedpipe(&["start", "--feed", "jobs", "--name", "first"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "first");
    wait_for(60, || worker_pids("consume", "first").first().copied());

    let out = p.feedpipe(&["run", "--feed", "jobs", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"first\""), "{err}");

    let out = p.feedpipe(&["stop", "first"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = p.describe("first");
    assert_eq!(d["status"], "ABORTED");
    wait_for(10, || {
        worker_pids("consume", "first").is_empty().then_some(())
    });

    p.sink.set(Mode::Ok);
    let (code, v) = p.redrive("first");
    assert_eq!(code, 0, "{v}");
    assert_eq!(name_of(&v), "first");
    p.sink.assert_holds(&xml);
    nothing_more(&p);
}
