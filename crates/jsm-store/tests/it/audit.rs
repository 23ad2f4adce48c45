use chrono::Duration;
use jsm_store::{
    AuditRecord, GENESIS_HASH, Store, Tamper, VerifyError, VerifyReport, canonical_json,
    record_hash, sha256_hex,
};

use crate::support::{Db, at, draft, exec_raw};

crate::both_backends!(
    an_empty_log_verifies,
    appends_chain_and_hash_as_documented,
    two_hundred_concurrent_appends_leave_no_gap,
    two_pools_on_one_database_share_one_chain,
    append_many_is_one_consecutive_run,
    tamper_changed_record_is_detected,
    tamper_deleted_middle_record_is_detected,
    tamper_deleted_last_record_is_detected,
    tamper_swapped_pair_is_detected,
    a_record_with_bad_json_breaks_the_chain_there,
);

/// Every record, paged through `audit_list`.
async fn all_records(store: &Store) -> anyhow::Result<Vec<AuditRecord>> {
    let mut out: Vec<AuditRecord> = Vec::new();
    loop {
        let after = out.last().map_or(0, |r| r.seq);
        let page = store.audit_list(after, 64).await?;
        if page.is_empty() {
            return Ok(out);
        }
        assert!(page.len() <= 64);
        out.extend(page);
    }
}

async fn verified(store: &Store) -> anyhow::Result<VerifyReport> {
    store
        .audit_verify()
        .await?
        .map_err(|e| anyhow::anyhow!("the untouched log does not verify: {e}"))
}

async fn an_empty_log_verifies(db: Db) -> anyhow::Result<()> {
    assert_eq!(
        verified(&db.store).await?,
        VerifyReport {
            records: 0,
            head: None
        }
    );
    assert_eq!(db.store.audit_count().await?, 0);
    assert!(db.store.audit_list(0, 10).await?.is_empty());
    assert!(db.store.audit_append_many(Vec::new()).await?.is_empty());
    Ok(())
}

async fn appends_chain_and_hash_as_documented(db: Db) -> anyhow::Result<()> {
    let mut d1 = draft(1);
    // Finer than the store keeps: the returned record is already truncated, and its hash still verifies.
    d1.at += Duration::nanoseconds(456_789);
    let r1 = db.store.audit_append(d1).await?;
    let r2 = db.store.audit_append(draft(2)).await?;
    assert_eq!((r1.seq, r2.seq), (1, 2));
    assert_eq!(r1.draft.at, at(1));
    assert_eq!(r1.prev_hash, GENESIS_HASH);
    assert_eq!(r2.prev_hash, r1.hash);

    // The documented formula, computed here independently of record_hash.
    let mut body = serde_json::to_value(&r1.draft)?;
    body["seq"] = 1.into();
    body["prev_hash"] = GENESIS_HASH.into();
    body["at"] = "2026-05-28T20:26:41.123Z".into();
    let expected = sha256_hex(format!("{GENESIS_HASH}\n{}", canonical_json(&body)).as_bytes());
    assert_eq!(r1.hash, expected);
    assert_eq!(record_hash(&r1.prev_hash, &r1.draft, 1), r1.hash);
    assert_ne!(
        record_hash(&r1.prev_hash, &r1.draft, 2),
        r1.hash,
        "seq is hashed too"
    );

    assert_eq!(all_records(&db.store).await?, vec![r1, r2.clone()]);
    assert_eq!(
        verified(&db.store).await?,
        VerifyReport {
            records: 2,
            head: Some(r2.hash)
        }
    );
    Ok(())
}

