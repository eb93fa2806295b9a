//! The Lambdas against real stores: a temp folder and moto server (`./scripts/test`).
//! Snapshots are staged as CheckFeed leaves them (snapshot, index, check.json).

use bytes::Bytes;
use feed::config::Config;
use feed::generate::{write_revision, GenOptions, Revision};
use feed::index::{IndexReader, Indexer};
use feed::{FeedOptions, RecordHash};
use lambdas::commit::{commit, CommitRequest};
use lambdas::diff::{diff, DiffRequest, DiffResponse};
use lambdas::{diff_function, Context, DiffFunctionRequest, ErrorKind};
use sha2::{Digest as _, Sha256};
use store::layout::{self, ChangeList, CheckResult, Current, Manifest, SnapshotRef};
use store::{Condition, Store};

async fn context(store_url: &str) -> Context {
    let text = format!(
        r#"store = "{store_url}"
[[feed]]
name = "jobs"
url = "https://example.com/jobs.xml"
record_tag = "job"
id = "reference"
[feed.sink]
url = "http://127.0.0.1:9/jobs"
parallelism = 7
batch_size = 250
"#
    );
    Context::new(Config::parse(&text, "test.toml").unwrap())
        .await
        .unwrap()
}

async fn file_context() -> (Context, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&format!("file://{}", dir.path().display())).await;
    (ctx, dir)
}

async fn s3_context(name: &str) -> Context {
    let (_, bucket) = store::testing::moto_bucket(name).await;
    // Context::new opens the store through the standard chain: ./scripts/test points it at moto.
    assert_eq!(
        std::env::var("AWS_ENDPOINT_URL").ok(),
        Some(store::testing::moto_endpoint())
    );
    context(&format!("s3://{bucket}/feedpipe")).await
}

fn version(revision: Option<Revision>) -> Vec<u8> {
    let mut out = Vec::new();
    write_revision(&mut out, &GenOptions::new(3, 400), revision.as_ref()).unwrap();
    out
}

const V2: Revision = Revision {
    seed: 5,
    changed_bp: 500,
    removed_bp: 200,
    added_bp: 300,
};

/// Stores a snapshot, its index and check.json as CheckFeed would.
async fn stage(store: &Store, execution: &str, bytes: &[u8]) -> CheckResult {
    let opts = FeedOptions::new("job", feed::IdSource::Child("reference".into()));
    stage_with(store, execution, bytes, &opts).await
}

/// [`stage`] with the index built with `opts`.
async fn stage_with(
    store: &Store,
    execution: &str,
    bytes: &[u8],
    opts: &FeedOptions,
) -> CheckResult {
    let opts = opts.clone();
    let mut indexer = Indexer::new(&opts);
    indexer.push(bytes).unwrap();
    let index = indexer.finish().unwrap();
    let sha = hex::encode(Sha256::digest(bytes));
    let snapshot = SnapshotRef {
        snapshot: layout::snapshot("jobs", &sha, false),
        index: layout::index("jobs", &sha, &index.build().digest()),
        sha256: sha,
        bytes: bytes.len() as u64,
        records: index.len() as u64,
        etag: None,
        last_modified: None,
    };
    let put = |k: String, v: Vec<u8>| async move {
        store
            .put(&k, Bytes::from(v), Condition::Always)
            .await
            .unwrap();
    };
    put(snapshot.snapshot.clone(), bytes.to_vec()).await;
    put(snapshot.index.clone(), index.try_to_bytes().unwrap()).await;
    let check = CheckResult {
        feed: "jobs".into(),
        execution: execution.into(),
        source: "https://example.com/jobs.xml".into(),
        not_modified: false,
        snapshot,
    };
    put(
        layout::check("jobs", execution),
        serde_json::to_vec(&check).unwrap(),
    )
    .await;
    check
}

async fn try_diff(ctx: &Context, execution: &str) -> Result<DiffResponse, lambdas::Error> {
    let request = DiffRequest {
        feed: "jobs".into(),
        execution: execution.into(),
    };
    diff(ctx, request).await
}

async fn run_diff(ctx: &Context, execution: &str) -> DiffResponse {
    try_diff(ctx, execution).await.unwrap()
}

fn commit_request(execution: &str) -> CommitRequest {
    CommitRequest {
        feed: "jobs".into(),
        execution: execution.into(),
        manifest: layout::manifest("jobs", execution),
    }
}

