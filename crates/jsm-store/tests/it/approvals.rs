use std::collections::BTreeSet;

use jsm_store::{Approval, Error, Rejection};

use crate::support::{Db, at, plan};

crate::both_backends!(
    an_approval_is_consumed_once_only,
    an_expired_approval_is_never_consumed,
    an_approval_for_another_hash_is_never_consumed,
    concurrent_consumers_each_get_a_different_approval,
    approvals_need_a_stored_plan,
    a_plan_is_rejected_once,
);

fn approval(plan_id: &str, hash: &str, approver: &str, approved: i64, expires: i64) -> Approval {
    Approval {
        plan_id: plan_id.into(),
        plan_hash: hash.into(),
        approver: approver.into(),
        approved_at: at(approved),
        expires_at: at(expires),
        used_at: None,
    }
}

async fn an_approval_is_consumed_once_only(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h1", 0)).await?;
    db.store
        .add_approval(&approval("p-1", "h1", "carol", 20, 3600))
        .await?;
    db.store
        .add_approval(&approval("p-1", "h1", "dave", 10, 3600))
        .await?;

    let first = db.store.consume_approval("p-1", "h1", at(30)).await?;
    let first = first.ok_or_else(|| anyhow::anyhow!("no approval consumed"))?;
    assert_eq!(first.approver, "dave", "the oldest approval goes first");
    assert_eq!(first.used_at, Some(at(30)));
    let second = db.store.consume_approval("p-1", "h1", at(31)).await?;
    assert_eq!(second.map(|a| a.approver), Some("carol".into()));
    assert_eq!(db.store.consume_approval("p-1", "h1", at(32)).await?, None);

    let stored = db.store.approvals("p-1").await?;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].approver, "dave");
    assert_eq!(stored[0].used_at, Some(at(30)));
    assert_eq!(stored[1].used_at, Some(at(31)));
    Ok(())
}

async fn an_expired_approval_is_never_consumed(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h1", 0)).await?;
    db.store
        .add_approval(&approval("p-1", "h1", "carol", 0, 100))
        .await?;
    // Valid while now < expires_at: at the instant itself it is over.
    assert_eq!(db.store.consume_approval("p-1", "h1", at(100)).await?, None);
    assert_eq!(
        db.store.consume_approval("p-1", "h1", at(5000)).await?,
        None
    );
    assert_eq!(db.store.approvals("p-1").await?[0].used_at, None);
    let ok = db.store.consume_approval("p-1", "h1", at(99)).await?;
    assert_eq!(ok.map(|a| a.approver), Some("carol".into()));
    Ok(())
}

async fn an_approval_for_another_hash_is_never_consumed(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h1", 0)).await?;
    db.store.put_plan(&plan("p-2", "h1", 0)).await?;
    db.store
        .add_approval(&approval("p-1", "h1", "carol", 0, 100))
        .await?;
    assert_eq!(db.store.consume_approval("p-1", "h2", at(1)).await?, None);
    assert_eq!(
        db.store.consume_approval("p-2", "h1", at(1)).await?,
        None,
        "another plan with the same hash"
    );
    assert_eq!(db.store.approvals("p-1").await?[0].used_at, None);
    assert!(
        db.store
            .consume_approval("p-1", "h1", at(1))
            .await?
            .is_some()
    );
    Ok(())
}

async fn concurrent_consumers_each_get_a_different_approval(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h1", 0)).await?;
    for i in 0..8 {
        db.store
            .add_approval(&approval("p-1", "h1", &format!("approver-{i}"), i, 3600))
            .await?;
    }
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = db.store.clone();
            tokio::spawn(async move { store.consume_approval("p-1", "h1", at(100 + i)).await })
        })
        .collect();
    let mut got = Vec::new();
    for task in tasks {
        if let Some(a) = task.await?? {
            got.push(a.approver);
        }
    }
    let distinct: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(got.len(), 8, "{got:?}");
    assert_eq!(distinct.len(), 8, "{got:?}");
    assert!(
        db.store
            .approvals("p-1")
            .await?
            .iter()
            .all(|a| a.used_at.is_some())
    );
    Ok(())
}

async fn approvals_need_a_stored_plan(db: Db) -> anyhow::Result<()> {
    let err = db
        .store
        .add_approval(&approval("ghost", "h1", "carol", 0, 100))
        .await
        .err();
    assert!(
        matches!(&err, Some(Error::NotFound { what }) if what.contains("ghost")),
        "{err:?}"
    );
    assert!(db.store.approvals("ghost").await?.is_empty());
    Ok(())
}

async fn a_plan_is_rejected_once(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h1", 0)).await?;
    assert_eq!(db.store.rejection("p-1").await?, None);
    let r = Rejection {
        plan_id: "p-1".into(),
        by: "erin".into(),
        at: at(5),
        reason: Some("deletes 40% of agents".into()),
    };
    db.store.add_rejection(&r).await?;
    assert_eq!(db.store.rejection("p-1").await?, Some(r.clone()));
    let err = db.store.add_rejection(&r).await.err();
    assert!(matches!(err, Some(Error::Conflict { .. })), "{err:?}");
    let ghost = Rejection {
        plan_id: "ghost".into(),
        ..r
    };
    let err = db.store.add_rejection(&ghost).await.err();
    assert!(matches!(err, Some(Error::NotFound { .. })), "{err:?}");
    Ok(())
}
