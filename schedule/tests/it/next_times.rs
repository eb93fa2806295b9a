//! Fire times: a table of expressions, zones and instants against the next fire times.

use super::{schedule, show, t, zone};

/// One case: expression, zone, `after`, then the next fire times expected, in order
/// (`never` once the schedule is over).
struct Case {
    expr: &'static str,
    tz: &'static str,
    after: &'static str,
    expected: &'static [&'static str],
}

const fn case(
    expr: &'static str,
    tz: &'static str,
    after: &'static str,
    expected: &'static [&'static str],
) -> Case {
    Case {
        expr,
        tz,
        after,
        expected,
    }
}

const UTC: &str = "UTC";
const BERLIN: &str = "Europe/Berlin";
const NEW_YORK: &str = "America/New_York";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Plain daily and stepped cron expressions.
    case("cron(0 6 * * ? *)", UTC, "2026-12-02T05:59:59Z", &["2026-12-02T06:00:00Z", "2026-12-03T06:00:00Z"]),
    case("cron(0 6 * * ? *)", UTC, "2026-12-02T06:00:00Z", &["2026-12-03T06:00:00Z"]),
    case("cron(0 6 * * ? *)", UTC, "2026-12-02T06:00:30Z", &["2026-12-03T06:00:00Z"]),
    case("cron(*/15 * * * ? *)", UTC, "2026-12-02T10:07:00Z", &["2026-12-02T10:15:00Z", "2026-12-02T10:30:00Z"]),
    case("cron(5/20 * * * ? *)", UTC, "2026-12-02T10:26:00Z", &["2026-12-02T10:45:00Z", "2026-12-02T11:05:00Z"]),
    case("cron(10-40/10 9 * * ? *)", UTC, "2026-12-02T09:40:00Z", &["2026-12-03T09:10:00Z", "2026-12-03T09:20:00Z"]),
    case("cron(0,30 8-9 * * ? *)", UTC, "2026-12-02T08:00:00Z", &["2026-12-02T08:30:00Z", "2026-12-02T09:00:00Z", "2026-12-02T09:30:00Z", "2026-12-03T08:00:00Z"]),
    case("cron(59 23 31 12 ? *)", UTC, "2026-12-31T23:59:00Z", &["2027-12-31T23:59:00Z"]),
    // Day-of-week: names, ranges, numbers (1 = Sunday), L = Saturday.
    case("cron(0 18 ? * MON-FRI *)", UTC, "2026-12-04T18:00:00Z", &["2026-12-07T18:00:00Z", "2026-12-08T18:00:00Z"]),
    case("cron(0 12 ? * 1,7 *)", UTC, "2026-12-02T00:00:00Z", &["2026-12-05T12:00:00Z", "2026-12-06T12:00:00Z", "2026-12-12T12:00:00Z"]),
    case("cron(0 12 ? * sat *)", UTC, "2026-12-02T00:00:00Z", &["2026-12-05T12:00:00Z"]),
    case("cron(0 12 ? * L *)", UTC, "2026-12-02T00:00:00Z", &["2026-12-05T12:00:00Z", "2026-12-12T12:00:00Z"]),
    // Month names and steps.
    case("cron(0 0 1 JAN,jul ? *)", UTC, "2026-12-02T00:00:00Z", &["2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"]),
    case("cron(0 0 1 */4 ? *)", UTC, "2026-12-02T00:00:00Z", &["2027-01-01T00:00:00Z", "2027-05-01T00:00:00Z", "2027-09-01T00:00:00Z"]),
    // L: the month's last day, leap years included (2100 is not a leap year).
    case("cron(0 0 L * ? *)", UTC, "2028-02-01T00:00:00Z", &["2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z", "2028-04-30T00:00:00Z"]),
    case("cron(0 0 L 2 ? *)", UTC, "2027-01-01T00:00:00Z", &["2027-02-28T00:00:00Z", "2028-02-29T00:00:00Z"]),
    case("cron(0 0 L 2 ? *)", UTC, "2100-01-01T00:00:00Z", &["2100-02-28T00:00:00Z"]),
    case("cron(0 0 15,L * ? *)", UTC, "2026-12-02T00:00:00Z", &["2026-12-15T00:00:00Z", "2026-12-31T00:00:00Z", "2027-01-15T00:00:00Z"]),
    // Month ends: a day the month lacks is skipped.
    case("cron(0 0 31 * ? *)", UTC, "2026-04-01T00:00:00Z", &["2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"]),
    case("cron(0 0 29 2 ? *)", UTC, "2026-03-01T00:00:00Z", &["2028-02-29T00:00:00Z"]),
    case("cron(0 0 29 2 ? *)", UTC, "2096-03-01T00:00:00Z", &["2104-02-29T00:00:00Z"]),
    case("cron(0 0 30 2 ? *)", UTC, "2026-01-01T00:00:00Z", &["never"]),
    // W: the nearest weekday, never leaving the month.
    case("cron(0 9 15W * ? *)", UTC, "2026-08-01T00:00:00Z", &["2026-08-14T09:00:00Z", "2026-09-15T09:00:00Z"]),
    case("cron(0 9 16W 8 ? *)", UTC, "2026-08-01T00:00:00Z", &["2026-08-17T09:00:00Z"]),
    case("cron(0 9 1W 8 ? *)", UTC, "2026-07-01T00:00:00Z", &["2026-08-03T09:00:00Z"]),
    case("cron(0 9 1W 2 ? *)", UTC, "2026-01-01T00:00:00Z", &["2026-02-02T09:00:00Z"]),
    case("cron(0 9 31W * ? *)", UTC, "2026-04-01T00:00:00Z", &["2026-05-29T09:00:00Z"]),
    // #: the nth weekday of the month; months without a fifth Friday are skipped.
    case("cron(0 10 ? * 3#2 *)", UTC, "2026-12-01T00:00:00Z", &["2026-12-08T10:00:00Z", "2027-01-12T10:00:00Z"]),
    case("cron(0 10 ? * FRI#5 *)", UTC, "2026-12-01T00:00:00Z", &["2027-01-29T10:00:00Z", "2027-04-30T10:00:00Z"]),
    case("cron(0 10 ? * 2#1 *)", UTC, "2027-02-02T00:00:00Z", &["2027-03-01T10:00:00Z"]),
    // Years: bounds 1970-2199, ranges, steps, the end of time.
    case("cron(0 0 1 1 ? 2030-2031)", UTC, "2026-12-02T00:00:00Z", &["2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z", "never"]),
    case("cron(0 0 1 1 ? 1970/100)", UTC, "1969-06-01T00:00:00Z", &["1970-01-01T00:00:00Z", "2070-01-01T00:00:00Z", "2170-01-01T00:00:00Z", "never"]),
    case("cron(59 23 31 12 ? 2199)", UTC, "2199-12-31T23:58:00Z", &["2199-12-31T23:59:00Z", "never"]),
    case("cron(0 0 * * ? *)", UTC, "2199-12-31T00:00:00Z", &["never"]),
    // Time zones: wall-clock times of the zone.
    case("cron(0 6 * * ? *)", BERLIN, "2026-12-01T12:00:00Z", &["2026-12-02T05:00:00Z"]),
    case("cron(0 6 * * ? *)", BERLIN, "2027-06-01T12:00:00Z", &["2027-06-02T04:00:00Z"]),
    case("cron(0 6 * * ? *)", NEW_YORK, "2027-01-01T12:00:00Z", &["2027-01-02T11:00:00Z"]),
    case("cron(0 0 * * ? *)", "Asia/Kolkata", "2026-12-02T00:00:00Z", &["2026-12-02T18:30:00Z"]),
    case("cron(0 0 1 * ? *)", NEW_YORK, "2026-12-01T04:59:00Z", &["2026-12-01T05:00:00Z", "2027-01-01T05:00:00Z"]),
    // Spring forward: a local time that does not exist that day is skipped.
    case("cron(30 2 * * ? *)", BERLIN, "2027-03-27T12:00:00Z", &["2027-03-29T00:30:00Z"]),
    case("cron(0 2 * * ? *)", NEW_YORK, "2027-03-13T12:00:00Z", &["2027-03-15T06:00:00Z"]),
    case("cron(0 * * * ? *)", BERLIN, "2027-03-28T00:30:00Z", &["2027-03-28T01:00:00Z", "2027-03-28T02:00:00Z"]),
    // Fall back: a local time that happens twice fires once, the first time.
    case("cron(30 2 * * ? *)", BERLIN, "2027-10-30T12:00:00Z", &["2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"]),
    case("cron(30 1 * * ? *)", NEW_YORK, "2027-11-06T12:00:00Z", &["2027-11-07T05:30:00Z", "2027-11-08T06:30:00Z"]),
    case("cron(*/30 * * * ? *)", BERLIN, "2027-10-31T00:15:00Z", &["2027-10-31T00:30:00Z", "2027-10-31T02:00:00Z"]),
    case("cron(30 2 * * ? *)", BERLIN, "2027-10-31T01:00:00Z", &["2027-11-01T01:30:00Z"]),
    // Rate: fixed periods from the Unix epoch, whatever the zone.
    case("rate(1 day)", UTC, "2026-12-02T05:00:00Z", &["2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z"]),
    case("rate(1 day)", BERLIN, "2027-03-27T05:00:00Z", &["2027-03-28T00:00:00Z", "2027-03-29T00:00:00Z"]),
    case("rate(15 minutes)", UTC, "2026-12-02T10:07:30Z", &["2026-12-02T10:15:00Z", "2026-12-02T10:30:00Z"]),
    case("rate(15 minutes)", UTC, "2026-12-02T10:15:00Z", &["2026-12-02T10:30:00Z"]),
    case("rate(1 minute)", NEW_YORK, "2026-12-02T10:15:59Z", &["2026-12-02T10:16:00Z"]),
    case("rate(1 hour)", "Asia/Kolkata", "2026-12-02T10:15:00Z", &["2026-12-02T11:00:00Z"]),
    case("rate(5 hours)", UTC, "2026-12-02T00:00:00Z", &["2026-12-02T04:00:00Z", "2026-12-02T09:00:00Z"]),
    case("rate(7 days)", UTC, "2026-12-02T00:00:00Z", &["2026-12-03T00:00:00Z", "2026-12-10T00:00:00Z"]),
    // One-time: a wall-clock time in the zone, once.
    case("at(2026-12-02T06:00:00)", UTC, "2026-12-01T00:00:00Z", &["2026-12-02T06:00:00Z", "never"]),
    case("at(2026-12-02T06:00:00)", UTC, "2026-12-02T06:00:00Z", &["never"]),
    case("at(2026-12-02T06:00:00)", BERLIN, "2026-12-01T00:00:00Z", &["2026-12-02T05:00:00Z"]),
    case("at(2027-03-28T02:30:00)", BERLIN, "2027-01-01T00:00:00Z", &["never"]),
    case("at(2027-10-31T02:30:00)", BERLIN, "2027-01-01T00:00:00Z", &["2027-10-31T00:30:00Z", "never"]),
];

