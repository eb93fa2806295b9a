//! Packaging: the worker's Dockerfile passes hadolint (installed from PyPI by `scripts/test`)
//! and agrees with the workspace (binary, profile, entrypoint, non-root user, toolchain); the
//! Lambdas' cargo-lambda metadata builds arm64 zips named as the template expects; the
//! workspace's `rust-version` is what the locked dependencies need.
//!
//! No image is built here (no Docker engine) and no release, musl or arm64 build runs (too slow
//! for the suite, and those targets' standard libraries are not installed).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn toml_file(path: &str) -> toml::Value {
    toml::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hadolint(dockerfile: &Path) -> (bool, String) {
    let tool = std::env::var_os("FEEDPIPE_HADOLINT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".cache/venv/bin/hadolint"));
    assert!(
        tool.exists(),
        "{} not found: run the suite with ./scripts/test, which installs it",
        tool.display()
    );
    let out = Command::new(tool)
        .args(["--no-color", "--failure-threshold", "info"])
        .arg(dockerfile)
        .output()
        .expect("hadolint runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn hadolint_accepts_the_dockerfile_and_rejects_a_careless_one() {
    let (ok, report) = hadolint(&root().join("Dockerfile"));
    assert!(ok, "hadolint findings on Dockerfile:\n{report}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("packaging");
    std::fs::create_dir_all(&dir).unwrap();
    let careless = dir.join("Dockerfile");
    std::fs::write(&careless, "FROM alpine\nRUN apk add curl\n").unwrap();
    let (ok, report) = hadolint(&careless);
    assert!(!ok && report.contains("DL3006"), "{report}");
}

#[test]
fn dockerfile_agrees_with_the_workspace() {
    let docker = read("Dockerfile");
    let froms: Vec<&str> = docker.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    let last = docker.rsplit("\nFROM ").next().unwrap();
    assert!(
        last.contains("\nENTRYPOINT [\"feedpipe-worker\"]"),
        "{last}"
    );
    let user = last
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the final stage sets USER");
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("numeric uid");
    assert_ne!(uid, 0, "the image runs as root");

    // The build command names the real package, binary and profile.
    assert!(docker.contains("--profile dist -p worker --bin feedpipe-worker"));
    let worker = toml_file("worker/Cargo.toml");
    assert!(worker["bin"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["name"].as_str() == Some("feedpipe-worker")));
    let ws = toml_file("Cargo.toml");
    let dist = &ws["profile"]["dist"];
    assert_eq!(dist["inherits"].as_str(), Some("release"));
    assert_eq!(dist["lto"].as_str(), Some("fat"));
    assert_eq!(dist["codegen-units"].as_integer(), Some(1));
    assert_eq!(dist["strip"].as_bool(), Some(true));

    // The builder's toolchain is at least the workspace's rust-version.
    let image = froms[0].split_whitespace().nth(1).unwrap();
    let version = image
        .strip_prefix("rust:")
        .and_then(|v| v.split('-').next())
        .expect("builder is rust:VERSION-...");
    let msrv = ws["workspace"]["package"]["rust-version"].as_str().unwrap();
    assert!(
        version_tuple(version) >= version_tuple(msrv),
        "{version} < {msrv}"
    );
    // The build context leaves out build output and caches.
    let ignore = read(".dockerignore");
    for dir in ["target/", ".cache/", ".git/"] {
        assert!(
            ignore.lines().any(|l| l == dir),
            "{dir} not in .dockerignore"
        );
    }
}

#[test]
fn lambdas_build_as_arm64_zips_under_the_template_keys() {
    let lambdas = toml_file("lambdas/Cargo.toml");
    let build = &lambdas["package"]["metadata"]["lambda"]["build"];
    assert_eq!(build["arm64"].as_bool(), Some(true));
    assert_eq!(build["output_format"].as_str(), Some("zip"));
    let bins: Vec<&str> = lambdas["bin"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    let template: serde_json::Value =
        serde_json::from_str(&read("examples/feedpipe.template.json")).unwrap();
    for (bin, key) in [
        ("feedpipe-diff", "DiffFunctionCodeKey"),
        ("feedpipe-shape", "ShapeFunctionCodeKey"),
    ] {
        assert!(bins.contains(&bin), "{bin} is not a binary of lambdas");
        assert_eq!(
            template["Parameters"][key]["Default"],
            format!("lambdas/{bin}.zip")
        );
    }
    let f = &template["Resources"]["DiffFunction"]["Properties"];
    assert_eq!(f["Handler"], "bootstrap");
}

/// The platform the tests run on.
fn host_triple() -> &'static str {
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        "x86_64-unknown-linux-gnu"
    } else if cfg!(all(target_arch = "aarch64", target_os = "linux")) {
        "aarch64-unknown-linux-gnu"
    } else if cfg!(all(target_arch = "aarch64", target_os = "macos")) {
        "aarch64-apple-darwin"
    } else {
        "x86_64-apple-darwin"
    }
}

fn version_tuple(v: &str) -> Vec<u32> {
    let mut parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
    parts.resize(3, 0);
    parts
}

#[test]
fn rust_version_is_what_the_locked_dependencies_need() {
    let out = Command::new(env!("CARGO"))
        // The packages built for this platform (all of them are in the local cache after a
        // build; other platforms' packages may never have been downloaded).
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--offline",
            "--filter-platform",
            host_triple(),
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (needed, by) = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["source"].is_null())
        .filter_map(|p| {
            let v = p["rust_version"].as_str()?;
            Some((version_tuple(v), p["name"].as_str().unwrap().to_string()))
        })
        .max()
        .unwrap();
    let ws = toml_file("Cargo.toml");
    let declared = version_tuple(ws["workspace"]["package"]["rust-version"].as_str().unwrap());
    assert_eq!(
        declared, needed,
        "rust-version should be what the dependencies need ({by} needs {needed:?})"
    );
}
