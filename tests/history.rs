//! Compares an execution's history with the one AWS recorded, event by event: type, `id`,
//! `previousEventId` and the `*EventDetails`, placeholder-aware.
//!
//! Rules:
//! - A recorded event with a numeric id must be our event with that id, of the same type, with
//!   the same `previousEventId`, and with the same details.
//! - The recordings sorted the branch events of Parallel states (whose interleaving varies from
//!   run to run on AWS) and replaced their ids by `[0]`, dropping some events on the way (the
//!   numbered ids jump). Such an event must be found, by type and details, among our events
//!   between the numbered events around it; our other events there are not checked.
//! - Details: every key of the recorded details must be present in ours with a matching value,
//!   and ours must have no key the recording lacks. `input`, `output` and `parameters` are JSON
//!   text on both sides (the recording parsed some of them into objects): they are compared as
//!   JSON values, as are the values of `assignedVariables`. A recorded cause that is a JSON
//!   object matches a cause text that parses to it.
//! - Reversed recordings (`reverseOrder=True`) are compared after putting them back in order.
//! - One link changed on AWS's side: see [`older_map_run_link`].

use serde_json::{Map, Value};
use statemachine::engine::HistoryEvent;

use crate::compare::same;

/// `Ok` if `got` is the history AWS recorded for `case` (its `history`), else what differs
/// first.
pub fn compare(case: &Value, got: &[HistoryEvent], placeholders: &[String]) -> Result<(), String> {
    let expected = case["history"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if expected.is_empty() {
        return Ok(());
    }
    let reversed = case["source"]["snapshot_key"]
        .as_str()
        .is_some_and(|k| k.contains("reverseOrder[True]"));
    let before_late_2024 = recorded_before(case, (2024, 11, 1));
    let mut placeholders = placeholders.to_vec();
    placeholders.extend(transformer_tokens(expected));
    let placeholders = &placeholders[..];
    let ours: Vec<Value> = got
        .iter()
        .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
        .collect();
    let mut exp: Vec<&Value> = expected.iter().collect();
    if reversed {
        exp.reverse();
    }
    let types = || {
        format!(
            "\n      got      {}\n      expected {}",
            ours.iter()
                .map(|e| e["type"].as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" "),
            exp.iter()
                .map(|e| e["type"].as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let mut floor = 0usize;
    let mut masked: Vec<&Value> = Vec::new();
    let end = Value::Null;
    for e in exp.iter().copied().chain(std::iter::once(&end)) {
        let id = match e {
            Value::Null => Some(ours.len() as u64 + 1),
            e => e["id"].as_u64(),
        };
        let Some(id) = id else {
            masked.push(e);
            continue;
        };
        let at = usize::try_from(id).unwrap_or(usize::MAX);
        if at <= floor || at > ours.len() + 1 {
            return Err(format!("history: no event #{id} where expected{}", types()));
        }
        let mut window: Vec<&Value> = ours[floor..at - 1].iter().collect();
        if masked.is_empty() && !window.is_empty() {
            let extra = window[0];
            return Err(format!(
                "history: event #{} {} is not in the recording{}",
                extra["id"],
                extra["type"],
                types()
            ));
        }
        for m in masked.drain(..) {
            match window
                .iter()
                .position(|w| event_matches(m, w, placeholders))
            {
                Some(i) => {
                    window.swap_remove(i);
                }
                None => {
                    return Err(format!(
                    "history: recorded branch event {} {} not found between #{floor} and #{id}{}",
                    m["type"],
                    details_of(m)
                        .map(|d| Value::Object(d.clone()))
                        .unwrap_or_default(),
                    types()
                ))
                }
            }
        }
        floor = at;
        if e.is_null() {
            break;
        }
        let our = &ours[at - 1];
        if our["type"] != e["type"] {
            return Err(format!(
                "history: event #{id} is {} (expected {}){}",
                our["type"],
                e["type"],
                types()
            ));
        }
        if our["previousEventId"] != e["previousEventId"]
            && !(before_late_2024 && older_map_run_link(e, our, &ours))
        {
            return Err(format!(
                "history: event #{id} {} has previousEventId {} (expected {})",
                e["type"], our["previousEventId"], e["previousEventId"]
            ));
        }
        if let Err(why) = details_match(e, our, placeholders) {
            return Err(format!("history: event #{id} {}: {why}", e["type"]));
        }
    }
    let last_numbered = exp.iter().rev().find_map(|e| e["id"].as_u64());
    if exp.last().is_some_and(|e| e["id"].is_u64()) && last_numbered != Some(ours.len() as u64) {
        return Err(format!(
            "history: {} events (expected {}){}",
            ours.len(),
            last_numbered.unwrap_or(0),
            types()
        ));
    }
    Ok(())
}

/// Recordings made before AWS changed how a distributed Map's exit links (between August and
/// November 2024): `MapStateExited` then followed `MapRunSucceeded`; now, and in our history, it
/// follows `MapRunStarted` (the event `MapRunSucceeded` itself follows).
fn older_map_run_link(exp: &Value, our: &Value, ours: &[Value]) -> bool {
    let event = |id: &Value| {
        id.as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| ours.get(i.checked_sub(1)?))
    };
    exp["type"] == "MapStateExited"
        && event(&exp["previousEventId"]).is_some_and(|run_succeeded| {
            run_succeeded["type"] == "MapRunSucceeded"
                && run_succeeded["previousEventId"] == our["previousEventId"]
                && event(&our["previousEventId"]).is_some_and(|e| e["type"] == "MapRunStarted")
        })
}

/// Whether the case was recorded before `(year, month, day)` (`source.recorded_date` is
/// `DD-MM-YYYY, hh:mm:ss`).
fn recorded_before(case: &Value, date: (u32, u32, u32)) -> bool {
    let text = case["source"]["recorded_date"].as_str().unwrap_or_default();
    let mut parts = text
        .split([',', ' '])
        .next()
        .unwrap_or_default()
        .split('-')
        .map(|p| p.parse::<u32>().ok());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Some(d)), Some(Some(m)), Some(Some(y))) => (y, m, d) < date,
        _ => false,
    }
}

