//! Webhook deliveries: the identifier and its job are written together, and a replay (also a concurrent one)
//! queues nothing.

use jsm_store::{DeliveryOutcome, NewJob, Store, WebhookDelivery};
use serde_json::json;

use crate::support::{Db, at};

crate::both_backends!(
    a_replayed_delivery_queues_nothing,
    concurrent_replays_queue_one_job,
    a_schedule_firing_queues_once,
);

fn delivery(id: &str) -> WebhookDelivery {
    WebhookDelivery {
        identifier: id.into(),
        received_at: at(1),
        event: "user_updated".into(),
        account_id: Some("acc-1".into()),
    }
}

fn job() -> NewJob {
    NewJob {
        kind: "reconcile".into(),
        spec: json!({"person": "acc-1"}),
        lock_key: Some("site:a".into()),
        max_attempts: 3,
        run_at: at(1),
        created_by: "webhook".into(),
    }
}

async fn a_replayed_delivery_queues_nothing(db: Db) -> anyhow::Result<()> {
    let s = &db.store;
    let DeliveryOutcome::Accepted(Some(first)) =
        s.webhook_accept(&delivery("d-1"), Some(&job())).await?
    else {
        panic!("first delivery accepted with its job");
    };
    let first = s.job(first).await?.expect("queued");
    assert_eq!(first.spec, json!({"person": "acc-1"}));
    let again = s.webhook_accept(&delivery("d-1"), Some(&job())).await?;
    assert_eq!(again, DeliveryOutcome::Duplicate(Some(first.id)));
    assert_eq!(s.jobs(None, None, 10).await?.len(), 1);
    assert_eq!(
        s.webhook_accept(&delivery("d-2"), None).await?,
        DeliveryOutcome::Accepted(None)
    );
    assert_eq!(
        s.webhook_accept(&delivery("d-2"), None).await?,
        DeliveryOutcome::Duplicate(None)
    );
    assert_eq!(s.webhook_count().await?, 2);
    Ok(())
}

async fn concurrent_replays_queue_one_job(db: Db) -> anyhow::Result<()> {
    let other = Store::open(&db.target).await?;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = if i % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            store.webhook_accept(&delivery("same"), Some(&job())).await
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        if matches!(t.await??, DeliveryOutcome::Accepted(_)) {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(db.store.jobs(None, None, 10).await?.len(), 1);
    other.close().await;
    Ok(())
}

async fn a_schedule_firing_queues_once(db: Db) -> anyhow::Result<()> {
    let other = Store::open(&db.target).await?;
    let first = db
        .store
        .schedule_fire("nightly", at(60), &job(), at(61))
        .await?;
    assert!(first.is_some());
    assert_eq!(
        other
            .schedule_fire("nightly", at(60), &job(), at(62))
            .await?,
        None
    );
    assert!(
        other
            .schedule_fire("nightly", at(120), &job(), at(121))
            .await?
            .is_some()
    );
    assert_eq!(
        db.store.jobs(None, None, 10).await?.len(),
        2,
        "the lost firing left no job"
    );
    other.close().await;
    Ok(())
}
