//! `feedpipe-shape`: turns the end of an execution into the SNS notification.
//!
//! The success payload carries the diff summary; the failure payload the error and cause. The
//! result has the fields the definition's `Notify` state passes to SNS `Publish`: `subject`
//! (ASCII, one line, at most 100 characters, as SNS requires), `message` (a JSON text with feed,
//! execution, counts, snapshot keys and the console URL of the execution) and `attributes` (SNS
//! `MessageAttributes`: `feed`, `status`, and the counts as numbers, for subscription filters).
//! The cause of a failure is trimmed so that the whole notification fits SNS's 256 KiB.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::diff::DiffResponse;
use crate::error::{Error, ErrorKind};

/// SNS's limit on a message, attributes included.
pub const SNS_MAX_BYTES: usize = 256 * 1024;
/// SNS's limit on a subject.
pub const SUBJECT_MAX: usize = 100;

/// The payload of `feedpipe-shape`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "status", rename_all = "UPPERCASE")]
pub enum ShapeRequest {
    /// The execution delivered its changes.
    Succeeded {
        /// Feed name.
        feed: String,
        /// Execution name.
        execution: String,
        /// Execution ARN (`$$.Execution.Id`).
        execution_arn: String,
        /// DiffFeed's result as the state holds it.
        diff: DiffResponse,
    },
    /// The execution failed.
    Failed {
        /// Feed name.
        feed: String,
        /// Execution name.
        execution: String,
        /// Execution ARN.
        execution_arn: String,
        /// The error name (`States.TaskFailed`, `Feedpipe.BadFeed`, ...).
        #[serde(default)]
        error: Option<String>,
        /// The cause (may be long: a Batch job description, a stack of messages).
        #[serde(default)]
        cause: Option<String>,
    },
}

/// One SNS message attribute, in the shape `Publish` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// `String` or `Number`.
    #[serde(rename = "DataType")]
    pub data_type: &'static str,
    /// The value.
    #[serde(rename = "StringValue")]
    pub string_value: String,
}

/// What `Notify` publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// The subject line.
    pub subject: String,
    /// The body: a JSON text.
    pub message: String,
    /// Message attributes for subscription filters.
    pub attributes: BTreeMap<String, Attribute>,
}

fn string(v: &str) -> Attribute {
    Attribute {
        data_type: "String",
        string_value: v.to_string(),
    }
}

fn number(n: u64) -> Attribute {
    Attribute {
        data_type: "Number",
        string_value: n.to_string(),
    }
}

/// The AWS console page of an execution, from its ARN
/// (`arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME`); `None` for ARNs that are not
/// Step Functions executions (the local engine's).
pub fn console_url(execution_arn: &str) -> Option<String> {
    let parts: Vec<&str> = execution_arn.splitn(8, ':').collect();
    if parts.len() != 8 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "execution" {
        return None;
    }
    let region = parts[3];
    let host = match parts[1] {
        "aws" => format!("{region}.console.aws.amazon.com"),
        "aws-us-gov" => format!("{region}.console.amazonaws-us-gov.com"),
        "aws-cn" => format!("{region}.console.amazonaws.cn"),
        _ => return None,
    };
    Some(format!(
        "https://{host}/states/home?region={region}#/v2/executions/details/{execution_arn}"
    ))
}

/// A subject SNS accepts: printable ASCII on one line, at most [`SUBJECT_MAX`] characters.
fn subject_line(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if out.len() > SUBJECT_MAX {
        out.truncate(SUBJECT_MAX - 3);
        out.push_str("...");
    }
    out
}

