//! `feedpipe deploy`: upload the Lambdas' zips, create or update the stack through a change
//! set, follow its events until it settles, then upload the configuration the jobs and
//! Lambdas read (`FEEDPIPE_CONFIG`, under the store's `config/feedpipe.toml`).
//!
//! The caller passes AWS clients (built from the standard configuration chain, so
//! `AWS_ENDPOINT_URL`, profiles, SSO and `credential_process` work) and a `progress` callback
//! that receives one line per stack event.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, StackEvent,
};
use aws_sdk_cloudformation::Client as CfnClient;
use aws_sdk_s3::Client as S3Client;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Largest template CloudFormation takes inline (`TemplateBody`), in bytes.
pub const MAX_TEMPLATE_BODY: usize = 51_200;

/// The Lambdas: (binary name, template parameter naming its code key).
pub const FUNCTIONS: [(&str, &str); 2] = [
    ("feedpipe-diff", "DiffFunctionCodeKey"),
    ("feedpipe-shape", "ShapeFunctionCodeKey"),
];

/// Errors of [`deploy`].
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The configuration's store is not on S3.
    #[error("store {0:?}: a deployed feedpipe keeps its store in the stack's bucket: set store = \"s3://BUCKET/prefix\" in the configuration")]
    StoreNotS3(String),
    /// A feed or sink URL of the configuration names a local file, which no job in AWS can
    /// reach.
    #[error("{key} = {url:?}: a deployed job cannot read or write local files: use an http(s):// or s3:// URL")]
    LocalUrl {
        /// The configuration key, e.g. `feed[0].sink.url`.
        key: String,
        /// The URL.
        url: String,
    },
    /// A Lambda zip is missing from `--lambda-zips`.
    #[error("no zip for {function} in {dir}: expected {function}/bootstrap.zip (cargo lambda build --output-format zip) or {function}.zip")]
    MissingZip {
        /// The function.
        function: String,
        /// The directory searched.
        dir: PathBuf,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A new stack needs parameters that were not given.
    #[error("stack {stack} does not exist yet and needs {missing}: give them (--image, --subnets, --security-groups, --lambda-zips with --artifact-bucket, or --parameter NAME=VALUE)", missing = .missing.join(", "))]
    MissingParameters {
        /// The stack.
        stack: String,
        /// The parameters without a value.
        missing: Vec<String>,
    },
    /// `--parameter` names a parameter the template does not have.
    #[error("the template has no parameter {0}")]
    UnknownParameter(String),
    /// Lambda zips were given without a bucket to put them in.
    #[error("--lambda-zips needs --artifact-bucket: the bucket the Lambdas' code is uploaded to")]
    NoArtifactBucket,
    /// The template is too big to send inline and there is no artifact bucket to upload it to.
    #[error("the template is {0} bytes, more than CloudFormation takes inline ({MAX_TEMPLATE_BODY}): give --artifact-bucket to upload it")]
    TemplateTooBig(usize),
    /// An AWS call failed.
    #[error("{operation}: {message}")]
    Aws {
        /// The API operation.
        operation: &'static str,
        /// The service's message (with its error code).
        message: String,
    },
    /// The change set could not be created.
    #[error("change set {name} of stack {stack} failed: {reason}")]
    ChangeSet {
        /// The stack.
        stack: String,
        /// The change set.
        name: String,
        /// CloudFormation's reason.
        reason: String,
    },
    /// The stack ended in a failed or rolled-back state.
    #[error("stack {stack} ended {status}{}", failures_text(.failures))]
    Failed {
        /// The stack.
        stack: String,
        /// Its final status.
        status: String,
        /// The resources that failed, first failure first: (logical id, type, reason).
        failures: Vec<(String, String, String)>,
    },
    /// The stack did not settle in time.
    #[error(
        "stack {stack} still {status} after {seconds} s; follow it in the CloudFormation console"
    )]
    Timeout {
        /// The stack.
        stack: String,
        /// Its last status.
        status: String,
        /// How long deploy waited.
        seconds: u64,
    },
}

