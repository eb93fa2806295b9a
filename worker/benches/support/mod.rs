//! What the worker's benches share: generated feeds on disk and a sink that answers at once.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use feed::generate::{write_revision, GenOptions, GzWriter, Revision};

/// `target/bench-data/`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data")
}

/// The feed `opts` (with `revision` applied) gzipped at level 6, as published feeds usually
/// are, in `target/bench-data/NAME.xml.gz`; generated the first time only.
pub fn feed_file(name: &str, opts: &GenOptions, revision: Option<&Revision>) -> PathBuf {
    let path = data_dir().join(format!("{name}.xml.gz"));
    if !path.exists() {
        std::fs::create_dir_all(data_dir()).unwrap();
        let temp = path.with_extension("tmp");
        let file = std::fs::File::create(&temp).unwrap();
        let mut gz = GzWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
        write_revision(&mut gz, opts, revision).unwrap();
        gz.finish().unwrap().flush().unwrap();
        std::fs::rename(&temp, &path).unwrap();
    }
    path
}

/// A sink for benchmarks: answers 200 to every POST at once and counts the bytes it received,
/// on a thread and runtime of its own (so that it does not share the measured runtime).
pub fn start_sink() -> (String, Arc<AtomicU64>) {
    let bytes = Arc::new(AtomicU64::new(0));
    let counter = bytes.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let router = axum::Router::new().route(
                "/jobs",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(body.len() as u64, Ordering::Relaxed);
                        "ok"
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (format!("http://{addr}/jobs"), bytes)
}
