//! AWS Batch on Fargate: the compute environment, the job queue, the CheckFeed and ConsumeFeed
//! job definitions and their roles.
//!
//! A job's exit status decides whether Batch tries it again (`RetryStrategy.EvaluateOnExit`):
//! 1 ("failed, a retry may succeed") and a Spot interruption are retried; 2 (bad
//! configuration, input or feed) and 3 (the sink refused a batch) are not, nor is anything else.

use feed::config::Config;
use serde_json::{json, Map, Value};

use crate::cfn::{allow, arn, get_att, if_, log_group, r, role, sub};
use crate::Store;

/// Where the jobs' index spill files go: on Fargate the container's file system is the task's
/// ephemeral storage, sized by `[aws] ephemeral_storage_gib`.
pub const JOB_TMPDIR: &str = "/tmp";

/// Attempts of a job, the first included.
pub const JOB_ATTEMPTS: u32 = 3;

pub(crate) fn add(resources: &mut Map<String, Value>, store: &Store, config: &Config) {
    resources.insert(
        "BatchServiceRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": crate::cfn::trust("batch.amazonaws.com", false),
                "ManagedPolicyArns": [sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSBatchServiceRole")],
            },
        }),
    );
    resources.insert(
        "ComputeEnvironment".into(),
        json!({
            "Type": "AWS::Batch::ComputeEnvironment",
            "Properties": {
                "Type": "MANAGED",
                "State": "ENABLED",
                "ServiceRole": get_att("BatchServiceRole", "Arn"),
                "ComputeResources": {
                    "Type": if_("UseSpot", json!("FARGATE_SPOT"), json!("FARGATE")),
                    "MaxvCpus": r("MaxVcpus"),
                    "Subnets": r("Subnets"),
                    "SecurityGroupIds": r("SecurityGroups"),
                },
            },
        }),
    );
    resources.insert(
        "JobQueue".into(),
        json!({
            "Type": "AWS::Batch::JobQueue",
            "Properties": {
                "State": "ENABLED",
                "Priority": 1,
                "ComputeEnvironmentOrder": [{ "Order": 1, "ComputeEnvironment": r("ComputeEnvironment") }],
            },
        }),
    );
    resources.insert(
        "JobLogGroup".into(),
        log_group(sub("/aws/batch/${AWS::StackName}")),
    );
    resources.insert(
        "JobExecutionRole".into(),
        role(
            "ecs-tasks.amazonaws.com",
            true,
            "pull-image-and-log",
            vec![
                allow(
                    "PullFromEcr",
                    &[
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    json!([arn("ecr", "repository/*")]),
                ),
                allow("EcrLogin", &["ecr:GetAuthorizationToken"], json!("*")),
                allow(
                    "WriteJobLogs",
                    &["logs:CreateLogStream", "logs:PutLogEvents"],
                    json!([sub("${JobLogGroup.Arn}")]),
                ),
            ],
        ),
    );

    // CheckFeed reads the configuration and the feed's stored state, writes snapshots, indexes
    // and runs/NAME/EXEC/check.json.
    let mut check = vec![
        allow(
            "ReadStore",
            &["s3:GetObject"],
            json!([store.objects("config/*"), store.objects("feeds/*")]),
        ),
        allow(
            "WriteStore",
            &[
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            json!([store.objects("feeds/*"), store.objects("runs/*")]),
        ),
        list_bucket(store),
    ];
    let feed_sources: Vec<Value> = config
        .feeds
        .iter()
        .filter_map(|f| s3_object_arn(&f.url, false))
        .collect();
    if !feed_sources.is_empty() {
        check.push(allow("ReadS3Feeds", &["s3:GetObject"], json!(feed_sources)));
    }
    resources.insert(
        "CheckJobRole".into(),
        role("ecs-tasks.amazonaws.com", true, "check-feed", check),
    );

    // ConsumeFeed reads the configuration, snapshots and the run's manifest and change lists,
    // writes its checkpoint, and writes to s3:// sinks.
    let mut consume = vec![
        allow(
            "ReadStore",
            &["s3:GetObject"],
            json!([
                store.objects("config/*"),
                store.objects("feeds/*"),
                store.objects("runs/*")
            ]),
        ),
        allow(
            "WriteCheckpoints",
            &["s3:PutObject"],
            json!([store.objects("runs/*")]),
        ),
        list_bucket(store),
    ];
    let sinks: Vec<Value> = config
        .feeds
        .iter()
        .filter_map(|f| s3_object_arn(&f.sink.url, true))
        .collect();
    if !sinks.is_empty() {
        consume.push(allow(
            "WriteS3Sinks",
            &["s3:PutObject", "s3:AbortMultipartUpload"],
            json!(sinks),
        ));
    }
    resources.insert(
        "ConsumeJobRole".into(),
        role("ecs-tasks.amazonaws.com", true, "consume-feed", consume),
    );

    let aws = &config.aws;
    resources.insert(
        "CheckJobDefinition".into(),
        job_definition(
            "check",
            "CheckJobRole",
            aws.check_vcpu,
            aws.check_memory_mib,
            config.pipeline.check_timeout_seconds,
            aws.ephemeral_storage_gib,
            store,
        ),
    );
    resources.insert(
        "ConsumeJobDefinition".into(),
        job_definition(
            "consume",
            "ConsumeJobRole",
            aws.consume_vcpu,
            aws.consume_memory_mib,
            config.pipeline.consume_timeout_seconds,
            aws.ephemeral_storage_gib,
            store,
        ),
    );
}

/// `s3:ListBucket` on the store's bucket, limited to its prefix: without it a missing object
/// reads as 403 instead of 404, and the store could not tell "no current.json yet" from denial.
pub(crate) fn list_bucket(store: &Store) -> Value {
    let mut statement = allow(
        "ListStore",
        &["s3:ListBucket"],
        json!([get_att("StoreBucket", "Arn")]),
    );
    if !store.prefix.is_empty() {
        statement["Condition"] =
            json!({ "StringLike": { "s3:prefix": [format!("{}*", store.prefix)] } });
    }
    statement
}

/// The object ARN pattern an `s3://bucket/key` URL gives: the object itself, or with `folder`
/// everything under it as a prefix.
fn s3_object_arn(url: &str, folder: bool) -> Option<Value> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let key = key.trim_end_matches('/');
    let pattern = match (folder, key.is_empty()) {
        (_, true) => format!("{bucket}/*"),
        (true, false) => format!("{bucket}/{key}/*"),
        (false, false) => format!("{bucket}/{key}"),
    };
    Some(sub(&format!("arn:${{AWS::Partition}}:s3:::{pattern}")))
}

