//! Every documented refusal, with the message a user sees.

use schedule::{parse_time_zone, CronField, Schedule, ScheduleError};

/// Expression, then the exact message of its refusal.
#[rustfmt::skip]
const REFUSALS: &[(&str, &str)] = &[
    // Not a schedule expression at all.
    ("", ": not a schedule expression: expected rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"),
    ("0 6 * * ? *", "0 6 * * ? *: not a schedule expression: expected rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"),
    (" cron(0 6 * * ? *)", " cron(0 6 * * ? *): not a schedule expression: expected rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"),
    ("CRON(0 6 * * ? *)", "CRON(0 6 * * ? *): not a schedule expression: expected rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"),
    ("cron(0 6 * * ? *", "cron(0 6 * * ? *: not a schedule expression: expected rate(value unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"),
    // Rate: a positive integer and a unit whose number agrees with it.
    ("rate(1 minutes)", "rate(1 minutes): a value of 1 takes the singular unit: 'rate(1 minute)'"),
    ("rate(1 hours)", "rate(1 hours): a value of 1 takes the singular unit: 'rate(1 hour)'"),
    ("rate(1 days)", "rate(1 days): a value of 1 takes the singular unit: 'rate(1 day)'"),
    ("rate(2 minute)", "rate(2 minute): a value above 1 takes the plural unit: 'rate(2 minutes)'"),
    ("rate(12 hour)", "rate(12 hour): a value above 1 takes the plural unit: 'rate(12 hours)'"),
    ("rate(3 day)", "rate(3 day): a value above 1 takes the plural unit: 'rate(3 days)'"),
    ("rate(0 minutes)", "rate(0 minutes): value must be positive, not 0"),
    ("rate(-5 minutes)", "rate(-5 minutes): value '-5' must be a positive whole number"),
    ("rate(1.5 hours)", "rate(1.5 hours): value '1.5' must be a positive whole number"),
    ("rate(5 seconds)", "rate(5 seconds): unit 'seconds' must be minute(s), hour(s) or day(s)"),
    ("rate(2 weeks)", "rate(2 weeks): unit 'weeks' must be minute(s), hour(s) or day(s)"),
    ("rate(5 Minutes)", "rate(5 Minutes): unit 'Minutes' must be minute(s), hour(s) or day(s)"),
    ("rate(5)", "rate(5): a rate expression is 'rate(value unit)', two parts, found 1"),
    ("rate(5 minutes now)", "rate(5 minutes now): a rate expression is 'rate(value unit)', two parts, found 3"),
    ("rate(9999999999999 days)", "rate(9999999999999 days): value '9999999999999' is too large"),
    // Cron: six fields.
    ("cron(0 6 * * ?)", "cron(0 6 * * ?): a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), found 5"),
    ("cron(0 0 6 * * ? *)", "cron(0 0 6 * * ? *): a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), found 7"),
    // Cron: exactly one of the day fields is '?'.
    ("cron(0 6 * * * *)", "cron(0 6 * * * *): day-of-month and day-of-week cannot both be '*': one must be '?'"),
    ("cron(0 6 ? * ? *)", "cron(0 6 ? * ? *): day-of-month and day-of-week cannot both be '?': one of them must say which days"),
    ("cron(0 6 1 * MON *)", "cron(0 6 1 * MON *): day-of-month and day-of-week cannot both be set: one must be '?'"),
    ("cron(0 6 * * MON *)", "cron(0 6 * * MON *): day-of-month and day-of-week cannot both be set: one must be '?'"),
    ("cron(0 6 15 * * *)", "cron(0 6 15 * * *): day-of-month and day-of-week cannot both be set: one must be '?'"),
    // Cron: values in range.
    ("cron(60 6 * * ? *)", "cron(60 6 * * ? *): minutes '60': 60 is out of range: minutes values are 0-59"),
    ("cron(0 24 * * ? *)", "cron(0 24 * * ? *): hours '24': 24 is out of range: hours values are 0-23"),
    ("cron(0 6 0 * ? *)", "cron(0 6 0 * ? *): day-of-month '0': 0 is out of range: day-of-month values are 1-31"),
    ("cron(0 6 32 * ? *)", "cron(0 6 32 * ? *): day-of-month '32': 32 is out of range: day-of-month values are 1-31"),
    ("cron(0 6 1 13 ? *)", "cron(0 6 1 13 ? *): month '13': 13 is out of range: month values are 1-12 or JAN-DEC"),
    ("cron(0 6 ? * 0 *)", "cron(0 6 ? * 0 *): day-of-week '0': 0 is out of range: day-of-week values are 1-7 or SUN-SAT"),
    ("cron(0 6 ? * 8 *)", "cron(0 6 ? * 8 *): day-of-week '8': 8 is out of range: day-of-week values are 1-7 or SUN-SAT"),
    ("cron(0 6 * * ? 1969)", "cron(0 6 * * ? 1969): year '1969': 1969 is out of range: year values are 1970-2199"),
    ("cron(0 6 * * ? 2200)", "cron(0 6 * * ? 2200): year '2200': 2200 is out of range: year values are 1970-2199"),
    ("cron(0 6 1 JANUARY ? *)", "cron(0 6 1 JANUARY ? *): month 'JANUARY': 'JANUARY' is not a value: month values are 1-12 or JAN-DEC"),
    ("cron(0 6 ? * MONDAY *)", "cron(0 6 ? * MONDAY *): day-of-week 'MONDAY': 'MONDAY' is not a value: day-of-week values are 1-7 or SUN-SAT"),
    ("cron(0 SIX * * ? *)", "cron(0 SIX * * ? *): hours 'SIX': 'SIX' is not a value: hours values are 0-23"),
    ("cron(0 JAN * * ? *)", "cron(0 JAN * * ? *): hours 'JAN': 'JAN' is not a value: hours values are 0-23"),
    // Cron: lists, ranges, steps.
    ("cron(0,,30 6 * * ? *)", "cron(0,,30 6 * * ? *): minutes '0,,30': empty element in the list"),
    ("cron(0 6, * * ? *)", "cron(0 6, * * ? *): hours '6,': empty element in the list"),
    ("cron(0 20-4 * * ? *)", "cron(0 20-4 * * ? *): hours '20-4': range 20-4 runs backwards: write it from the lower value to the higher"),
    ("cron(0 6 ? * FRI-MON *)", "cron(0 6 ? * FRI-MON *): day-of-week 'FRI-MON': range FRI-MON runs backwards: write it from the lower value to the higher"),
    ("cron(0 6 1- * ? *)", "cron(0 6 1- * ? *): day-of-month '1-': a value is missing: day-of-month values are 1-31"),
    ("cron(*/0 6 * * ? *)", "cron(*/0 6 * * ? *): minutes '*/0': step '0' after '/' must be a whole number from 1 to 60"),
    ("cron(*/61 6 * * ? *)", "cron(*/61 6 * * ? *): minutes '*/61': step '61' after '/' must be a whole number from 1 to 60"),
    ("cron(0/x 6 * * ? *)", "cron(0/x 6 * * ? *): minutes '0/x': step 'x' after '/' must be a whole number from 1 to 60"),
    ("cron(0 6 ? * MON/2 *)", "cron(0 6 ? * MON/2 *): day-of-week 'MON/2': '/' is not allowed in day-of-week"),
    // Cron: '?' only as a whole day field.
    ("cron(? 6 * * ? *)", "cron(? 6 * * ? *): minutes '?': '?' is only allowed in day-of-month and day-of-week"),
    ("cron(0 6 * ? ? *)", "cron(0 6 * ? ? *): month '?': '?' is only allowed in day-of-month and day-of-week"),
    ("cron(0 6 1,? * ? *)", "cron(0 6 1,? * ? *): day-of-month '?': '?' must be the whole field"),
    // Cron: L, W and # where they belong, in their documented forms.
    ("cron(0 6 LW * ? *)", "cron(0 6 LW * ? *): day-of-month 'LW': 'L' (last day of the month) stands alone and 'W' follows one day number (e.g. '15W', the weekday nearest the 15th)"),
    ("cron(0 6 L-3 * ? *)", "cron(0 6 L-3 * ? *): day-of-month 'L-3': 'L' (last day of the month) stands alone and 'W' follows one day number (e.g. '15W', the weekday nearest the 15th)"),
    ("cron(0 6 32W * ? *)", "cron(0 6 32W * ? *): day-of-month '32W': 32 is out of range: day-of-month values are 1-31"),
    ("cron(0 6 1-5W * ? *)", "cron(0 6 1-5W * ? *): day-of-month '1-5W': '1-5' is not a value: day-of-month values are 1-31"),
    ("cron(0 6 1#2 * ? *)", "cron(0 6 1#2 * ? *): day-of-month '1#2': '#' is only allowed in day-of-week"),
    ("cron(0 6 ? * 6L *)", "cron(0 6 ? * 6L *): day-of-week '6L': 'L' in day-of-week stands alone (the last day of the week, Saturday)"),
    ("cron(0 6 ? * 2W *)", "cron(0 6 ? * 2W *): day-of-week '2W': 'W' is only allowed in day-of-month"),
    ("cron(0 6 ? * 3#1,6#3 *)", "cron(0 6 ? * 3#1,6#3 *): day-of-week '3#1,6#3': a '#' expression must be the only expression in day-of-week (e.g. '3#2'), not part of a list"),
    ("cron(0 6 ? * 3#6 *)", "cron(0 6 ? * 3#6 *): day-of-week '3#6': '6' after '#' must be 1-5 (which occurrence in the month)"),
    ("cron(0 6 ? * 3#0 *)", "cron(0 6 ? * 3#0 *): day-of-week '3#0': '0' after '#' must be 1-5 (which occurrence in the month)"),
    ("cron(0 6 ? * 9#1 *)", "cron(0 6 ? * 9#1 *): day-of-week '9#1': 9 is out of range: day-of-week values are 1-7 or SUN-SAT"),
    ("cron(L 6 * * ? *)", "cron(L 6 * * ? *): minutes 'L': 'L' is not a value: minutes values are 0-59"),
    // One-time.
    ("at(2026-12-02 06:00:00)", "at(2026-12-02 06:00:00): '2026-12-02 06:00:00' is not a date and time in the form yyyy-mm-ddThh:mm:ss"),
    ("at(2026-12-02T06:00)", "at(2026-12-02T06:00): '2026-12-02T06:00' is not a date and time in the form yyyy-mm-ddThh:mm:ss"),
    ("at(2026-12-02T06:00:00Z)", "at(2026-12-02T06:00:00Z): '2026-12-02T06:00:00Z' is not a date and time in the form yyyy-mm-ddThh:mm:ss"),
    ("at(2026-02-30T06:00:00)", "at(2026-02-30T06:00:00): 2026-02-30 is not a date"),
    ("at(2027-02-29T06:00:00)", "at(2027-02-29T06:00:00): 2027-02-29 is not a date"),
    ("at(2026-12-02T24:00:00)", "at(2026-12-02T24:00:00): 24:00:00 is not a time of day"),
];

