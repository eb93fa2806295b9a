//! Parsing the six fields of `cron(minutes hours day-of-month month day-of-week year)`.
//!
//! Each field is a comma-separated list of elements; an element is `*`, a value, a range
//! `a-b`, any of these with a step `/n` (a bare value with a step, `a/n`, runs from `a` to the
//! field's end), or one of the day fields' special forms: `L` and `nW` in day-of-month, `L`
//! and `d#n` in day-of-week. `?` stands alone in one of the two day fields.

use super::set::ValueSet;
use super::{Cron, Days, DomSpec, DowSpec};
use crate::error::{CronField, ScheduleError};

const MONTH_NAMES: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One field's shape: its values and, for month and day-of-week, the names of its values.
struct Spec {
    field: CronField,
    min: u16,
    max: u16,
    names: &'static [&'static str],
}

const MINUTES: Spec = Spec {
    field: CronField::Minutes,
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Spec = Spec {
    field: CronField::Hours,
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: Spec = Spec {
    field: CronField::DayOfMonth,
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Spec = Spec {
    field: CronField::Month,
    min: 1,
    max: 12,
    names: MONTH_NAMES,
};
const DAY_OF_WEEK: Spec = Spec {
    field: CronField::DayOfWeek,
    min: 1,
    max: 7,
    names: DAY_NAMES,
};
const YEAR: Spec = Spec {
    field: CronField::Year,
    min: 1970,
    max: 2199,
    names: &[],
};

/// A day field before the rule binding the two day fields is checked.
enum DayField<T> {
    /// `?`
    Any,
    /// exactly `*`
    Star,
    /// anything else
    Given(T),
}

/// Parses the text between `cron(` and `)`; `expr` is the whole expression, for errors.
pub(crate) fn parse_cron(expr: &str, body: &str) -> Result<Cron, ScheduleError> {
    let fields: Vec<&str> = body.split_ascii_whitespace().collect();
    let [minutes, hours, dom, month, dow, year] = fields[..] else {
        return Err(ScheduleError::CronFieldCount {
            expr: expr.to_owned(),
            found: fields.len(),
        });
    };
    let err = |field: CronField, value: &str, reason: String| ScheduleError::CronField {
        expr: expr.to_owned(),
        field,
        value: value.to_owned(),
        reason,
    };
    let plain = |spec: &Spec, text: &str| {
        parse_plain_field(spec, text).map_err(|(value, reason)| err(spec.field, &value, reason))
    };
    let minutes = plain(&MINUTES, minutes)?;
    let hours = plain(&HOURS, hours)?;
    let dom_field = parse_dom_field(dom).map_err(|(v, r)| err(CronField::DayOfMonth, &v, r))?;
    let months = plain(&MONTH, month)?;
    let dow_field = parse_dow_field(dow).map_err(|(v, r)| err(CronField::DayOfWeek, &v, r))?;
    let years = plain(&YEAR, year)?;

    let days_err = |reason: &str| ScheduleError::CronDays {
        expr: expr.to_owned(),
        reason: reason.to_owned(),
    };
    let days =
        match (dom_field, dow_field) {
            (DayField::Any, DayField::Any) => return Err(days_err(
                "day-of-month and day-of-week cannot both be '?': one of them must say which days",
            )),
            (DayField::Star, DayField::Star) => {
                return Err(days_err(
                    "day-of-month and day-of-week cannot both be '*': one must be '?'",
                ))
            }
            (DayField::Any, DayField::Star) => Days::Week(DowSpec::Days(all(&DAY_OF_WEEK))),
            (DayField::Any, DayField::Given(dow)) => Days::Week(dow),
            (DayField::Star, DayField::Any) => Days::Month(DomSpec {
                days: all(&DAY_OF_MONTH),
                last: false,
                nearest_weekday: ValueSet::empty(1),
            }),
            (DayField::Given(dom), DayField::Any) => Days::Month(dom),
            (_, _) => {
                return Err(days_err(
                    "day-of-month and day-of-week cannot both be set: one must be '?'",
                ))
            }
        };
    Ok(Cron {
        minutes,
        hours,
        days,
        months,
        years,
    })
}

/// An error inside a field: the element at fault and the reason.
type FieldError = (String, String);

fn all(spec: &Spec) -> ValueSet {
    let mut set = ValueSet::empty(spec.min);
    set.insert_steps(spec.min, spec.max, 1);
    set
}

/// Splits a field into its list elements, refusing empty ones and a misplaced `?`.
fn elements<'a>(spec: &Spec, text: &'a str) -> Result<Vec<&'a str>, FieldError> {
    let parts: Vec<&str> = text.split(',').collect();
    for part in &parts {
        if part.is_empty() {
            return Err((text.to_owned(), "empty element in the list".to_owned()));
        }
        if part.contains('?') {
            let reason = match spec.field {
                CronField::DayOfMonth | CronField::DayOfWeek => "'?' must be the whole field",
                _ => "'?' is only allowed in day-of-month and day-of-week",
            };
            return Err((part.to_string(), reason.to_owned()));
        }
    }
    Ok(parts)
}

/// A field made only of `*`, values, ranges and steps (minutes, hours, month, year).
fn parse_plain_field(spec: &Spec, text: &str) -> Result<ValueSet, FieldError> {
    let mut set = ValueSet::empty(spec.min);
    for element in elements(spec, text)? {
        let (lo, hi, step) = parse_range_step(spec, element, true)?;
        set.insert_steps(lo, hi, step);
    }
    Ok(set)
}

fn parse_dom_field(text: &str) -> Result<DayField<DomSpec>, FieldError> {
    match text {
        "?" => return Ok(DayField::Any),
        "*" => return Ok(DayField::Star),
        _ => {}
    }
    let spec = &DAY_OF_MONTH;
    let mut dom = DomSpec {
        days: ValueSet::empty(1),
        last: false,
        nearest_weekday: ValueSet::empty(1),
    };
    for element in elements(spec, text)? {
        if element.eq_ignore_ascii_case("L") {
            dom.last = true;
        } else if let Some(day) = element
            .strip_suffix(['W', 'w'])
            .filter(|day| !day.is_empty() && !day.contains(['L', 'l']))
        {
            let day = parse_value(spec, day).map_err(|reason| (element.to_owned(), reason))?;
            dom.nearest_weekday.insert(day);
        } else if element.contains(['L', 'l', 'W', 'w']) {
            return Err((
                element.to_owned(),
                "'L' (last day of the month) stands alone and 'W' follows one day number \
                 (e.g. '15W', the weekday nearest the 15th)"
                    .to_owned(),
            ));
        } else if element.contains('#') {
            return Err((
                element.to_owned(),
                "'#' is only allowed in day-of-week".to_owned(),
            ));
        } else {
            let (lo, hi, step) = parse_range_step(spec, element, true)?;
            dom.days.insert_steps(lo, hi, step);
        }
    }
    Ok(DayField::Given(dom))
}

fn parse_dow_field(text: &str) -> Result<DayField<DowSpec>, FieldError> {
    match text {
        "?" => return Ok(DayField::Any),
        "*" => return Ok(DayField::Star),
        _ => {}
    }
    let spec = &DAY_OF_WEEK;
    let parts = elements(spec, text)?;
    if let Some((nth, (day, n))) = parts.iter().find_map(|p| Some((*p, p.split_once('#')?))) {
        if parts.len() > 1 {
            return Err((
                text.to_owned(),
                "a '#' expression must be the only expression in day-of-week (e.g. '3#2'), \
                 not part of a list"
                    .to_owned(),
            ));
        }
        let weekday = parse_value(spec, day).map_err(|reason| (nth.to_string(), reason))?;
        let nth_value = match n.parse::<u8>() {
            Ok(v @ 1..=5) if n.bytes().all(|b| b.is_ascii_digit()) => v,
            _ => {
                return Err((
                    nth.to_string(),
                    format!("'{n}' after '#' must be 1-5 (which occurrence in the month)"),
                ))
            }
        };
        return Ok(DayField::Given(DowSpec::Nth {
            weekday,
            nth: nth_value,
        }));
    }
    let mut days = ValueSet::empty(1);
    for element in parts {
        if element.eq_ignore_ascii_case("L") {
            days.insert(7);
        } else if element.contains(['L', 'l']) {
            return Err((
                element.to_owned(),
                "'L' in day-of-week stands alone (the last day of the week, Saturday)".to_owned(),
            ));
        } else if element
            .strip_suffix(['W', 'w'])
            .is_some_and(|day| parse_number(day).is_some())
        {
            return Err((
                element.to_owned(),
                "'W' is only allowed in day-of-month".to_owned(),
            ));
        } else {
            let (lo, hi, step) = parse_range_step(spec, element, false)?;
            days.insert_steps(lo, hi, step);
        }
    }
    Ok(DayField::Given(DowSpec::Days(days)))
}

/// `*`, `v`, `a-b`, and with `allow_step` also `*/n`, `v/n`, `a-b/n`: the first value, the
/// last value and the step.
fn parse_range_step(
    spec: &Spec,
    element: &str,
    allow_step: bool,
) -> Result<(u16, u16, u16), FieldError> {
    let fail = |reason: String| (element.to_owned(), reason);
    let (base, step) = match element.split_once('/') {
        Some(_) if !allow_step => {
            return Err(fail(format!("'/' is not allowed in {}", spec.field)));
        }
        Some((base, step)) => (base, Some(step)),
        None => (element, None),
    };
    let (lo, hi) = if base == "*" {
        (spec.min, spec.max)
    } else if let Some((a, b)) = base.split_once('-') {
        let lo = parse_value(spec, a).map_err(fail)?;
        let hi = parse_value(spec, b).map_err(fail)?;
        if lo > hi {
            return Err(fail(format!(
                "range {a}-{b} runs backwards: write it from the lower value to the higher"
            )));
        }
        (lo, hi)
    } else {
        let v = parse_value(spec, base).map_err(fail)?;
        (v, if step.is_some() { spec.max } else { v })
    };
    let step = match step {
        None => 1,
        Some(text) => {
            let span = spec.max - spec.min + 1;
            match parse_number(text) {
                Some(n) if (1..=u32::from(span)).contains(&n) => n as u16,
                _ => {
                    return Err(fail(format!(
                        "step '{text}' after '/' must be a whole number from 1 to {span}"
                    )))
                }
            }
        }
    };
    Ok((lo, hi, step))
}

/// One value of the field: a number in its range, or one of its names (any case).
fn parse_value(spec: &Spec, text: &str) -> Result<u16, String> {
    if let Some(n) = parse_number(text) {
        return match u16::try_from(n) {
            Ok(v) if (spec.min..=spec.max).contains(&v) => Ok(v),
            _ => Err(format!(
                "{n} is out of range: {} values are {}-{}{}",
                spec.field,
                spec.min,
                spec.max,
                names_hint(spec)
            )),
        };
    }
    if let Some(i) = spec.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(spec.min + i as u16);
    }
    let what = if text.is_empty() {
        "a value is missing".to_owned()
    } else {
        format!("'{text}' is not a value")
    };
    Err(format!(
        "{what}: {} values are {}-{}{}",
        spec.field,
        spec.min,
        spec.max,
        names_hint(spec)
    ))
}

fn names_hint(spec: &Spec) -> String {
    match (spec.names.first(), spec.names.last()) {
        (Some(first), Some(last)) => format!(" or {first}-{last}"),
        _ => String::new(),
    }
}

/// A run of ASCII digits (at most 9, so it fits), else `None`.
fn parse_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
