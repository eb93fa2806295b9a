//! Where the execution commands act: the local engine and its store under `.feedpipe/`, or,
//! with `--aws`, a deployed state machine through Step Functions (the standard AWS
//! configuration chain, `AWS_ENDPOINT_URL` included). Both print alike.

use std::path::PathBuf;

use anyhow::{bail, Context};
use runs::sfn::StepFunctions;
use runs::Local;

/// The backend flags shared by the execution commands.
#[derive(clap::Args, Clone)]
pub struct Target {
    /// The configuration file (default ./feedpipe.toml, else the embedded example).
    #[arg(long, env = "FEEDPIPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Act on the state machine deployed in AWS (Step Functions) instead of the local engine.
    #[arg(long)]
    pub aws: bool,
    /// With --aws: the state machine's ARN.
    #[arg(long, env = "FEEDPIPE_STATE_MACHINE_ARN")]
    pub state_machine: Option<String>,
    /// With --aws: the CloudFormation stack (`feedpipe deploy --stack`) whose `StateMachineArn`
    /// output names the state machine.
    #[arg(long, env = "FEEDPIPE_STACK")]
    pub stack: Option<String>,
}

/// A local or an AWS backend.
pub enum Backend {
    /// The local engine.
    Local(Box<Local>),
    /// Step Functions.
    Aws(StepFunctions),
}

impl Target {
    /// The backend these flags name; `jobs`: the local one must be able to run Batch jobs.
    pub async fn backend(&self, jobs: bool) -> anyhow::Result<Backend> {
        if !self.aws {
            return Ok(Backend::Local(Box::new(crate::run_cmd::local(
                self.config.as_deref(),
                jobs,
            )?)));
        }
        let arn = match (&self.state_machine, &self.stack) {
            (Some(arn), _) => arn.clone(),
            (None, Some(stack)) => stack_output(stack).await?,
            (None, None) => bail!(
                "--aws needs the state machine: --state-machine ARN (or FEEDPIPE_STATE_MACHINE_ARN), or --stack NAME of a `feedpipe deploy`"
            ),
        };
        if !arn.starts_with("arn:") || !arn.contains(":stateMachine:") {
            bail!("{arn:?} is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)");
        }
        Ok(Backend::Aws(StepFunctions::new(arn).await))
    }
}

/// The `StateMachineArn` output of a CloudFormation stack.
async fn stack_output(stack: &str) -> anyhow::Result<String> {
    let sdk = store::s3::sdk_config(None).await;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let out = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| {
            let text = match e.as_service_error() {
                Some(s) => aws_sdk_cloudformation::error::ProvideErrorMetadata::message(s)
                    .unwrap_or("DescribeStacks failed")
                    .to_string(),
                None => store::error_chain(&e).to_string(),
            };
            anyhow::anyhow!("cannot read the stack {stack:?}: {text}")
        })?;
    out.stacks()
        .first()
        .and_then(|s| {
            s.outputs()
                .iter()
                .find(|o| o.output_key() == Some("StateMachineArn"))
                .and_then(|o| o.output_value())
        })
        .map(str::to_string)
        .with_context(|| format!("the stack {stack:?} has no StateMachineArn output"))
}
