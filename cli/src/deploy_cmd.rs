//! `feedpipe deploy`: synthesize the template for the configuration, upload the Lambdas' zips,
//! create or update the CloudFormation stack through a change set while printing its events,
//! upload the configuration to the store, and print the stack's outputs (`infra::deploy`).
//!
//! AWS access uses the standard configuration chain (environment, profiles with SSO or
//! `credential_process`, `AWS_ENDPOINT_URL`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::config::Loaded;

/// Create or update the CloudFormation stack.
#[derive(clap::Args)]
pub struct DeployArgs {
    /// Stack name.
    #[arg(long)]
    pub stack: String,
    /// The configuration file (default ./feedpipe.toml, else the embedded example).
    #[arg(long, env = "FEEDPIPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory of the Lambdas' zips: `cargo lambda build` output (target/lambda), holding
    /// feedpipe-diff/bootstrap.zip and feedpipe-shape/bootstrap.zip. Needed for a new stack.
    #[arg(long)]
    pub lambda_zips: Option<PathBuf>,
    /// Bucket the zips are uploaded to (it must exist).
    #[arg(long, env = "FEEDPIPE_ARTIFACT_BUCKET")]
    pub artifact_bucket: Option<String>,
    /// The worker image URI (template parameter Image).
    #[arg(long)]
    pub image: Option<String>,
    /// Subnets of the Batch jobs, comma-separated (parameter Subnets).
    #[arg(long)]
    pub subnets: Option<String>,
    /// Security groups of the Batch jobs, comma-separated (parameter SecurityGroups).
    #[arg(long)]
    pub security_groups: Option<String>,
    /// Any other template parameter, NAME=VALUE (repeatable), e.g. NotificationEmail=ops@example.com.
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// Longest wait for the stack, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub timeout_seconds: u64,
    /// Seconds between polls of the stack's status.
    #[arg(long, default_value_t = 5.0)]
    pub poll_seconds: f64,
}

/// Runs `feedpipe deploy`.
pub fn run(args: DeployArgs) -> anyhow::Result<ExitCode> {
    let loaded = Loaded::load(args.config.as_deref())?;
    let config_path = args
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("feedpipe.toml")).filter(|p| p.exists()));
    let config_text = match &config_path {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("cannot read the configuration {}", p.display()))?,
        None => crate::config::EXAMPLE_CONFIG.to_string(),
    };
    let text = crate::synth_cmd::template_text(&loaded)?;
    let template: serde_json::Value = serde_json::from_str(&text)?;

    let mut parameters = BTreeMap::new();
    for (name, value) in [
        ("Image", &args.image),
        ("Subnets", &args.subnets),
        ("SecurityGroups", &args.security_groups),
    ] {
        if let Some(v) = value {
            parameters.insert(name.to_string(), v.clone());
        }
    }
    for p in &args.parameters {
        let (k, v) = p
            .split_once('=')
            .with_context(|| format!("--parameter {p:?}: expected NAME=VALUE"))?;
        parameters.insert(k.to_string(), v.to_string());
    }
    let request = infra::deploy::DeployRequest {
        stack: args.stack.clone(),
        template,
        config_text,
        store_url: loaded.config.store.clone(),
        artifact_bucket: args.artifact_bucket.clone(),
        lambda_zips: args.lambda_zips.clone(),
        parameters,
        poll: Duration::from_secs_f64(args.poll_seconds.max(0.05)),
        timeout: Duration::from_secs(args.timeout_seconds),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async {
        use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
        let https = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(https)
            .load()
            .await;
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        let s3 = store::s3::client(None).await;
        infra::deploy::deploy(&cfn, &s3, &request, &mut |line| eprintln!("{line}")).await
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("feedpipe: error: deploy failed: {e}");
            return Ok(ExitCode::from(if e.is_usage() { 2 } else { 1 }));
        }
    };
    let action = match outcome.action {
        infra::deploy::Action::Created => "created",
        infra::deploy::Action::Updated => "updated",
        infra::deploy::Action::Unchanged => "unchanged",
    };
    println!("stack {} {action}", args.stack);
    for (k, v) in &outcome.outputs {
        println!("{k}\t{v}");
    }
    Ok(ExitCode::SUCCESS)
}
