//! `arn:aws:states:::sns:publish` locally. A `file://DIR` topic (the default `notify` of
//! `feedpipe.toml`) is an outbox: each message is one JSON line
//! `{MessageId, TopicArn, Subject, Message, MessageAttributes, Timestamp}` appended to
//! `DIR/messages.jsonl` with a single write under an exclusive lock. An SNS topic ARN publishes
//! through aws-sdk-sns (the standard AWS configuration chain, `AWS_ENDPOINT_URL` included).

use std::io::Write;
use std::path::PathBuf;

use aws_sdk_sns::types::MessageAttributeValue;
use serde_json::{json, Value};
use statemachine::engine::{BoxFuture, TaskError, TaskIntegration, TaskRequest};
use tokio::sync::OnceCell;

use super::{now_ms, string_param, uuid};

/// The name of the outbox file inside a `file://` topic's folder.
pub const OUTBOX_FILE: &str = "messages.jsonl";

/// Publishes to outboxes and SNS topics.
#[derive(Default)]
pub struct Publisher {
    sns: OnceCell<aws_sdk_sns::Client>,
}

impl Publisher {
    /// A publisher (the SNS client is made on first use).
    pub fn new() -> Publisher {
        Publisher::default()
    }

    async fn client(&self) -> &aws_sdk_sns::Client {
        self.sns
            .get_or_init(|| async { aws_sdk_sns::Client::new(&store::s3::sdk_config(None).await) })
            .await
    }
}

/// The outbox file of a `file://` topic.
pub fn outbox_file(topic: &str) -> Option<PathBuf> {
    topic
        .strip_prefix("file://")
        .map(|dir| PathBuf::from(dir).join(OUTBOX_FILE))
}

fn append_line(path: &std::path::Path, line: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.lock()?;
    file.write_all(line)
}

fn attributes(
    value: Option<&Value>,
) -> Result<std::collections::HashMap<String, MessageAttributeValue>, String> {
    let mut out = std::collections::HashMap::new();
    let Some(map) = value.and_then(Value::as_object) else {
        return Ok(out);
    };
    for (name, attr) in map {
        let field = |k: &str| attr.get(k).and_then(Value::as_str);
        let data_type = field("DataType")
            .ok_or_else(|| format!("MessageAttributes.{name}: DataType is missing"))?;
        let built = MessageAttributeValue::builder()
            .data_type(data_type)
            .set_string_value(field("StringValue").map(str::to_string))
            .build()
            .map_err(|e| format!("MessageAttributes.{name}: {e}"))?;
        out.insert(name.clone(), built);
    }
    Ok(out)
}

impl Publisher {
    /// Publishes a message given as SNS `Publish` parameters (`TopicArn`, `Message`, `Subject`,
    /// `MessageAttributes`); `state` names the caller in errors. Returns `{"MessageId"}`.
    pub async fn publish(&self, params: &Value, state: &str) -> Result<Value, TaskError> {
        {
            let topic = string_param(params, "TopicArn", state)?;
            let message = match params.get("Message") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => {
                    return Err(TaskError::new(
                        "SNS.InvalidParameterException",
                        "Invalid parameter: Message",
                    ))
                }
            };
            let subject = params.get("Subject").and_then(Value::as_str);
            if let Some(path) = outbox_file(topic) {
                let id = uuid();
                let line = json!({
                    "MessageId": id,
                    "TopicArn": topic,
                    "Subject": subject,
                    "Message": message,
                    "MessageAttributes": params.get("MessageAttributes").cloned().unwrap_or(json!({})),
                    "Timestamp": statemachine::eval::Timestamp::from_unix_millis(now_ms()).to_string(),
                });
                let mut bytes = serde_json::to_vec(&line).expect("JSON values serialize");
                bytes.push(b'\n');
                let path2 = path.clone();
                tokio::task::spawn_blocking(move || append_line(&path2, &bytes))
                    .await
                    .map_err(|e| TaskError::new("States.Runtime", e.to_string()))?
                    .map_err(|e| {
                        TaskError::new(
                            "SNS.InternalErrorException",
                            format!("cannot append to the outbox {}: {e}", path.display()),
                        )
                    })?;
                return Ok(json!({"MessageId": id}));
            }
            let attrs = attributes(params.get("MessageAttributes"))
                .map_err(|m| TaskError::new("SNS.InvalidParameterException", m))?;
            let sent = self
                .client()
                .await
                .publish()
                .topic_arn(topic)
                .message(message)
                .set_subject(subject.map(str::to_string))
                .set_message_attributes((!attrs.is_empty()).then_some(attrs))
                .send()
                .await;
            match sent {
                Ok(out) => Ok(json!({"MessageId": out.message_id()})),
                Err(e) => {
                    let service = e.into_service_error();
                    let code = aws_sdk_sns::error::ProvideErrorMetadata::code(&service)
                        .unwrap_or("SdkClientException")
                        .to_string();
                    Err(TaskError::new(
                        format!("SNS.{code}"),
                        store::error_chain(&service).to_string(),
                    ))
                }
            }
        }
    }
}

impl TaskIntegration for Publisher {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move { self.publish(&request.parameters, request.state_name).await })
    }
}
