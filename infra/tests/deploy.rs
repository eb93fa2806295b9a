//! `infra::deploy` against moto server (`scripts/test` starts it): a new stack is created
//! through a change set with the Lambdas' zips uploaded under content keys and the
//! configuration uploaded to the store; a second deploy of the same is a no-op; a changed
//! parameter updates the stack; a deploy that fails names the failing resource and its reason;
//! missing parameters are refused before anything is created.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_cloudformation::types::Parameter;
use infra::deploy::{deploy, Action, DeployError, DeployRequest};

const NETWORK: &str = r#"{
  "Resources": {
    "Vpc": { "Type": "AWS::EC2::VPC", "Properties": { "CidrBlock": "10.0.0.0/16" } },
    "Subnet": { "Type": "AWS::EC2::Subnet", "Properties": { "VpcId": { "Ref": "Vpc" }, "CidrBlock": "10.0.1.0/24" } },
    "Jobs": { "Type": "AWS::EC2::SecurityGroup", "Properties": { "VpcId": { "Ref": "Vpc" }, "GroupDescription": "feedpipe jobs" } }
  },
  "Outputs": { "Subnet": { "Value": { "Ref": "Subnet" } }, "SecurityGroup": { "Value": { "Ref": "Jobs" } } }
}"#;

const EMPTY_ZIP: [u8; 22] = [
    b'P', b'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

async fn clients() -> (aws_sdk_cloudformation::Client, aws_sdk_s3::Client, String) {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    let endpoint = store::testing::moto_endpoint();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .endpoint_url(&endpoint)
        .load()
        .await;
    let (s3, bucket) = store::testing::moto_bucket("feedpipe-artifacts").await;
    (aws_sdk_cloudformation::Client::new(&sdk), s3, bucket)
}

async fn network(cfn: &aws_sdk_cloudformation::Client, name: &str) -> (String, String) {
    cfn.create_stack()
        .stack_name(name)
        .template_body(NETWORK)
        .send()
        .await
        .unwrap();
    let out = cfn.describe_stacks().stack_name(name).send().await.unwrap();
    let get = |k: &str| {
        out.stacks()[0]
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(k))
            .and_then(|o| o.output_value())
            .unwrap()
            .to_string()
    };
    (get("Subnet"), get("SecurityGroup"))
}

fn zips(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    for f in ["feedpipe-diff", "feedpipe-shape"] {
        std::fs::create_dir_all(dir.join(f)).unwrap();
        std::fs::write(dir.join(f).join("bootstrap.zip"), EMPTY_ZIP).unwrap();
    }
    dir
}

fn config_text(store: &str) -> String {
    format!(
        r#"store = "{store}"

[[feed]]
name = "jobs"
url = "https://example.com/jobs.xml"
record_tag = "job"
id = "reference"
schedule = "rate(1 day)"
[feed.sink]
url = "https://sink.example.com/jobs"
"#
    )
}

