//! The scheduler loop's decisions: which single tick is due, and when the next one is.

use schedule::{execution_name, tick_of_execution_name, Plan};

use super::{schedule, t, zone};

fn plan(expr: &str, tz: &str, last: Option<&str>, now: &str) -> Plan {
    schedule(expr).plan(zone(tz), last.map(t), t(now))
}

#[test]
fn a_tick_that_comes_due_is_started_once() {
    let daily = "cron(0 6 * * ? *)";
    // Just before: nothing due, wake at 06:00.
    let p = plan(
        daily,
        "UTC",
        Some("2026-12-01T06:00:00Z"),
        "2026-12-02T05:59:59Z",
    );
    assert_eq!(
        p,
        Plan {
            due: None,
            next: Some(t("2026-12-02T06:00:00Z"))
        }
    );
    // At 06:00 the tick is due; the next is tomorrow.
    let p = plan(
        daily,
        "UTC",
        Some("2026-12-01T06:00:00Z"),
        "2026-12-02T06:00:00Z",
    );
    assert_eq!(p.due, Some(t("2026-12-02T06:00:00Z")));
    assert_eq!(p.next, Some(t("2026-12-03T06:00:00Z")));
    // Once it is started, it is not due again.
    let p = plan(
        daily,
        "UTC",
        Some("2026-12-02T06:00:00Z"),
        "2026-12-02T06:00:40Z",
    );
    assert_eq!(
        p,
        Plan {
            due: None,
            next: Some(t("2026-12-03T06:00:00Z"))
        }
    );
}

#[test]
fn a_restart_after_missed_ticks_starts_only_the_latest_once() {
    // Down from the 1st after 06:00 to the 4th at 07:00: the 2nd, 3rd and 4th were missed.
    let p = plan(
        "cron(0 6 * * ? *)",
        "UTC",
        Some("2026-12-01T06:00:00Z"),
        "2026-12-04T07:00:00Z",
    );
    assert_eq!(p.due, Some(t("2026-12-04T06:00:00Z")));
    assert_eq!(p.next, Some(t("2026-12-05T06:00:00Z")));
    // Every minute, down for almost two years: still one tick, the latest.
    let p = plan(
        "rate(1 minute)",
        "UTC",
        Some("2025-01-01T00:00:00Z"),
        "2026-12-02T10:00:30Z",
    );
    assert_eq!(p.due, Some(t("2026-12-02T10:00:00Z")));
    assert_eq!(p.next, Some(t("2026-12-02T10:01:00Z")));
    // A sparse cron after a long downtime: the look-back widens until it finds the tick.
    let p = plan(
        "cron(0 9 ? * 3#2 *)",
        "Europe/Berlin",
        Some("2020-01-01T00:00:00Z"),
        "2026-12-20T00:00:00Z",
    );
    assert_eq!(p.due, Some(t("2026-12-08T08:00:00Z")));
    assert_eq!(p.next, Some(t("2027-01-12T08:00:00Z")));
    // A dense cron after a long downtime.
    let p = plan(
        "cron(* 0 * * ? *)",
        "UTC",
        Some("2026-01-01T00:00:00Z"),
        "2026-12-02T23:59:00Z",
    );
    assert_eq!(p.due, Some(t("2026-12-02T00:59:00Z")));
}

#[test]
fn a_new_schedule_does_not_fire_for_the_past() {
    let p = plan("cron(0 6 * * ? *)", "UTC", None, "2026-12-02T06:00:00Z");
    assert_eq!(
        p,
        Plan {
            due: None,
            next: Some(t("2026-12-03T06:00:00Z"))
        }
    );
    let p = plan(
        "at(2026-12-01T06:00:00)",
        "UTC",
        None,
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
    let at = "at(2026-12-02T06:00:00)";
    let p = plan(at, "UTC", None, "2026-12-01T00:00:00Z");
    assert_eq!(
        p,
        Plan {
            due: None,
            next: Some(t("2026-12-02T06:00:00Z"))
        }
    );
    let p = plan(
        at,
        "UTC",
        Some("2026-12-01T00:00:00Z"),
        "2026-12-02T06:00:05Z",
    );
    assert_eq!(
        p,
        Plan {
            due: Some(t("2026-12-02T06:00:00Z")),
            next: None
        }
    );
    let p = plan(
        at,
        "UTC",
        Some("2026-12-02T06:00:00Z"),
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
    let p = plan(
        "cron(0 6 * * ? *)",
        "UTC",
        Some("2026-12-05T06:00:00Z"),
        "2026-12-04T07:00:00Z",
    );
    assert_eq!(
        p,
        Plan {
            due: None,
            next: Some(t("2026-12-06T06:00:00Z"))
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
        Some("2027-10-31T00:30:00Z"),
        "2027-10-31T01:45:00Z",
    );
    assert_eq!(
        p,
        Plan {
            due: None,
            next: Some(t("2027-11-01T01:30:00Z"))
        }
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
        Some(t("2026-12-02T06:00:00Z"))
    );
    assert_eq!(
        tick_of_execution_name("my-jobs", "my-jobs-2026-12-02T06-00Z"),
        Some(t("2026-12-02T06:00:00Z"))
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
