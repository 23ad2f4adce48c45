//! The job queue of `jsmctl serve`: one lease per job, takeover after expiry, fencing by lease token, one
//! running job per lock key, concurrent claimers in two pools each getting distinct jobs.

use std::collections::HashSet;

use jsm_store::{Error, JobState, NewJob, Store};
use serde_json::json;

use crate::support::{Db, at};

crate::both_backends!(
    a_job_is_leased_once_and_taken_over_after_its_lease_runs_out,
    one_running_job_per_lock_key,
    release_cancel_counts_and_listing,
    concurrent_claimers_never_share_a_job,
    worker_heartbeats_count_the_live_ones,
);

fn job(kind: &str, lock: Option<&str>, run_at: i64) -> NewJob {
    NewJob {
        kind: kind.into(),
        spec: json!({"plan_id": "p-1", "n": run_at}),
        lock_key: lock.map(str::to_string),
        max_attempts: 3,
        run_at: at(run_at),
        created_by: "alice".into(),
    }
}

async fn a_job_is_leased_once_and_taken_over_after_its_lease_runs_out(
    db: Db,
) -> anyhow::Result<()> {
    let s = &db.store;
    let queued = s
        .job_enqueue(&job("apply_plan", Some("site:a"), 0), at(0))
        .await?;
    assert_eq!(queued.state, JobState::Queued);
    assert_eq!(queued.spec, json!({"plan_id": "p-1", "n": 0}));
    assert!(
        s.job_claim("w1", "l1", at(5), at(-1)).await?.is_none(),
        "not due yet"
    );

    let mine = s
        .job_claim("w1", "l1", at(10), at(1))
        .await?
        .expect("claimed");
    assert_eq!(
        (mine.id, mine.state, mine.attempts),
        (queued.id, JobState::Running, 1)
    );
    assert_eq!(mine.worker.as_deref(), Some("w1"));
    assert!(
        s.job_claim("w2", "l2", at(12), at(2)).await?.is_none(),
        "leased"
    );
    assert!(s.job_heartbeat(mine.id, "l1", at(20)).await?);
    assert!(
        s.job_claim("w2", "l2", at(22), at(15)).await?.is_none(),
        "renewed"
    );

    // w1 goes silent; after the lease w2 takes the job over, and w1's token no longer counts.
    let taken = s
        .job_claim("w2", "l2", at(40), at(21))
        .await?
        .expect("taken over");
    assert_eq!((taken.id, taken.attempts), (mine.id, 2));
    assert_eq!(taken.started_at, mine.started_at, "first start kept");
    assert!(!s.job_heartbeat(mine.id, "l1", at(50)).await?);
    assert!(
        !s.job_finish(mine.id, "l1", JobState::Done, None, None, at(22))
            .await?
    );
    assert!(
        s.job_finish(
            mine.id,
            "l2",
            JobState::Done,
            Some(&json!({"applied": 3})),
            None,
            at(23)
        )
        .await?
    );
    let done = s.job(mine.id).await?.expect("stored");
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.result, Some(json!({"applied": 3})));
    assert_eq!(done.finished_at, Some(at(23)));
    assert!(
        !s.job_finish(mine.id, "l2", JobState::Failed, None, Some("x"), at(24))
            .await?,
        "once"
    );
    assert!(matches!(
        s.job_finish(mine.id, "l2", JobState::Queued, None, None, at(24))
            .await,
        Err(Error::Invalid { .. })
    ));
    assert!(
        s.job_claim("w2", "l3", at(60), at(100)).await?.is_none(),
        "nothing left"
    );
    Ok(())
}

async fn one_running_job_per_lock_key(db: Db) -> anyhow::Result<()> {
    let s = &db.store;
    let a1 = s.job_enqueue(&job("k", Some("site:a"), 0), at(0)).await?;
    let a2 = s.job_enqueue(&job("k", Some("site:a"), 0), at(0)).await?;
    let b1 = s.job_enqueue(&job("k", Some("site:b"), 0), at(0)).await?;
    let free = s.job_enqueue(&job("k", None, 0), at(0)).await?;
    let first = s.job_claim("w1", "l1", at(30), at(1)).await?.expect("a1");
    assert_eq!(first.id, a1.id);
    let second = s
        .job_claim("w2", "l2", at(30), at(1))
        .await?
        .expect("b1, a2 waits");
    assert_eq!(second.id, b1.id);
    let third = s
        .job_claim("w3", "l3", at(30), at(1))
        .await?
        .expect("no key");
    assert_eq!(third.id, free.id);
    assert!(
        s.job_claim("w4", "l4", at(30), at(1)).await?.is_none(),
        "a2 waits for a1"
    );
    assert!(
        s.job_finish(a1.id, "l1", JobState::Done, None, None, at(2))
            .await?
    );
    let fourth = s
        .job_claim("w4", "l4", at(30), at(3))
        .await?
        .expect("a2 now");
    assert_eq!(fourth.id, a2.id);
    Ok(())
}

