//! The scheduler loop's decisions: which single tick is due, and when the next one is; and a
//! loop on a fake clock, restarts included, starting each tick once.

use std::collections::BTreeSet;

use schedule::chrono::{DateTime, Duration, Utc};
use schedule::{execution_name, tick_of_execution_name, Plan};

use super::{schedule, t, zone};

fn plan(expr: &str, tz: &str, since: &str, now: &str) -> Plan {
    schedule(expr).plan(zone(tz), t(since), t(now))
}

fn at(time: &str) -> Option<DateTime<Utc>> {
    Some(t(time))
}

const DAILY: &str = "cron(0 6 * * ? *)";

#[test]
fn a_tick_that_comes_due_is_started_once() {
    // Just before: nothing due, wake at 06:00.
    let p = plan(DAILY, "UTC", "2026-12-01T06:00:00Z", "2026-12-02T05:59:59Z");
    assert_eq!(
        p,
        Plan {
            due: None,
            next: at("2026-12-02T06:00:00Z")
        }
    );
    // At 06:00 the tick is due; the next is tomorrow.
    let p = plan(DAILY, "UTC", "2026-12-01T06:00:00Z", "2026-12-02T06:00:00Z");
    assert_eq!(
        p,
        Plan {
            due: at("2026-12-02T06:00:00Z"),
            next: at("2026-12-03T06:00:00Z")
        }
    );
    // Once it is started, it is not due again.
    let p = plan(DAILY, "UTC", "2026-12-02T06:00:00Z", "2026-12-02T06:00:40Z");
    assert_eq!(
        p,
        Plan {
            due: None,
            next: at("2026-12-03T06:00:00Z")
        }
    );
}

#[test]
fn a_restart_after_missed_ticks_starts_only_the_latest_once() {
    // Down from the 1st after 06:00 to the 4th at 07:00: the 2nd, 3rd and 4th were missed.
    let p = plan(DAILY, "UTC", "2026-12-01T06:00:00Z", "2026-12-04T07:00:00Z");
    assert_eq!(
        p,
        Plan {
            due: at("2026-12-04T06:00:00Z"),
            next: at("2026-12-05T06:00:00Z")
        }
    );
    // Every minute, down for almost two years: still one tick, the latest.
    let p = plan(
        "rate(1 minute)",
        "UTC",
        "2025-01-01T00:00:00Z",
        "2026-12-02T10:00:30Z",
    );
    assert_eq!(
        p,
        Plan {
            due: at("2026-12-02T10:00:00Z"),
            next: at("2026-12-02T10:01:00Z")
        }
    );
    // A sparse cron after a long downtime: the look-back widens until it finds the tick.
    let second_tuesday = "cron(0 9 ? * 3#2 *)";
    let p = plan(
        second_tuesday,
        "Europe/Berlin",
        "2020-01-01T00:00:00Z",
        "2026-12-20T00:00:00Z",
    );
    assert_eq!(
        p,
        Plan {
            due: at("2026-12-08T08:00:00Z"),
            next: at("2027-01-12T08:00:00Z")
        }
    );
    // A dense cron after a long downtime.
    let p = plan(
        "cron(* 0 * * ? *)",
        "UTC",
        "2026-01-01T00:00:00Z",
        "2026-12-02T23:59:00Z",
    );
    assert_eq!(p.due, at("2026-12-02T00:59:00Z"));
}

#[test]
fn a_new_schedule_does_not_fire_for_the_past() {
    // Taken on at 05:00: yesterday's 06:00 is not due; today's is, once its time comes.
    let p = plan(DAILY, "UTC", "2026-12-02T05:00:00Z", "2026-12-02T05:00:00Z");
    assert_eq!(
        p,
        Plan {
            due: None,
            next: at("2026-12-02T06:00:00Z")
        }
    );
    let p = plan(DAILY, "UTC", "2026-12-02T05:00:00Z", "2026-12-02T06:00:01Z");
    assert_eq!(p.due, at("2026-12-02T06:00:00Z"));
    let one_time = "at(2026-12-01T06:00:00)";
    let p = plan(
        one_time,
        "UTC",
        "2026-12-02T05:00:00Z",
        "2026-12-02T06:00:00Z",
    );
    assert_eq!(
        p,
        Plan {
            due: None,
            next: None
        }
    );
}

#[test]
fn a_one_time_schedule_fires_once() {
    let one_time = "at(2026-12-02T06:00:00)";
    let p = plan(
        one_time,
        "UTC",
        "2026-12-01T00:00:00Z",
        "2026-12-01T00:00:00Z",
    );
    assert_eq!(
        p,
        Plan {
            due: None,
            next: at("2026-12-02T06:00:00Z")
        }
    );
    let p = plan(
        one_time,
        "UTC",
        "2026-12-01T00:00:00Z",
        "2026-12-02T06:00:05Z",
    );
    assert_eq!(
        p,
        Plan {
            due: at("2026-12-02T06:00:00Z"),
            next: None
        }
    );
    let p = plan(
        one_time,
        "UTC",
        "2026-12-02T06:00:00Z",
        "2026-12-03T00:00:00Z",
    );
    assert_eq!(
        p,
        Plan {
            due: None,
            next: None
        }
    );
}

