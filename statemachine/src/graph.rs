//! The state machine as a Graphviz DOT picture, optionally coloured by how far an execution got.
//!
//! Shapes follow the console's conventions loosely: tasks are boxes, Choice a diamond, Succeed
//! and Fail double circles; Catch edges are dashed and labelled with the errors they catch;
//! Parallel branches and Map processors are drawn as clusters.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use indexmap::IndexMap;

use crate::asl::{State, StateMachine, Transition};

/// How far an execution got in one state, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateStatus {
    /// Entered and left normally.
    Succeeded,
    /// Failed (the error may have been caught).
    Failed,
    /// Entered and not yet left.
    Running,
    /// Caught an error and moved on.
    Caught,
}

impl StateStatus {
    fn fill(self) -> &'static str {
        match self {
            StateStatus::Succeeded => "#c8e6c9",
            StateStatus::Failed => "#ffcdd2",
            StateStatus::Running => "#bbdefb",
            StateStatus::Caught => "#ffe0b2",
        }
    }
}

/// DOT text for `machine`; `status` colours the states an execution has reached.
pub fn to_dot(machine: &StateMachine, status: &HashMap<String, StateStatus>) -> String {
    to_dot_run(machine, status, &HashSet::new())
}

/// [`to_dot`], with the transitions an execution took (`(from, to)` state names; `__start` for
/// the start) drawn heavier.
pub fn to_dot_run(
    machine: &StateMachine,
    status: &HashMap<String, StateStatus>,
    taken: &HashSet<(String, String)>,
) -> String {
    let mut out = String::new();
    out.push_str("digraph feedpipe {\n");
    out.push_str("  graph [rankdir=TB, fontname=\"Helvetica\", nodesep=0.4, ranksep=0.45];\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    out.push_str("  \"__start\" [label=\"Start\", shape=circle, style=filled, fillcolor=\"#eeeeee\", width=0.5];\n");
    let _ = writeln!(
        out,
        "  \"__start\" -> {}{};",
        quote(&machine.start_at),
        heavy(taken, "__start", &machine.start_at, false)
    );
    let mut body = String::new();
    let mut counter = 0;
    let run = Run { status, taken };
    scope(&mut body, &machine.states, &run, "__end", 1, &mut counter);
    if body.contains("-> \"__end\"") {
        out.push_str("  \"__end\" [label=\"End\", shape=doublecircle, style=filled, fillcolor=\"#eeeeee\", width=0.4];\n");
    }
    out.push_str(&body);
    out.push_str("}\n");
    out
}

/// How an execution went, read from its history: the status of each state it entered and the
/// transitions it took (`("__start", first)` included), for [`to_dot_run`].
pub fn run_of(
    history: &[crate::engine::HistoryEvent],
) -> (HashMap<String, StateStatus>, HashSet<(String, String)>) {
    use crate::engine::EventType as E;
    let mut status = HashMap::new();
    let mut taken = HashSet::new();
    let mut previous = "__start".to_string();
    // States entered and not yet left, innermost last, with whether an error hit them.
    let mut open: Vec<(String, bool)> = Vec::new();
    for e in history {
        let ty = e.kind.as_str();
        let name = e.details.name.clone().unwrap_or_default();
        if ty.ends_with("StateEntered") {
            taken.insert((std::mem::replace(&mut previous, name.clone()), name.clone()));
            status.insert(name.clone(), StateStatus::Running);
            open.push((name, false));
        } else if ty.ends_with("StateExited") {
            let hit = open
                .iter()
                .rposition(|(n, _)| *n == name)
                .map(|i| open.remove(i).1)
                .unwrap_or(false);
            let s = if hit {
                StateStatus::Caught
            } else {
                StateStatus::Succeeded
            };
            status.insert(name, s);
        } else {
            match e.kind {
                E::TaskFailed
                | E::TaskTimedOut
                | E::LambdaFunctionFailed
                | E::LambdaFunctionTimedOut
                | E::MapStateFailed
                | E::ParallelStateFailed => {
                    if let Some(top) = open.last_mut() {
                        top.1 = true;
                    }
                }
                E::TaskSucceeded | E::LambdaFunctionSucceeded => {
                    if let Some(top) = open.last_mut() {
                        top.1 = false;
                    }
                }
                E::ExecutionFailed | E::ExecutionTimedOut | E::ExecutionAborted => {
                    for (n, _) in open.drain(..) {
                        status.insert(n, StateStatus::Failed);
                    }
                }
                E::ExecutionRedriven => {
                    // The redrive resumes at the state that failed: it is entered again.
                    previous = "__redrive".to_string();
                }
                _ => {}
            }
        }
    }
    (status, taken)
}