#[test]
fn next_fire_times_match_the_table() {
    let mut failures = Vec::new();
    for c in CASES {
        let s = schedule(c.expr);
        let got: Vec<String> = {
            let mut times: Vec<String> = s
                .upcoming(super::t(c.after), zone(c.tz))
                .take(c.expected.len())
                .map(|t| show(Some(t)))
                .collect();
            if times.len() < c.expected.len() {
                times.push(show(None));
            }
            times
        };
        if got != c.expected {
            failures.push(format!(
                "{} in {} after {}: expected {:?}, got {:?}",
                c.expr, c.tz, c.after, c.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn next_after_is_strict_and_agrees_with_upcoming() {
    let s = schedule("cron(0 6 * * ? *)");
    let utc = zone("UTC");
    let tick = t("2026-12-02T06:00:00Z");
    assert_eq!(s.next_after(tick, utc), Some(t("2026-12-03T06:00:00Z")));
    assert_eq!(s.next_after(t("2026-12-02T05:59:59.999Z"), utc), Some(tick));
    assert!(!s.is_one_time());
    assert!(schedule("at(2026-12-02T06:00:00)").is_one_time());
}

#[test]
fn expression_and_display_keep_the_text() {
    let s: schedule::Schedule = "cron(0 6 ? * MON-FRI *)".parse().unwrap();
    assert_eq!(s.expression(), "cron(0 6 ? * MON-FRI *)");
    assert_eq!(s.to_string(), "cron(0 6 ? * MON-FRI *)");
}
