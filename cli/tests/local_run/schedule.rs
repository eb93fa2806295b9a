//! `feedpipe schedule`: the plan of cron and rate expressions, refusals with their reason, and
//! the scheduler itself on a simulated clock, starting each tick once, and after a restart only
//! the latest missed tick.

use serde_json::Value;

use crate::common::{gen_feed, json_of, Project};

fn plan(p: &Project, from: &str, count: &str) -> Vec<(String, String)> {
    let (code, v) = json_of(p.feedpipe(&[
        "schedule", "--plan", "--from", from, "--count", count, "--json",
    ]));
    assert_eq!(code, 0, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["feed"], "jobs");
            (
                e["time"].as_str().unwrap().to_string(),
                e["execution"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_plan_of_cron_and_rate_expressions_is_what_eventbridge_fires() {
    let cases: &[(&str, Option<&str>, &str, &[&str])] = &[
        (
            "cron(0 6 * * ? *)",
            None,
            "2026-12-02T05:59:00Z",
            &[
                "2026-12-02T06:00:00Z",
                "2026-12-03T06:00:00Z",
                "2026-12-04T06:00:00Z",
            ],
        ),
        (
            "cron(30 7 ? * MON-FRI *)",
            Some("Europe/Berlin"),
            "2026-12-04T12:00:00Z",
            &[
                "2026-12-07T06:30:00Z",
                "2026-12-08T06:30:00Z",
                "2026-12-09T06:30:00Z",
            ],
        ),
        (
            "cron(0 9 L * ? *)",
            None,
            "2027-01-31T10:00:00Z",
            &[
                "2027-02-28T09:00:00Z",
                "2027-03-31T09:00:00Z",
                "2027-04-30T09:00:00Z",
            ],
        ),
        (
            "cron(0 12 ? * 3#2 *)",
            None,
            "2026-12-01T00:00:00Z",
            &[
                "2026-12-08T12:00:00Z",
                "2027-01-12T12:00:00Z",
                "2027-02-09T12:00:00Z",
            ],
        ),
        (
            "rate(6 hours)",
            None,
            "2026-12-02T05:00:00Z",
            &[
                "2026-12-02T06:00:00Z",
                "2026-12-02T12:00:00Z",
                "2026-12-02T18:00:00Z",
            ],
        ),
    ];
    for (expr, tz, from, want) in cases {
        let p = Project::with_schedule(expr, *tz);
        let got = plan(&p, from, "3");
        let times: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(&times, want, "{expr} in {tz:?} from {from}");
        let first = want[0].replace(':', "-");
        assert_eq!(got[0].1, format!("jobs-{}Z", &first[..16]), "{expr}");
    }
}

#[test]
fn invalid_expressions_are_refused_with_the_reason() {
    for (expr, reason) in [
        ("cron(0 6 * * * *)", "day-of-week"),
        ("cron(0 6 ? * 3#1,6#3 *)", "#"),
        ("rate(1 minutes)", "singular"),
    ] {
        let p = Project::with_schedule(expr, None);
        let out = p.feedpipe(&["schedule", "--plan", "--json"]);
        assert_eq!(out.status.code(), Some(2), "{expr}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(reason) && err.contains("schedule"),
            "{expr}: {err}"
        );
    }
    let p = Project::with_schedule("rate(1 day)", Some("Mars/Olympus"));
    let out = p.feedpipe(&["schedule", "--plan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Mars/Olympus"));
}

fn tick_executions(p: &Project) -> Vec<String> {
    let (_, v) = json_of(p.feedpipe(&["executions", "--json"]));
    let mut names: Vec<String> = v["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e: &Value| e["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn the_scheduler_starts_each_tick_once_and_after_a_restart_only_the_latest_missed_one() {
    let p = Project::with_schedule("rate(1 minute)", None);
    p.write_feed(&gen_feed(20, None));
    // A simulated minute lasts 2 s: three ticks from 06:00:30.
    let out = p.feedpipe(&[
        "schedule",
        "--clock-from",
        "2026-12-02T06:00:30Z",
        "--clock-speed",
        "30",
        "--stop-after",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        tick_executions(&p),
        [
            "jobs-2026-12-02T06-01Z",
            "jobs-2026-12-02T06-02Z",
            "jobs-2026-12-02T06-03Z"
        ]
    );
    // Restarted later: the ticks of 06:04 to 06:06 were missed; only 06:06 starts, at once.
    let out = p.feedpipe(&[
        "schedule",
        "--clock-from",
        "2026-12-02T06:06:20Z",
        "--clock-speed",
        "30",
        "--stop-after",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = tick_executions(&p);
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(names[3], "jobs-2026-12-02T06-06Z");
    // Restarted at a time already handled: nothing starts twice; the next tick is 06:07.
    let out = p.feedpipe(&[
        "schedule",
        "--clock-from",
        "2026-12-02T06:05:50Z",
        "--clock-speed",
        "60",
        "--stop-after",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = tick_executions(&p);
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(names[4], "jobs-2026-12-02T06-07Z");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("jobs-2026-12-02T06-07Z SUCCEEDED"),
        "{stdout}"
    );
}