impl DeployError {
    /// Whether the error is the user's input (configuration, flags, files) rather than AWS's
    /// answer: the CLI exits 2 for these, 1 for the others.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            DeployError::StoreNotS3(_)
                | DeployError::LocalUrl { .. }
                | DeployError::MissingZip { .. }
                | DeployError::Read { .. }
                | DeployError::MissingParameters { .. }
                | DeployError::UnknownParameter(_)
                | DeployError::NoArtifactBucket
                | DeployError::TemplateTooBig(_)
        )
    }
}

fn failures_text(failures: &[(String, String, String)]) -> String {
    let mut out = String::new();
    for (id, kind, reason) in failures {
        out.push_str(&format!("\n  {id} ({kind}): {reason}"));
    }
    out
}

type HttpResponse = aws_sdk_cloudformation::config::http::HttpResponse;

fn aws<E: std::error::Error + 'static>(
    operation: &'static str,
) -> impl FnOnce(aws_sdk_cloudformation::error::SdkError<E, HttpResponse>) -> DeployError {
    move |e| DeployError::Aws {
        operation,
        message: sdk_message(&e),
    }
}

/// The error's chain of messages; when the service's answer could not be parsed, its HTTP
/// status and (the start of) its body, which then hold the only explanation.
fn sdk_message<E: std::error::Error + 'static>(
    e: &aws_sdk_cloudformation::error::SdkError<E, HttpResponse>,
) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if let Some(raw) = e.raw_response() {
        if let Some(body) = raw.body().bytes().filter(|b| !b.is_empty()) {
            let body = String::from_utf8_lossy(&body[..body.len().min(1000)]);
            text.push_str(&format!(" (HTTP {}: {body})", raw.status().as_u16()));
        }
    }
    text
}

/// What [`deploy`] does.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    /// Stack name.
    pub stack: String,
    /// The template ([`crate::synth`]).
    pub template: Value,
    /// The configuration's text, uploaded to the store's `config/feedpipe.toml`.
    pub config_text: String,
    /// The configuration's store URL (`s3://bucket/prefix`).
    pub store_url: String,
    /// Bucket for the Lambdas' zips (and a template too big to send inline).
    pub artifact_bucket: Option<String>,
    /// Directory of the Lambdas' zips (`cargo lambda build` output, `target/lambda`).
    pub lambda_zips: Option<PathBuf>,
    /// Parameter values given by the user.
    pub parameters: BTreeMap<String, String>,
    /// Time between polls.
    pub poll: Duration,
    /// Longest wait for the stack to settle.
    pub timeout: Duration,
}

/// What a deploy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A new stack was created.
    Created,
    /// The stack was updated.
    Updated,
    /// The template and parameters were those deployed already.
    Unchanged,
}

/// The result of a successful deploy.
#[derive(Debug, Clone)]
pub struct DeployOutcome {
    /// What happened to the stack.
    pub action: Action,
    /// The stack's outputs.
    pub outputs: BTreeMap<String, String>,
    /// Where the configuration was uploaded.
    pub config_url: String,
}

/// Finds a function's zip in `dir`: `NAME/bootstrap.zip` (cargo-lambda's layout) or `NAME.zip`.
pub fn find_zip(dir: &Path, function: &str) -> Result<PathBuf, DeployError> {
    [
        dir.join(function).join("bootstrap.zip"),
        dir.join(format!("{function}.zip")),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .ok_or_else(|| DeployError::MissingZip {
        function: function.to_string(),
        dir: dir.to_path_buf(),
    })
}

/// The S3 key a zip is uploaded under: content-addressed, so that new code is a new key and
/// CloudFormation updates the function.
pub fn zip_key(function: &str, bytes: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(bytes));
    format!("lambdas/{function}-{}.zip", &digest[..16])
}