/// Whether our event `w` is the recorded (id-less) event `m`.
fn event_matches(m: &Value, w: &Value, placeholders: &[String]) -> bool {
    m["type"] == w["type"] && details_match(m, w, placeholders).is_ok()
}

/// The details object of an event (the one key besides id, type, timestamps).
fn details_of(e: &Value) -> Option<&Map<String, Value>> {
    e.as_object()?
        .iter()
        .find(|(k, _)| k.ends_with("EventDetails"))
        .and_then(|(_, v)| v.as_object())
}

fn details_match(exp: &Value, got: &Value, placeholders: &[String]) -> Result<(), String> {
    let empty = Map::new();
    let e = details_of(exp).unwrap_or(&empty);
    let g = details_of(got).unwrap_or(&empty);
    if let Some(k) = g.keys().find(|k| !e.contains_key(*k)) {
        return Err(format!("our details have {k:?}, the recording does not"));
    }
    for (k, ev) in e {
        let Some(gv) = g.get(k) else {
            return Err(format!("the recorded details have {k:?}, ours do not"));
        };
        let (ev, gv) = normalize(k, ev, gv);
        if !same(&ev, &gv, placeholders) {
            return Err(format!("{k} {gv}\n      expected {ev}"));
        }
    }
    Ok(())
}

/// Both sides of one details field in comparable form.
fn normalize(key: &str, exp: &Value, got: &Value) -> (Value, Value) {
    match key {
        "input" | "output" | "parameters" => (json_text(exp), json_text(got)),
        "assignedVariables" => {
            let each = |v: &Value| match v {
                Value::Object(m) => {
                    Value::Object(m.iter().map(|(k, v)| (k.clone(), json_text(v))).collect())
                }
                other => other.clone(),
            };
            (each(exp), each(got))
        }
        "cause" if exp.is_object() || exp.is_array() => (exp.clone(), json_text(got)),
        _ => (exp.clone(), got.clone()),
    }
}

/// A JSON text as its value (text that does not parse stays as it is).
fn json_text(v: &Value) -> Value {
    match v {
        Value::String(t) => serde_json::from_str(t).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

/// The `<name>` and `<name:N>` tokens LocalStack's snapshot transformers wrote into a recorded
/// history (`<region>`, `<lambda_function_name>`, `<uuid:1>`, ...). A case's `placeholders` list
/// was made from its expected result only, so the tokens that occur only in its history are
/// not in it.
fn transformer_tokens(history: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let text = Value::Array(history.to_vec()).to_string();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let len = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-')))
            .map_or(0, |n| n + 1);
        if len > 1 && rest[len..].starts_with('>') {
            let token = &rest[..=len];
            if !out.iter().any(|t| t == token) {
                out.push(token.to_string());
            }
            rest = &rest[len + 1..];
        } else {
            rest = &rest[1..];
        }
    }
    out
}