/// Cuts `text` to at most `max` bytes on a character boundary, saying so.
fn trim_to(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let note = format!(" [trimmed: {} bytes in all]", text.len());
    let mut end = max.saturating_sub(note.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{note}", &text[..end])
}

/// The `feedpipe-shape` function.
pub async fn shape(request: ShapeRequest) -> Result<Notification, Error> {
    shape_notification(request)
}

/// The pure part of [`shape`].
pub fn shape_notification(request: ShapeRequest) -> Result<Notification, Error> {
    match request {
        ShapeRequest::Succeeded {
            feed,
            execution,
            execution_arn,
            diff,
        } => {
            let subject = subject_line(&format!(
                "feedpipe {feed}: {} added, {} changed, {} removed",
                diff.added, diff.changed, diff.removed
            ));
            let message = json!({
                "status": "SUCCEEDED",
                "feed": feed,
                "execution": execution,
                "execution_arn": execution_arn,
                "console_url": console_url(&execution_arn),
                "updated": diff.updated,
                "added": diff.added,
                "changed": diff.changed,
                "removed": diff.removed,
                "snapshot": diff.snapshot,
                "manifest": diff.manifest,
            });
            let attributes = BTreeMap::from([
                ("feed".to_string(), string(&feed)),
                ("status".to_string(), string("SUCCEEDED")),
                ("added".to_string(), number(diff.added)),
                ("changed".to_string(), number(diff.changed)),
                ("removed".to_string(), number(diff.removed)),
            ]);
            Ok(Notification {
                subject,
                message: message.to_string(),
                attributes,
            })
        }
        ShapeRequest::Failed {
            feed,
            execution,
            execution_arn,
            error,
            cause,
        } => {
            let error = error.unwrap_or_else(|| "States.Unknown".to_string());
            let subject = subject_line(&format!("feedpipe {feed}: FAILED ({error})"));
            let attributes = BTreeMap::from([
                ("feed".to_string(), string(&feed)),
                ("status".to_string(), string("FAILED")),
                ("error".to_string(), string(&error)),
            ]);
            let mut body = json!({
                "status": "FAILED",
                "feed": feed,
                "execution": execution,
                "execution_arn": execution_arn,
                "console_url": console_url(&execution_arn),
                "error": error,
                "cause": "",
            });
            // Room left for the cause: the limit less everything else (JSON escaping of the
            // cause can only grow it, so measure the escaped form).
            let attributes_size: usize = attributes
                .iter()
                .map(|(k, v)| k.len() + v.data_type.len() + v.string_value.len())
                .sum();
            let fixed = body.to_string().len() + subject.len() + attributes_size + 64;
            let room = SNS_MAX_BYTES.checked_sub(fixed).ok_or_else(|| {
                Error::new(ErrorKind::Internal, "the failure notification has no room")
            })?;
            let original = cause.unwrap_or_default();
            let mut max = original.len();
            let cause = loop {
                let cause = trim_to(&original, max);
                let escaped = serde_json::to_string(&cause).map_or(usize::MAX, |s| s.len());
                if escaped <= room || max == 0 {
                    break cause;
                }
                // Shrink in proportion to the overshoot; strictly, so the loop ends.
                let scaled = (max as u128 * room as u128 / escaped as u128) as usize;
                max = scaled.min(max - 1);
            };
            body["cause"] = json!(cause);
            Ok(Notification {
                subject,
                message: body.to_string(),
                attributes,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str =
        "arn:aws:states:eu-west-1:123456789012:execution:feedpipe:jobs-2026-11-23T06-00Z";

    fn succeeded() -> ShapeRequest {
        serde_json::from_value(json!({
            "status": "SUCCEEDED",
            "feed": "jobs",
            "execution": "jobs-2026-11-23T06-00Z",
            "execution_arn": ARN,
            "diff": {"updated": true, "added": 3, "changed": 2, "removed": 1,
                     "manifest": "runs/jobs/e/diff.json", "snapshot": "feeds/jobs/snapshots/ab.xml.gz",
                     "parallelism": "15", "batch_size": "500"}
        }))
        .unwrap()
    }

    #[test]
    fn success_notification_carries_counts_keys_and_console_url() {
        let n = shape_notification(succeeded()).unwrap();
        assert_eq!(n.subject, "feedpipe jobs: 3 added, 2 changed, 1 removed");
        let body: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        assert_eq!(body["added"], 3);
        assert_eq!(body["snapshot"], "feeds/jobs/snapshots/ab.xml.gz");
        assert_eq!(
            body["console_url"],
            format!("https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/{ARN}")
        );
        let attrs = serde_json::to_value(&n.attributes).unwrap();
        assert_eq!(
            attrs["feed"],
            json!({"DataType": "String", "StringValue": "jobs"})
        );
        assert_eq!(
            attrs["removed"],
            json!({"DataType": "Number", "StringValue": "1"})
        );
    }

    #[test]
    fn failure_notification_fits_sns_however_long_the_cause() {
        let cause = "é\"\n".repeat(200_000); // escapes and multi-byte characters
        let n = shape_notification(ShapeRequest::Failed {
            feed: "jobs".into(),
            execution: "e".into(),
            execution_arn: "local:e".into(),
            error: Some("Feedpipe.BadFeed\nsecond line".into()),
            cause: Some(cause),
        })
        .unwrap();
        let attrs: usize = n
            .attributes
            .iter()
            .map(|(k, v)| k.len() + v.data_type.len() + v.string_value.len())
            .sum();
        assert!(n.message.len() + n.subject.len() + attrs <= SNS_MAX_BYTES);
        assert!(n.message.len() > SNS_MAX_BYTES - 2048, "trimmed too much");
        let body: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        assert!(body["cause"].as_str().unwrap().ends_with("bytes in all]"));
        assert_eq!(body["console_url"], serde_json::Value::Null);
        assert_eq!(
            n.subject,
            "feedpipe jobs: FAILED (Feedpipe.BadFeed?second line)"
        );

        let short = shape_notification(ShapeRequest::Failed {
            feed: "jobs".into(),
            execution: "e".into(),
            execution_arn: ARN.into(),
            error: None,
            cause: Some("boom".into()),
        })
        .unwrap();
        let body: serde_json::Value = serde_json::from_str(&short.message).unwrap();
        assert_eq!(
            (body["cause"].as_str(), body["error"].as_str()),
            (Some("boom"), Some("States.Unknown"))
        );
    }

    #[test]
    fn the_failure_payload_of_the_definition_parses() {
        let request: ShapeRequest = serde_json::from_value(json!({
            "status": "FAILED", "feed": "jobs", "execution": "e", "execution_arn": ARN,
            "error": "States.TaskFailed", "cause": "{\"Status\":\"FAILED\"}"
        }))
        .unwrap();
        let n = shape_notification(request).unwrap();
        assert_eq!(n.subject, "feedpipe jobs: FAILED (States.TaskFailed)");
        assert_eq!(n.attributes["status"].string_value, "FAILED");
        let body: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        assert_eq!(body["cause"], "{\"Status\":\"FAILED\"}");
    }

    #[test]
    fn subjects_stay_within_sns_rules() {
        let long = "x".repeat(300);
        let s = subject_line(&format!("feedpipe {long}"));
        assert_eq!(s.len(), SUBJECT_MAX);
        assert!(s.ends_with("..."));
        assert_eq!(
            console_url("arn:aws:states:us-east-1:1:stateMachine:feedpipe"),
            None
        );
    }
}
