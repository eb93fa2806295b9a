//! A `feedpipe serve` process over a small project, for the tests that drive it (the API tests
//! and the browser test of the console).

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};

/// A `feedpipe serve` process and its endpoint; killed when dropped.
pub struct Serve {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The project folder (`feedpipe.toml`, `feed.xml`, `.feedpipe/`).
    pub dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A project with feed `jobs` (a 200-record `feed.xml`, file sink) served by `feedpipe serve`
/// on a port the system chooses; its Batch jobs run as this `feedpipe` under the name
/// `feedpipe-worker`.
pub fn serve() -> Serve {
    let dir = tempfile::Builder::new()
        .prefix("serve")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    std::fs::write(
        dir.path().join("feedpipe.toml"),
        "store = \"file://.feedpipe/store\"\nnotify = \"file://.feedpipe/outbox\"\n\n[[feed]]\nname = \"jobs\"\nurl = \"file://feed.xml\"\nrecord_tag = \"job\"\nid = \"reference\"\n\n[feed.sink]\nurl = \"file://.feedpipe/sink\"\n",
    )
    .unwrap();
    let mut xml = String::from("<jobs>\n");
    for i in 0..200 {
        xml.push_str(&format!(
            "<job><reference>J{i}</reference><title>Job {i}</title></job>\n"
        ));
    }
    xml.push_str("</jobs>\n");
    std::fs::write(dir.path().join("feed.xml"), xml).unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_feedpipe"), bin.join("feedpipe-worker"))
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedpipe"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("FEEDPIPE_CONFIG")
        .env("FEEDPIPE_WORKER_BIN", bin.join("feedpipe-worker"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    Serve {
        child,
        endpoint: first.trim().to_string(),
        dir,
    }
}
