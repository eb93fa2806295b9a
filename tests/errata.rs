//! Corpus errata: tokens that a recording's snapshot transformers wrote in place of a real value
//! (a generated table name, a start time, a role ARN, ...) without listing them in the case's
//! `placeholders`. Each entry names the token, why it is one, and the only cases it applies to;
//! in those cases the token counts as one more placeholder (it matches any run of one or more
//! characters, or any scalar when it is the whole expected string), everywhere else nothing
//! changes. The general comparison is never loosened.

/// Stands for every case in [`Erratum::cases`].
pub const ALL_CASES: &[&str] = &["*"];

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

const LAMBDA_CASES: &[&str] = &[
    "arguments__test_arguments/test_base_cases_BASE_LAMBDA_EMPTY_GLOBAL_QL_JSONATA___get_execution_history",
    "arguments__test_arguments/test_base_cases_BASE_LAMBDA_EMPTY___get_execution_history",
    "arguments__test_arguments/test_base_cases_BASE_LAMBDA_EXPRESSION___get_execution_history",
    "arguments__test_arguments/test_base_cases_BASE_LAMBDA_LITERALS___get_execution_history",
    "error_handling__test_task_service_lambda/test_raise_exception_catch_output_path_.Payload___get_execution_history",
    "error_handling__test_task_service_lambda/test_raise_exception_catch_output_path_.no.such.path___get_execution_history",
    "error_handling__test_task_service_lambda/test_raise_exception_catch_output_path_None___get_execution_history",
    "outputdecl__test_output/test_base_lambda_BASE_LAMBDA___get_execution_history",
    "outputdecl__test_output/test_base_task_lambda_BASE_TASK_LAMBDA___get_execution_history",
    "scenarios__test_base_scenarios/test_retry_interval_features_max_attempts_zero__get_execution_history",
    "services__test_lambda_task/test_lambda_task_filter_parameters_input__get_execution_history",
];

const S3_PUT_CASES: &[&str] = &[
    "services__test_aws_sdk_task_service/test_s3_put_object_bool___get_execution_history",
    "services__test_aws_sdk_task_service/test_s3_put_object_dict___get_execution_history",
    "services__test_aws_sdk_task_service/test_s3_put_object_list___get_execution_history",
    "services__test_aws_sdk_task_service/test_s3_put_object_num___get_execution_history",
    "services__test_aws_sdk_task_service/test_s3_put_object_str___get_execution_history",
];

const S3_CASES: &[&str] = &[
    "error_handling__test_aws_sdk/test_s3_no_such_key__get_execution_history",
    "services__test_aws_sdk_task_service/test_s3_get_object_binary___get_execution_history",
    "services__test_aws_sdk_task_service/test_s3_get_object_bytearray___get_execution_history",
    "services__test_aws_sdk_task_service/test_s3_get_object_empty_binary___get_execution_history",
    "services__test_aws_sdk_task_service/test_s3_get_object_empty_str___get_execution_history",
    "services__test_aws_sdk_task_service/test_s3_get_object_str___get_execution_history",
];

const WAIT_TIMESTAMP_CASES: &[&str] = &[
    "scenarios__test_base_scenarios/test_wait_timestamp_jsonata_INVALID_DATE___get_execution_history",
    "scenarios__test_base_scenarios/test_wait_timestamp_jsonata_INVALID_ISO___get_execution_history",
    "scenarios__test_base_scenarios/test_wait_timestamp_jsonata_INVALID_TIME___get_execution_history",
    "scenarios__test_base_scenarios/test_wait_timestamp_jsonata_NO_T___get_execution_history",
    "scenarios__test_base_scenarios/test_wait_timestamp_jsonata_NO_Z___get_execution_history",
    "scenarios__test_base_scenarios/test_wait_timestamp_path_INVALID_DATE___get_execution_history",
    "scenarios__test_base_scenarios/test_wait_timestamp_path_INVALID_ISO___get_execution_history",
    "scenarios__test_base_scenarios/test_wait_timestamp_path_INVALID_TIME___get_execution_history",
    "scenarios__test_base_scenarios/test_wait_timestamp_path_NO_T___get_execution_history",
    "scenarios__test_base_scenarios/test_wait_timestamp_path_NO_Z___get_execution_history",
];

