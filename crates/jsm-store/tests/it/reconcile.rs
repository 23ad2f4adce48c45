//! Reconcile state: watermarks per source, the per-site run lock, learned site facts.

use jsm_store::{SiteFact, Watermark};

use crate::support::{Db, at};

crate::both_backends!(
    watermarks_keep_the_last_full_read,
    run_lock_excludes_a_second_holder_until_released_or_expired,
    site_facts_replace_by_key
);

async fn watermarks_keep_the_last_full_read(db: Db) -> anyhow::Result<()> {
    assert_eq!(db.store.watermark("file:/a.csv").await?, None);
    let full = Watermark {
        source: "file:/a.csv".into(),
        watermark: Some("hash-1".into()),
        full_at: Some(at(10)),
        updated_at: at(10),
    };
    db.store.watermark_put(&full).await?;
    assert_eq!(db.store.watermark("file:/a.csv").await?, Some(full.clone()));
    // An incremental read moves the watermark but not the time of the last full read.
    let incremental = Watermark {
        watermark: Some("hash-2".into()),
        full_at: None,
        updated_at: at(20),
        ..full.clone()
    };
    db.store.watermark_put(&incremental).await?;
    let stored = db.store.watermark("file:/a.csv").await?.unwrap();
    assert_eq!(stored.watermark.as_deref(), Some("hash-2"));
    assert_eq!(stored.full_at, Some(at(10)));
    assert_eq!(stored.updated_at, at(20));
    assert!(db.store.watermark_remove("file:/a.csv").await?);
    assert!(!db.store.watermark_remove("file:/a.csv").await?);
    Ok(())
}

async fn run_lock_excludes_a_second_holder_until_released_or_expired(db: Db) -> anyhow::Result<()> {
    let site = "https://acme.atlassian.net";
    let first = db
        .store
        .run_lock_acquire(site, "alice:1", at(0), at(60))
        .await?;
    assert_eq!(first.holder, "alice:1");
    let refused = db
        .store
        .run_lock_acquire(site, "bob:2", at(30), at(90))
        .await;
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("already running") && message.contains("alice:1"),
        "{message}"
    );
    // The holder renews its own lease.
    let renewed = db
        .store
        .run_lock_acquire(site, "alice:1", at(40), at(100))
        .await?;
    assert_eq!(renewed.expires_at, at(100));
    // Another site is independent.
    db.store
        .run_lock_acquire("https://other", "bob:2", at(40), at(100))
        .await?;
    // Only the holder releases.
    assert!(!db.store.run_lock_release(site, "bob:2").await?);
    assert!(db.store.run_lock_release(site, "alice:1").await?);
    db.store
        .run_lock_acquire(site, "bob:2", at(50), at(110))
        .await?;
    // A lease that ran out (a crashed run) is taken over.
    let taken = db
        .store
        .run_lock_acquire(site, "carol:3", at(111), at(200))
        .await?;
    assert_eq!(taken.holder, "carol:3");
    assert_eq!(db.store.run_lock(site).await?.unwrap().holder, "carol:3");

    // Racing acquirers: exactly one wins.
    let race_site = "https://race";
    let mut tasks = Vec::new();
    for n in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .run_lock_acquire(race_site, &format!("worker:{n}"), at(0), at(60))
                .await
                .is_ok()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await?);
    }
    assert_eq!(won, 1);
    Ok(())
}

async fn site_facts_replace_by_key(db: Db) -> anyhow::Result<()> {
    let fact = |key: &str, detail: &str, secs| SiteFact {
        site: "s".into(),
        kind: "open_desk".into(),
        key: key.into(),
        detail: detail.into(),
        learned_at: at(secs),
    };
    db.store.site_fact_put(&fact("2", "first", 1)).await?;
    db.store.site_fact_put(&fact("1", "other", 2)).await?;
    db.store.site_fact_put(&fact("2", "again", 3)).await?;
    let facts = db.store.site_facts("s", "open_desk").await?;
    assert_eq!(facts, vec![fact("1", "other", 2), fact("2", "again", 3)]);
    assert!(db.store.site_facts("s", "other").await?.is_empty());
    Ok(())
}