/// How an execution went, for drawing.
struct Run<'a> {
    status: &'a HashMap<String, StateStatus>,
    taken: &'a HashSet<(String, String)>,
}

/// The attributes of a transition taken (` [penwidth=3]`, or `, penwidth=3` inside a list).
fn heavy(taken: &HashSet<(String, String)>, from: &str, to: &str, in_list: bool) -> &'static str {
    if !taken.contains(&(from.to_string(), to.to_string())) {
        ""
    } else if in_list {
        ", penwidth=3"
    } else {
        " [penwidth=3]"
    }
}

fn scope(
    out: &mut String,
    states: &IndexMap<String, State>,
    run: &Run<'_>,
    end: &str,
    depth: usize,
    counter: &mut usize,
) {
    let (status, taken) = (run.status, run.taken);
    let pad = "  ".repeat(depth);
    for (name, state) in states {
        let shape = match state {
            State::Choice(_) => "diamond",
            State::Succeed(_) | State::Fail(_) => "doublecircle",
            State::Wait(_) => "octagon",
            State::Pass(_) => "box",
            _ => "box",
        };
        let fill = status.get(name).map(|s| s.fill()).unwrap_or("#ffffff");
        let label = format!("{name}\\n({})", state.type_name());
        let _ = writeln!(
            out,
            "{pad}{} [label={}, shape={shape}, fillcolor=\"{fill}\"];",
            quote(name),
            quote_raw(&label)
        );
        match state.transition() {
            Transition::Next(n) => {
                let w = heavy(taken, name, n, false);
                let _ = writeln!(out, "{pad}{} -> {}{w};", quote(name), quote(n));
            }
            Transition::End => {
                let w = heavy(taken, name, end, false);
                let _ = writeln!(out, "{pad}{} -> {}{w};", quote(name), quote(end));
            }
            Transition::Invalid | Transition::None => {}
        }
        if let State::Choice(c) = state {
            for (i, rule) in c.choices.iter().enumerate() {
                if let Some(n) = &rule.next {
                    let label = rule_label(&rule.condition).unwrap_or_else(|| format!("rule {i}"));
                    let _ = writeln!(
                        out,
                        "{pad}{} -> {} [label={}{}];",
                        quote(name),
                        quote(n),
                        quote(&label),
                        heavy(taken, name, n, true)
                    );
                }
            }
            if let Some(d) = &c.default {
                let _ = writeln!(
                    out,
                    "{pad}{} -> {} [label=\"default\", style=bold{}];",
                    quote(name),
                    quote(d),
                    heavy(taken, name, d, true)
                );
            }
        }
        for c in state.error_handling().1 {
            let _ = writeln!(
                out,
                "{pad}{} -> {} [label={}, style=dashed, color=\"#c62828\", fontcolor=\"#c62828\"{}];",
                quote(name),
                quote(&c.next),
                quote(&c.error_equals.join(", ")),
                heavy(taken, name, &c.next, true)
            );
        }
        let nested: Vec<(&str, &str, &IndexMap<String, State>)> = match state {
            State::Parallel(p) => p
                .branches
                .iter()
                .map(|b| ("branch", b.start_at.as_str(), &b.states))
                .collect(),
            State::Map(m) => m
                .processor()
                .map(|p| vec![("item", p.start_at.as_str(), &p.states)])
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        for (kind, start, inner) in nested {
            *counter += 1;
            let _ = writeln!(out, "{pad}subgraph cluster_{counter} {{");
            let _ = writeln!(
                out,
                "{pad}  label={}; style=dashed; color=\"#9e9e9e\";",
                quote(&format!("{name}: {kind}"))
            );
            let _ = writeln!(
                out,
                "{pad}  {} -> {} [style=dotted];",
                quote(name),
                quote(start)
            );
            scope(out, inner, run, name, depth + 1, counter);
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

fn rule_label(cond: &crate::asl::Condition) -> Option<String> {
    use crate::asl::{Condition, Operand};
    match cond {
        Condition::Compare {
            variable,
            op,
            operand: Operand::Value(v),
        } => Some(format!("{variable} {} {v}", op.name())),
        Condition::Compare {
            variable,
            op,
            operand: Operand::Path(p),
        } => Some(format!("{variable} {}Path {p}", op.name())),
        _ => None,
    }
}

fn quote(s: &str) -> String {
    quote_raw(&s.replace('\\', "\\\\"))
}

/// Quotes a DOT string whose backslash escapes (like `\n`) are meant.
fn quote_raw(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedpipe::{definition, PipelineOptions};

    #[test]
    fn the_path_an_execution_took_is_drawn_heavier() {
        let sm = definition(&PipelineOptions::default()).unwrap();
        let taken: HashSet<(String, String)> = [
            ("__start", "CheckFeed"),
            ("CheckFeed", "DiffFeed"),
            ("DiffFeed", "Updated?"),
            ("Updated?", "NoChange"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let dot = to_dot_run(&sm, &HashMap::new(), &taken);
        assert!(
            dot.contains("\"__start\" -> \"CheckFeed\" [penwidth=3];"),
            "{dot}"
        );
        assert!(dot.contains("\"CheckFeed\" -> \"DiffFeed\" [penwidth=3];"));
        assert!(dot
            .contains("\"Updated?\" -> \"NoChange\" [label=\"default\", style=bold, penwidth=3];"));
        assert!(
            dot.contains("\"ConsumeFeed\" -> \"Commit\";"),
            "not taken: drawn thin"
        );
        assert_eq!(dot.matches("penwidth").count(), 4);
    }

    #[test]
    fn catch_edges_are_dashed_and_labelled_with_their_errors() {
        let sm = StateMachine::from_json(
            r#"{"StartAt":"A","States":{
              "A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
                   "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Oops"}]},
              "Oops":{"Type":"Fail"}}}"#,
        )
        .unwrap();
        let dot = to_dot(&sm, &HashMap::new());
        assert!(
            dot.contains("\"A\" -> \"Oops\" [label=\"States.ALL\", style=dashed"),
            "{dot}"
        );
    }

    #[test]
    fn every_state_and_edge_is_drawn_and_status_colours_states() {
        let sm = definition(&PipelineOptions::default()).unwrap();
        let status = HashMap::from([
            ("CheckFeed".to_string(), StateStatus::Succeeded),
            ("DiffFeed".to_string(), StateStatus::Failed),
        ]);
        let dot = to_dot(&sm, &status);
        for name in sm.states.keys() {
            assert!(
                dot.contains(&format!("\"{name}\" [label=")),
                "{name} not drawn"
            );
        }
        assert!(dot.contains("\"CheckFeed\" -> \"DiffFeed\";"));
        assert!(
            dot.contains(
                "\"Updated?\" -> \"ConsumeFeed\" [label=\"$.diff.updated BooleanEquals true\"]"
            ),
            "{dot}"
        );
        assert!(dot.contains("\"Updated?\" -> \"NoChange\" [label=\"default\""));
        assert!(
            dot.contains("shape=box, fillcolor=\"#ffcdd2\""),
            "failed state not coloured"
        );
        assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    }
}
