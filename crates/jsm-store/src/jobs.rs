//! The job queue of `jsmctl serve`: jobs leased by one worker at a time with an expiring lease renewed by a
//! heartbeat, taken over by another worker when the lease runs out, and never two at once for one lock key (a
//! site). Workers record heartbeats so the live ones can be counted.
//!
//! On PostgreSQL a claim is an `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)` (first for a job whose
//! lease ran out, then for a queued one), so workers never wait on each other's candidates; the unique partial index on running lock keys turns the one race the subquery
//! cannot see (two workers claiming two queued jobs of one key at once) into a failed claim, which is reported as
//! "nothing to claim now". On SQLite the same statement runs under the single writer lock.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::{Error, Result};
use crate::rows::{json_text, ms};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker (from `run_at` on).
    Queued,
    /// Leased by a worker.
    Running,
    /// Finished.
    Done,
    /// Gave up (an error that retrying will not fix, or out of attempts).
    Failed,
    /// Withdrawn before it ran.
    Cancelled,
}

impl JobState {
    /// Every state.
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// The snake_case text stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Error::Invalid {
                what: format!("unknown job state {s:?}"),
            })
    }
}

/// A job to queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// What kind of work (`apply_plan`, `reconcile`, …); the worker dispatches on it.
    pub kind: String,
    /// Its parameters, as the worker reads them.
    pub spec: serde_json::Value,
    /// Jobs with the same key never run at once (e.g. `site:https://acme.atlassian.net`); `None` for none.
    pub lock_key: Option<String>,
    /// Claims allowed, takeovers after a dead worker included, before the job fails.
    pub max_attempts: u32,
    /// Not before this instant.
    pub run_at: DateTime<Utc>,
    /// Who queued it (an operator, `webhook`, `scheduler`).
    pub created_by: String,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Queue-wide id, increasing.
    pub id: i64,
    /// What kind of work.
    pub kind: String,
    /// Its parameters.
    pub spec: serde_json::Value,
    /// The mutual-exclusion key, if any.
    pub lock_key: Option<String>,
    /// Where it is.
    pub state: JobState,
    /// Claims so far.
    pub attempts: u32,
    /// Claims allowed.
    pub max_attempts: u32,
    /// Not before this instant.
    pub run_at: DateTime<Utc>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Who queued it.
    pub created_by: String,
    /// First claim.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The worker holding (or last holding) it.
    pub worker: Option<String>,
    /// The current claim's fencing token; every change by a worker names it.
    pub lease: Option<String>,
    /// When the lease runs out unless renewed.
    pub lease_until: Option<DateTime<Utc>>,
    /// What it produced.
    pub result: Option<serde_json::Value>,
    /// The last error.
    pub error: Option<String>,
}

/// A worker's last heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerBeat {
    /// The worker's id (host, pid and a random part).
    pub id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub last_seen: DateTime<Utc>,
    /// What it reports about itself (listen address, backend, job in hand).
    pub info: serde_json::Value,
}

const COLUMNS: &str = "id, kind, spec, lock_key, state, attempts, max_attempts, run_at, created_at, created_by, \
     started_at, finished_at, worker, lease, lease_until, result, error";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    spec: String,
    lock_key: Option<String>,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_at: i64,
    created_at: i64,
    created_by: String,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    worker: Option<String>,
    lease: Option<String>,
    lease_until: Option<i64>,
    result: Option<String>,
    error: Option<String>,
}

fn corrupt(id: i64, what: impl fmt::Display) -> Error {
    Error::Corrupt {
        what: format!("job {id}: {what}"),
    }
}

fn time(id: i64, column: &str, v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| corrupt(id, format!("{column} {v}")))
}

fn time_opt(id: i64, column: &str, v: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    v.map(|v| time(id, column, v)).transpose()
}

fn count(id: i64, column: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt(id, format!("{column} {v}")))
}

impl TryFrom<JobRow> for Job {
    type Error = Error;

