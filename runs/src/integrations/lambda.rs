//! `arn:aws:states:::lambda:invoke` locally: the `lambdas` handlers called in process with the
//! task's `Payload`, answered as Step Functions answers (`{ExecutedVersion, Payload,
//! StatusCode}`). A handler's error becomes its `errorType` with the Lambda error payload
//! (`{"errorMessage","errorType"}`) as cause; a panic is `Lambda.Unknown`.

use serde_json::{json, Value};
use statemachine::engine::{BoxFuture, TaskError, TaskIntegration, TaskRequest};

use super::string_param;

/// The two feedpipe functions, in process.
pub struct LocalLambdas {
    context: lambdas::Context,
}

impl LocalLambdas {
    /// Functions working with this configuration and store.
    pub fn new(context: lambdas::Context) -> LocalLambdas {
        LocalLambdas { context }
    }
}

/// The function a `FunctionName` names: a plain name or an ARN (`...:function:NAME[:QUALIFIER]`).
fn function_name(name: &str) -> &str {
    match name.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => name,
    }
}

fn lambda_error(error_type: &str, message: &str) -> TaskError {
    TaskError::new(
        error_type,
        json!({"errorMessage": message, "errorType": error_type}).to_string(),
    )
}

impl TaskIntegration for LocalLambdas {
    fn call<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            let params = &request.parameters;
            let name = function_name(string_param(params, "FunctionName", request.state_name)?)
                .to_string();
            let payload = params.get("Payload").cloned().unwrap_or(Value::Null);
            let ctx = self.context.clone();
            let bad_payload = |e: serde_json::Error| {
                lambda_error(
                    lambdas::ErrorKind::BadRequest.name(),
                    &format!("the payload of {name} is not what it takes: {e}"),
                )
            };
            let handler = match name.as_str() {
                "feedpipe-diff" => {
                    let req: lambdas::DiffFunctionRequest =
                        serde_json::from_value(payload).map_err(bad_payload)?;
                    tokio::spawn(async move { lambdas::diff_function(&ctx, req).await })
                }
                "feedpipe-shape" => {
                    let req: lambdas::shape::ShapeRequest =
                        serde_json::from_value(payload).map_err(bad_payload)?;
                    tokio::spawn(async move {
                        let n = lambdas::shape::shape(req).await?;
                        serde_json::to_value(n).map_err(|e| {
                            lambdas::Error::new(lambdas::ErrorKind::Internal, e.to_string())
                        })
                    })
                }
                other => {
                    return Err(TaskError::new(
                        "Lambda.ResourceNotFoundException",
                        format!(
                            "Function not found: {other} (local functions: feedpipe-diff, feedpipe-shape)"
                        ),
                    ))
                }
            };
            match handler.await {
                Ok(Ok(payload)) => Ok(json!({
                    "ExecutedVersion": "$LATEST",
                    "Payload": payload,
                    "StatusCode": 200,
                })),
                Ok(Err(e)) => Err(lambda_error(e.kind.name(), &e.message)),
                Err(join) => {
                    let message = if join.is_panic() {
                        let panic = join.into_panic();
                        panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "the function panicked".into())
                    } else {
                        "the function was cancelled".into()
                    };
                    Err(lambda_error("Lambda.Unknown", &message))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::function_name;

    #[test]
    fn function_names_and_arns() {
        assert_eq!(function_name("feedpipe-diff"), "feedpipe-diff");
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:feedpipe-shape:live"),
            "feedpipe-shape"
        );
    }
}
