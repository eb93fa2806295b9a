//! `feedpipe serve`: feedpipe's local executions behind the Step Functions API (AWS JSON 1.0:
//! `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`), so that the AWS CLI, aws-sdk-sfn
//! and boto3 work unchanged against `--endpoint-url`. Executions run in this process with the
//! local integrations and are kept in the execution store like those of `feedpipe run`.
//!
//! Actions: ListStateMachines, DescribeStateMachine, CreateStateMachine, UpdateStateMachine,
//! DeleteStateMachine (the feedpipe machine of the configuration, and machines created through
//! the API, kept in `.feedpipe/machines/`), DescribeStateMachineForExecution, StartExecution,
//! StartSyncExecution (EXPRESS machines, run in memory to their answer), DescribeExecution,
//! ListExecutions (statusFilter, redriveFilter, maxResults, nextToken), GetExecutionHistory
//! (maxResults, nextToken, reverseOrder, includeExecutionData), StopExecution,
//! RedriveExecution, ValidateStateMachineDefinition (checked as `run --definition` checks it),
//! TestState (one state in the engine, Tasks through `mock`), SendTaskSuccess, SendTaskFailure
//! and SendTaskHeartbeat (for `.waitForTaskToken` tasks running in this process). Others answer
//! `UnknownOperationException`. Errors are `{"__type", "message"}` with AWS's names
//! (ExecutionDoesNotExist, ExecutionAlreadyExists, ExecutionNotRedrivable,
//! StateMachineDoesNotExist, StateMachineAlreadyExists, StateMachineTypeNotSupported,
//! InvalidDefinition, InvalidArn, InvalidName, InvalidExecutionInput, InvalidToken, InvalidOutput,
//! TaskTimedOut, MissingRequiredParameter, ValidationException, SerializationException).
//!
//! Executions of created machines run with the same local integrations as the pipeline's.
//! Deleting a machine stops its running executions and removes it with its executions.
//!
//! `GET /` is the web console (`console.html`, built into the binary): the executions list of a
//! state machine chosen from ListStateMachines (status and feed filters, newest first, pages),
//! an execution's page (its state machine drawn as a graph from the definition, top to bottom,
//! each state coloured by how the run went and the running one pulsing, the selected state's
//! input and output, the event table with expandable details, the Batch jobs' logs with their
//! contents) and Start, Stop and Redrive. Both pages follow the server-sent events below, and
//! poll instead when those cannot be had.
//!
//! `GET /events?execution=ARN` streams an execution's history events as they are written
//! (`event: history`, with the event id as SSE id: a reconnect's `Last-Event-ID` resumes after
//! it) and its DescribeExecution answer whenever that changes (`event: status`); `GET /events`
//! alone says when executions start or change status (`event: executions`).
//! `GET /logs?execution=ARN&stream=STATE-N.log` is a Batch job's log as text (its last MiB),
//! only from that execution's log folder.
//!
//! Who gets in: a loopback listener takes every client; any other address needs a token, which
//! clients send as the access key id of their SigV4 signature (`aws configure` it as the key);
//! the GET endpoints also take it as `?token=`.
#![deny(missing_docs)]

mod api;
mod files;
mod sse;

pub use api::{router, Server};
