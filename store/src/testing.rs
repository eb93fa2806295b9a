//! Helpers for tests that run against moto server, the AWS API emulator `./scripts/test`
//! starts (it exports `FEEDPIPE_TEST_AWS_ENDPOINT`). Used by the tests of `store`, `worker`,
//! `lambdas` and the workspace's integration tests.

/// The moto endpoint. Panics, telling the developer what to run, when it is not set: an S3 test
/// must fail rather than pass without S3.
pub fn moto_endpoint() -> String {
    std::env::var("FEEDPIPE_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "FEEDPIPE_TEST_AWS_ENDPOINT is not set: this test needs moto server; run it with \
             ./scripts/test (e.g. ./scripts/test -p worker)"
        )
    })
}

/// Creates a bucket on moto whose name starts with `name` and is unique to this process and
/// moment, so test runs against one server never meet; returns the client and the bucket.
pub async fn moto_bucket(name: &str) -> (aws_sdk_s3::Client, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let bucket = format!("{name}-{}-{nanos}", std::process::id());
    let client = crate::s3::client(Some(&moto_endpoint())).await;
    if let Err(e) = client.create_bucket().bucket(&bucket).send().await {
        panic!("cannot create bucket {bucket} on moto: {e:?}");
    }
    (client, bucket)
}
