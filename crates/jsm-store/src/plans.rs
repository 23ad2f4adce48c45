//! Plans: stored once per id and hash, looked up by id, status or unique id prefix.

use crate::Store;
use crate::error::{Error, Result};
use crate::model::{PlanRecord, PlanStatus};
use crate::rows::{PlanRow, convert, json_text, ms};

/// The shortest id prefix [`Store::plan_by_prefix`] accepts, so a prefix stays unique as plans accumulate.
pub const MIN_PLAN_PREFIX: usize = 6;

const COLUMNS: &str = "id, hash, kind, requester, created_at, status, body";

impl Store {
    /// Stores a new plan; storing the same id with the same hash again is a no-op, with another hash a
    /// [`Error::Conflict`] (a plan never changes once stored: a changed plan is a new plan).
    pub async fn put_plan(&self, plan: &PlanRecord) -> Result<()> {
        let body = json_text(&plan.body);
        let inserted = on_pool!(self, pool => sqlx::query(
            "INSERT INTO plans (id, hash, kind, requester, created_at, status, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&plan.id)
        .bind(&plan.hash)
        .bind(&plan.kind)
        .bind(&plan.requester)
        .bind(ms(plan.created_at))
        .bind(plan.status.as_str())
        .bind(&body)
        .execute(pool)
        .await?
        .rows_affected());
        if inserted > 0 {
            return Ok(());
        }
        let stored: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT hash FROM plans WHERE id = $1",
        )
        .bind(&plan.id)
        .fetch_optional(pool)
        .await?);
        match stored {
            Some(hash) if hash == plan.hash => Ok(()),
            Some(hash) => Err(Error::Conflict {
                what: format!(
                    "plan {} is already stored with hash {hash}, not {}",
                    plan.id, plan.hash
                ),
            }),
            None => Err(Error::Conflict {
                what: format!("plan {} could not be inserted and is not stored", plan.id),
            }),
        }
    }

    /// The plan with this exact id.
    pub async fn plan(&self, id: &str) -> Result<Option<PlanRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM plans WHERE id = $1");
        let row: Option<PlanRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?);
        row.map(PlanRecord::try_from).transpose()
    }

    /// Every plan, or those with `status`, newest first.
    pub async fn plans(&self, status: Option<PlanStatus>) -> Result<Vec<PlanRecord>> {
        let rows: Vec<PlanRow> = match status {
            Some(status) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM plans WHERE status = $1 ORDER BY created_at DESC, id DESC"
                );
                on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(status.as_str())
                    .fetch_all(pool)
                    .await?)
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM plans ORDER BY created_at DESC, id DESC");
                on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await?)
            }
        };
        convert(rows)
    }

    /// Moves a plan to `status`; [`Error::NotFound`] if there is no such plan.
    pub async fn set_plan_status(&self, id: &str, status: PlanStatus) -> Result<()> {
        let changed = on_pool!(self, pool => sqlx::query("UPDATE plans SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        if changed == 0 {
            return Err(Error::NotFound {
                what: format!("plan {id}"),
            });
        }
        Ok(())
    }

    /// The one plan whose id starts with `prefix` (at least [`MIN_PLAN_PREFIX`] characters); an exact id wins.
    ///
    /// `None` if no id matches, [`Error::Conflict`] if several do, [`Error::Invalid`] if the prefix is too short.
    pub async fn plan_by_prefix(&self, prefix: &str) -> Result<Option<PlanRecord>> {
        let len = prefix.chars().count();
        if len < MIN_PLAN_PREFIX {
            return Err(Error::Invalid {
                what: format!(
                    "plan id prefix {prefix:?} has {len} characters; at least {MIN_PLAN_PREFIX} are needed"
                ),
            });
        }
        if let Some(exact) = self.plan(prefix).await? {
            return Ok(Some(exact));
        }
        // substr rather than LIKE: no wildcard escaping, and case-sensitive on both backends.
        let sql =
            format!("SELECT {COLUMNS} FROM plans WHERE substr(id, 1, $2) = $1 ORDER BY id LIMIT 2");
        // INTEGER on both backends: PostgreSQL has no substr(text, int, bigint).
        let len = i32::try_from(len).unwrap_or(i32::MAX);
        let mut rows: Vec<PlanRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(prefix)
            .bind(len)
            .fetch_all(pool)
            .await?);
        match rows.len() {
            0 => Ok(None),
            1 => rows.pop().map(PlanRecord::try_from).transpose(),
            _ => Err(Error::Conflict {
                what: format!("plan id prefix {prefix:?} matches more than one plan"),
            }),
        }
    }
}
