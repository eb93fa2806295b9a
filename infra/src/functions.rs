//! The two Lambdas: `feedpipe-diff` (ops diff and commit) and `feedpipe-shape`, as
//! `provided.al2023` arm64 functions whose `bootstrap` zips come from a code bucket.
//!
//! Sizing: DiffFeed merges two record indexes streamed from S3 and writes the change lists as
//! it goes. A first delivery of a 2-million-record feed lists every record (two indexes of
//! roughly 60 MB and as many change-list bytes): 2048 MB gives the function more than one vCPU
//! and network bandwidth to match, and 900 s (Lambda's maximum) leaves a wide margin.

use feed::config::Config;
use serde_json::{json, Map, Value};

use crate::cfn::{allow, get_att, log_group, r, role, sub};
use crate::Store;

/// Memory of feedpipe-diff in MB.
pub const DIFF_MEMORY_MB: u32 = 2048;
/// Timeout of feedpipe-diff in seconds.
pub const DIFF_TIMEOUT_SECONDS: u32 = 900;
/// Memory of feedpipe-shape in MB (it only formats a message).
pub const SHAPE_MEMORY_MB: u32 = 256;
/// Timeout of feedpipe-shape in seconds.
pub const SHAPE_TIMEOUT_SECONDS: u32 = 30;

pub(crate) fn add(resources: &mut Map<String, Value>, store: &Store, _config: &Config) {
    let logs = |group: &str| {
        allow(
            "WriteLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            json!([sub(&format!("${{{group}.Arn}}"))]),
        )
    };
    let xray = allow(
        "XRayTraces",
        &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        json!("*"),
    );
    // DiffFeed reads the configuration, indexes and check results; writes the manifest and
    // change lists under runs/, and (commit) feeds/NAME/current.json.
    let diff = vec![
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
            "WriteStore",
            &["s3:PutObject", "s3:AbortMultipartUpload"],
            json!([
                store.objects("runs/*"),
                store.objects("feeds/*/current.json")
            ]),
        ),
        crate::batch::list_bucket(store),
        logs("DiffFunctionLogGroup"),
        xray.clone(),
    ];
    // The functions' trust policies carry no aws:SourceAccount condition: Lambda assumes an
    // execution role itself, not on behalf of a caller, so the confused-deputy guard of the
    // other roles does not apply.
    resources.insert(
        "DiffFunctionRole".into(),
        role("lambda.amazonaws.com", false, "diff-feed", diff),
    );
    resources.insert(
        "ShapeFunctionRole".into(),
        role(
            "lambda.amazonaws.com",
            false,
            "shape-notification",
            vec![logs("ShapeFunctionLogGroup"), xray],
        ),
    );
    for (id, name, key, memory, timeout, env) in [
        (
            "DiffFunction",
            "diff",
            "DiffFunctionCodeKey",
            DIFF_MEMORY_MB,
            DIFF_TIMEOUT_SECONDS,
            json!({ "FEEDPIPE_CONFIG": store.config_url() }),
        ),
        (
            "ShapeFunction",
            "shape",
            "ShapeFunctionCodeKey",
            SHAPE_MEMORY_MB,
            SHAPE_TIMEOUT_SECONDS,
            json!({ "FEEDPIPE_CONFIG": store.config_url() }),
        ),
    ] {
        let group = format!("{id}LogGroup");
        resources.insert(
            group.clone(),
            log_group(sub(&format!(
                "/aws/lambda/${{AWS::StackName}}-feedpipe-{name}"
            ))),
        );
        resources.insert(
            id.into(),
            json!({
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": sub(&format!("${{AWS::StackName}}-feedpipe-{name}")),
                    "Description": format!("feedpipe-{name}"),
                    "Runtime": "provided.al2023",
                    "Architectures": ["arm64"],
                    "Handler": "bootstrap",
                    "Code": { "S3Bucket": r("LambdaCodeBucket"), "S3Key": r(key) },
                    "Role": get_att(&format!("{id}Role"), "Arn"),
                    "MemorySize": memory,
                    "Timeout": timeout,
                    "Environment": { "Variables": env },
                    "LoggingConfig": {
                        "LogFormat": "JSON",
                        "ApplicationLogLevel": "INFO",
                        "SystemLogLevel": "WARN",
                        "LogGroup": r(&group),
                    },
                    "TracingConfig": { "Mode": "Active" },
                },
            }),
        );
    }
}
