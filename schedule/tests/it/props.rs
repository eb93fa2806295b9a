//! Properties: parsing never panics, and fire times are strictly increasing with none missed.

use proptest::prelude::*;
use proptest::sample::select;
use schedule::chrono::{DateTime, Duration, Utc};
use schedule::Schedule;

use super::zone;

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];

/// Valid expressions built from the documented pieces.
fn valid_expression() -> impl Strategy<Value = String> {
    let minutes = select(&["0", "*", "*/15", "5/20", "0,30", "10-40/10", "59"][..]);
    let hours = select(&["6", "*", "0-23/6", "9-17", "2", "1,2,3", "*/5"][..]);
    let days = select(
        &[
            ("*", "?"),
            ("L", "?"),
            ("15W", "?"),
            ("1W", "?"),
            ("1,15", "?"),
            ("29", "?"),
            ("31", "?"),
            ("10-20/3", "?"),
            ("?", "*"),
            ("?", "MON-FRI"),
            ("?", "3#2"),
            ("?", "6#5"),
            ("?", "L"),
            ("?", "1,7"),
        ][..],
    );
    let months = select(&["*", "JAN,JUL", "2", "*/3", "MAR-NOV"][..]);
    let years = select(&["*", "2020-2199", "2030", "1970/7"][..]);
    let rates = select(
        &[
            "rate(1 minute)",
            "rate(7 minutes)",
            "rate(1 hour)",
            "rate(3 days)",
        ][..],
    );
    prop_oneof![
        4 => (minutes, hours, days, months, years).prop_map(|(mi, h, (dom, dow), mo, y)| {
            format!("cron({mi} {h} {dom} {mo} {dow} {y})")
        }),
        1 => rates.prop_map(str::to_owned),
        1 => (2000u32..2100, 1u32..13, 1u32..29, 0u32..24).prop_map(|(y, mo, d, h)| {
            format!("at({y:04}-{mo:02}-{d:02}T{h:02}:30:00)")
        }),
    ]
}

/// Strings near the grammar, to reach deep into the parser.
fn near_expression() -> impl Strategy<Value = String> {
    let body = "[0-9*?,/#LW -]{0,12}( [0-9A-Za-z*?,/#-]{0,8}){0,7}";
    (
        select(&["cron(", "rate(", "at(", ""][..]),
        body,
        select(&[")", ""][..]),
    )
        .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 1960 to 2210: both ends of the cron years are crossed.
    (-315_619_200i64..7_605_000_000).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_never_panics_on_any_string(s in any::<String>()) {
        let _ = Schedule::parse(&s);
    }

    #[test]
    fn parse_never_panics_near_the_grammar(s in near_expression()) {
        if let Ok(schedule) = Schedule::parse(&s) {
            // Whatever parses can be evaluated without panicking.
            let _ = schedule.next_after(DateTime::from_timestamp(1_764_000_000, 0).unwrap(), zone("Europe/Berlin"));
        }
    }

    #[test]
    fn next_after_is_strictly_increasing_and_misses_nothing(
        expr in valid_expression(),
        tz in select(ZONES),
        after in instant(),
    ) {
        let schedule = Schedule::parse(&expr).unwrap();
        let tz = zone(tz);
        let mut previous = after;
        for fire in schedule.upcoming(after, tz).take(4) {
            prop_assert!(fire > previous, "{expr}: {fire} not after {previous}");
            // Nothing fires between two consecutive fire times: from any instant in between,
            // the next fire time is the same.
            let just_before = fire - Duration::seconds(1);
            if just_before >= previous {
                prop_assert_eq!(schedule.next_after(just_before, tz), Some(fire), "{}", expr);
            }
            previous = fire;
        }
    }

    #[test]
    fn plan_starts_the_latest_missed_tick(
        expr in valid_expression(),
        tz in select(ZONES),
        last in instant(),
        gap_minutes in 0i64..20_000,
    ) {
        let schedule = Schedule::parse(&expr).unwrap();
        let tz = zone(tz);
        let now = last + Duration::minutes(gap_minutes);
        let plan = schedule.plan(tz, last, now);
        let latest = schedule.upcoming(last, tz).take_while(|t| *t <= now).last();
        prop_assert_eq!(plan.due, latest, "{}", expr);
        prop_assert_eq!(plan.next, schedule.next_after(now, tz), "{}", expr);
    }
}
