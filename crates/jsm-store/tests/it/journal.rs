use jsm_store::{Error, JournalEntry, JournalState};

use crate::support::{Db, at, plan};

crate::both_backends!(
    journal_upserts_one_row_per_item,
    journal_put_many_is_all_or_nothing,
    quarantined_lists_only_quarantined_items_of_every_plan,
);

fn entry(plan_id: &str, item: &str, state: JournalState, attempts: u32, secs: i64) -> JournalEntry {
    JournalEntry {
        plan_id: plan_id.into(),
        item_key: item.into(),
        state,
        attempts,
        outcome: None,
        output: None,
        error: None,
        updated_at: at(secs),
    }
}

async fn journal_upserts_one_row_per_item(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h", 0)).await?;
    db.store
        .journal_put(&entry("p-1", "b", JournalState::Pending, 0, 1))
        .await?;
    db.store
        .journal_put(&entry("p-1", "a", JournalState::Pending, 0, 1))
        .await?;
    db.store
        .journal_put(&entry("p-1", "a", JournalState::Sent, 1, 2))
        .await?;
    let mut done = entry("p-1", "a", JournalState::Done, 1, 3);
    done.outcome = Some("created".into());
    done.output =
        Some(serde_json::json!({"accountId": "qm:1234", "nested": {"b": 1, "a": [true]}}));
    let mut failed = entry("p-1", "b", JournalState::Failed, 3, 4);
    failed.error = Some("429 after 3 retries".into());
    db.store
        .journal_put_many(&[done.clone(), failed.clone()])
        .await?;

    let rows = db.store.journal("p-1").await?;
    assert_eq!(rows, vec![done, failed]);
    assert!(db.store.journal("p-2").await?.is_empty());
    Ok(())
}

async fn journal_put_many_is_all_or_nothing(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h", 0)).await?;
    let batch = [
        entry("p-1", "a", JournalState::Pending, 0, 1),
        entry("ghost", "a", JournalState::Pending, 0, 1),
    ];
    let err = db.store.journal_put_many(&batch).await.err();
    assert!(
        matches!(&err, Some(Error::NotFound { what }) if what.contains("ghost")),
        "{err:?}"
    );
    assert!(
        db.store.journal("p-1").await?.is_empty(),
        "the first entry was rolled back"
    );
    db.store.journal_put_many(&[]).await?;
    Ok(())
}

async fn quarantined_lists_only_quarantined_items_of_every_plan(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h", 0)).await?;
    db.store.put_plan(&plan("p-2", "h", 1)).await?;
    let q1 = entry("p-2", "x", JournalState::Quarantined, 5, 10);
    let q2 = entry("p-1", "y", JournalState::Quarantined, 5, 20);
    db.store
        .journal_put_many(&[
            q2.clone(),
            entry("p-1", "z", JournalState::Failed, 1, 5),
            q1.clone(),
            entry("p-2", "w", JournalState::Done, 1, 5),
        ])
        .await?;
    assert_eq!(db.store.quarantined().await?, vec![q1, q2]);
    // Released by a human: no longer quarantined.
    db.store
        .journal_put(&entry("p-2", "x", JournalState::Pending, 0, 30))
        .await?;
    assert_eq!(db.store.quarantined().await?.len(), 1);
    Ok(())
}