#[test]
fn every_refusal_says_why() {
    let mut failures = Vec::new();
    for (expr, message) in REFUSALS {
        match Schedule::parse(expr) {
            Ok(s) => failures.push(format!("{expr}: accepted as {s:?}")),
            Err(e) if e.to_string() != *message => {
                failures.push(format!("{expr}:\n  expected {message}\n  got      {e}"))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn refusals_are_matchable_by_kind_and_field() {
    assert!(matches!(
        Schedule::parse("cron(0 24 * * ? *)"),
        Err(ScheduleError::CronField {
            field: CronField::Hours,
            ..
        })
    ));
    assert!(matches!(
        Schedule::parse("cron(0 6 * * * *)"),
        Err(ScheduleError::CronDays { .. })
    ));
    assert!(matches!(
        Schedule::parse("rate(1 minutes)"),
        Err(ScheduleError::Rate { .. })
    ));
}

#[test]
fn accepted_forms_of_the_documentation() {
    for expr in [
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 6 L * ? *)",
        "cron(0 6 3W * ? *)",
        "cron(0 6 ? * L *)",
        "cron(0 6 * JAN,FEB,MAR ? 2027-2030)",
        "cron( 0  6 * * ? * )",
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "at(2026-12-02T06:00:00)",
    ] {
        if let Err(e) = Schedule::parse(expr) {
            panic!("{expr} refused: {e}");
        }
    }
}

#[test]
fn time_zones_are_iana_names() {
    for name in [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Kolkata",
        "Etc/UTC",
    ] {
        assert!(parse_time_zone(name).is_ok(), "{name}");
    }
    assert_eq!(
        parse_time_zone("Mars/Olympus").unwrap_err().to_string(),
        "unknown time zone 'Mars/Olympus': expected an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York'"
    );
}
