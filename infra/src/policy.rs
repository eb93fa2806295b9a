//! Reading IAM policies back out of a template: every statement of every role and resource
//! policy, so tests (and reviewers) can check least privilege mechanically.

use serde_json::Value;

/// One policy statement of the template and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Logical id of the resource holding it.
    pub resource: String,
    /// The statement's `Sid`, or its position when it has none.
    pub sid: String,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Its actions (a single string becomes a list of one).
    pub actions: Vec<String>,
    /// Its resources, as template JSON (strings or intrinsic functions).
    pub resources: Vec<Value>,
}

impl Statement {
    /// Whether a resource of the statement is the bare `"*"`.
    pub fn has_star_resource(&self) -> bool {
        self.resources.iter().any(|r| r == "*")
    }
}

/// Every statement of the template's IAM roles' inline policies and of its bucket and topic
/// policies. A statement under `Fn::If` counts with its "then" value.
pub fn statements(template: &Value) -> Vec<Statement> {
    let mut out = Vec::new();
    let Some(resources) = template["Resources"].as_object() else {
        return out;
    };
    for (id, resource) in resources {
        let props = &resource["Properties"];
        let mut documents = Vec::new();
        if let Some(policies) = props["Policies"].as_array() {
            documents.extend(policies.iter().map(|p| &p["PolicyDocument"]));
        }
        if props["PolicyDocument"].is_object() {
            documents.push(&props["PolicyDocument"]);
        }
        for document in documents {
            let Some(list) = document["Statement"].as_array() else {
                continue;
            };
            for (i, s) in list.iter().enumerate() {
                let s = match s.get("Fn::If") {
                    Some(branches) => &branches[1],
                    None => s,
                };
                out.push(Statement {
                    resource: id.clone(),
                    sid: s["Sid"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("#{i}")),
                    effect: s["Effect"].as_str().unwrap_or_default().to_string(),
                    actions: one_or_many(&s["Action"])
                        .iter()
                        .filter_map(|a| a.as_str().map(str::to_string))
                        .collect(),
                    resources: one_or_many(&s["Resource"]),
                });
            }
        }
    }
    out
}

fn one_or_many(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}
