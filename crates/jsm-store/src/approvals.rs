//! Approvals and rejections of plans; an approval is bound to one plan hash and used at most once.

use chrono::{DateTime, Utc};

use crate::Store;
use crate::error::{Error, Result, plan_ref};
use crate::model::{Approval, Rejection};
use crate::rows::{ApprovalRow, RejectionRow, convert, ms, ms_opt};
use crate::{postgres, sqlite};

impl Store {
    /// Records an approval; [`Error::NotFound`] if the plan is not stored.
    pub async fn add_approval(&self, approval: &Approval) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO approvals (plan_id, plan_hash, approver, approved_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&approval.plan_id)
        .bind(&approval.plan_hash)
        .bind(&approval.approver)
        .bind(ms(approval.approved_at))
        .bind(ms(approval.expires_at))
        .bind(ms_opt(approval.used_at))
        .execute(pool)
        .await
        .map_err(plan_ref(&approval.plan_id))?.rows_affected());
        Ok(())
    }

    /// Every approval of a plan (used or not, for any hash), oldest first.
    pub async fn approvals(&self, plan_id: &str) -> Result<Vec<Approval>> {
        let rows: Vec<ApprovalRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT plan_id, plan_hash, approver, approved_at, expires_at, used_at FROM approvals \
             WHERE plan_id = $1 ORDER BY approved_at, id",
        )
        .bind(plan_id)
        .fetch_all(pool)
        .await?);
        convert(rows)
    }

    /// Atomically marks the oldest unused approval of exactly `plan_hash` that is still valid at `now`
    /// (`now < expires_at`) as used at `now`, and returns it; `None` if there is none.
    ///
    /// Safe against concurrent consumers, in one process or many: each approval is handed out once.
    pub async fn consume_approval(
        &self,
        plan_id: &str,
        plan_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Approval>> {
        let sql = match self {
            Store::Sqlite(_) => sqlite::CONSUME_APPROVAL,
            Store::Postgres(_) => postgres::CONSUME_APPROVAL,
        };
        let row: Option<ApprovalRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(plan_id)
            .bind(plan_hash)
            .bind(ms(now))
            .fetch_optional(pool)
            .await?);
        row.map(Approval::try_from).transpose()
    }

    /// Records that a plan was rejected; a plan is rejected once ([`Error::Conflict`] on a second rejection,
    /// [`Error::NotFound`] if the plan is not stored). The plan's status is the caller's to set.
    pub async fn add_rejection(&self, rejection: &Rejection) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO rejections (plan_id, rejected_by, rejected_at, reason) VALUES ($1, $2, $3, $4)",
        )
        .bind(&rejection.plan_id)
        .bind(&rejection.by)
        .bind(ms(rejection.at))
        .bind(&rejection.reason)
        .execute(pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Error::Conflict {
                what: format!("plan {} is already rejected", rejection.plan_id),
            },
            _ => plan_ref(&rejection.plan_id)(e),
        })?.rows_affected());
        Ok(())
    }

    /// The rejection of a plan, if it was rejected.
    pub async fn rejection(&self, plan_id: &str) -> Result<Option<Rejection>> {
        let row: Option<RejectionRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT plan_id, rejected_by, rejected_at, reason FROM rejections WHERE plan_id = $1",
        )
        .bind(plan_id)
        .fetch_optional(pool)
        .await?);
        row.map(Rejection::try_from).transpose()
    }
}
