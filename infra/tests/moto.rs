//! The synthesized template created on moto server through CloudFormation (aws-sdk-
//! cloudformation's `CreateStack`), and the resources it made read back through each service's
//! API. Needs the moto server `scripts/test` starts (`FEEDPIPE_TEST_AWS_ENDPOINT`).
//!
//! moto's CloudFormation skips resource types it does not implement, creating nothing for them:
//! `AWS::S3::BucketPolicy`, `AWS::SNS::TopicPolicy`, `AWS::SNS::Subscription`,
//! `AWS::CloudWatch::Alarm` and `AWS::Scheduler::Schedule` ([`MOTO_SKIPS`]). The template never
//! reads an attribute of those (GetAtt on them would fail on moto), and this test checks that
//! exactly those were skipped; their properties are checked on the template's JSON in
//! `template.rs` (TLS-only policies, schedules' targets, alarm). moto also ignores a
//! bucket's public-access block and lifecycle rules and a state machine's
//! `DefinitionSubstitutions`: the stored definition is the unsubstituted text, so the test
//! substitutes it itself with the ARNs of the resources the stack made.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use serde_json::Value;

/// Resource types moto's CloudFormation does not create.
const MOTO_SKIPS: [&str; 5] = [
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::CloudWatch::Alarm",
    "AWS::Scheduler::Schedule",
];

const NETWORK: &str = r#"{
  "Resources": {
    "Vpc": { "Type": "AWS::EC2::VPC", "Properties": { "CidrBlock": "10.0.0.0/16" } },
    "Subnet": { "Type": "AWS::EC2::Subnet", "Properties": { "VpcId": { "Ref": "Vpc" }, "CidrBlock": "10.0.1.0/24" } },
    "Jobs": { "Type": "AWS::EC2::SecurityGroup", "Properties": { "VpcId": { "Ref": "Vpc" }, "GroupDescription": "feedpipe jobs" } }
  },
  "Outputs": { "Subnet": { "Value": { "Ref": "Subnet" } }, "SecurityGroup": { "Value": { "Ref": "Jobs" } } }
}"#;

/// An empty zip archive (end-of-central-directory record only): moto stores Lambda code
/// without running it.
const EMPTY_ZIP: [u8; 22] = [
    b'P', b'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .endpoint_url(endpoint)
        .load()
        .await
}

fn param(key: &str, value: &str) -> Parameter {
    Parameter::builder()
        .parameter_key(key)
        .parameter_value(value)
        .build()
}