fn vcpu_text(vcpu: f64) -> String {
    if vcpu.fract() == 0.0 {
        format!("{}", vcpu as u32)
    } else {
        format!("{vcpu}")
    }
}

fn job_definition(
    job: &str,
    role: &str,
    vcpu: f64,
    memory_mib: u32,
    timeout_seconds: u64,
    ephemeral_gib: u32,
    store: &Store,
) -> Value {
    json!({
        "Type": "AWS::Batch::JobDefinition",
        "Properties": {
            "Type": "container",
            "JobDefinitionName": sub(&format!("${{AWS::StackName}}-{job}")),
            "PlatformCapabilities": ["FARGATE"],
            "PropagateTags": true,
            "RetryStrategy": {
                "Attempts": JOB_ATTEMPTS,
                "EvaluateOnExit": [
                    { "OnExitCode": "1", "Action": "RETRY" },
                    { "OnStatusReason": "Your Spot Task was interrupted*", "Action": "RETRY" },
                    { "OnExitCode": "*", "Action": "EXIT" },
                ],
            },
            "Timeout": { "AttemptDurationSeconds": timeout_seconds.max(60) },
            "ContainerProperties": {
                "Image": r("Image"),
                "Command": [job],
                "JobRoleArn": get_att(role, "Arn"),
                "ExecutionRoleArn": get_att("JobExecutionRole", "Arn"),
                "ResourceRequirements": [
                    { "Type": "VCPU", "Value": vcpu_text(vcpu) },
                    { "Type": "MEMORY", "Value": memory_mib.to_string() },
                ],
                "Environment": [
                    { "Name": "FEEDPIPE_CONFIG", "Value": store.config_url() },
                    { "Name": "FEEDPIPE_TMPDIR", "Value": JOB_TMPDIR },
                ],
                "EphemeralStorage": { "SizeInGiB": ephemeral_gib },
                "FargatePlatformConfiguration": { "PlatformVersion": "LATEST" },
                "NetworkConfiguration": { "AssignPublicIp": r("AssignPublicIp") },
                "RuntimePlatform": { "OperatingSystemFamily": "LINUX", "CpuArchitecture": "X86_64" },
                "LogConfiguration": {
                    "LogDriver": "awslogs",
                    "Options": {
                        "awslogs-group": r("JobLogGroup"),
                        "awslogs-region": r("AWS::Region"),
                        "awslogs-stream-prefix": job,
                    },
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_to_object_arns() {
        let text = |v: Value| v["Fn::Sub"].as_str().unwrap().to_string();
        assert_eq!(
            text(s3_object_arn("s3://b/feeds/x.xml", false).unwrap()),
            "arn:${AWS::Partition}:s3:::b/feeds/x.xml"
        );
        assert_eq!(
            text(s3_object_arn("s3://b/out/", true).unwrap()),
            "arn:${AWS::Partition}:s3:::b/out/*"
        );
        assert_eq!(
            text(s3_object_arn("s3://b", true).unwrap()),
            "arn:${AWS::Partition}:s3:::b/*"
        );
        assert!(s3_object_arn("https://x", true).is_none());
        assert_eq!(vcpu_text(0.25), "0.25");
        assert_eq!(vcpu_text(2.0), "2");
    }
}
