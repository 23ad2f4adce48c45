//! The apply journal: one row per (plan, item), upserted as the item moves, so a crashed apply resumes from it.

use crate::Store;
use crate::error::{Result, plan_ref};
use crate::model::{JournalEntry, JournalState};
use crate::rows::{JournalRow, convert, json_text, ms};

const UPSERT: &str = "INSERT INTO journal \
     (plan_id, item_key, state, attempts, outcome, output, error, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (plan_id, item_key) DO UPDATE SET \
       state = excluded.state, attempts = excluded.attempts, outcome = excluded.outcome, \
       output = excluded.output, error = excluded.error, updated_at = excluded.updated_at";

const COLUMNS: &str = "plan_id, item_key, state, attempts, outcome, output, error, updated_at";

impl Store {
    /// Every journal entry of a plan, by item key.
    pub async fn journal(&self, plan_id: &str) -> Result<Vec<JournalEntry>> {
        let sql = format!("SELECT {COLUMNS} FROM journal WHERE plan_id = $1 ORDER BY item_key");
        let rows: Vec<JournalRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(plan_id)
            .fetch_all(pool)
            .await?);
        convert(rows)
    }

    /// Inserts or replaces the entry for `(plan_id, item_key)`; [`crate::Error::NotFound`] if the plan is not
    /// stored.
    pub async fn journal_put(&self, entry: &JournalEntry) -> Result<()> {
        self.journal_put_many(std::slice::from_ref(entry)).await
    }

    /// Upserts several entries in one transaction: all are written or none.
    pub async fn journal_put_many(&self, entries: &[JournalEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            for e in entries {
                sqlx::query(UPSERT)
                    .bind(&e.plan_id)
                    .bind(&e.item_key)
                    .bind(e.state.as_str())
                    .bind(i64::from(e.attempts))
                    .bind(&e.outcome)
                    .bind(e.output.as_ref().map(json_text))
                    .bind(&e.error)
                    .bind(ms(e.updated_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(plan_ref(&e.plan_id))?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every quarantined entry of every plan (items that need a human), oldest change first.
    pub async fn quarantined(&self) -> Result<Vec<JournalEntry>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM journal WHERE state = $1 ORDER BY updated_at, plan_id, item_key"
        );
        let rows: Vec<JournalRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(JournalState::Quarantined.as_str())
            .fetch_all(pool)
            .await?);
        convert(rows)
    }
}
