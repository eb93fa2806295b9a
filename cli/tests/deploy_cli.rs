//! `feedpipe deploy` as a user runs it, for what needs no AWS endpoint: a configuration whose
//! store is not on S3 and a malformed `--parameter` exit 2 with a message saying what to do.
//! The deploy itself runs against moto in `infra/tests/deploy.rs`.

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
        .env_remove("FEEDPIPE_CONFIG_FILE")
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
