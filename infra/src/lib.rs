//! CloudFormation template synthesis: the whole AWS side of feedpipe from `feedpipe.toml`.
//!
//! [`synth`] returns one template (JSON) with every resource a deployment needs: the store's S3
//! bucket, the events topic, Batch (Fargate compute environment, job queue, the CheckFeed and
//! ConsumeFeed job definitions), the two Lambdas, least-privilege IAM roles, the state machine
//! whose definition is the text `feedpipe asl` prints (its `${...}` placeholders filled by
//! `DefinitionSubstitutions`), one EventBridge Scheduler schedule per feed, an alarm on failed
//! executions and the outputs a user needs. It is pure: config and definition text in, JSON out.
//!
//! Where deployments differ (network, image, code bucket, retention, e-mail), the template takes
//! CloudFormation parameters (see [`PARAMETERS`]); what belongs to the pipeline (feeds, schedules,
//! job sizes, timeouts) comes from the configuration.
#![deny(missing_docs)]

mod batch;
pub mod cfn;
pub mod deploy;
mod functions;
mod machine;
pub mod policy;
mod storage;

use std::collections::BTreeSet;

use feed::config::Config;
use serde_json::{json, Map, Value};

/// Errors of [`synth`].
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The state machine could not be generated (a bug in feedpipe).
    #[error("the generated definition is invalid (a bug in feedpipe): {0}")]
    Definition(String),
    /// The definition text is not JSON.
    #[error("the state machine definition is not JSON: {0}")]
    DefinitionNotJson(#[source] serde_json::Error),
    /// The definition uses a `${...}` placeholder the template cannot fill.
    #[error("the definition uses the placeholder ${{{0}}}, which the template does not fill (known: {known})", known = statemachine::feedpipe::PLACEHOLDERS.join(", "))]
    UnknownPlaceholder(String),
    /// The store URL of the configuration cannot name an S3 bucket.
    #[error("store {url:?}: {message}")]
    BadStore {
        /// The configured store URL.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// Two feeds map to the same CloudFormation logical id.
    #[error("feeds {0:?} and {1:?} give the same CloudFormation resource name: rename one")]
    FeedNameClash(String, String),
}

/// The template's parameters, with what each is for: (name, description). The same text is in
/// each parameter's `Description`.
pub const PARAMETERS: [(&str, &str); 15] = [
    ("Image", "Container image URI of feedpipe-worker (the Dockerfile of the repository), e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/feedpipe-worker:1.0"),
    ("LambdaCodeBucket", "S3 bucket holding the Lambdas' bootstrap zips (feedpipe deploy uploads them)"),
    ("DiffFunctionCodeKey", "S3 key of feedpipe-diff's bootstrap zip in LambdaCodeBucket"),
    ("ShapeFunctionCodeKey", "S3 key of feedpipe-shape's bootstrap zip in LambdaCodeBucket"),
    ("Subnets", "Subnets the Batch jobs run in (they need a route to the feeds, the sinks and S3)"),
    ("SecurityGroups", "Security groups of the Batch jobs (outbound HTTPS at least)"),
    ("AssignPublicIp", "ENABLED when the subnets are public ones without a NAT gateway"),
    ("UseSpot", "true runs the jobs on Fargate Spot (cheaper; an interrupted job is retried)"),
    ("MaxVcpus", "Most vCPUs the compute environment runs at once"),
    ("NotificationEmail", "E-mail address subscribed to the events topic (empty: none)"),
    ("TopicKmsKeyArn", "ARN of a customer managed KMS key that encrypts the events topic (empty: unencrypted)"),
    ("RunsExpirationDays", "Days after which per-execution state under runs/ expires"),
    ("SnapshotExpirationDays", "Days after which stored feed snapshots and indexes expire; 0 keeps them (set it only above the longest time a feed stays unchanged: the last delivered snapshot must stay)"),
    ("NoncurrentVersionExpirationDays", "Days after which overwritten or deleted object versions expire"),
    ("LogRetentionDays", "Retention of the jobs', Lambdas' and state machine's CloudWatch logs"),
];

/// Minutes of the schedules' flexible time window.
pub const FLEXIBLE_WINDOW_MINUTES: u32 = 15;

/// Where the pipeline's objects live in the stack's bucket.
pub(crate) struct Store {
    /// Bucket name from an `s3://` store URL; `None` lets CloudFormation name the bucket.
    bucket_name: Option<String>,
    /// Key prefix, empty or ending in `/`.
    prefix: String,
}

impl Store {
    fn from_config(url: &str) -> Result<Store, SynthError> {
        let Some(rest) = url.strip_prefix("s3://") else {
            // A local store (file://): the stack makes its own bucket and `feedpipe deploy`
            // points the uploaded configuration at it.
            return Ok(Store {
                bucket_name: None,
                prefix: String::new(),
            });
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && bucket.as_bytes()[0].is_ascii_alphanumeric()
            && bucket.as_bytes()[bucket.len() - 1].is_ascii_alphanumeric();
        if !ok {
            return Err(SynthError::BadStore {
                url: url.to_string(),
                message: format!(
                    "{bucket:?} is not a valid S3 bucket name (3 to 63 of a-z, 0-9, '-', '.')"
                ),
            });
        }
        let prefix = prefix.trim_matches('/');
        Ok(Store {
            bucket_name: Some(bucket.to_string()),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }

    /// `Fn::Sub` text of an object ARN pattern under the prefix, e.g. `runs/*`.
    fn objects(&self, pattern: &str) -> Value {
        cfn::sub(&format!(
            "arn:${{AWS::Partition}}:s3:::${{StoreBucket}}/{}{pattern}",
            self.prefix
        ))
    }

    /// The URL the jobs and Lambdas read the configuration from.
    fn config_url(&self) -> Value {
        cfn::sub(&format!(
            "s3://${{StoreBucket}}/{}config/feedpipe.toml",
            self.prefix
        ))
    }
}

/// Builds the CloudFormation template for `config`. `definition` is the state machine's text
/// exactly as `feedpipe asl` prints it (`statemachine::feedpipe::definition`, pretty JSON); it
/// becomes `DefinitionString`, and each `${...}` it holds gets a `DefinitionSubstitutions` entry.
pub fn synth(config: &Config, definition: &str) -> Result<Value, SynthError> {
    serde_json::from_str::<Value>(definition).map_err(SynthError::DefinitionNotJson)?;
    for name in placeholders(definition) {
        if !statemachine::feedpipe::PLACEHOLDERS.contains(&name.as_str()) {
            return Err(SynthError::UnknownPlaceholder(name));
        }
    }
    let store = Store::from_config(&config.store)?;
    let mut resources = Map::new();
    storage::add(&mut resources, &store, config);
    batch::add(&mut resources, &store, config);
    functions::add(&mut resources, &store, config);
    machine::add_state_machine(&mut resources, &store, definition);
    machine::add_schedules(&mut resources, config)?;
    machine::add_alarm(&mut resources);
    machine::add_failure_rule(&mut resources);

    let feeds: Vec<&str> = config.feeds.iter().map(|f| f.name.as_str()).collect();
    Ok(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "feedpipe: scheduled XML feed delivery on Step Functions, Batch and Lambda (feeds: {}). Generated by feedpipe synth; do not edit.",
            feeds.join(", ")
        ),
        "Parameters": parameters(),
        "Conditions": {
            "UseSpot": { "Fn::Equals": [cfn::r("UseSpot"), "true"] },
            "HasEmail": { "Fn::Not": [{ "Fn::Equals": [cfn::r("NotificationEmail"), ""] }] },
            "HasTopicKey": { "Fn::Not": [{ "Fn::Equals": [cfn::r("TopicKmsKeyArn"), ""] }] },
            "ExpireSnapshots": { "Fn::Not": [{ "Fn::Equals": [cfn::r("SnapshotExpirationDays"), "0"] }] },
        },
        "Resources": resources,
        "Outputs": outputs(&store),
    }))
}

/// The pipeline options the state machine is generated from, as `feedpipe asl` takes them.
pub fn pipeline_options(config: &Config) -> statemachine::feedpipe::PipelineOptions {
    statemachine::feedpipe::PipelineOptions {
        feeds: config.feeds.iter().map(|f| f.name.clone()).collect(),
        check_timeout_seconds: config.pipeline.check_timeout_seconds,
        consume_timeout_seconds: config.pipeline.consume_timeout_seconds,
    }
}

/// The definition's text for `config`, as `feedpipe asl` prints it.
pub fn definition_text(config: &Config) -> Result<String, SynthError> {
    let machine = statemachine::feedpipe::definition(&pipeline_options(config))
        .map_err(|e| SynthError::Definition(e.to_string()))?;
    Ok(machine.to_json_pretty() + "\n")
}

/// [`synth`] on the definition generated for `config` ([`definition_text`]).
pub fn synth_config(config: &Config) -> Result<Value, SynthError> {
    synth(config, &definition_text(config)?)
}

/// The `${Name}` placeholders of a definition's text, in order of first use.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                if seen.insert(name.to_string()) {
                    out.push(name.to_string());
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

fn description(name: &str) -> &'static str {
    PARAMETERS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
        .unwrap_or("")
}

