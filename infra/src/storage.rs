//! The store's S3 bucket (encrypted, private, TLS-only, versioned, with lifecycle rules) and the
//! events topic (optionally KMS-encrypted, optional e-mail subscription, TLS-only).

use feed::config::Config;
use serde_json::{json, Map, Value};

use crate::cfn::{get_att, if_, no_value, r, sub};
use crate::Store;

pub(crate) fn add(resources: &mut Map<String, Value>, store: &Store, config: &Config) {
    let p = &store.prefix;
    let mut rules = vec![
        json!({
            "Id": "expire-runs",
            "Status": "Enabled",
            "Prefix": format!("{p}runs/"),
            "ExpirationInDays": r("RunsExpirationDays"),
        }),
        json!({
            "Id": "expire-noncurrent-versions",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": { "NoncurrentDays": r("NoncurrentVersionExpirationDays") },
            "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 7 },
        }),
    ];
    // Snapshots and indexes are per feed; a lifecycle filter is a plain key prefix, so each feed
    // gets its own rules (feeds/NAME/current.json must never expire).
    for f in &config.feeds {
        for (kind, folder) in [("snapshots", "snapshots"), ("indexes", "indexes")] {
            rules.push(json!({
                "Id": format!("expire-{}-{kind}", f.name),
                "Status": if_("ExpireSnapshots", json!("Enabled"), json!("Disabled")),
                "Prefix": format!("{p}feeds/{}/{folder}/", f.name),
                "ExpirationInDays": if_("ExpireSnapshots", r("SnapshotExpirationDays"), json!(1)),
            }));
        }
    }
    let mut bucket = json!({
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{
                    "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" },
                    "BucketKeyEnabled": true,
                }],
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true,
                "BlockPublicPolicy": true,
                "IgnorePublicAcls": true,
                "RestrictPublicBuckets": true,
            },
            "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
            "VersioningConfiguration": { "Status": "Enabled" },
            "LifecycleConfiguration": { "Rules": rules },
        },
    });
    if let Some(name) = &store.bucket_name {
        bucket["Properties"]["BucketName"] = json!(name);
    }
    resources.insert("StoreBucket".into(), bucket);
    resources.insert(
        "StoreBucketPolicy".into(),
        json!({
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": r("StoreBucket"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [
                            get_att("StoreBucket", "Arn"),
                            sub("${StoreBucket.Arn}/*"),
                        ],
                        "Condition": { "Bool": { "aws:SecureTransport": "false" } },
                    }],
                },
            },
        }),
    );

    resources.insert(
        "EventsTopic".into(),
        json!({
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "DisplayName": "feedpipe events",
                "KmsMasterKeyId": if_("HasTopicKey", r("TopicKmsKeyArn"), no_value()),
            },
        }),
    );
    resources.insert(
        "EventsTopicPolicy".into(),
        json!({
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [r("EventsTopic")],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AlarmsOfThisAccount",
                            "Effect": "Allow",
                            "Principal": { "Service": "cloudwatch.amazonaws.com" },
                            "Action": "sns:Publish",
                            "Resource": r("EventsTopic"),
                            "Condition": { "StringEquals": { "aws:SourceAccount": r("AWS::AccountId") } },
                        },
                        {
                            "Sid": "FailureNotificationsOfThisStateMachine",
                            "Effect": "Allow",
                            "Principal": { "Service": "events.amazonaws.com" },
                            "Action": "sns:Publish",
                            "Resource": r("EventsTopic"),
                            "Condition": { "ArnEquals": { "aws:SourceArn": { "Fn::GetAtt": ["FailureNotificationRule", "Arn"] } } },
                        },
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "sns:Publish",
                            "Resource": r("EventsTopic"),
                            "Condition": { "Bool": { "aws:SecureTransport": "false" } },
                        },
                    ],
                },
            },
        }),
    );
    resources.insert(
        "EmailSubscription".into(),
        json!({
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasEmail",
            "Properties": {
                "TopicArn": r("EventsTopic"),
                "Protocol": "email",
                "Endpoint": r("NotificationEmail"),
            },
        }),
    );
}
