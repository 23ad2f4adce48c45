//! Schedule firings: each (schedule, due minute) queues its job once, however many workers run the scheduler.

use chrono::{DateTime, Utc};

use crate::Store;
use crate::error::Result;
use crate::jobs::NewJob;
use crate::rows::{json_text, ms};

impl Store {
    /// Queues `job` for the firing of schedule `name` due at `due_at`, unless a worker already did; the id of
    /// the job queued now, `None` when the firing was already taken.
    pub async fn schedule_fire(
        &self,
        name: &str,
        due_at: DateTime<Utc>,
        job: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO jobs (kind, spec, lock_key, state, attempts, max_attempts, run_at, created_at, created_by) \
                 VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7) RETURNING id",
            )
            .bind(&job.kind)
            .bind(json_text(&job.spec))
            .bind(&job.lock_key)
            .bind(i64::from(job.max_attempts.max(1)))
            .bind(ms(job.run_at))
            .bind(ms(now))
            .bind(&job.created_by)
            .fetch_one(&mut *tx)
            .await?;
            let fired = sqlx::query(
                "INSERT INTO schedule_fires (name, due_at, job_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (name, due_at) DO NOTHING",
            )
            .bind(name)
            .bind(ms(due_at))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if fired == 0 {
                tx.rollback().await?;
                Ok(None)
            } else {
                tx.commit().await?;
                Ok(Some(id))
            }
        })
    }
}
