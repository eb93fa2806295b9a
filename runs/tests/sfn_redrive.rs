//! `RedriveExecution` through the Step Functions backend. Moto server has no RedriveExecution,
//! so these run against `aws-smithy-mocks` (rules answering the SDK's calls in process) until a
//! server that has it is in the suite.

use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::operation::redrive_execution::{RedriveExecutionError, RedriveExecutionOutput};
use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::error::{ExecutionDoesNotExist, ExecutionNotRedrivable};
use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_sfn::Client;
use aws_smithy_mocks::{mock, mock_client};
use runs::sfn::StepFunctions;
use runs::RunsError;

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:feedpipe";
const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:feedpipe:jobs-1";

#[tokio::test]
async fn a_redrive_names_the_execution_and_returns_it_running_again() {
    let redrive = mock!(Client::redrive_execution)
        .match_requests(|r| r.execution_arn() == Some(EXECUTION))
        .then_output(|| {
            RedriveExecutionOutput::builder()
                .redrive_date(DateTime::from_secs(1_796_212_000))
                .build()
                .unwrap()
        });
    let describe = mock!(Client::describe_execution).then_output(|| {
        DescribeExecutionOutput::builder()
            .execution_arn(EXECUTION)
            .state_machine_arn(MACHINE)
            .name("jobs-1")
            .status(ExecutionStatus::Running)
            .start_date(DateTime::from_secs(1_796_200_000))
            .input("{\"feed\":\"jobs\"}")
            .redrive_count(1)
            .build()
            .unwrap()
    });
    let client = mock_client!(aws_sdk_sfn, [&redrive, &describe]);
    let sfn = StepFunctions::with_client(client, MACHINE.into());
    let d = sfn.redrive("jobs-1").await.unwrap();
    assert_eq!(d.status.as_str(), "RUNNING");
    assert_eq!(d.redrive_count, 1);
    assert_eq!(d.feed.as_deref(), Some("jobs"));
    assert_eq!(redrive.num_calls(), 1);
}

#[tokio::test]
async fn a_refused_redrive_says_why_and_what_can_be_redriven() {
    let refuse = mock!(Client::redrive_execution).then_error(|| {
        RedriveExecutionError::ExecutionNotRedrivable(
            ExecutionNotRedrivable::builder()
                .message("Execution is SUCCEEDED")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_sfn, [&refuse]);
    let sfn = StepFunctions::with_client(client, MACHINE.into());
    match sfn.redrive("jobs-1").await {
        Err(RunsError::NotRedrivable(m)) => {
            assert!(
                m.contains("jobs-1") && m.contains("Execution is SUCCEEDED"),
                "{m}"
            );
            assert!(m.contains("14 days"), "{m}");
        }
        other => panic!("expected NotRedrivable, got {other:?}"),
    }

    let missing = mock!(Client::redrive_execution).then_error(|| {
        RedriveExecutionError::ExecutionDoesNotExist(ExecutionDoesNotExist::builder().build())
    });
    let client = mock_client!(aws_sdk_sfn, [&missing]);
    let sfn = StepFunctions::with_client(client, MACHINE.into());
    assert!(matches!(
        sfn.redrive("nope").await,
        Err(RunsError::NoSuchExecution(n)) if n == "nope"
    ));
}
