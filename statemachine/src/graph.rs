//! The state machine as a Graphviz DOT picture, optionally coloured by how far an execution got.
//!
//! Shapes follow the console's conventions loosely: tasks are boxes, Choice a diamond, Succeed
//! and Fail double circles; Catch edges are dashed and labelled with the errors they catch;
//! Parallel branches and Map processors are drawn as clusters.

use std::collections::HashMap;
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
    let mut out = String::new();
    out.push_str("digraph feedpipe {\n");
    out.push_str("  graph [rankdir=TB, fontname=\"Helvetica\", nodesep=0.4, ranksep=0.45];\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    out.push_str("  \"__start\" [label=\"Start\", shape=circle, style=filled, fillcolor=\"#eeeeee\", width=0.5];\n");
    let _ = writeln!(out, "  \"__start\" -> {};", quote(&machine.start_at));
    let mut body = String::new();
    let mut counter = 0;
    scope(&mut body, &machine.states, status, "__end", 1, &mut counter);
    if body.contains("-> \"__end\"") {
        out.push_str("  \"__end\" [label=\"End\", shape=doublecircle, style=filled, fillcolor=\"#eeeeee\", width=0.4];\n");
    }
    out.push_str(&body);
    out.push_str("}\n");
    out
}

fn scope(
    out: &mut String,
    states: &IndexMap<String, State>,
    status: &HashMap<String, StateStatus>,
    end: &str,
    depth: usize,
    counter: &mut usize,
) {
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
                let _ = writeln!(out, "{pad}{} -> {};", quote(name), quote(n));
            }
            Transition::End => {
                let _ = writeln!(out, "{pad}{} -> {};", quote(name), quote(end));
            }
            Transition::Invalid | Transition::None => {}
        }
        if let State::Choice(c) = state {
            for (i, rule) in c.choices.iter().enumerate() {
                if let Some(n) = &rule.next {
                    let label = rule_label(&rule.condition).unwrap_or_else(|| format!("rule {i}"));
                    let _ = writeln!(
                        out,
                        "{pad}{} -> {} [label={}];",
                        quote(name),
                        quote(n),
                        quote(&label)
                    );
                }
            }
            if let Some(d) = &c.default {
                let _ = writeln!(
                    out,
                    "{pad}{} -> {} [label=\"default\", style=bold];",
                    quote(name),
                    quote(d)
                );
            }
        }
        for c in state.error_handling().1 {
            let _ = writeln!(
                out,
                "{pad}{} -> {} [label={}, style=dashed, color=\"#c62828\", fontcolor=\"#c62828\"];",
                quote(name),
                quote(&c.next),
                quote(&c.error_equals.join(", "))
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
            scope(out, inner, status, name, depth + 1, counter);
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
