//! Webhook deliveries already accepted, by `X-Atlassian-Webhook-Identifier`: Atlassian resends a delivery with
//! the same identifier, so the identifier and the job it queued are written in one transaction, and a replay
//! queues nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::Result;
use crate::jobs::NewJob;
use crate::rows::{json_text, ms};

/// One accepted delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// `X-Atlassian-Webhook-Identifier`.
    pub identifier: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// `webhookEvent` (`user_created`, …).
    pub event: String,
    /// The account it is about, when the body names one.
    pub account_id: Option<String>,
}

/// What accepting a delivery did.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// First time seen; the id of the job it queued, if it queued one.
    Accepted(Option<i64>),
    /// Seen before; the job the first delivery queued, if any. Nothing was written.
    Duplicate(Option<i64>),
}

const JOB_INSERT: &str = "INSERT INTO jobs \
     (kind, spec, lock_key, state, attempts, max_attempts, run_at, created_at, created_by) \
     VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7) RETURNING id";

impl Store {
    /// Records a delivery and queues `job` for it, atomically; a delivery whose identifier is already recorded
    /// changes nothing and says which job the first one queued.
    pub async fn webhook_accept(
        &self,
        delivery: &WebhookDelivery,
        job: Option<&NewJob>,
    ) -> Result<DeliveryOutcome> {
        let now = delivery.received_at;
        let job_id: Option<Option<i64>> = on_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let inserted = sqlx::query(
                "INSERT INTO webhook_deliveries (identifier, received_at, event, account_id) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (identifier) DO NOTHING",
            )
            .bind(&delivery.identifier)
            .bind(ms(now))
            .bind(&delivery.event)
            .bind(&delivery.account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                tx.rollback().await?;
                None
            } else {
                let id = match job {
                    Some(job) => {
                        let id: i64 = sqlx::query_scalar(JOB_INSERT)
                            .bind(&job.kind)
                            .bind(json_text(&job.spec))
                            .bind(&job.lock_key)
                            .bind(i64::from(job.max_attempts.max(1)))
                            .bind(ms(job.run_at))
                            .bind(ms(now))
                            .bind(&job.created_by)
                            .fetch_one(&mut *tx)
                            .await?;
                        sqlx::query("UPDATE webhook_deliveries SET job_id = $2 WHERE identifier = $1")
                            .bind(&delivery.identifier)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        Some(id)
                    }
                    None => None,
                };
                tx.commit().await?;
                Some(id)
            }
        });
        match job_id {
            Some(id) => Ok(DeliveryOutcome::Accepted(id)),
            None => {
                let first: Option<Option<i64>> = on_pool!(self, pool => sqlx::query_scalar(
                    "SELECT job_id FROM webhook_deliveries WHERE identifier = $1",
                )
                .bind(&delivery.identifier)
                .fetch_optional(pool)
                .await?);
                Ok(DeliveryOutcome::Duplicate(first.flatten()))
            }
        }
    }

    /// How many deliveries were accepted.
    pub async fn webhook_count(&self) -> Result<u64> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries")
            .fetch_one(pool)
            .await?);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
