//! Helpers shared by feedpipe's workspace integration tests (see `integration/`).

pub mod compare;
pub mod errata;
pub mod history;
pub mod runner;
pub mod s3_objects;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// One case file of the ASL conformance corpus (`tests/asl-conformance`).
pub struct ConformanceCase {
    /// Path of the case file.
    pub path: PathBuf,
    /// Its parsed content.
    pub json: Value,
}

/// Every case under the given top-level folders of the corpus (`pure`, `external`, ...),
/// sorted by path.
pub fn conformance_cases(folders: &[&str]) -> Vec<ConformanceCase> {
    let base = workspace_root().join("tests/asl-conformance");
    let mut paths = Vec::new();
    for folder in folders {
        collect_json(&base.join(folder), &mut paths);
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let json =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            ConformanceCase { path, json }
        })
        .collect()
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("readable directory entry").path();
        if path.is_dir() {
            collect_json(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}