fn parameters() -> Value {
    let d = description;
    let days = |default: u32, min: u32| json!({ "Type": "Number", "Default": default, "MinValue": min, "MaxValue": 3650 });
    let mut p = json!({
        "Image": { "Type": "String", "MinLength": 1 },
        "LambdaCodeBucket": { "Type": "String", "MinLength": 3 },
        "DiffFunctionCodeKey": { "Type": "String", "Default": "lambdas/feedpipe-diff.zip" },
        "ShapeFunctionCodeKey": { "Type": "String", "Default": "lambdas/feedpipe-shape.zip" },
        "Subnets": { "Type": "List<AWS::EC2::Subnet::Id>" },
        "SecurityGroups": { "Type": "List<AWS::EC2::SecurityGroup::Id>" },
        "AssignPublicIp": { "Type": "String", "Default": "DISABLED", "AllowedValues": ["ENABLED", "DISABLED"] },
        "UseSpot": { "Type": "String", "Default": "false", "AllowedValues": ["true", "false"] },
        "MaxVcpus": { "Type": "Number", "Default": 16, "MinValue": 1, "MaxValue": 4096 },
        "NotificationEmail": { "Type": "String", "Default": "" },
        "TopicKmsKeyArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+)?$",
        },
        "RunsExpirationDays": days(30, 1),
        "SnapshotExpirationDays": days(0, 0),
        "NoncurrentVersionExpirationDays": days(30, 1),
        "LogRetentionDays": {
            "Type": "Number",
            "Default": 30,
            "AllowedValues": [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
        },
    });
    for (name, _) in PARAMETERS {
        p[name]["Description"] = json!(d(name));
    }
    p
}

