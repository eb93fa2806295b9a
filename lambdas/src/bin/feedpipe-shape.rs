//! The `feedpipe-shape` Lambda over [`lambdas::shape::shape`].

use lambda_runtime::{service_fn, Error, LambdaEvent};
use lambdas::shape::{shape, ShapeRequest};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambdas::init_logging();
    let handler = |e: LambdaEvent<ShapeRequest>| shape(e.payload);
    lambda_runtime::run(service_fn(handler)).await
}
