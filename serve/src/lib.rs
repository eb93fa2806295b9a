//! `feedpipe serve`: feedpipe's local executions behind the Step Functions API (AWS JSON 1.0:
//! `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`), so that the AWS CLI, aws-sdk-sfn
//! and boto3 work unchanged against `--endpoint-url`. Executions run in this process with the
//! local integrations and are kept in the execution store like those of `feedpipe run`.
//!
//! Actions so far: ListStateMachines, DescribeStateMachine, DescribeStateMachineForExecution,
//! StartExecution, DescribeExecution, ListExecutions (statusFilter, redriveFilter, maxResults,
//! nextToken), GetExecutionHistory (maxResults, nextToken, reverseOrder, includeExecutionData),
//! StopExecution, RedriveExecution, ValidateStateMachineDefinition (checked as `run --definition`
//! checks it), TestState (one state in the engine, Tasks through `mock`). Others answer
//! `UnknownOperationException`. Errors are
//! `{"__type", "message"}` with AWS's names (ExecutionDoesNotExist, ExecutionAlreadyExists,
//! ExecutionNotRedrivable, StateMachineDoesNotExist, InvalidArn, InvalidExecutionInput,
//! ValidationException, SerializationException).
//!
//! `GET /` is the web console (`console.html`, built into the binary): the executions list
//! (status and feed filters, newest first, pages), an execution's page (states coloured by how
//! the run went, the running one marked live, the selected state's input and output, the event
//! table with expandable details, the Batch jobs' log files) and Start, Stop and Redrive; it
//! polls while something runs.
//!
//! Who gets in: a loopback listener takes every client; any other address needs a token, which
//! clients send as the access key id of their SigV4 signature (`aws configure` it as the key).
#![deny(missing_docs)]

mod api;
mod files;
mod sse;

pub use api::{router, Server};
