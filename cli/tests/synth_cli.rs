//! `feedpipe synth` as a user runs it: the template for the example configuration is the
//! committed `examples/feedpipe.template.json` (which `infra`'s tests lint and check), `-o`
//! writes it, and a bad configuration exits 2 naming the key.

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
        .output()
        .expect("feedpipe runs")
}

#[test]
fn synth_prints_the_committed_template() {
    let out = feedpipe(&["synth", "--config", "examples/feedpipe.toml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed =
        std::fs::read_to_string(root().join("examples/feedpipe.template.json")).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "feedpipe synth differs from examples/feedpipe.template.json: regenerate it with \
         `feedpipe synth --config examples/feedpipe.toml -o examples/feedpipe.template.json`"
    );
}

#[test]
fn synth_writes_the_output_file_and_refuses_bad_config() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("synth_cli");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("template.json");
    let out = feedpipe(&[
        "synth",
        "--config",
        "examples/feedpipe.toml",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        t["Resources"]["StateMachine"]["Type"],
        "AWS::StepFunctions::StateMachine"
    );

    let bad = dir.join("bad.toml");
    let text = std::fs::read_to_string(root().join("examples/feedpipe.toml")).unwrap()
        + "\n[aws]\ncheck_memory_mib = 1000\n";
    std::fs::write(&bad, text).unwrap();
    let out = feedpipe(&["synth", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("aws.check_memory_mib"), "{err}");
}
