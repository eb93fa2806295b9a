//! The store's contract, run against `file://` (a temp folder) and `s3://` (moto server, started
//! by `./scripts/test`).

use bytes::Bytes;
use store::{Condition, S3Store, Store, StoreError};
use tokio::io::AsyncReadExt;

use store::testing::{moto_bucket, moto_endpoint};

async fn moto_store(name: &str) -> S3Store {
    let (client, bucket) = moto_bucket(name).await;
    S3Store::new(client, bucket, "pre/fix")
}

async fn contract(store: &Store) {
    // Absent objects.
    assert!(matches!(
        store.get("feeds/a/current.json").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.head("feeds/a/current.json").await.unwrap().is_none());
    assert!(store
        .get_opt("feeds/a/current.json")
        .await
        .unwrap()
        .is_none());

    // Create only if absent: first wins, second refused.
    let v1 = store
        .put(
            "feeds/a/current.json",
            Bytes::from_static(b"one"),
            Condition::IfAbsent,
        )
        .await
        .unwrap();
    let refused = store
        .put(
            "feeds/a/current.json",
            Bytes::from_static(b"two"),
            Condition::IfAbsent,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::PreconditionFailed { .. })),
        "{refused:?}"
    );
    let got = store.get("feeds/a/current.json").await.unwrap();
    assert_eq!(&got.bytes[..], b"one");
    assert_eq!(got.version, v1);

    // Replace only this version: a stale version is refused.
    let v2 = store
        .put(
            "feeds/a/current.json",
            Bytes::from_static(b"two"),
            Condition::IfMatch(v1.clone()),
        )
        .await
        .unwrap();
    assert_ne!(v1, v2);
    let stale = store
        .put(
            "feeds/a/current.json",
            Bytes::from_static(b"three"),
            Condition::IfMatch(v1.clone()),
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::PreconditionFailed { .. })),
        "{stale:?}"
    );
    let missing = store
        .put(
            "feeds/b/current.json",
            Bytes::from_static(b"x"),
            Condition::IfMatch(v1),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::PreconditionFailed { .. })),
        "{missing:?}"
    );
    let meta = store.head("feeds/a/current.json").await.unwrap().unwrap();
    assert_eq!((meta.size, meta.version), (3, v2));

    // Streaming upload under a staging key, finished under a key decided at the end.
    let mut up = store.upload("runs/a/e1/snapshot.partial").await.unwrap();
    let mut expected = Vec::new();
    for i in 0..(13 * 1024) {
        let chunk = Bytes::from(vec![(i % 251) as u8; 1024]);
        expected.extend_from_slice(&chunk);
        up.write(chunk).await.unwrap();
    }
    assert_eq!(up.len(), expected.len() as u64);
    up.finish("feeds/a/snapshots/big.xml").await.unwrap();
    let mut reader = store.read("feeds/a/snapshots/big.xml").await.unwrap();
    let mut back = Vec::new();
    reader.read_to_end(&mut back).await.unwrap();
    assert!(back == expected, "uploaded bytes differ");

    // A small upload, and an aborted one that leaves nothing behind.
    let mut up = store.upload("runs/a/e1/small.partial").await.unwrap();
    up.write(Bytes::from_static(b"<feed/>")).await.unwrap();
    up.finish("feeds/a/snapshots/small.xml").await.unwrap();
    assert_eq!(
        &store
            .get("feeds/a/snapshots/small.xml")
            .await
            .unwrap()
            .bytes[..],
        b"<feed/>"
    );
    let mut up = store.upload("runs/a/e2/gone.partial").await.unwrap();
    up.write(Bytes::from(vec![1u8; 6 << 20])).await.unwrap();
    up.write(Bytes::from(vec![2u8; 1 << 20])).await.unwrap();
    up.abort().await.unwrap();

    // Listing sees exactly the objects, relative to the store root.
    assert_eq!(
        store.list("feeds/a/").await.unwrap(),
        [
            "feeds/a/current.json",
            "feeds/a/snapshots/big.xml",
            "feeds/a/snapshots/small.xml"
        ]
    );
    assert!(store.list("runs/").await.unwrap().is_empty());
    assert_eq!(store.list("feeds/a/snap").await.unwrap().len(), 2);

    store.delete("feeds/a/snapshots/small.xml").await.unwrap();
    store.delete("feeds/a/snapshots/small.xml").await.unwrap();
    assert_eq!(store.list("feeds/").await.unwrap().len(), 2);
    assert!(matches!(
        store.get("../x").await,
        Err(StoreError::BadKey { .. })
    ));
}

#[tokio::test]
async fn file_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("file://{}", dir.path().display()))
        .await
        .unwrap();
    contract(&store).await;
}

#[tokio::test]
async fn s3_store_keeps_the_contract_on_moto() {
    let s3 = moto_store("store-contract")
        .await
        .with_part_sizes(5 << 20, 6 << 20);
    contract(&Store::S3(s3)).await;
}

#[tokio::test]
async fn s3_listing_pages_through_more_than_a_thousand_keys() {
    let s3 = moto_store("store-list").await;
    let store = Store::S3(s3);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..1050 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .put(&format!("runs/f/e/{i:05}"), Bytes::new(), Condition::Always)
                .await
        });
        while tasks.len() >= 16 {
            tasks.join_next().await.unwrap().unwrap().unwrap();
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    let keys = store.list("runs/f/").await.unwrap();
    assert_eq!(keys.len(), 1050);
    assert_eq!(keys[1049], "runs/f/e/01049");
}

#[tokio::test]
async fn concurrent_conditional_replacements_on_file_let_exactly_one_win() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("file://{}", dir.path().display()))
        .await
        .unwrap();
    let base = store
        .put(
            "feeds/x/current.json",
            Bytes::from_static(b"base"),
            Condition::Always,
        )
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        let base = base.clone();
        tasks.spawn(async move {
            store
                .put(
                    "feeds/x/current.json",
                    Bytes::from(format!("writer {i}")),
                    Condition::IfMatch(base),
                )
                .await
        });
    }
    let mut won = 0;
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::PreconditionFailed { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1);
    assert!(std::fs::read_dir(dir.path().join("feeds/x"))
        .unwrap()
        .all(|e| !e.unwrap().file_name().to_string_lossy().starts_with('.')));
}

#[tokio::test]
async fn s3_config_url_is_read_whole() {
    let s3 = moto_store("store-config").await;
    let url = format!("s3://{}/pre/fix/config/feedpipe.toml", s3.bucket());
    Store::S3(s3)
        .put(
            "config/feedpipe.toml",
            Bytes::from_static(b"store = 1"),
            Condition::Always,
        )
        .await
        .unwrap();
    // read_url uses the standard chain: ./scripts/test exports AWS_ENDPOINT_URL (= moto).
    assert_eq!(
        std::env::var("AWS_ENDPOINT_URL").ok(),
        Some(moto_endpoint())
    );
    let text = store::read_url(&url).await.unwrap();
    assert_eq!(&text[..], b"store = 1");
}
