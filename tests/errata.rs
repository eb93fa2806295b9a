//! Corpus errata: tokens that a recording's snapshot transformers wrote in place of a real value
//! (a generated table name, a start time, a role ARN, ...) without listing them in the case's
//! `placeholders`. Each entry names the token, why it is one, and the only cases it applies to;
//! in those cases the token counts as one more placeholder (it matches any run of one or more
//! characters, or any scalar when it is the whole expected string), everywhere else nothing
//! changes. The general comparison is never loosened.

/// One erratum: a token the recording used as a placeholder, in the cases listed.
#[derive(Debug, Clone, Copy)]
pub struct Erratum {
    /// The text the recording wrote instead of the real value.
    pub token: &'static str,
    /// What it replaced, and how we know.
    pub why: &'static str,
    /// Case ids (the case's `id`: `FEATURE/CASE`) it applies to.
    pub cases: &'static [&'static str],
}

const EXPRESS_CONTEXT_CASE: &str =
    "express__test_express_sync/test_query_runtime_memory__start_execution_sync_response";

const CONTEXT_OBJECT_CASES: &[&str] = &[
    "base__test_base/test_query_context_object_values__get_execution_history",
    EXPRESS_CONTEXT_CASE,
];

const DYNAMODB_CASES: &[&str] = &[
    "services__test_dynamodb_task_service/test_base_integrations_DYNAMODB_PUT_DELETE_ITEM___get_execution_history",
    "services__test_dynamodb_task_service/test_base_integrations_DYNAMODB_PUT_GET_ITEM___get_execution_history",
    "services__test_dynamodb_task_service/test_base_integrations_DYNAMODB_PUT_QUERY___get_execution_history",
    "services__test_dynamodb_task_service/test_base_integrations_DYNAMODB_PUT_UPDATE_GET_ITEM___get_execution_history",
];

/// Every erratum of the corpus.
pub const ERRATA: &[Erratum] = &[
    Erratum {
        token: "start-time",
        why: "$$.Execution.StartTime, a time of the recording run",
        cases: CONTEXT_OBJECT_CASES,
    },
    Erratum {
        token: "entered-time",
        why: "$$.State.EnteredTime, a time of the recording run",
        cases: CONTEXT_OBJECT_CASES,
    },
    Erratum {
        token: "sfn_role_arn",
        why: "$$.Execution.RoleArn, the recording account's IAM role (other cases list it as \
              'snf_role_arn')",
        cases: &[EXPRESS_CONTEXT_CASE],
    },
    Erratum {
        token: "<SyncExecArn_Part1_0idx>",
        why: "the express execution's name in its ARN and $$.Execution.Name",
        cases: &[EXPRESS_CONTEXT_CASE],
    },
    Erratum {
        token: "<SyncExecArn_Part2_0idx>",
        why: "the last part of the express execution's ARN",
        cases: &[EXPRESS_CONTEXT_CASE],
    },
    Erratum {
        token: "table-name",
        why: "the DynamoDB table the test created (sfn_test_table_<uid> in the captured input)",
        cases: DYNAMODB_CASES,
    },
    Erratum {
        token: "someNonexistentBucketName",
        why: "the whole bucket name someNonexistentBucketName<uid>: the test replaced the name \
              with its random suffix by this text",
        cases: &["error_handling__test_aws_sdk/test_no_such_bucket__get_execution_history"],
    },
    Erratum {
        token: "lambda_function_name",
        why: "the Lambda function the test created (lambda_func_<uid> in the captured input)",
        cases: &["outputdecl__test_output/test_base_task_lambda_BASE_TASK_LAMBDA___get_execution_history"],
    },
    Erratum {
        token: "<md5_of_message_body>",
        why: "SQS's MD5OfMessageBody of the sent message, replaced in the recorded result",
        cases: &["test_state__test_test_state_mock_scenarios/test_send_sqs_message_success__test_case_response"],
    },
    Erratum {
        token: "start-date",
        why: "the StartDate of the child execution that sfn:startExecution started",
        cases: &["test_state__test_test_state_mock_scenarios/test_sfn_start_execution_success__test_case_response"],
    },
];

/// The case's placeholders: its own `placeholders` and the errata tokens for its `id`.
pub fn placeholders(case: &serde_json::Value) -> Vec<String> {
    let id = case["id"].as_str().unwrap_or_default();
    let own = case["placeholders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(String::from));
    let errata = ERRATA
        .iter()
        .filter(|e| e.cases.contains(&id))
        .map(|e| e.token.to_string());
    own.chain(errata).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errata_apply_only_to_their_cases() {
        let listed = json!({"id": DYNAMODB_CASES[0], "placeholders": ["date"]});
        assert_eq!(placeholders(&listed), ["date", "table-name"]);
        let other = json!({"id": "services__x/y", "placeholders": ["date"]});
        assert_eq!(placeholders(&other), ["date"]);
    }
}