    fn try_from(r: JobRow) -> Result<Self> {
        let id = r.id;
        let json = |column: &str, text: &str| {
            serde_json::from_str(text)
                .map_err(|e| corrupt(id, format!("{column} is not JSON ({e})")))
        };
        Ok(Job {
            spec: json("spec", &r.spec)?,
            result: r.result.as_deref().map(|t| json("result", t)).transpose()?,
            state: r
                .state
                .parse()
                .map_err(|_| corrupt(id, format!("state {:?}", r.state)))?,
            attempts: count(id, "attempts", r.attempts)?,
            max_attempts: count(id, "max_attempts", r.max_attempts)?,
            run_at: time(id, "run_at", r.run_at)?,
            created_at: time(id, "created_at", r.created_at)?,
            started_at: time_opt(id, "started_at", r.started_at)?,
            finished_at: time_opt(id, "finished_at", r.finished_at)?,
            lease_until: time_opt(id, "lease_until", r.lease_until)?,
            id,
            kind: r.kind,
            lock_key: r.lock_key,
            created_by: r.created_by,
            worker: r.worker,
            lease: r.lease,
            error: r.error,
        })
    }
}

#[derive(sqlx::FromRow)]
struct WorkerRow {
    id: String,
    started_at: i64,
    last_seen: i64,
    info: String,
}

impl TryFrom<WorkerRow> for WorkerBeat {
    type Error = Error;

    fn try_from(r: WorkerRow) -> Result<Self> {
        let bad = |what: String| Error::Corrupt {
            what: format!("worker {}: {what}", r.id),
        };
        Ok(WorkerBeat {
            started_at: DateTime::from_timestamp_millis(r.started_at)
                .ok_or_else(|| bad(format!("started_at {}", r.started_at)))?,
            last_seen: DateTime::from_timestamp_millis(r.last_seen)
                .ok_or_else(|| bad(format!("last_seen {}", r.last_seen)))?,
            info: serde_json::from_str(&r.info).map_err(|e| bad(format!("info ({e})")))?,
            id: r.id,
        })
    }
}

/// A claim of the oldest running job whose lease ran out (a dead worker's), taken over.
fn takeover_sql(skip_locked: bool) -> String {
    claim_sql(
        "j.state = 'running' AND j.lease_until < $4 ORDER BY j.lease_until, j.id",
        skip_locked,
    )
}

/// A claim of the oldest due queued job whose lock key no running job holds. The order matches the index on
/// `(state, run_at, id)`, and the lock test is a probe of the unique index on running lock keys.
fn queued_sql(skip_locked: bool) -> String {
    claim_sql(
        "j.state = 'queued' AND j.run_at <= $4 AND (j.lock_key IS NULL OR NOT EXISTS \
           (SELECT 1 FROM jobs r WHERE r.state = 'running' AND r.lock_key = j.lock_key)) \
         ORDER BY j.state, j.run_at, j.id",
        skip_locked,
    )
}

