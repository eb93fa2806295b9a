//! The web console of `feedpipe serve` in a real browser: Debian's chromium driven by
//! playwright-core (both installed by the test script), through `tests/console/console_test.js`.
//! Screenshots are kept in `target/tmp/console/`.

use std::io::BufRead as _;
use std::process::{Command, Stdio};

#[test]
fn the_console_starts_a_run_shows_it_and_redrives_a_failed_one_in_a_browser() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let node_modules = std::env::var_os("FEEDPIPE_NODE_MODULES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join(".cache/node/node_modules"));
    assert!(
        node_modules.join("playwright-core").is_dir(),
        "playwright-core is not installed in {}: run ./scripts/test",
        node_modules.display()
    );
    let dir = tempfile::Builder::new()
        .prefix("console")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    std::fs::write(
        dir.path().join("feedpipe.toml"),
        "store = \"file://.feedpipe/store\"\nnotify = \"file://.feedpipe/outbox\"\n\n[[feed]]\nname = \"jobs\"\nurl = \"file://feed.xml\"\nrecord_tag = \"job\"\nid = \"reference\"\n\n[feed.sink]\nurl = \"file://.feedpipe/sink\"\n",
    )
    .unwrap();
    let mut xml = String::from("<jobs>\n");
    for i in 0..100 {
        xml.push_str(&format!(
            "<job><reference>J{i}</reference><title>Job {i}</title></job>\n"
        ));
    }
    xml.push_str("</jobs>\n");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_feedpipe"), bin.join("feedpipe-worker"))
        .unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("FEEDPIPE_CONFIG")
        .env("FEEDPIPE_WORKER_BIN", bin.join("feedpipe-worker"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut endpoint = String::new();
    std::io::BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut endpoint)
        .unwrap();
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = Command::new("node")
        .arg(root.join("tests/console/console_test.js"))
        .arg(endpoint.trim())
        .arg(&out_dir)
        .arg(dir.path().join("feed.xml"))
        .env("NODE_PATH", &node_modules)
        .env("FEEDPIPE_FEED_XML", &xml)
        .output()
        .unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_dir.join("console-redriven.png").is_file());
}
