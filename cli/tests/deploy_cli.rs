//! `feedpipe deploy` as a user runs it: a configuration whose store is not on S3 and a
//! malformed `--parameter` exit 2 with a message saying what to do (no AWS call made); against
//! moto server, the command creates a stack from a configuration file and cargo-lambda's output
//! folder. The update, no-op and failure paths run against moto in `infra/tests/deploy.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn feedpipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(args)
        .current_dir(root())
        .env_remove("FEEDPIPE_CONFIG")
        // Never reach AWS: the errors tested come before any call.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("feedpipe runs")
}

#[test]
fn deploy_refuses_a_local_store_and_a_bad_parameter() {
    let out = feedpipe(&[
        "deploy",
        "--stack",
        "fp",
        "--config",
        "examples/feedpipe.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("store \"file://"), "{err}");
    assert!(err.contains("s3://BUCKET/prefix"), "{err}");

    let out = feedpipe(&[
        "deploy",
        "--stack",
        "fp",
        "--config",
        "examples/feedpipe.toml",
        "--parameter",
        "NoEquals",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expected NAME=VALUE"), "{err}");
}

const NETWORK: &str = r#"{
  "Resources": {
    "Vpc": { "Type": "AWS::EC2::VPC", "Properties": { "CidrBlock": "10.0.0.0/16" } },
    "Subnet": { "Type": "AWS::EC2::Subnet", "Properties": { "VpcId": { "Ref": "Vpc" }, "CidrBlock": "10.0.1.0/24" } },
    "Jobs": { "Type": "AWS::EC2::SecurityGroup", "Properties": { "VpcId": { "Ref": "Vpc" }, "GroupDescription": "feedpipe jobs" } }
  },
  "Outputs": { "Subnet": { "Value": { "Ref": "Subnet" } }, "SecurityGroup": { "Value": { "Ref": "Jobs" } } }
}"#;

/// The whole command against moto server (`scripts/test` exports `AWS_ENDPOINT_URL` and test
/// credentials): a new stack from a configuration file, the zips of a cargo-lambda output
/// folder, the configuration uploaded to the store.
#[tokio::test]
async fn deploy_creates_the_stack_on_moto() {
    let endpoint = store::testing::moto_endpoint();
    let (s3, artifacts) = store::testing::moto_bucket("feedpipe-cli-artifacts").await;
    let suffix = artifacts.rsplit('-').next().unwrap().to_string();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .http_client({
            use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .build_https()
        })
        .load()
        .await;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let net = format!("fpcli{suffix}-net");
    cfn.create_stack()
        .stack_name(&net)
        .template_body(NETWORK)
        .send()
        .await
        .unwrap();
    let described = cfn.describe_stacks().stack_name(&net).send().await.unwrap();
    let output = |k: &str| {
        described.stacks()[0]
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(k))
            .and_then(|o| o.output_value())
            .unwrap()
            .to_string()
    };
    let (subnet, sg) = (output("Subnet"), output("SecurityGroup"));

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deploy_cli");
    for f in ["feedpipe-diff", "feedpipe-shape"] {
        std::fs::create_dir_all(dir.join("lambda").join(f)).unwrap();
        std::fs::write(
            dir.join("lambda").join(f).join("bootstrap.zip"),
            [
                b'P', b'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ],
        )
        .unwrap();
    }
    let store_bucket = format!("fp-cli-store-{suffix}");
    let config = dir.join("feedpipe.toml");
    let text = format!(
        "store = \"s3://{store_bucket}\"\n\n[[feed]]\nname = \"jobs\"\nurl = \"https://example.com/jobs.xml\"\n\
         record_tag = \"job\"\nid = \"reference\"\n[feed.sink]\nurl = \"https://sink.example.com/jobs\"\n"
    );
    std::fs::write(&config, &text).unwrap();
    let stack = format!("fpcli{suffix}");
    let out = Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(["deploy", "--stack", &stack, "--config"])
        .arg(&config)
        .arg("--lambda-zips")
        .arg(dir.join("lambda"))
        .args([
            "--artifact-bucket",
            &artifacts,
            "--image",
            "worker:1",
            "--subnets",
            &subnet,
            "--security-groups",
            &sg,
            "--parameter",
            "RunsExpirationDays=7",
            "--poll-seconds",
            "0.05",
        ])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .output()
        .expect("feedpipe runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!("stack {stack} created")),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("creating stack {stack}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "configuration uploaded to s3://{store_bucket}/config/feedpipe.toml"
        )),
        "{stderr}"
    );
    let got = s3
        .get_object()
        .bucket(&store_bucket)
        .key("config/feedpipe.toml")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        text.as_bytes()
    );
    let described = cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let runs = described.stacks()[0]
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("RunsExpirationDays"))
        .and_then(|p| p.parameter_value())
        .map(str::to_string);
    assert_eq!(runs.as_deref(), Some("7"));
}
