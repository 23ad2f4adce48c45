use jsm_store::{Error, PlanStatus};

use crate::support::{Db, exec_raw, plan};

crate::both_backends!(
    put_plan_is_idempotent_and_refuses_another_hash,
    plans_filter_by_status_newest_first,
    set_plan_status_changes_one_plan_or_says_not_found,
    plan_by_prefix_finds_a_unique_plan_only,
    a_plan_with_bad_json_is_corrupt_not_a_panic,
);

async fn put_plan_is_idempotent_and_refuses_another_hash(db: Db) -> anyhow::Result<()> {
    let p = plan("p-0001", "h1", 0);
    db.store.put_plan(&p).await?;
    db.store.put_plan(&p).await?;
    assert_eq!(db.store.plan("p-0001").await?, Some(p.clone()));
    assert_eq!(db.store.plans(None).await?.len(), 1);

    let mut other = p.clone();
    other.hash = "h2".into();
    let err = db.store.put_plan(&other).await.err();
    assert!(
        matches!(&err, Some(Error::Conflict { what }) if what.contains("p-0001") && what.contains("h1")),
        "{err:?}"
    );
    assert_eq!(
        db.store.plan("p-0001").await?.map(|p| p.hash),
        Some("h1".into())
    );
    assert_eq!(db.store.plan("nope").await?, None);
    Ok(())
}

async fn plans_filter_by_status_newest_first(db: Db) -> anyhow::Result<()> {
    for (i, id) in ["p-a", "p-b", "p-c"].into_iter().enumerate() {
        db.store.put_plan(&plan(id, "h", i as i64 * 10)).await?;
    }
    db.store.set_plan_status("p-b", PlanStatus::Ready).await?;
    let all: Vec<String> = db
        .store
        .plans(None)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(all, ["p-c", "p-b", "p-a"]);
    let waiting: Vec<String> = db
        .store
        .plans(Some(PlanStatus::AwaitingApproval))
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(waiting, ["p-c", "p-a"]);
    let ready = db.store.plans(Some(PlanStatus::Ready)).await?;
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].status, PlanStatus::Ready);
    assert!(db.store.plans(Some(PlanStatus::Applied)).await?.is_empty());
    Ok(())
}

async fn set_plan_status_changes_one_plan_or_says_not_found(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h", 0)).await?;
    db.store.put_plan(&plan("p-2", "h", 1)).await?;
    for status in PlanStatus::ALL {
        db.store.set_plan_status("p-1", status).await?;
        assert_eq!(db.store.plan("p-1").await?.map(|p| p.status), Some(status));
        assert_eq!(status.as_str().parse::<PlanStatus>()?, status);
    }
    assert_eq!(
        db.store.plan("p-2").await?.map(|p| p.status),
        Some(PlanStatus::AwaitingApproval)
    );
    let err = db
        .store
        .set_plan_status("p-9", PlanStatus::Ready)
        .await
        .err();
    assert!(
        matches!(&err, Some(Error::NotFound { what }) if what.contains("p-9")),
        "{err:?}"
    );
    Ok(())
}

async fn plan_by_prefix_finds_a_unique_plan_only(db: Db) -> anyhow::Result<()> {
    for id in ["abcdef0123", "abcdef4567", "abcdxy0000", "ABCDEF9999"] {
        db.store.put_plan(&plan(id, "h", 0)).await?;
    }
    let found = db.store.plan_by_prefix("abcdef0").await?;
    assert_eq!(found.map(|p| p.id), Some("abcdef0123".into()));
    let found = db.store.plan_by_prefix("abcdxy").await?;
    assert_eq!(found.map(|p| p.id), Some("abcdxy0000".into()));
    // Case-sensitive: the upper-case id is its own plan.
    let found = db.store.plan_by_prefix("ABCDEF").await?;
    assert_eq!(found.map(|p| p.id), Some("ABCDEF9999".into()));
    // An exact id wins even when it is also a prefix of nothing else.
    let found = db.store.plan_by_prefix("abcdef4567").await?;
    assert_eq!(found.map(|p| p.id), Some("abcdef4567".into()));

    let err = db.store.plan_by_prefix("abcdef").await.err();
    assert!(matches!(err, Some(Error::Conflict { .. })), "{err:?}");
    let err = db.store.plan_by_prefix("abcde").await.err();
    assert!(matches!(err, Some(Error::Invalid { .. })), "{err:?}");
    assert_eq!(db.store.plan_by_prefix("zzzzzz").await?, None);
    // Wildcards are plain characters.
    assert_eq!(db.store.plan_by_prefix("abcd%_").await?, None);
    Ok(())
}

async fn a_plan_with_bad_json_is_corrupt_not_a_panic(db: Db) -> anyhow::Result<()> {
    db.store.put_plan(&plan("p-1", "h", 0)).await?;
    assert_eq!(
        exec_raw(
            &db.store,
            "UPDATE plans SET body = '{\"items\": [' WHERE id = 'p-1'"
        )
        .await?,
        1
    );
    let err = db.store.plan("p-1").await.err();
    assert!(
        matches!(&err, Some(Error::Corrupt { what }) if what.contains("p-1") && what.contains("body")),
        "{err:?}"
    );
    assert!(matches!(
        db.store.plans(None).await,
        Err(Error::Corrupt { .. })
    ));
    // The schema itself refuses a status the code does not know.
    let bogus = exec_raw(
        &db.store,
        "UPDATE plans SET status = 'bogus' WHERE id = 'p-1'",
    )
    .await;
    assert!(bogus.is_err(), "{bogus:?}");
    Ok(())
}
