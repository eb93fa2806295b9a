//! The web console of `feedpipe serve` in a real browser: Debian's chromium driven by
//! playwright-core (both installed by the test script), through `tests/console/console_test.js`:
//! the state machine graph coloured by how runs went, job logs, Redrive, and a run followed
//! live. Screenshots are kept in `target/tmp/console/`.

use std::process::Command;

#[path = "support/serve.rs"]
mod support;

use support::serve;

#[test]
fn the_console_draws_runs_follows_them_live_and_redrives_a_failed_one_in_a_browser() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let node_modules = std::env::var_os("FEEDPIPE_NODE_MODULES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/node/node_modules"));
    assert!(
        node_modules.join("playwright-core").is_dir(),
        "playwright-core is not installed in {}: run ./scripts/test",
        node_modules.display()
    );
    let s = serve();
    let feed = s.dir.path().join("feed.xml");
    let xml = std::fs::read_to_string(&feed).unwrap();
    std::fs::remove_file(&feed).unwrap();
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = Command::new("node")
        .arg(root.join("tests/console/console_test.js"))
        .arg(&s.endpoint)
        .arg(&out_dir)
        .arg(&feed)
        .env("NODE_PATH", &node_modules)
        .env("FEEDPIPE_FEED_XML", &xml)
        .output()
        .unwrap();
    drop(s);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for shot in [
        "console-failed.png",
        "console-redriven.png",
        "console-running.png",
    ] {
        assert!(out_dir.join(shot).is_file(), "{shot}");
    }
}