fn request(stack: &str, store: &str, params: &[(&str, &str)]) -> DeployRequest {
    let text = config_text(store);
    let config = feed::config::Config::parse(&text, "feedpipe.toml").unwrap();
    DeployRequest {
        stack: stack.to_string(),
        template: infra::synth_config(&config).unwrap(),
        config_text: text,
        store_url: store.to_string(),
        artifact_bucket: None,
        lambda_zips: None,
        parameters: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        poll: Duration::from_millis(50),
        timeout: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn deploy_creates_then_skips_then_updates_the_stack() {
    let (cfn, s3, artifacts) = clients().await;
    let suffix = artifacts.rsplit('-').next().unwrap().to_string();
    let stack = format!("fpdeploy{suffix}");
    let (subnet, sg) = network(&cfn, &format!("{stack}-net")).await;
    let store = format!("s3://fp-store-{suffix}/prod");

    // Missing parameters of a new stack are named before anything is made.
    let mut r = request(&stack, &store, &[]);
    let e = deploy(&cfn, &s3, &r, &mut |_| {}).await.unwrap_err();
    let DeployError::MissingParameters { missing, .. } = &e else {
        panic!("{e}")
    };
    assert!(e.is_usage());
    for p in ["Image", "LambdaCodeBucket", "Subnets", "SecurityGroups"] {
        assert!(missing.contains(&p.to_string()), "{e}");
    }

    r = request(
        &stack,
        &store,
        &[
            ("Image", "worker:1"),
            ("Subnets", &subnet),
            ("SecurityGroups", &sg),
        ],
    );
    r.lambda_zips = Some(zips("deploy-zips"));
    r.artifact_bucket = Some(artifacts.clone());
    let mut lines = Vec::new();
    let outcome = deploy(&cfn, &s3, &r, &mut |l| lines.push(l.to_string()))
        .await
        .unwrap();
    assert_eq!(outcome.action, Action::Created);
    // moto fills no Outputs for a stack made by a change set (AWS does; deploy prints what
    // DescribeStacks returns): check the resources instead.
    let resources = cfn
        .list_stack_resources()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let machine = resources
        .stack_resource_summaries()
        .iter()
        .find(|r| r.logical_resource_id() == Some("StateMachine"))
        .expect("the state machine was made");
    assert_eq!(
        machine.resource_status().unwrap().as_str(),
        "CREATE_COMPLETE"
    );
    assert!(machine
        .physical_resource_id()
        .unwrap()
        .ends_with(&format!(":stateMachine:{stack}")));
    assert!(
        lines.iter().any(|l| l.contains(&format!(
            "{stack} AWS::CloudFormation::Stack CREATE_COMPLETE"
        ))),
        "{lines:#?}"
    );
    // The configuration is in the store the stack made, where the jobs and Lambdas read it.
    assert_eq!(
        outcome.config_url,
        format!("s3://fp-store-{suffix}/prod/config/feedpipe.toml")
    );

    let got = s3
        .get_object()
        .bucket(format!("fp-store-{suffix}"))
        .key("prod/config/feedpipe.toml")
        .send()
        .await
        .unwrap();
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.as_ref(), r.config_text.as_bytes());
    // The zips went up under content keys, which the stack's parameters name.
    let key = infra::deploy::zip_key("feedpipe-diff", &EMPTY_ZIP);
    s3.head_object()
        .bucket(&artifacts)
        .key(&key)
        .send()
        .await
        .unwrap();
    let described = cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let params: BTreeMap<&str, &str> = described.stacks()[0]
        .parameters()
        .iter()
        .map(|p: &Parameter| {
            (
                p.parameter_key().unwrap(),
                p.parameter_value().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(params["DiffFunctionCodeKey"], key);
    assert_eq!(params["LambdaCodeBucket"], artifacts);

    // The same again: nothing to do, previous parameter values kept.
    let again = request(&stack, &store, &[]);
    let outcome = deploy(&cfn, &s3, &again, &mut |_| {}).await.unwrap();
    assert_eq!(outcome.action, Action::Unchanged);

    // A new image: the stack is updated.
    // (Subnets and SecurityGroups are given again: moto cannot apply the previous value of a
    // List<...> parameter in an update, it fails on it with a 500; AWS keeps it.)
    let newer = request(
        &stack,
        &store,
        &[
            ("Image", "worker:2"),
            ("Subnets", &subnet),
            ("SecurityGroups", &sg),
        ],
    );
    let outcome = deploy(&cfn, &s3, &newer, &mut |_| {}).await.unwrap();
    assert_eq!(outcome.action, Action::Updated);
    let described = cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let image = described.stacks()[0]
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("Image"))
        .and_then(|p| p.parameter_value())
        .unwrap()
        .to_string();
    assert_eq!(image, "worker:2");
}

#[tokio::test]
async fn a_failed_deploy_names_the_failing_resource_and_its_reason() {
    let (cfn, s3, artifacts) = clients().await;
    let suffix = artifacts.rsplit('-').next().unwrap().to_string();
    let stack = format!("fpfail{suffix}");
    let (subnet, _) = network(&cfn, &format!("{stack}-net")).await;
    let mut r = request(
        &stack,
        &format!("s3://fp-fail-{suffix}"),
        &[
            ("Image", "worker:1"),
            ("Subnets", &subnet),
            ("SecurityGroups", "sg-0000000000000000"),
        ],
    );
    r.lambda_zips = Some(zips("deploy-fail-zips"));
    r.artifact_bucket = Some(artifacts);
    let e = deploy(&cfn, &s3, &r, &mut |_| {}).await.unwrap_err();
    assert!(!e.is_usage());
    let text = e.to_string();
    // AWS would roll the stack back and deploy would list the failed resources from its events
    // (`new_events`, unit-tested in infra::deploy); moto creates the resources inside
    // ExecuteChangeSet and answers it with Batch's error, which the message carries.
    assert!(text.contains("ExecuteChangeSet"), "{text}");
    assert!(
        text.contains("security group sg-0000000000000000 does not exist"),
        "{text}"
    );

    // A feed or sink on local files cannot be deployed.
    let mut r = request(&stack, "s3://x-placeholder", &[]);
    r.config_text = r
        .config_text
        .replace("https://sink.example.com/jobs", "file://out");
    let e = deploy(&cfn, &s3, &r, &mut |_| {}).await.unwrap_err();
    assert!(e.is_usage());
    assert!(
        e.to_string()
            .starts_with("feed[0].sink.url = \"file://out\""),
        "{e}"
    );

    // And a configuration whose store is not on S3 is refused up front.
    let mut r = request(&stack, "s3://x-placeholder", &[]);
    r.store_url = "file://.feedpipe/store".into();
    let e = deploy(&cfn, &s3, &r, &mut |_| {}).await.unwrap_err();
    assert!(matches!(e, DeployError::StoreNotS3(_)), "{e}");
}