const ITEM_READER_CASES: &[&str] = &[
    "assign__test_assign_reference_variables/test_reference_in_map_state_max_items_path_MAP_STATE_REFERENCE_IN_MAX_ITEMS_PATH___get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_base_csv_headers_decl__get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_base_csv_headers_first_line__get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_base_json__get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_base_json_max_items__get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_first_row_extra_fields__get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_headers_decl_duplicate_headers__get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_headers_decl_extra_fields__get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_headers_first_row_typed_headers__get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_max_items_0___get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_max_items_100000000___get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_max_items_2___get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_max_items_paths_-1___get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_max_items_paths_0___get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_max_items_paths_100000000___get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_max_items_paths_100000001___get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_csv_max_items_paths_2___get_execution_history",
    "scenarios__test_base_scenarios/test_map_item_reader_json_no_json_list_object__get_execution_history",
];

/// Every erratum of the corpus.
pub const ERRATA: &[Erratum] = &[
    Erratum {
        token: "snf_role_arn",
        why: "the execution role of the recording account, in every recorded ExecutionStarted \
              event (most cases do not list it since their result does not show it)",
        cases: ALL_CASES,
    },
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
        why: "the Lambda function the test created (lambda_func_<uid> or function_name_<uid> in \
              the captured input), in results and in recorded histories (execution input, \
              function ARNs)",
        cases: LAMBDA_CASES,
    },
    Erratum {
        token: "lambda_function_1_name",
        why: "the Lambda function the test created (lambda_1_func_<uid>), in a function ARN",
        cases: &["comments__test_comments/test_comments_as_per_docs__get_execution_history"],
    },
    Erratum {
        token: "bucket-name",
        why: "the S3 bucket the test created, in the recorded execution input",
        cases: S3_CASES,
    },
    Erratum {
        token: "bucket-name",
        why: "the S3 bucket the test created, in the recorded execution input",
        cases: S3_PUT_CASES,
    },
    Erratum {
        token: "bucket-name",
        why: "the S3 bucket the test put the ItemReader's object in, in the recorded input",
        cases: ITEM_READER_CASES,
    },
    Erratum {
        token: "<MapRunArnPart1_0idx>",
        why: "the Map Run's id, in the MapRunArn and the ResultWriter's manifest key of the \
              result (the case lists the other parts of that ARN)",
        cases: &["scenarios__test_base_scenarios/test_map_state_result_writer__get_execution_history"],
    },
    Erratum {
        token: "file-key",
        why: "the object key with its random suffix (file-key-<uid>), in the recorded input",
        cases: S3_PUT_CASES,
    },
    Erratum {
        token: "timestamp",
        why: "the test's timestamp transformer replaced the (deliberately malformed) timestamp \
              of the recorded execution input",
        cases: WAIT_TIMESTAMP_CASES,
    },
    Erratum {
        token: "date",
        why: "$$.Execution.StartTime / $$.State.EnteredTime / a time in the input, replaced in \
              the recorded assignedVariables",
        cases: &[
            "assign__test_assign_base/test_base_cases_BASE_PATHS___get_execution_history",
            "assign__test_assign_reference_variables/test_reference_assign_BASE_REFERENCE_IN_WAIT___get_execution_history",
        ],
    },
    Erratum {
        token: "map_run_arn",
        why: "the Map Run ARN in the recorded MapRunStarted events",
        cases: &["scenarios__test_base_scenarios/test_map_state_config_distributed_reentrant__get_execution_history"],
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
        .filter(|e| e.cases == ALL_CASES || e.cases.contains(&id))
        .map(|e| e.token.to_string());
    own.chain(errata).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errata_apply_only_to_their_cases() {
        // `snf_role_arn` is the one erratum that holds for every case.
        let listed = json!({"id": DYNAMODB_CASES[0], "placeholders": ["date"]});
        assert_eq!(
            placeholders(&listed),
            ["date", "snf_role_arn", "table-name"]
        );
        let other = json!({"id": "services__x/y", "placeholders": ["date"]});
        assert_eq!(placeholders(&other), ["date", "snf_role_arn"]);
    }
}
