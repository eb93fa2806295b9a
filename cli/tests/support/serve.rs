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
    spawn(dir)
}

/// `feedpipe serve` over the project in `dir` (made by [`serve`]).
fn spawn(dir: tempfile::TempDir) -> Serve {
    let bin = dir.path().join("bin");
    if !bin.exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_feedpipe"), bin.join("feedpipe-worker"))
            .unwrap();
    }
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

#[allow(dead_code)] // not every test binary that includes this file stops its server
impl Serve {
    /// Sends SIGTERM and waits (up to 20 s) for the server to exit; its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "feedpipe serve did not exit within 20 s of SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// A new `feedpipe serve` over the same project (after [`Serve::terminate`]).
    pub fn again(mut self) -> Serve {
        // The project folder moves to the new server; an empty one goes away with this one.
        let empty = tempfile::Builder::new()
            .prefix("serve-old")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let dir = std::mem::replace(&mut self.dir, empty);
        drop(self);
        spawn(dir)
    }
}

/// An aws-sdk-sfn client of `endpoint`, with fixed test credentials and region: nothing is
/// looked up beyond the endpoint.
#[allow(dead_code)] // not every test binary that includes this file uses the SDK
pub async fn sfn_client(endpoint: &str) -> aws_sdk_sfn::Client {
    let sdk = store::s3::sdk_config(Some(endpoint)).await;
    let conf = aws_sdk_sfn::config::Builder::from(&sdk)
        .credentials_provider(aws_sdk_sfn::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "feedpipe-test",
        ))
        .region(aws_sdk_sfn::config::Region::new("us-east-1"))
        .build();
    aws_sdk_sfn::Client::from_conf(conf)
}
