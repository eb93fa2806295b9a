//! Small helpers that write CloudFormation intrinsic functions as JSON values.

use serde_json::{json, Value};

/// `{"Ref": name}`.
pub fn r(name: &str) -> Value {
    json!({ "Ref": name })
}

/// `{"Fn::GetAtt": [resource, attribute]}`.
pub fn get_att(resource: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [resource, attribute] })
}

/// `{"Fn::Sub": text}`.
pub fn sub(text: &str) -> Value {
    json!({ "Fn::Sub": text })
}

/// `{"Fn::If": [condition, then, else]}`.
pub fn if_(condition: &str, then: Value, otherwise: Value) -> Value {
    json!({ "Fn::If": [condition, then, otherwise] })
}

/// `{"Ref": "AWS::NoValue"}`: removes the property (or list item) it stands for.
pub fn no_value() -> Value {
    r("AWS::NoValue")
}

/// An ARN in this stack's partition, region and account: `service` and the part after the
/// account (e.g. `("batch", "job/*")`).
pub fn arn(service: &str, rest: &str) -> Value {
    sub(&format!(
        "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{rest}"
    ))
}

/// An IAM policy statement allowing `actions` on `resources`.
pub fn allow(sid: &str, actions: &[&str], resources: Value) -> Value {
    json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources })
}

/// A role trust policy for the service principal `service`, limited to this account's
/// resources (`aws:SourceAccount`) against the confused-deputy problem.
pub fn trust(service: &str, source_account: bool) -> Value {
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": { "Service": service },
        "Action": "sts:AssumeRole",
    });
    if source_account {
        statement["Condition"] =
            json!({ "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } });
    }
    json!({ "Version": "2012-10-17", "Statement": [statement] })
}

/// An `AWS::IAM::Role` with one inline policy named `policy`.
pub fn role(service: &str, source_account: bool, policy: &str, statements: Vec<Value>) -> Value {
    json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": trust(service, source_account),
            "Policies": [{
                "PolicyName": policy,
                "PolicyDocument": { "Version": "2012-10-17", "Statement": statements },
            }],
        },
    })
}

/// An `AWS::Logs::LogGroup` with the retention of the `LogRetentionDays` parameter.
pub fn log_group(name: Value) -> Value {
    json!({
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": { "LogGroupName": name, "RetentionInDays": r("LogRetentionDays") },
    })
}

/// `LogicalId` for a feed name: `prefix` + the name in PascalCase (`example-jobs` →
/// `ScheduleExampleJobs`).
pub fn logical_id(prefix: &str, feed: &str) -> String {
    let mut out = prefix.to_string();
    for part in feed.split('-').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_alphanumeric() {
        assert_eq!(
            logical_id("Schedule", "example-jobs"),
            "ScheduleExampleJobs"
        );
        assert_eq!(logical_id("Schedule", "a1--b"), "ScheduleA1B");
        assert!(logical_id("S", "x-9-y")
            .chars()
            .all(|c| c.is_ascii_alphanumeric()));
    }
}