async fn current(ctx: &Context) -> Current {
    let o = ctx.store.get(&layout::current("jobs")).await.unwrap();
    serde_json::from_slice(&o.bytes).unwrap()
}

/// The manifest of `execution` and its change lists' entries: upserts, deletes.
async fn manifest(ctx: &Context, execution: &str) -> Manifest {
    let key = layout::manifest("jobs", execution);
    serde_json::from_slice(&ctx.store.get(&key).await.unwrap().bytes).unwrap()
}

type Entries = Vec<(String, RecordHash)>;

/// The entries of one change list, read part after part.
async fn list(ctx: &Context, m: &Manifest, list: ChangeList) -> Entries {
    let mut out = Vec::new();
    for key in m.changes.keys(list) {
        let bytes = ctx.store.get(&key).await.unwrap().bytes;
        let mut r = IndexReader::new(&bytes[..]).unwrap();
        while r.advance().unwrap() {
            out.push((r.id().to_string(), r.hash()));
        }
    }
    out
}

async fn changes(ctx: &Context, execution: &str) -> (Entries, Entries) {
    let m = manifest(ctx, execution).await;
    (
        list(ctx, &m, ChangeList::Upserts).await,
        list(ctx, &m, ChangeList::Deletes).await,
    )
}

/// First run, repeated commit, lost update, concurrent commit: the whole story on one store.
async fn scenario(ctx: &Context) {
    // First run: no current.json, everything is added.
    let c1 = stage(&ctx.store, "e1", &version(None)).await;
    let d1 = run_diff(ctx, "e1").await;
    assert!(d1.updated);
    assert_eq!((d1.added, d1.changed, d1.removed), (400, 0, 0));
    // The upsert list is the new index's entries, in order; nothing to delete.
    let (upserts, deletes) = changes(ctx, "e1").await;
    assert_eq!(upserts.len(), 400);
    assert!(upserts.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(deletes.is_empty());
    assert_eq!(manifest(ctx, "e1").await.changes.delete_parts, 0);
    assert_eq!(d1.snapshot, c1.snapshot.snapshot);
    assert_eq!(
        (d1.parallelism.as_str(), d1.batch_size.as_str()),
        ("7", "250")
    );
    let r = commit(ctx, commit_request("e1")).await.unwrap();
    assert!(r.current.advanced);
    assert_eq!(r.current.snapshot, c1.snapshot.snapshot);
    // A repeated commit (retried Lambda, redrive) is a no-op.
    let again = commit(ctx, commit_request("e1")).await.unwrap();
    assert!(!again.current.advanced);
    assert_eq!(current(ctx).await.execution, "e1");

    // Same feed again: nothing to do.
    stage(&ctx.store, "e1b", &version(None)).await;
    let same = run_diff(ctx, "e1b").await;
    assert!(!same.updated);
    assert_eq!((same.added, same.changed, same.removed), (0, 0, 0));

    // Lost update: e2 sees v2, its consume fails, so Commit never runs...
    stage(&ctx.store, "e2", &version(Some(V2))).await;
    let d2 = run_diff(ctx, "e2").await;
    assert!(
        d2.updated && d2.changed > 0 && d2.removed > 0 && d2.added > 0,
        "{d2:?}"
    );
    // ...and the next run still sees every change since the delivered snapshot.
    stage(&ctx.store, "e3", &version(Some(V2))).await;
    let d3 = run_diff(ctx, "e3").await;
    assert_eq!(
        (d3.added, d3.changed, d3.removed),
        (d2.added, d2.changed, d2.removed)
    );
    assert_eq!(
        changes(ctx, "e2").await,
        changes(ctx, "e3").await,
        "the same ids to deliver"
    );
    assert_eq!(current(ctx).await.execution, "e1");

    // Concurrent commit: e3 and e4 both diffed against e1's snapshot; e3 commits first.
    stage(&ctx.store, "e4", &version(Some(V2))).await;
    run_diff(ctx, "e4").await;
    commit(ctx, commit_request("e3")).await.unwrap();
    let refused = commit(ctx, commit_request("e4")).await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::CommitConflict, "{refused}");
    assert_eq!(refused.kind.name(), "Feedpipe.CommitConflict");
    let now = current(ctx).await;
    assert_eq!(now.execution, "e3");
    assert_eq!(now.snapshot.snapshot, d3.snapshot);

    // Two commits racing on the same base: exactly one wins.
    stage(&ctx.store, "e5", &version(None)).await;
    stage(&ctx.store, "e6", &version(None)).await;
    run_diff(ctx, "e5").await;
    run_diff(ctx, "e6").await;
    let (a, b) = tokio::join!(
        commit(ctx, commit_request("e5")),
        commit(ctx, commit_request("e6"))
    );
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    let loser = a.err().or(b.err()).unwrap();
    assert_eq!(loser.kind, ErrorKind::CommitConflict);
}

