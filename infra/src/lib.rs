//! CloudFormation template synthesis: schedules, Batch compute and job definitions, the Lambdas,
//! IAM, SNS, S3 and the state machine whose definition is the one `statemachine` generates, with
//! ARNs passed in through `DefinitionSubstitutions`. Filled in by a later issue.
#![deny(missing_docs)]