fn claim_sql(candidates: &str, skip_locked: bool) -> String {
    format!(
        "UPDATE jobs SET state = 'running', worker = $1, lease = $2, lease_until = $3, \
           attempts = attempts + 1, started_at = COALESCE(started_at, $4) \
         WHERE id = (SELECT j.id FROM jobs j WHERE {candidates} LIMIT 1{}) \
         RETURNING {COLUMNS}",
        if skip_locked {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        }
    )
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Queues a job and returns it.
    pub async fn job_enqueue(&self, job: &NewJob, now: DateTime<Utc>) -> Result<Job> {
        let sql = format!(
            "INSERT INTO jobs (kind, spec, lock_key, state, attempts, max_attempts, run_at, created_at, created_by) \
             VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7) RETURNING {COLUMNS}"
        );
        let row: JobRow = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&job.kind)
            .bind(json_text(&job.spec))
            .bind(&job.lock_key)
            .bind(i64::from(job.max_attempts.max(1)))
            .bind(ms(job.run_at))
            .bind(ms(now))
            .bind(&job.created_by)
            .fetch_one(pool)
            .await?);
        Job::try_from(row)
    }

    /// Leases the next job to `worker` until `lease_until`, under the fencing token `lease`; `None` when nothing
    /// is due (or another worker won the race for the only candidate).
    ///
    /// A running job whose lease ran out is taken over (its attempts go up); the caller decides whether an
    /// attempt count past `max_attempts` means giving up.
    pub async fn job_claim(
        &self,
        worker: &str,
        lease: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<Job>> {
        let skip_locked = matches!(self, Store::Postgres(_));
        // Dead workers' jobs first: they hold their site's lock until someone finishes them.
        for sql in [takeover_sql(skip_locked), queued_sql(skip_locked)] {
            let claimed: std::result::Result<Option<JobRow>, sqlx::Error> = on_pool!(self, pool => {
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(worker)
                    .bind(lease)
                    .bind(ms(lease_until))
                    .bind(ms(now))
                    .fetch_optional(pool)
                    .await
            });
            match claimed {
                Ok(Some(row)) => return Job::try_from(row).map(Some),
                Ok(None) => {}
                Err(e) if is_unique_violation(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// Renews a lease; `false` when the claim is no longer this one's (taken over, finished, released).
    pub async fn job_heartbeat(
        &self,
        id: i64,
        lease: &str,
        lease_until: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND lease = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(lease)
        .bind(ms(lease_until))
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    /// Ends a claimed job as `done` or `failed` with its result or error; `false` when the claim was lost, in
    /// which case nothing is written.
    pub async fn job_finish(
        &self,
        id: i64,
        lease: &str,
        state: JobState,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if !matches!(state, JobState::Done | JobState::Failed) {
            return Err(Error::Invalid {
                what: format!("a job is finished as done or failed, not {state}"),
            });
        }
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE jobs SET state = $3, result = $4, error = $5, finished_at = $6, lease_until = NULL \
             WHERE id = $1 AND lease = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(lease)
        .bind(state.as_str())
        .bind(result.map(json_text))
        .bind(error)
        .bind(ms(now))
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    /// Puts a claimed job back in the queue, due at `run_at` (a retry after a transient error, or a graceful
    /// shutdown handing it to another worker); `false` when the claim was lost.
    pub async fn job_release(
        &self,
        id: i64,
        lease: &str,
        run_at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $3, error = COALESCE($4, error), lease = NULL, \
               lease_until = NULL \
             WHERE id = $1 AND lease = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(lease)
        .bind(ms(run_at))
        .bind(error)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    /// Cancels a queued job; `false` when it is not queued (running, ended or unknown).
    pub async fn job_cancel(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $2 WHERE id = $1 AND state = 'queued'",
        )
        .bind(id)
        .bind(ms(now))
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    /// One job.
    pub async fn job(&self, id: i64) -> Result<Option<Job>> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
        let row: Option<JobRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?);
        row.map(Job::try_from).transpose()
    }

    /// Jobs with `id < before` (all when `None`), in `state` when given, newest first, at most `limit`.
    pub async fn jobs(
        &self,
        state: Option<JobState>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE ($1 IS NULL OR state = $1) AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<JobRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(state.map(JobState::as_str))
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(Job::try_from).collect()
    }

    /// How many jobs are in each state (states with none are left out).
    pub async fn job_counts(&self) -> Result<Vec<(JobState, u64)>> {
        let rows: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state",
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(s, n)| {
                let state = s.parse().map_err(|_| Error::Corrupt {
                    what: format!("job state {s:?}"),
                })?;
                Ok((state, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    /// Records a worker's heartbeat (first beat: its start).
    pub async fn worker_beat(
        &self,
        id: &str,
        info: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO workers (id, started_at, last_seen, info) VALUES ($1, $2, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen, info = excluded.info",
        )
        .bind(id)
        .bind(ms(now))
        .bind(json_text(info))
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Workers whose last heartbeat is at or after `since`, by id.
    pub async fn workers_live(&self, since: DateTime<Utc>) -> Result<Vec<WorkerBeat>> {
        let rows: Vec<WorkerRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, started_at, last_seen, info FROM workers WHERE last_seen >= $1 ORDER BY id",
        )
        .bind(ms(since))
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(WorkerBeat::try_from).collect()
    }

    /// Forgets a worker (it stopped cleanly) and any worker silent since before `stale_before`.
    pub async fn worker_remove(&self, id: &str, stale_before: DateTime<Utc>) -> Result<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM workers WHERE id = $1 OR last_seen < $2")
            .bind(id)
            .bind(ms(stale_before))
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }
}