#[tokio::test]
async fn diff_and_commit_on_file() {
    let (ctx, _dir) = file_context().await;
    scenario(&ctx).await;
}

#[tokio::test]
async fn diff_and_commit_on_s3() {
    let ctx = s3_context("lambdas").await;
    scenario(&ctx).await;
}

#[tokio::test]
async fn errors_carry_stable_kinds() {
    let (ctx, _dir) = file_context().await;
    let missing = try_diff(&ctx, "nope").await.unwrap_err();
    assert_eq!(missing.kind.name(), "Feedpipe.NotFound");
    assert!(
        missing.message.contains("runs/jobs/nope/check.json"),
        "{missing}"
    );

    let unknown: DiffFunctionRequest = serde_json::from_value(
        serde_json::json!({"op": "diff", "feed": "other", "execution": "e"}),
    )
    .unwrap();
    let err = diff_function(&ctx, unknown).await.unwrap_err();
    assert_eq!(err.kind.name(), "Feedpipe.BadRequest");
    let diagnostic: lambda_runtime::Diagnostic = err.into();
    assert_eq!(diagnostic.error_type, "Feedpipe.BadRequest");

    let wrong = CommitRequest {
        manifest: layout::manifest("jobs", "someone-else"),
        ..commit_request("e1")
    };
    assert_eq!(
        commit(&ctx, wrong).await.unwrap_err().kind,
        ErrorKind::BadRequest
    );

    // A corrupt index is a bad feed, named by its key.
    let c = stage(&ctx.store, "e1", &version(None)).await;
    ctx.store
        .put(
            &c.snapshot.index,
            Bytes::from_static(b"garbage"),
            Condition::Always,
        )
        .await
        .unwrap();
    let corrupt = try_diff(&ctx, "e1").await.unwrap_err();
    assert_eq!(corrupt.kind.name(), "Feedpipe.BadFeed");
    assert!(corrupt.message.contains(".idx"), "{corrupt}");

    // An index built with other options than the delivered one's: refused, naming both.
    let c = stage(&ctx.store, "e1", &version(None)).await;
    run_diff(&ctx, "e1").await;
    commit(&ctx, commit_request("e1")).await.unwrap();
    let mut null = FeedOptions::new("job", feed::IdSource::Child("reference".into()));
    null.empty_cdata = feed::EmptyCdata::Null;
    // The same bytes as e1's snapshot: the index gets a key of its own, so e1's stays.
    let other = stage_with(&ctx.store, "e7", &version(None), &null).await;
    assert_eq!(other.snapshot.snapshot, c.snapshot.snapshot);
    assert_ne!(other.snapshot.index, c.snapshot.index);
    let refused = try_diff(&ctx, "e7").await.unwrap_err();
    assert_eq!(refused.kind.name(), "Feedpipe.BadRequest", "{refused}");
    for part in [
        c.snapshot.index.as_str(),
        other.snapshot.index.as_str(),
        "--empty-cdata empty",
        "--empty-cdata null",
    ] {
        assert!(refused.message.contains(part), "{part}: {refused}");
    }
    assert!(
        ctx.store
            .get_opt(&layout::manifest("jobs", "e7"))
            .await
            .unwrap()
            .is_none(),
        "no manifest is written"
    );

    // The payload the definition sends parses.
    let commit_payload: DiffFunctionRequest = serde_json::from_value(serde_json::json!({
        "op": "commit", "feed": "jobs", "execution": "e1", "manifest": "runs/jobs/e1/diff.json"
    }))
    .unwrap();
    assert!(matches!(commit_payload, DiffFunctionRequest::Commit(_)));
}
