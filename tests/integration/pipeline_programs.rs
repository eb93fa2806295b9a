//! The pipeline's programs chained as the state machine chains them: the `feedpipe-worker`
//! binary for the Batch jobs (environment as the definition sets it), the Lambda handlers
//! in-process (payloads as the definition builds them, results through the definition's own
//! `ResultSelector`s), on `file://` and on `s3://` (moto, `./scripts/test`).

use std::path::Path;

use serde_json::{json, Value};
use statemachine::feedpipe::{definition, PipelineOptions};
use store::Store;

/// The `ResultSelector` of a state of the generated definition, applied to a Lambda result
/// (`{"Payload": ...}`); only the `$.Payload.x` paths the definition uses.
fn select(state: &str, payload: &Value) -> Value {
    let sm = definition(&PipelineOptions::default()).unwrap().to_value();
    let selector = sm["States"][state]["ResultSelector"]
        .as_object()
        .unwrap()
        .clone();
    let mut out = serde_json::Map::new();
    for (key, path) in selector {
        let name = key.strip_suffix(".$").expect("a path field");
        let field = path.as_str().unwrap().strip_prefix("$.Payload.").unwrap();
        assert!(
            payload.get(field).is_some(),
            "{state}: the Lambda result lacks {field}: {payload}"
        );
        out.insert(name.to_string(), payload[field].clone());
    }
    Value::Object(out)
}

/// Runs `feedpipe-worker`, which cargo builds next to this test binary's `deps/` folder when
/// the workspace's tests are built (`./scripts/test`, `cargo test --workspace`).
fn worker(args: &[&str], env: &[(&str, &str)]) -> Value {
    let test_exe = std::env::current_exe().unwrap();
    let exe = test_exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("feedpipe-worker");
    let out = std::process::Command::new(&exe)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (build it: cargo build -p worker)", exe.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line: Value = serde_json::from_str(stdout.lines().last().unwrap_or("null")).unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {line}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    line
}

fn feed(records: u64, revised: bool) -> Vec<u8> {
    let revision = feed::generate::Revision {
        seed: 2,
        changed_bp: 400,
        removed_bp: 200,
        added_bp: 300,
    };
    let mut out = Vec::new();
    feed::generate::write_revision(
        &mut out,
        &feed::generate::GenOptions::new(1, records),
        revised.then_some(&revision),
    )
    .unwrap();
    out
}

/// One execution: check → diff → (consume → commit → shape). Returns the diff as the state
/// holds it.
async fn execution(config: &Path, name: &str) -> Value {
    let config = config.to_str().unwrap();
    let env = [
        ("FEEDPIPE_CONFIG", config),
        ("FEEDPIPE_FEED", "jobs"),
        ("FEEDPIPE_EXECUTION", name),
    ];
    let check = worker(&["check"], &env);
    assert_eq!(check["status"], "SUCCEEDED");

    let ctx = lambdas::Context::new(lambdas::context::load_config(config).await.unwrap())
        .await
        .unwrap();
    let call = |payload: Value| {
        let ctx = ctx.clone();
        async move {
            let request = serde_json::from_value(payload).unwrap();
            lambdas::diff_function(&ctx, request).await.unwrap()
        }
    };
    let diff = select(
        "DiffFeed",
        &call(json!({"op": "diff", "feed": "jobs", "execution": name})).await,
    );
    if diff["updated"] != true {
        return diff;
    }
    let manifest = diff["manifest"].as_str().unwrap();
    let mut consume_env = env.to_vec();
    consume_env.extend([
        ("FEEDPIPE_MANIFEST", manifest),
        (
            "PARALLELISM",
            diff["parallelism"].as_str().expect("a string"),
        ),
        ("BATCH_SIZE", diff["batch_size"].as_str().expect("a string")),
    ]);
    let consumed = worker(&["consume"], &consume_env);
    assert_eq!(consumed["status"], "SUCCEEDED");
    let commit = select(
        "Commit",
        &call(json!({"op": "commit", "feed": "jobs", "execution": name, "manifest": manifest}))
            .await,
    );
    assert_eq!(commit["current"]["execution"], name);
    let shape = lambdas::shape::shape(
        serde_json::from_value(json!({
            "status": "SUCCEEDED", "feed": "jobs", "execution": name,
            "execution_arn": format!("arn:aws:states:us-east-1:123456789012:execution:feedpipe:{name}"),
            "diff": diff,
        }))
        .unwrap(),
    )
    .await
    .unwrap();
    let notification = select("Shape", &serde_json::to_value(shape).unwrap());
    assert!(notification["subject"]
        .as_str()
        .unwrap()
        .starts_with("feedpipe jobs:"));
    assert_eq!(notification["attributes"]["feed"]["StringValue"], "jobs");
    diff
}

/// Ids in the NDJSON parts of one execution.
async fn delivered(sink: &Store, name: &str) -> (usize, usize) {
    let (mut up, mut del) = (0, 0);
    for key in sink.list(&format!("jobs/{name}/")).await.unwrap() {
        let bytes = sink.get(&key).await.unwrap().bytes;
        for line in std::str::from_utf8(&bytes).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            match v["op"].as_str().unwrap() {
                "upsert" => up += 1,
                _ => del += 1,
            }
        }
    }
    (up, del)
}

async fn two_runs(dir: &Path, store_url: &str, sink_url: &str, write_feed: impl Fn(&[u8])) {
    let config = dir.join("feedpipe.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{store_url}\"\n[[feed]]\nname = \"jobs\"\nurl = \"file://feed.xml\"\n\
             record_tag = \"job\"\nid = \"reference\"\n[feed.sink]\nurl = \"{sink_url}\"\n\
             parallelism = 3\nbatch_size = 40\n"
        ),
    )
    .unwrap();
    let sink = Store::open(sink_url).await.unwrap();

    write_feed(&feed(500, false));
    let first = execution(&config, "jobs-2026-11-23T06-00Z").await;
    assert_eq!(
        (first["added"].as_u64(), first["removed"].as_u64()),
        (Some(500), Some(0))
    );
    assert_eq!(delivered(&sink, "jobs-2026-11-23T06-00Z").await, (500, 0));

    let unchanged = execution(&config, "jobs-2026-11-24T06-00Z").await;
    assert_eq!(unchanged["updated"], false);

    write_feed(&feed(500, true));
    let second = execution(&config, "jobs-2026-11-25T06-00Z").await;
    let up = (second["added"].as_u64().unwrap() + second["changed"].as_u64().unwrap()) as usize;
    let del = second["removed"].as_u64().unwrap() as usize;
    assert!(up > 0 && del > 0, "{second}");
    assert_eq!(delivered(&sink, "jobs-2026-11-25T06-00Z").await, (up, del));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_programs_chain_on_file() {
    let dir = tempfile::tempdir().unwrap();
    let feed_path = dir.path().join("feed.xml");
    two_runs(
        dir.path(),
        "file://store",
        &format!("file://{}", dir.path().join("sink").display()),
        |b| std::fs::write(&feed_path, b).unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_programs_chain_on_s3() {
    let (_, bucket) = store::testing::moto_bucket("pipeline").await;
    let dir = tempfile::tempdir().unwrap();
    let feed_path = dir.path().join("feed.xml");
    two_runs(
        dir.path(),
        &format!("s3://{bucket}/state"),
        &format!("s3://{bucket}/sink"),
        |b| std::fs::write(&feed_path, b).unwrap(),
    )
    .await;
}