/// Deploys: see the module documentation.
pub async fn deploy(
    cfn: &CfnClient,
    s3: &S3Client,
    request: &DeployRequest,
    progress: &mut dyn FnMut(&str),
) -> Result<DeployOutcome, DeployError> {
    let (store_bucket, store_prefix) = match request.store_url.strip_prefix("s3://") {
        Some(rest) => {
            let (b, p) = rest.split_once('/').unwrap_or((rest, ""));
            let p = p.trim_matches('/');
            (
                b.to_string(),
                if p.is_empty() {
                    String::new()
                } else {
                    format!("{p}/")
                },
            )
        }
        None => return Err(DeployError::StoreNotS3(request.store_url.clone())),
    };
    if let Ok(config) = feed::config::Config::parse(&request.config_text, "feedpipe.toml") {
        for (i, f) in config.feeds.iter().enumerate() {
            for (key, url) in [("url", &f.url), ("sink.url", &f.sink.url)] {
                if url.starts_with("file://") {
                    return Err(DeployError::LocalUrl {
                        key: format!("feed[{i}].{key}"),
                        url: url.clone(),
                    });
                }
            }
        }
    }
    let template_params = request.template["Parameters"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for name in request.parameters.keys() {
        if !template_params.contains_key(name) {
            return Err(DeployError::UnknownParameter(name.clone()));
        }
    }
    let mut values = request.parameters.clone();

    if let Some(dir) = &request.lambda_zips {
        let bucket = request
            .artifact_bucket
            .as_ref()
            .ok_or(DeployError::NoArtifactBucket)?;
        for (function, key_param) in FUNCTIONS {
            let path = find_zip(dir, function)?;
            let bytes = std::fs::read(&path).map_err(|source| DeployError::Read {
                path: path.clone(),
                source,
            })?;
            let key = zip_key(function, &bytes);
            progress(&format!(
                "uploading {} to s3://{bucket}/{key}",
                path.display()
            ));
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .body(bytes.into())
                .send()
                .await
                .map_err(|e| DeployError::Aws {
                    operation: "S3 PutObject (Lambda zip)",
                    message: sdk_message(&e),
                })?;
            values.insert(key_param.to_string(), key);
        }
        values.insert("LambdaCodeBucket".into(), bucket.clone());
    }

    // Does the stack exist? CloudFormation answers a missing stack with a plain
    // ValidationError (no modelled error type exists for it), so the code is checked.
    let existing = match cfn
        .describe_stacks()
        .stack_name(&request.stack)
        .send()
        .await
    {
        Ok(out) => out.stacks().first().cloned(),
        Err(e) if e.as_service_error().and_then(|s| s.meta().code()) == Some("ValidationError") => {
            None
        }
        Err(e) => return Err(aws("CloudFormation DescribeStacks")(e)),
    };
    let status = existing
        .as_ref()
        .and_then(|s| s.stack_status().map(|s| s.as_str().to_string()));
    let create = matches!(status.as_deref(), None | Some("REVIEW_IN_PROGRESS"));
    let previous: BTreeSet<String> = existing
        .as_ref()
        .map(|s| {
            s.parameters()
                .iter()
                .filter_map(|p| p.parameter_key().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();

    let mut parameters = Vec::new();
    let mut missing = Vec::new();
    for (name, spec) in &template_params {
        if let Some(v) = values.get(name) {
            parameters.push(
                Parameter::builder()
                    .parameter_key(name)
                    .parameter_value(v)
                    .build(),
            );
        } else if !create && previous.contains(name) {
            parameters.push(
                Parameter::builder()
                    .parameter_key(name)
                    .use_previous_value(true)
                    .build(),
            );
        } else if spec.get("Default").is_none() {
            missing.push(name.clone());
        }
    }
    if !missing.is_empty() {
        return Err(DeployError::MissingParameters {
            stack: request.stack.clone(),
            missing,
        });
    }

    let body = serde_json::to_string(&request.template).expect("serializes");
    let change_set = format!("feedpipe-{}", unique_suffix(&body, &parameters));
    let mut create_cs = cfn
        .create_change_set()
        .stack_name(&request.stack)
        .change_set_name(&change_set)
        .change_set_type(if create {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .capabilities(Capability::CapabilityIam)
        .set_parameters(Some(parameters))
        .description("feedpipe deploy");
    if body.len() <= MAX_TEMPLATE_BODY {
        create_cs = create_cs.template_body(body);
    } else {
        let bucket = request
            .artifact_bucket
            .as_ref()
            .ok_or(DeployError::TemplateTooBig(body.len()))?;
        let key = format!("templates/{}-{change_set}.json", request.stack);
        s3.put_object()
            .bucket(bucket)
            .key(&key)
            .body(body.into_bytes().into())
            .send()
            .await
            .map_err(|e| DeployError::Aws {
                operation: "S3 PutObject (template)",
                message: sdk_message(&e),
            })?;
        create_cs = create_cs.template_url(format!("https://{bucket}.s3.amazonaws.com/{key}"));
    }
    progress(&format!(
        "{} stack {} (change set {change_set})",
        if create { "creating" } else { "updating" },
        request.stack
    ));
    let action = run_change_set(cfn, request, create_cs, create, &change_set, progress).await?;

    let outputs = outputs(cfn, &request.stack).await?;
    let config_key = format!("{store_prefix}config/feedpipe.toml");
    s3.put_object()
        .bucket(&store_bucket)
        .key(&config_key)
        .body(request.config_text.clone().into_bytes().into())
        .content_type("application/toml")
        .send()
        .await
        .map_err(|e| DeployError::Aws {
            operation: "S3 PutObject (configuration)",
            message: sdk_message(&e),
        })?;
    let config_url = format!("s3://{store_bucket}/{config_key}");
    progress(&format!("configuration uploaded to {config_url}"));
    Ok(DeployOutcome {
        action,
        outputs,
        config_url,
    })
}

async fn run_change_set(
    cfn: &CfnClient,
    request: &DeployRequest,
    create_cs: aws_sdk_cloudformation::operation::create_change_set::builders::CreateChangeSetFluentBuilder,
    create: bool,
    change_set: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<Action, DeployError> {
    let created = match create_cs.send().await {
        Ok(created) => created,
        // Some endpoints refuse an unchanged update at once instead of creating a failed
        // change set; a ValidationError with this text is the only sign of it.
        Err(e)
            if !create
                && e.as_service_error()
                    .and_then(|s| s.meta().message())
                    .is_some_and(|m| m.contains("No updates are to be performed")) =>
        {
            progress("no changes to the stack");
            return Ok(Action::Unchanged);
        }
        Err(e) => return Err(aws("CloudFormation CreateChangeSet")(e)),
    };
    let change_set_id = created.id().unwrap_or(change_set).to_string();

    // Wait for the change set.
    let start = tokio::time::Instant::now();
    // The change set is executed whenever CloudFormation made it: an update with nothing to
    // do comes back FAILED ("didn't contain changes"), which is the one case left alone.
    let unchanged = loop {
        let cs = cfn
            .describe_change_set()
            .change_set_name(&change_set_id)
            .stack_name(&request.stack)
            .send()
            .await
            .map_err(aws("CloudFormation DescribeChangeSet"))?;
        match cs.status() {
            Some(ChangeSetStatus::CreateComplete) => break false,
            Some(ChangeSetStatus::Failed) => {
                let reason = cs.status_reason().unwrap_or("no reason given").to_string();
                // CloudFormation reports "no changes" as a failed change set, with only this
                // text to tell it from a real failure.
                if !create
                    && (reason.contains("didn't contain changes") || reason.contains("No updates"))
                {
                    break true;
                }
                return Err(DeployError::ChangeSet {
                    stack: request.stack.clone(),
                    name: change_set.to_string(),
                    reason,
                });
            }
            _ => {}
        }
        if start.elapsed() > request.timeout {
            return Err(DeployError::Timeout {
                stack: request.stack.clone(),
                status: "creating its change set".into(),
                seconds: request.timeout.as_secs(),
            });
        }
        tokio::time::sleep(request.poll).await;
    };

    let action = if unchanged {
        progress("no changes to the stack");
        let _ = cfn
            .delete_change_set()
            .change_set_name(&change_set_id)
            .stack_name(&request.stack)
            .send()
            .await;
        Action::Unchanged
    } else {
        // Events older than this execution are not reported.
        let seen: BTreeSet<String> = cfn
            .describe_stack_events()
            .stack_name(&request.stack)
            .send()
            .await
            .map(|o| {
                o.stack_events()
                    .iter()
                    .filter_map(|e| e.event_id().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        cfn.execute_change_set()
            .change_set_name(&change_set_id)
            .stack_name(&request.stack)
            .send()
            .await
            .map_err(aws("CloudFormation ExecuteChangeSet"))?;
        wait_for_stack(cfn, request, seen, progress).await?;
        if create {
            Action::Created
        } else {
            Action::Updated
        }
    };
    Ok(action)
}

fn unique_suffix(body: &str, parameters: &[Parameter]) -> String {
    let mut h = Sha256::new();
    h.update(body.as_bytes());
    h.update(format!("{parameters:?}").as_bytes());
    h.update(format!("{:?}", std::time::SystemTime::now()).as_bytes());
    hex::encode(h.finalize())[..12].to_string()
}

async fn wait_for_stack(
    cfn: &CfnClient,
    request: &DeployRequest,
    mut seen: BTreeSet<String>,
    progress: &mut dyn FnMut(&str),
) -> Result<(), DeployError> {
    let start = tokio::time::Instant::now();
    let mut failures: Vec<(String, String, String)> = Vec::new();
    loop {
        let events = cfn
            .describe_stack_events()
            .stack_name(&request.stack)
            .send()
            .await
            .map_err(aws("CloudFormation DescribeStackEvents"))?;
        for line in new_events(events.stack_events(), &mut seen, &mut failures) {
            progress(&line);
        }
        let out = cfn
            .describe_stacks()
            .stack_name(&request.stack)
            .send()
            .await
            .map_err(aws("CloudFormation DescribeStacks"))?;
        let stack = out.stacks().first();
        let status = stack
            .and_then(|s| s.stack_status())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        match status.as_str() {
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" => return Ok(()),
            s if s.ends_with("_IN_PROGRESS") => {}
            _ => {
                if failures.is_empty() {
                    let reason = stack
                        .and_then(|s| s.stack_status_reason())
                        .unwrap_or("no reason given");
                    failures.push((
                        request.stack.clone(),
                        "AWS::CloudFormation::Stack".into(),
                        reason.to_string(),
                    ));
                }
                return Err(DeployError::Failed {
                    stack: request.stack.clone(),
                    status,
                    failures,
                });
            }
        }
        if start.elapsed() > request.timeout {
            return Err(DeployError::Timeout {
                stack: request.stack.clone(),
                status,
                seconds: request.timeout.as_secs(),
            });
        }
        tokio::time::sleep(request.poll).await;
    }
}

/// The progress lines of the events not seen before, oldest first (CloudFormation lists them
/// newest first), adding each failed resource (logical id, type, reason) to `failures`.
pub fn new_events(
    events: &[StackEvent],
    seen: &mut BTreeSet<String>,
    failures: &mut Vec<(String, String, String)>,
) -> Vec<String> {
    let mut lines = Vec::new();
    for e in events.iter().rev() {
        let Some(id) = e.event_id() else { continue };
        if !seen.insert(id.to_string()) {
            continue;
        }
        let logical = e.logical_resource_id().unwrap_or("?");
        let kind = e.resource_type().unwrap_or("?");
        let status = e.resource_status().map(|s| s.as_str()).unwrap_or("?");
        let reason = e.resource_status_reason().unwrap_or("");
        lines.push(
            format!("  {logical} {kind} {status} {reason}")
                .trim_end()
                .to_string(),
        );
        if status.ends_with("_FAILED") && kind != "AWS::CloudFormation::Stack" {
            failures.push((logical.to_string(), kind.to_string(), reason.to_string()));
        }
    }
    lines
}

async fn outputs(cfn: &CfnClient, stack: &str) -> Result<BTreeMap<String, String>, DeployError> {
    let out = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(aws("CloudFormation DescribeStacks"))?;
    Ok(out
        .stacks()
        .first()
        .map(|s| {
            s.outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_events_name_the_resource_and_reason_first_failure_first() {
        use aws_sdk_cloudformation::types::ResourceStatus;
        let event = |id: &str, logical: &str, kind: &str, status: ResourceStatus, reason: &str| {
            StackEvent::builder()
                .event_id(id)
                .stack_id("s")
                .stack_name("fp")
                .logical_resource_id(logical)
                .resource_type(kind)
                .resource_status(status)
                .resource_status_reason(reason)
                .timestamp(aws_sdk_cloudformation::primitives::DateTime::from_secs(0))
                .build()
        };
        // Newest first, as DescribeStackEvents lists them.
        let events = vec![
            event(
                "4",
                "fp",
                "AWS::CloudFormation::Stack",
                ResourceStatus::RollbackComplete,
                "",
            ),
            event(
                "3",
                "JobQueue",
                "AWS::Batch::JobQueue",
                ResourceStatus::CreateFailed,
                "Resource creation cancelled",
            ),
            event(
                "2",
                "ComputeEnvironment",
                "AWS::Batch::ComputeEnvironment",
                ResourceStatus::CreateFailed,
                "security group sg-1 does not exist",
            ),
            event(
                "1",
                "StoreBucket",
                "AWS::S3::Bucket",
                ResourceStatus::CreateComplete,
                "",
            ),
        ];
        let mut seen = BTreeSet::from(["1".to_string()]);
        let mut failures = Vec::new();
        let lines = new_events(&events, &mut seen, &mut failures);
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "  ComputeEnvironment AWS::Batch::ComputeEnvironment CREATE_FAILED security group sg-1 does not exist"
        );
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].0, "ComputeEnvironment");
        assert!(new_events(&events, &mut seen, &mut failures).is_empty());
        let e = DeployError::Failed {
            stack: "fp".into(),
            status: "ROLLBACK_COMPLETE".into(),
            failures,
        };
        let text = e.to_string();
        assert!(text.starts_with("stack fp ended ROLLBACK_COMPLETE\n  ComputeEnvironment (AWS::Batch::ComputeEnvironment): security group sg-1"), "{text}");
        assert!(!e.is_usage());
    }

    #[test]
    fn zips_are_found_in_either_layout_and_keyed_by_content() {
        let dir = std::env::temp_dir().join(format!("infra-zips-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("feedpipe-diff")).unwrap();
        std::fs::write(dir.join("feedpipe-diff/bootstrap.zip"), b"a").unwrap();
        std::fs::write(dir.join("feedpipe-shape.zip"), b"b").unwrap();
        assert!(find_zip(&dir, "feedpipe-diff")
            .unwrap()
            .ends_with("bootstrap.zip"));
        assert!(find_zip(&dir, "feedpipe-shape")
            .unwrap()
            .ends_with("feedpipe-shape.zip"));
        let e = find_zip(&dir, "nope").unwrap_err();
        assert!(e.to_string().contains("nope/bootstrap.zip"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_ne!(zip_key("f", b"a"), zip_key("f", b"b"));
        assert!(zip_key("f", b"a").starts_with("lambdas/f-"));
    }
}