#[test]
fn a_clock_that_went_backwards_never_repeats_a_tick() {
    let p = plan(DAILY, "UTC", "2026-12-05T06:00:00Z", "2026-12-04T07:00:00Z");
    assert_eq!(
        p,
        Plan {
            due: None,
            next: at("2026-12-06T06:00:00Z")
        }
    );
}

#[test]
fn the_fall_back_hour_does_not_fire_twice() {
    // 02:30 happens twice in Berlin on 2027-10-31; it fired at its first occurrence.
    let cron = "cron(30 2 * * ? *)";
    let p = plan(
        cron,
        "Europe/Berlin",
        "2027-10-31T00:30:00Z",
        "2027-10-31T01:45:00Z",
    );
    assert_eq!(
        p,
        Plan {
            due: None,
            next: at("2027-11-01T01:30:00Z")
        }
    );
}

/// The loop as `feedpipe schedule` runs it, on a fake clock: wakes at `next` (plus a little
/// lateness), starts what is due under its execution name (refused if the name exists, as the
/// execution store does), and is killed for a while in the middle. Returns the names started.
fn run_loop(expr: &str, tz: &str, from: &str, until: &str, down: (&str, &str)) -> Vec<String> {
    let (s, tz) = (schedule(expr), zone(tz));
    let (until, down_from, down_to) = (t(until), t(down.0), t(down.1));
    let mut started: Vec<String> = Vec::new();
    let mut names = BTreeSet::new();
    let mut now = t(from);
    let mut since = now;
    while now <= until {
        if now >= down_from && now < down_to {
            // Killed: on restart, `since` comes back from the execution names alone.
            now = down_to;
            since = names
                .iter()
                .filter_map(|n: &String| tick_of_execution_name("jobs", n))
                .max()
                .unwrap_or(now);
            continue;
        }
        let p = s.plan(tz, since, now);
        if let Some(tick) = p.due {
            let name = execution_name("jobs", tick);
            assert!(names.insert(name.clone()), "{name} started twice");
            started.push(name);
            since = tick;
        }
        match p.next {
            Some(next) => now = next + Duration::milliseconds(350),
            None => break,
        }
    }
    started
}

#[test]
fn a_loop_on_a_fake_clock_starts_each_tick_once_and_only_the_latest_after_downtime() {
    let started = run_loop(
        "cron(0 6,18 * * ? *)",
        "Europe/Berlin",
        "2027-03-26T12:00:00Z",
        "2027-04-01T12:00:00Z",
        ("2027-03-28T12:00:00Z", "2027-03-30T18:00:00Z"),
    );
    assert_eq!(
        started,
        [
            "jobs-2027-03-26T17-00Z",
            "jobs-2027-03-27T05-00Z",
            "jobs-2027-03-27T17-00Z",
            "jobs-2027-03-28T04-00Z", // 06:00 CEST: clocks went forward that night
            // down from the 28th 12:00Z to the 30th 18:00Z: five ticks missed, the latest runs
            "jobs-2027-03-30T16-00Z",
            "jobs-2027-03-31T04-00Z",
            "jobs-2027-03-31T16-00Z",
            "jobs-2027-04-01T04-00Z",
        ]
    );
    let started = run_loop(
        "rate(1 hour)",
        "UTC",
        "2026-12-02T09:30:00Z",
        "2026-12-02T14:30:00Z",
        ("2026-12-02T11:10:00Z", "2026-12-02T11:20:00Z"),
    );
    assert_eq!(
        started,
        [
            "jobs-2026-12-02T10-00Z",
            "jobs-2026-12-02T11-00Z",
            "jobs-2026-12-02T12-00Z",
            "jobs-2026-12-02T13-00Z",
            "jobs-2026-12-02T14-00Z",
        ]
    );
}

#[test]
fn execution_names_come_from_the_tick_in_utc_minutes() {
    assert_eq!(
        execution_name("jobs", t("2026-12-02T06:00:00Z")),
        "jobs-2026-12-02T06-00Z"
    );
    assert_eq!(
        execution_name("jobs", t("2026-12-02T06:00:59Z")),
        "jobs-2026-12-02T06-00Z"
    );
    assert_eq!(
        execution_name("jobs", t("2026-12-02T07:00:00+01:00")),
        "jobs-2026-12-02T06-00Z"
    );
    assert_eq!(
        tick_of_execution_name("jobs", "jobs-2026-12-02T06-00Z"),
        at("2026-12-02T06:00:00Z")
    );
    assert_eq!(
        tick_of_execution_name("my-jobs", "my-jobs-2026-12-02T06-00Z"),
        at("2026-12-02T06:00:00Z")
    );
    for (feed, name) in [
        ("jobs", "jobs-manual-run"),
        ("jobs", "other-2026-12-02T06-00Z"),
        ("jobs", "jobs-x-2026-12-02T06-00Z"),
        ("jobs", "jobs-2026-12-02T06-00"),
        ("jobs", "jobs-2026-12-02T6-00Z"),
        ("jobs", "jobs-2026-13-02T06-00Z"),
        ("jobs", "jobs2026-12-02T06-00Z"),
    ] {
        assert_eq!(tick_of_execution_name(feed, name), None, "{name}");
    }
}
