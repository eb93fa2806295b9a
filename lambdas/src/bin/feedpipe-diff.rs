//! The `feedpipe-diff` Lambda: ops `diff` and `commit` over [`lambdas::diff_function`].

use lambda_runtime::{service_fn, Error, LambdaEvent};
use lambdas::{diff_function, Context, DiffFunctionRequest};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambdas::init_logging();
    let ctx = &Context::from_env().await?;
    let handler = |e: LambdaEvent<DiffFunctionRequest>| diff_function(ctx, e.payload);
    lambda_runtime::run(service_fn(handler)).await
}