async fn two_hundred_concurrent_appends_leave_no_gap(db: Db) -> anyhow::Result<()> {
    let tasks: Vec<_> = (1..=200)
        .map(|n| {
            let store = db.store.clone();
            tokio::spawn(async move { store.audit_append(draft(n)).await })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await??.seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<i64>>());

    let records = all_records(&db.store).await?;
    assert_eq!(records.len(), 200);
    for pair in records.windows(2) {
        assert_eq!(
            pair[1].prev_hash, pair[0].hash,
            "link at seq {}",
            pair[1].seq
        );
    }
    let report = verified(&db.store).await?;
    assert_eq!(report.records, 200);
    assert_eq!(report.head, records.last().map(|r| r.hash.clone()));
    assert_eq!(db.store.audit_count().await?, 200);
    Ok(())
}

async fn two_pools_on_one_database_share_one_chain(db: Db) -> anyhow::Result<()> {
    // A second pool on the same file or schema stands in for a second process.
    let other = Store::open(&db.target).await?;
    let tasks: Vec<_> = (1..=60u32)
        .map(|n| {
            let store = if n.is_multiple_of(2) {
                db.store.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move { store.audit_append(draft(n)).await })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    other.close().await;
    assert_eq!(verified(&db.store).await?.records, 60);
    Ok(())
}

async fn append_many_is_one_consecutive_run(db: Db) -> anyhow::Result<()> {
    db.store.audit_append(draft(1)).await?;
    let batch = db
        .store
        .audit_append_many((2..=6).map(draft).collect())
        .await?;
    assert_eq!(
        batch.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6]
    );
    assert_eq!(db.store.audit_list(1, 100).await?, batch);
    assert_eq!(db.store.audit_list(4, 1).await?.len(), 1);
    assert_eq!(verified(&db.store).await?.records, 6);
    Ok(())
}

/// Appends ten records, checks they verify, applies `tamper`, and returns the verdict.
async fn tampered(store: &Store, tamper: Tamper) -> anyhow::Result<VerifyError> {
    store
        .audit_append_many((1..=10).map(draft).collect())
        .await?;
    verified(store).await?;
    store.tamper_audit_for_test(tamper).await?;
    match store.audit_verify().await? {
        Ok(report) => anyhow::bail!("tampering went unnoticed: {report:?}"),
        Err(e) => Ok(e),
    }
}

fn assert_broken(e: &VerifyError, want_seq: i64, want_reason: &str) {
    let VerifyError::Broken { seq, reason } = e;
    assert_eq!(*seq, want_seq, "{e}");
    assert!(reason.contains(want_reason), "{e}");
}

async fn tamper_changed_record_is_detected(db: Db) -> anyhow::Result<()> {
    let e = tampered(
        &db.store,
        Tamper::ChangeOutcome {
            seq: 4,
            outcome: "skipped".into(),
        },
    )
    .await?;
    assert_broken(&e, 4, "hash does not match its content");
    assert!(
        db.store
            .tamper_audit_for_test(Tamper::ChangeOutcome {
                seq: 99,
                outcome: "x".into()
            })
            .await
            .is_err(),
        "tampering with a missing record is an error"
    );
    Ok(())
}

async fn tamper_deleted_middle_record_is_detected(db: Db) -> anyhow::Result<()> {
    let e = tampered(&db.store, Tamper::Delete { seq: 5 }).await?;
    assert_broken(&e, 5, "sequence gap: 5 missing");
    Ok(())
}

async fn tamper_deleted_last_record_is_detected(db: Db) -> anyhow::Result<()> {
    let e = tampered(&db.store, Tamper::Delete { seq: 10 }).await?;
    assert_broken(&e, 10, "10 missing");
    Ok(())
}

async fn tamper_swapped_pair_is_detected(db: Db) -> anyhow::Result<()> {
    let e = tampered(&db.store, Tamper::Swap { a: 3, b: 7 }).await?;
    assert_broken(&e, 3, "does not match");
    // The swapped records themselves are intact: only their places changed.
    let records = db.store.audit_list(2, 1).await?;
    assert_eq!(records[0].draft.target, "user-7@example.com");
    Ok(())
}

async fn a_record_with_bad_json_breaks_the_chain_there(db: Db) -> anyhow::Result<()> {
    db.store
        .audit_append_many((1..=3).map(draft).collect())
        .await?;
    assert_eq!(
        exec_raw(
            &db.store,
            "UPDATE audit_log SET detail = 'nope' WHERE seq = 2"
        )
        .await?,
        1
    );
    let verdict = db.store.audit_verify().await?;
    let Err(e) = verdict else {
        anyhow::bail!("bad JSON went unnoticed");
    };
    assert_broken(&e, 2, "not JSON");
    let err = db.store.audit_list(0, 10).await.err();
    assert!(
        matches!(err, Some(jsm_store::Error::Corrupt { .. })),
        "{err:?}"
    );
    Ok(())
}
