//! `GET /logs?execution=ARN&stream=NAME.log`: a Batch job's log file, as text.
//!
//! A job's `Container.LogStreamName` is the path of its log, `logs/EXECUTION/STATE-N.log` under
//! `.feedpipe/`; the console asks for its file name. Only a plain file name is taken (no `/`,
//! `\`, `..` or NUL, ending `.log`), and only a file that is, once every symlink is resolved,
//! in that execution's log folder inside `.feedpipe/`. The last MiB of a longer log is sent,
//! after a line that says so.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use runs::store::ExecutionStore;

use crate::api::Server;
use crate::sse::{admitted, error, forbidden, no_execution, resolve};

/// The most of a log sent: its end.
pub(crate) const MAX_LOG: u64 = 1 << 20;

/// Whether `stream` can name a log file: a plain file name ending `.log`.
pub(crate) fn is_log_name(stream: &str) -> bool {
    stream.len() > ".log".len()
        && stream.len() <= 255
        && stream.ends_with(".log")
        && !stream.contains(['/', '\\', '\0'])
        && !stream.contains("..")
}

/// Why a log is not served.
#[derive(Debug, PartialEq)]
pub(crate) enum Refused {
    /// No such file (or not a file).
    Missing,
    /// The name, or where the file really is, is not allowed.
    Outside,
}

/// The real path of log `stream` of execution `name`: it must resolve to a regular file in the
/// execution's log folder, itself inside the store's folder.
pub(crate) fn log_path(
    store: &ExecutionStore,
    name: &str,
    stream: &str,
) -> Result<PathBuf, Refused> {
    if !is_log_name(stream) {
        return Err(Refused::Outside);
    }
    let root = store.root().canonicalize().map_err(|_| Refused::Missing)?;
    let dir = store
        .logs_dir(name)
        .canonicalize()
        .map_err(|_| Refused::Missing)?;
    if !dir.starts_with(&root) {
        return Err(Refused::Outside);
    }
    let file = dir
        .join(stream)
        .canonicalize()
        .map_err(|_| Refused::Missing)?;
    if file.parent() != Some(dir.as_path()) {
        return Err(Refused::Outside);
    }
    if !std::fs::metadata(&file).is_ok_and(|m| m.is_file()) {
        return Err(Refused::Missing);
    }
    Ok(file)
}

/// The text of the log at `path`: all of it, or its last `max` bytes (from the first line that
/// starts in them) after a line saying how much was left out.
pub(crate) fn tail(path: &Path, max: u64) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes)?;
    if start == 0 {
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    }
    let skip = bytes.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    let shown = &bytes[skip..];
    Ok(format!(
        "[feedpipe serve: this log has {len} bytes; only the last {} are shown]\n{}",
        shown.len(),
        String::from_utf8_lossy(shown)
    ))
}

/// `GET /logs?execution=ARN&stream=NAME.log[&token=T]`.
pub(crate) async fn logs(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(query) = admitted(&server, peer, &headers, raw.as_deref()) else {
        return forbidden();
    };
    let (Some(arn), Some(stream)) = (query.get("execution"), query.get("stream")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "GET /logs needs ?execution=ARN&stream=NAME.log",
        );
    };
    let Some((store, name)) = resolve(&server, arn) else {
        return no_execution(arn);
    };
    if !is_log_name(stream) {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "stream must be the file name of a job log of the execution (STATE-N.log)",
        );
    }
    let stream = stream.to_string();
    let text = tokio::task::spawn_blocking(move || {
        let path = log_path(&store, &name, &stream).map_err(|_| stream.clone())?;
        tail(&path, MAX_LOG).map_err(|e| {
            tracing::warn!("cannot read {}: {e}", path.display());
            stream
        })
    })
    .await;
    match text {
        Ok(Ok(text)) => (
            StatusCode::OK,
            [
                ("content-type", "text/plain; charset=utf-8"),
                ("cache-control", "no-store"),
                ("x-content-type-options", "nosniff"),
            ],
            text,
        )
            .into_response(),
        Ok(Err(stream)) => error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("the execution has no job log {stream}"),
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            e.to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_log_file_names_are_taken() {
        for ok in ["CheckFeed-1.log", "Updated?-2.log", "a.b.log"] {
            assert!(is_log_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".log",
            "x.txt",
            "../x.log",
            "..log",
            "a/b.log",
            "/etc/x.log",
            "a\\b.log",
            "a\0.log",
            "x..log",
        ] {
            assert!(!is_log_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_log_must_really_be_in_the_execution_log_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ExecutionStore::new(tmp.path().join(".feedpipe"));
        let logs = store.logs_dir("e1");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(logs.join("Check-1.log"), "hello\n").unwrap();
        std::fs::write(tmp.path().join("secret.log"), "secret\n").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret.log"), logs.join("Evil-1.log")).unwrap();
        std::os::unix::fs::symlink(logs.join("Check-1.log"), logs.join("Alias-1.log")).unwrap();
        std::fs::create_dir_all(logs.join("Dir-1.log")).unwrap();
        let found = log_path(&store, "e1", "Check-1.log").unwrap();
        assert_eq!(std::fs::read_to_string(found).unwrap(), "hello\n");
        assert!(log_path(&store, "e1", "Alias-1.log").is_ok());
        assert_eq!(log_path(&store, "e1", "Evil-1.log"), Err(Refused::Outside));
        assert_eq!(
            log_path(&store, "e1", "../e1/Check-1.log"),
            Err(Refused::Outside)
        );
        assert_eq!(log_path(&store, "e1", "Dir-1.log"), Err(Refused::Missing));
        assert_eq!(log_path(&store, "e1", "None-1.log"), Err(Refused::Missing));
        assert_eq!(log_path(&store, "e2", "Check-1.log"), Err(Refused::Missing));
        // A log folder that is a symlink out of the store is refused too.
        std::os::unix::fs::symlink(tmp.path(), store.logs_dir("e3")).unwrap();
        assert_eq!(log_path(&store, "e3", "secret.log"), Err(Refused::Outside));
    }

    #[test]
    fn a_long_log_is_cut_to_its_end_with_a_note() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.log");
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        assert_eq!(tail(&path, 10_000).unwrap(), text);
        let cut = tail(&path, 20).unwrap();
        let (note, rest) = cut.split_once('\n').unwrap();
        assert!(note.contains(&format!("{} bytes", text.len())), "{note}");
        assert_eq!(rest, "line 98\nline 99\n");
        assert!(note.contains(&format!("last {}", rest.len())), "{note}");
    }
}