/// Creates a stack and waits for it to settle; returns its outputs. Fails naming each failed
/// resource and its reason.
async fn create_stack(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
    body: &str,
    parameters: Vec<Parameter>,
) -> BTreeMap<String, String> {
    cfn.create_stack()
        .stack_name(name)
        .template_body(body)
        .set_parameters(Some(parameters))
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateStack {name}: {:?}", e.into_service_error()));
    let start = Instant::now();
    loop {
        let out = cfn.describe_stacks().stack_name(name).send().await.unwrap();
        let stack = &out.stacks()[0];
        let status = stack.stack_status().cloned().unwrap();
        if status == StackStatus::CreateComplete {
            return stack
                .outputs()
                .iter()
                .map(|o| {
                    (
                        o.output_key().unwrap().to_string(),
                        o.output_value().unwrap().to_string(),
                    )
                })
                .collect();
        }
        if !status.as_str().ends_with("IN_PROGRESS") || start.elapsed() > Duration::from_secs(60) {
            let events = cfn
                .describe_stack_events()
                .stack_name(name)
                .send()
                .await
                .unwrap();
            let failed: Vec<String> = events
                .stack_events()
                .iter()
                .filter(|e| e.resource_status_reason().is_some())
                .map(|e| {
                    format!(
                        "{}: {:?}",
                        e.logical_resource_id().unwrap_or("?"),
                        e.resource_status_reason()
                    )
                })
                .collect();
            panic!("stack {name} ended {status:?}: {failed:#?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn template_creates_on_moto_with_the_configured_resources() {
    let endpoint = store::testing::moto_endpoint();
    let sdk = sdk_config(&endpoint).await;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let template_text =
        std::fs::read_to_string(root.join("examples/feedpipe.template.json")).unwrap();
    let template: Value = serde_json::from_str(&template_text).unwrap();
    let asl = std::fs::read_to_string(root.join("examples/feedpipe.asl.json")).unwrap();

    let (s3, code_bucket) = store::testing::moto_bucket("feedpipe-code").await;
    for key in ["lambdas/feedpipe-diff.zip", "lambdas/feedpipe-shape.zip"] {
        s3.put_object()
            .bucket(&code_bucket)
            .key(key)
            .body(EMPTY_ZIP.to_vec().into())
            .send()
            .await
            .unwrap();
    }
    // Unique per run: one moto server serves every test of the suite.
    let stack = format!("fp{}", code_bucket.rsplit('-').next().unwrap());
    let net = create_stack(&cfn, &format!("{stack}-net"), NETWORK, vec![]).await;
    let outputs = create_stack(
        &cfn,
        &stack,
        &template_text,
        vec![
            param(
                "Image",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/feedpipe-worker:test",
            ),
            param("LambdaCodeBucket", &code_bucket),
            param("Subnets", &net["Subnet"]),
            param("SecurityGroups", &net["SecurityGroup"]),
        ],
    )
    .await;

    // Every resource was made, except the types moto skips and the e-mail subscription, whose
    // condition (an e-mail address given) is false.
    let listed = cfn
        .list_stack_resources()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let mut made: Vec<String> = listed
        .stack_resource_summaries()
        .iter()
        .filter(|r| !r.logical_resource_id().unwrap_or_default().is_empty())
        .map(|r| {
            assert_eq!(
                r.resource_status().unwrap().as_str(),
                "CREATE_COMPLETE",
                "{r:?}"
            );
            r.logical_resource_id().unwrap().to_string()
        })
        .collect();
    made.sort();
    let physical: BTreeMap<String, String> = listed
        .stack_resource_summaries()
        .iter()
        .filter_map(|r| {
            Some((
                r.logical_resource_id()?.to_string(),
                r.physical_resource_id()?.to_string(),
            ))
        })
        .collect();
    let resources = template["Resources"].as_object().unwrap();
    let mut expected: Vec<String> = resources
        .iter()
        .filter(|(_, r)| !MOTO_SKIPS.contains(&r["Type"].as_str().unwrap()))
        .map(|(id, _)| id.clone())
        .collect();
    expected.sort();
    assert_eq!(made, expected);
    for skipped in MOTO_SKIPS {
        assert!(
            resources.values().any(|r| r["Type"] == skipped),
            "{skipped} is no longer in the template: update MOTO_SKIPS"
        );
    }

    // The bucket, encrypted.
    let bucket = &outputs["BucketName"];
    s3.head_bucket().bucket(bucket).send().await.unwrap();
    let sse = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rule = &sse.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    assert_eq!(
        outputs["ConfigUrl"],
        format!("s3://{bucket}/config/feedpipe.toml")
    );

    // The topic.
    let sns = aws_sdk_sns::Client::new(&sdk);
    let attrs = sns
        .get_topic_attributes()
        .topic_arn(&outputs["TopicArn"])
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs.attributes().unwrap()["DisplayName"],
        "feedpipe events"
    );

    // The job queue and definitions: command, environment, retry strategy, sizes.
    let batch = aws_sdk_batch::Client::new(&sdk);
    let queues = batch
        .describe_job_queues()
        .job_queues(&outputs["JobQueueArn"])
        .send()
        .await
        .unwrap();
    assert_eq!(queues.job_queues()[0].state().unwrap().as_str(), "ENABLED");
    for job in ["check", "consume"] {
        let defs = batch
            .describe_job_definitions()
            .job_definition_name(format!("{stack}-{job}"))
            .send()
            .await
            .unwrap();
        let def = &defs.job_definitions()[0];
        let c = def.container_properties().unwrap();
        assert_eq!(c.command(), [job]);
        assert!(c.image().unwrap().ends_with("feedpipe-worker:test"));
        let env: BTreeMap<&str, &str> = c
            .environment()
            .iter()
            .map(|kv| (kv.name().unwrap(), kv.value().unwrap()))
            .collect();
        assert_eq!(env["FEEDPIPE_CONFIG"], outputs["ConfigUrl"]);
        assert_eq!(env["FEEDPIPE_TMPDIR"], "/tmp");
        let retry = def.retry_strategy().unwrap();
        assert_eq!(retry.attempts(), Some(3));
        let first = &retry.evaluate_on_exit()[0];
        assert_eq!(first.on_exit_code(), Some("1"));
        assert_eq!(
            first.action().unwrap().as_str().to_ascii_uppercase(),
            "RETRY"
        );
        let last = retry.evaluate_on_exit().last().unwrap();
        assert_eq!(last.on_exit_code(), Some("*"));
        assert_eq!(last.action().unwrap().as_str().to_ascii_uppercase(), "EXIT");
        // (moto does not return platformCapabilities; template.rs checks FARGATE on the JSON.)
        let key = format!(
            "{}JobDefinition",
            if job == "check" { "Check" } else { "Consume" }
        );
        assert_eq!(def.job_definition_arn(), Some(physical[&key].as_str()));
    }

    // The state machine: moto keeps the definition as given (it ignores
    // DefinitionSubstitutions), which must be `feedpipe asl`'s text; substituted with the ARNs
    // of this stack's resources, as CloudFormation does, no placeholder is left.
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    let sm = sfn
        .describe_state_machine()
        .state_machine_arn(&outputs["StateMachineArn"])
        .send()
        .await
        .unwrap();
    assert_eq!(sm.definition(), asl);
    assert!(sm.role_arn().contains(&physical["StateMachineRole"]));
    assert_eq!(sm.r#type().as_str(), "STANDARD");
    let values: BTreeMap<String, String> = [
        ("JobQueue", outputs["JobQueueArn"].clone()),
        ("CheckJobDefinition", physical["CheckJobDefinition"].clone()),
        (
            "ConsumeJobDefinition",
            physical["ConsumeJobDefinition"].clone(),
        ),
        ("DiffFunction", outputs["DiffFunctionArn"].clone()),
        ("ShapeFunction", outputs["ShapeFunctionArn"].clone()),
        ("EventsTopic", outputs["TopicArn"].clone()),
        ("ConfigUrl", outputs["ConfigUrl"].clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(values.keys().collect::<Vec<_>>(), {
        let mut p = statemachine::feedpipe::PLACEHOLDERS.to_vec();
        p.sort();
        p
    });
    let substituted = statemachine::feedpipe::substitute(sm.definition(), &values);
    assert!(!substituted.contains("${"), "{substituted}");
    let definition: Value = serde_json::from_str(&substituted).unwrap();
    let check = &definition["States"]["CheckFeed"]["Parameters"];
    assert_eq!(check["JobQueue"], outputs["JobQueueArn"].as_str());
    assert_eq!(
        check["JobDefinition"],
        physical["CheckJobDefinition"].as_str()
    );
    assert!(outputs["DiffFunctionArn"].ends_with(&format!(":function:{stack}-feedpipe-diff")));
    assert!(outputs["ConsoleUrl"].ends_with(&outputs["StateMachineArn"]));
}