async fn release_cancel_counts_and_listing(db: Db) -> anyhow::Result<()> {
    let s = &db.store;
    let j1 = s.job_enqueue(&job("k", Some("site:a"), 0), at(0)).await?;
    let j2 = s.job_enqueue(&job("k", None, 0), at(0)).await?;
    let claimed = s.job_claim("w1", "l1", at(30), at(1)).await?.expect("j1");
    assert_eq!(claimed.id, j1.id);
    assert!(
        s.job_release(j1.id, "l1", at(100), Some("429: try later"))
            .await?
    );
    assert!(
        !s.job_release(j1.id, "l1", at(100), None).await?,
        "the claim is gone"
    );
    let back = s.job(j1.id).await?.expect("stored");
    assert_eq!(back.state, JobState::Queued);
    assert_eq!(back.error.as_deref(), Some("429: try later"));
    assert_eq!(back.lease, None);
    let next = s
        .job_claim("w1", "l2", at(1000), at(2))
        .await?
        .expect("j2 while j1 waits");
    assert_eq!(next.id, j2.id);
    assert!(s.job_cancel(j1.id, at(3)).await?);
    assert!(
        !s.job_cancel(j2.id, at(3)).await?,
        "running jobs are not cancelled"
    );
    assert!(
        s.job_claim("w1", "l3", at(300), at(200)).await?.is_none(),
        "cancelled never runs"
    );
    let counts = s.job_counts().await?;
    assert_eq!(
        counts,
        vec![(JobState::Cancelled, 1), (JobState::Running, 1)]
    );
    let all = s.jobs(None, None, 10).await?;
    assert_eq!(
        all.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![j2.id, j1.id]
    );
    let running = s.jobs(Some(JobState::Running), None, 10).await?;
    assert_eq!(running.len(), 1);
    let older = s.jobs(None, Some(j2.id), 10).await?;
    assert_eq!(older.iter().map(|j| j.id).collect::<Vec<_>>(), vec![j1.id]);
    Ok(())
}

async fn concurrent_claimers_never_share_a_job(db: Db) -> anyhow::Result<()> {
    let s = &db.store;
    for n in 0..40 {
        s.job_enqueue(&job("k", None, n % 3), at(0)).await?;
    }
    let other = Store::open(&db.target).await?;
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = if w % 2 == 0 { s.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..40 {
                let lease = format!("w{w}-{i}");
                match store
                    .job_claim(&format!("w{w}"), &lease, at(60), at(10))
                    .await?
                {
                    Some(j) => {
                        assert!(
                            store
                                .job_finish(j.id, &lease, JobState::Done, None, None, at(11))
                                .await?
                        );
                        mine.push(j.id);
                    }
                    None => tokio::task::yield_now().await,
                }
            }
            anyhow::Ok(mine)
        }));
    }
    let mut seen = HashSet::new();
    for t in tasks {
        for id in t.await?? {
            assert!(seen.insert(id), "job {id} claimed twice");
        }
    }
    // Whatever the claimers left (a claim can lose a race), nobody holds it and one more pass finishes it.
    while let Some(j) = s.job_claim("w9", "last", at(60), at(12)).await? {
        assert!(seen.insert(j.id), "job {} claimed twice", j.id);
    }
    assert_eq!(seen.len(), 40);
    other.close().await;
    Ok(())
}

async fn worker_heartbeats_count_the_live_ones(db: Db) -> anyhow::Result<()> {
    let s = &db.store;
    s.worker_beat("w1", &json!({"listen": "127.0.0.1:1"}), at(0))
        .await?;
    s.worker_beat("w2", &json!({}), at(0)).await?;
    s.worker_beat("w1", &json!({"listen": "127.0.0.1:1", "job": 4}), at(10))
        .await?;
    let live = s.workers_live(at(5)).await?;
    assert_eq!(live.len(), 1);
    assert_eq!(
        (live[0].id.as_str(), live[0].started_at, live[0].last_seen),
        ("w1", at(0), at(10))
    );
    assert_eq!(live[0].info["job"], 4);
    assert_eq!(s.workers_live(at(0)).await?.len(), 2);
    s.worker_remove("w1", at(-1)).await?;
    assert_eq!(s.workers_live(at(0)).await?.len(), 1, "w1 gone, w2 kept");
    s.worker_remove("nobody", at(1)).await?;
    assert!(s.workers_live(at(-100)).await?.is_empty(), "stale w2 swept");
    Ok(())
}
