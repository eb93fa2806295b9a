//! The synthesized template: the committed `examples/feedpipe.template.json` is current, its
//! state machine is the committed `feedpipe asl` text with every placeholder substituted, its
//! IAM is least privilege as the justification files say, and cfn-lint and checkov accept it
//! (both installed by `scripts/test`, which exports their paths; run through it).

use std::path::{Path, PathBuf};
use std::process::Command;

use feed::config::Config;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn example_config() -> Config {
    Config::parse(&read("examples/feedpipe.toml"), "examples/feedpipe.toml").expect("parses")
}

fn example_template() -> Value {
    infra::synth_config(&example_config()).expect("synthesizes")
}

fn json_file(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn committed_template_is_current() {
    let path = root().join("examples/feedpipe.template.json");
    let text = serde_json::to_string_pretty(&example_template()).unwrap() + "\n";
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if text != committed && std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("update golden");
        return;
    }
    assert!(
        text == committed,
        "the synthesized template differs from {}: if the change is intended, rerun with \
         UPDATE_GOLDEN=1 (or `feedpipe synth --config examples/feedpipe.toml -o {}`) and commit it",
        path.display(),
        path.display()
    );
}

#[test]
fn state_machine_is_the_committed_asl_with_every_placeholder_substituted() {
    let t = example_template();
    let sm = &t["Resources"]["StateMachine"]["Properties"];
    assert_eq!(sm["DefinitionString"], read("examples/feedpipe.asl.json"));
    let subs = sm["DefinitionSubstitutions"].as_object().unwrap();
    let names: Vec<&str> = subs.keys().map(String::as_str).collect();
    let mut expected = statemachine::feedpipe::PLACEHOLDERS.to_vec();
    expected.sort();
    let mut got = names.clone();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(sm["StateMachineType"], "STANDARD");
    assert_eq!(sm["LoggingConfiguration"]["Level"], "ALL");
    assert_eq!(sm["LoggingConfiguration"]["IncludeExecutionData"], false);
    assert_eq!(sm["TracingConfiguration"]["Enabled"], true);
}

#[test]
fn unknown_placeholder_and_bad_store_are_refused() {
    let c = example_config();
    let e = infra::synth(&c, "{\"Comment\": \"${Nope}\"}").unwrap_err();
    assert!(e.to_string().contains("${Nope}"), "{e}");
    let e = infra::synth(&c, "{").unwrap_err();
    assert!(e.to_string().contains("not JSON"), "{e}");
    let mut c = example_config();
    c.store = "s3://Bad_Bucket/x".into();
    let e = infra::synth_config(&c).unwrap_err();
    assert!(e.to_string().contains("Bad_Bucket"), "{e}");
}

const TWO_FEEDS: &str = r#"
store = "s3://feedpipe-store-1/prod"
notify = "file://outbox"

[[feed]]
name = "jobs-uk"
url = "s3://feeds-in/uk/jobs.xml.gz"
record_tag = "job"
id = "reference"
schedule = "cron(0 6 * * ? *)"
schedule_timezone = "Europe/London"
[feed.sink]
url = "s3://deliveries/uk/"

[[feed]]
name = "jobs-de"
url = "https://example.com/de.xml"
record_tag = "job"
id = "@id"
schedule = "rate(2 hours)"
[feed.sink]
url = "https://sink.example.com/jobs"

[aws]
consume_vcpu = 2
consume_memory_mib = 8192
ephemeral_storage_gib = 100
"#;