fn outputs(store: &Store) -> Value {
    json!({
        "StateMachineArn": { "Description": "The feedpipe state machine", "Value": cfn::r("StateMachine") },
        "BucketName": { "Description": "The store's bucket", "Value": cfn::r("StoreBucket") },
        "StoreUrl": {
            "Description": "The store as feedpipe.toml names it in AWS",
            "Value": cfn::sub(&format!("s3://${{StoreBucket}}/{}", store.prefix)),
        },
        "ConfigUrl": { "Description": "Where feedpipe deploy uploads feedpipe.toml (FEEDPIPE_CONFIG)", "Value": store.config_url() },
        "TopicArn": { "Description": "The events topic", "Value": cfn::r("EventsTopic") },
        "JobQueueArn": { "Description": "The Batch job queue", "Value": cfn::r("JobQueue") },
        "DiffFunctionArn": { "Description": "The feedpipe-diff Lambda", "Value": cfn::get_att("DiffFunction", "Arn") },
        "ShapeFunctionArn": { "Description": "The feedpipe-shape Lambda", "Value": cfn::get_att("ShapeFunction", "Arn") },
        "ScheduleDeadLetterQueueUrl": { "Description": "Schedule invocations that failed every retry", "Value": cfn::r("ScheduleDeadLetterQueue") },
        "ConsoleUrl": {
            "Description": "The state machine in the Step Functions console",
            "Value": cfn::sub("https://${AWS::Region}.console.aws.amazon.com/states/home?region=${AWS::Region}#/statemachines/view/${StateMachine}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_in_order() {
        assert_eq!(
            placeholders("a ${X} ${Y} ${X} ${Z"),
            vec!["X".to_string(), "Y".to_string()]
        );
    }

    #[test]
    fn store_urls() {
        let s = Store::from_config("s3://my-bucket/pre/fix/").unwrap();
        assert_eq!(s.bucket_name.as_deref(), Some("my-bucket"));
        assert_eq!(s.prefix, "pre/fix/");
        let s = Store::from_config("s3://my-bucket").unwrap();
        assert_eq!(s.prefix, "");
        let s = Store::from_config("file://.feedpipe/store").unwrap();
        assert_eq!(s.bucket_name, None);
        let e = Store::from_config("s3://My_Bucket/x").err().unwrap();
        assert!(e.to_string().contains("\"My_Bucket\""), "{e}");
    }
}