#[test]
fn config_drives_schedules_jobs_and_store_scope() {
    let c = Config::parse(TWO_FEEDS, "two.toml").unwrap();
    let t = infra::synth_config(&c).unwrap();
    let r = &t["Resources"];
    let uk = &r["ScheduleJobsUk"]["Properties"];
    assert_eq!(uk["ScheduleExpression"], "cron(0 6 * * ? *)");
    assert_eq!(uk["ScheduleExpressionTimezone"], "Europe/London");
    let de = &r["ScheduleJobsDe"]["Properties"];
    assert_eq!(de["ScheduleExpression"], "rate(2 hours)");
    assert!(de.get("ScheduleExpressionTimezone").is_none());
    let target = &de["Target"];
    assert_eq!(
        target["Arn"],
        "arn:aws:scheduler:::aws-sdk:sfn:startExecution"
    );
    let request: Value =
        serde_json::from_str(target["Input"]["Fn::Sub"].as_str().unwrap()).unwrap();
    assert_eq!(request["StateMachineArn"], "${StateMachine}");
    assert_eq!(request["Name"], "jobs-de-<aws.scheduler.execution-id>");
    assert_eq!(request["Input"], "{\"feed\":\"jobs-de\"}");
    assert!(target["DeadLetterConfig"]["Arn"].is_object());
    assert!(
        target["RetryPolicy"]["MaximumRetryAttempts"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(de["FlexibleTimeWindow"]["Mode"], "FLEXIBLE");

    // The bucket named by the store, the prefix scoping every object permission.
    assert_eq!(
        r["StoreBucket"]["Properties"]["BucketName"],
        "feedpipe-store-1"
    );
    let env = &r["CheckJobDefinition"]["Properties"]["ContainerProperties"]["Environment"];
    assert_eq!(
        env[0]["Value"]["Fn::Sub"],
        "s3://${StoreBucket}/prod/config/feedpipe.toml"
    );
    let text = serde_json::to_string(&r["ConsumeJobRole"]).unwrap();
    assert!(
        text.contains("arn:${AWS::Partition}:s3:::deliveries/uk/*"),
        "{text}"
    );
    assert!(text.contains("${StoreBucket}/prod/runs/*"), "{text}");
    let check = serde_json::to_string(&r["CheckJobRole"]).unwrap();
    assert!(
        check.contains("arn:${AWS::Partition}:s3:::feeds-in/uk/jobs.xml.gz"),
        "{check}"
    );
    assert!(check.contains("\"s3:prefix\":[\"prod/*\"]"), "{check}");

    let consume = &r["ConsumeJobDefinition"]["Properties"];
    let req = &consume["ContainerProperties"]["ResourceRequirements"];
    assert_eq!(req[0]["Value"], "2");
    assert_eq!(req[1]["Value"], "8192");
    assert_eq!(
        consume["ContainerProperties"]["EphemeralStorage"]["SizeInGiB"],
        100
    );
    assert_eq!(consume["Timeout"]["AttemptDurationSeconds"], 14400);
    // Lifecycle: snapshot rules per feed, never a rule over feeds/NAME/ itself.
    let rules = r["StoreBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_array()
        .unwrap();
    let prefixes: Vec<&str> = rules.iter().filter_map(|x| x["Prefix"].as_str()).collect();
    assert_eq!(
        prefixes,
        [
            "prod/runs/",
            "prod/feeds/jobs-uk/snapshots/",
            "prod/feeds/jobs-uk/indexes/",
            "prod/feeds/jobs-de/snapshots/",
            "prod/feeds/jobs-de/indexes/"
        ]
    );
}

#[test]
fn job_retry_strategy_retries_exit_1_only() {
    let t = example_template();
    for id in ["CheckJobDefinition", "ConsumeJobDefinition"] {
        let p = &t["Resources"][id]["Properties"];
        let rules = p["RetryStrategy"]["EvaluateOnExit"].as_array().unwrap();
        // Batch applies the first rule that matches: exit 1 retries, every other exit code
        // (2 bad input, 3 sink refused) ends the job.
        assert_eq!(rules[0]["OnExitCode"], "1");
        assert_eq!(rules[0]["Action"], "RETRY");
        let last = rules.last().unwrap();
        assert_eq!(
            (&last["OnExitCode"], &last["Action"]),
            (&"*".into(), &"EXIT".into())
        );
        for code in ["2", "3"] {
            assert!(!rules
                .iter()
                .any(|r| r["OnExitCode"] == code && r["Action"] == "RETRY"));
        }
        let c = &p["ContainerProperties"];
        assert_eq!(c["Environment"][1]["Name"], "FEEDPIPE_TMPDIR");
        assert_eq!(c["LogConfiguration"]["LogDriver"], "awslogs");
        assert_eq!(p["PlatformCapabilities"][0], "FARGATE");
    }
    let d = &t["Resources"]["DiffFunction"]["Properties"];
    assert_eq!(d["Runtime"], "provided.al2023");
    assert_eq!(d["Architectures"][0], "arm64");
    assert_eq!(d["LoggingConfig"]["LogFormat"], "JSON");
}

#[test]
fn iam_is_least_privilege_and_every_star_resource_is_justified() {
    let t = infra::synth_config(&Config::parse(TWO_FEEDS, "two.toml").unwrap()).unwrap();
    let justified = json_file("infra/iam-star-resources.json");
    let listed = justified["statements"].as_array().unwrap();
    let statements = infra::policy::statements(&t);
    assert!(statements.len() > 20, "{statements:?}");
    let mut used = vec![false; listed.len()];
    for s in &statements {
        for a in &s.actions {
            assert_ne!(a, "*", "{s:?}");
            if s.effect == "Allow" {
                assert!(!a.contains('*'), "wildcard action in an Allow: {s:?}");
            } else {
                // Deny statements (TLS only) cover a whole service on purpose.
                assert!(a.ends_with(":*") || !a.contains('*'), "{s:?}");
            }
        }
        if s.effect == "Allow" && s.has_star_resource() {
            let at = listed
                .iter()
                .position(|j| j["resource"] == s.resource.as_str() && j["sid"] == s.sid.as_str());
            let Some(at) = at else {
                panic!(
                    "{}/{} allows {:?} on \"*\": narrow it or justify it in infra/iam-star-resources.json",
                    s.resource, s.sid, s.actions
                );
            };
            let actions: Vec<&str> = listed[at]["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert_eq!(actions, s.actions, "{}/{}", s.resource, s.sid);
            assert!(s.resources.len() == 1, "{s:?}: \"*\" with other resources");
            used[at] = true;
        }
    }
    for (j, used) in listed.iter().zip(used) {
        assert!(used, "justified but not in the template: {j}");
    }
    // The state machine gets exactly what the issue lists.
    let sm: Vec<&infra::policy::Statement> = statements
        .iter()
        .filter(|s| s.resource == "StateMachineRole")
        .collect();
    let actions_of = |sid: &str| sm.iter().find(|s| s.sid == sid).unwrap().actions.clone();
    assert_eq!(actions_of("SubmitJobs"), ["batch:SubmitJob"]);
    assert_eq!(actions_of("StopJobs"), ["batch:TerminateJob"]);
    assert_eq!(
        actions_of("BatchSyncRule"),
        ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    );
    assert_eq!(actions_of("InvokeFunctions"), ["lambda:InvokeFunction"]);
    assert_eq!(actions_of("PublishEvents"), ["sns:Publish"]);
    let scheduler: Vec<String> = statements
        .iter()
        .filter(|s| s.resource == "SchedulerRole")
        .flat_map(|s| s.actions.clone())
        .collect();
    assert_eq!(scheduler, ["states:StartExecution", "sqs:SendMessage"]);
}

fn tool(env: &str, fallback: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(fallback));
    assert!(
        path.exists(),
        "{} not found: run the suite with ./scripts/test, which installs it",
        path.display()
    );
    path
}

#[test]
fn cfn_lint_finds_no_errors_and_only_justified_warnings() {
    let out = Command::new(tool("FEEDPIPE_CFN_LINT", ".cache/venv/bin/cfn-lint"))
        .args(["--format", "json", "--"])
        .arg(root().join("examples/feedpipe.template.json"))
        .output()
        .expect("cfn-lint runs");
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-lint printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let justified = json_file("infra/cfn-lint-justifications.json");
    let listed: Vec<String> = justified["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{} {}",
                w["rule"].as_str().unwrap(),
                w["path"].as_str().unwrap()
            )
        })
        .collect();
    let mut seen = Vec::new();
    for f in &findings {
        let rule = f["Rule"]["Id"].as_str().unwrap_or("?");
        let path = f["Location"]["Path"]
            .as_array()
            .map(|p| {
                p.iter()
                    .map(|x| x.to_string().trim_matches('"').to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        assert!(!rule.starts_with('E'), "cfn-lint error: {f}");
        let key = format!("{rule} {path}");
        assert!(
            listed.contains(&key),
            "cfn-lint finding not justified in infra/cfn-lint-justifications.json: {key}: {}",
            f["Message"]
        );
        seen.push(key);
    }
    for l in &listed {
        assert!(
            seen.contains(l),
            "justified cfn-lint warning no longer occurs: {l}"
        );
    }
    // The configuration-driven parts the example lacks (S3 feed and sink, a second feed, a time
    // zone, job sizes, a store prefix) lint clean too.
    let variant = infra::synth_config(&Config::parse(TWO_FEEDS, "two.toml").unwrap()).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("infra-template");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("two-feeds.template.json");
    std::fs::write(&file, serde_json::to_string_pretty(&variant).unwrap()).unwrap();
    let out = Command::new(tool("FEEDPIPE_CFN_LINT", ".cache/venv/bin/cfn-lint"))
        .arg("--")
        .arg(&file)
        .output()
        .expect("cfn-lint runs");
    assert!(
        out.status.success(),
        "cfn-lint on the two-feed variant:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // cfn-lint really checks: a job definition with a bad property is an error.
    let mut broken = example_template();
    broken["Resources"]["CheckJobDefinition"]["Properties"]["Type"] = "no-such-type".into();
    let file = dir.join("broken.template.json");
    std::fs::write(&file, serde_json::to_string_pretty(&broken).unwrap()).unwrap();
    let out = Command::new(tool("FEEDPIPE_CFN_LINT", ".cache/venv/bin/cfn-lint"))
        .arg("--")
        .arg(&file)
        .output()
        .expect("cfn-lint runs");
    assert_eq!(
        out.status.code().map(|c| c & 2),
        Some(2),
        "cfn-lint accepted a bad Type"
    );
}

#[test]
fn checkov_fails_only_justified_checks() {
    let out = Command::new(tool("FEEDPIPE_CHECKOV", ".cache/venv/bin/checkov"))
        .args([
            "--framework",
            "cloudformation",
            "--quiet",
            "--compact",
            "-o",
            "json",
            "-f",
        ])
        .arg(root().join("examples/feedpipe.template.json"))
        .env("BC_SKIP_MAPPING", "TRUE")
        .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
        .output()
        .expect("checkov runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report = if report.is_array() {
        report[0].clone()
    } else {
        report
    };
    assert!(
        report["summary"]["passed"].as_u64().unwrap() > 50,
        "{}",
        report["summary"]
    );
    assert_eq!(report["summary"]["parsing_errors"], 0);
    let justified = json_file("infra/checkov-justifications.json");
    let mut listed: Vec<(String, String)> = Vec::new();
    for c in justified["checks"].as_array().unwrap() {
        assert!(c["reason"].as_str().unwrap().len() > 40, "{c}");
        for r in c["resources"].as_array().unwrap() {
            listed.push((c["id"].as_str().unwrap().into(), r.as_str().unwrap().into()));
        }
    }
    let mut failed: Vec<(String, String)> = report["results"]["failed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check_id"].as_str().unwrap().into(),
                c["resource"].as_str().unwrap().into(),
            )
        })
        .collect();
    failed.sort();
    listed.sort();
    let unjustified: Vec<_> = failed.iter().filter(|f| !listed.contains(f)).collect();
    assert!(unjustified.is_empty(), "checkov checks failing without a justification in infra/checkov-justifications.json: {unjustified:?}");
    let stale: Vec<_> = listed.iter().filter(|l| !failed.contains(l)).collect();
    assert!(
        stale.is_empty(),
        "justified checkov checks that pass now (remove them): {stale:?}"
    );
}
