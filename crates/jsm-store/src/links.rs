//! Links from identities in a source (an IdP, a CSV) to Atlassian accounts, the anchor of matching.

use crate::Store;
use crate::error::Result;
use crate::model::Link;
use crate::rows::{LinkRow, convert, ms};

const COLUMNS: &str = "source, source_id, account_id, scim_id, created_at, updated_at";

impl Store {
    /// Inserts or updates the link of `(source, source_id)`; an update keeps the first `created_at`.
    pub async fn link_put(&self, link: &Link) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO links (source, source_id, account_id, scim_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (source, source_id) DO UPDATE SET \
               account_id = excluded.account_id, scim_id = excluded.scim_id, updated_at = excluded.updated_at",
        )
        .bind(&link.source)
        .bind(&link.source_id)
        .bind(&link.account_id)
        .bind(&link.scim_id)
        .bind(ms(link.created_at))
        .bind(ms(link.updated_at))
        .execute(pool)
        .await?.rows_affected());
        Ok(())
    }

    /// The link of one source identity.
    pub async fn link_by_source(&self, source: &str, source_id: &str) -> Result<Option<Link>> {
        let sql = format!("SELECT {COLUMNS} FROM links WHERE source = $1 AND source_id = $2");
        let row: Option<LinkRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(source)
            .bind(source_id)
            .fetch_optional(pool)
            .await?);
        row.map(Link::try_from).transpose()
    }

    /// Every link to one Atlassian account (several sources may point at it).
    pub async fn link_by_account(&self, account_id: &str) -> Result<Vec<Link>> {
        let sql =
            format!("SELECT {COLUMNS} FROM links WHERE account_id = $1 ORDER BY source, source_id");
        let rows: Vec<LinkRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .fetch_all(pool)
            .await?);
        convert(rows)
    }

    /// Every link, or those of one source, by source and source id.
    pub async fn links(&self, source: Option<&str>) -> Result<Vec<Link>> {
        let rows: Vec<LinkRow> = match source {
            Some(source) => {
                let sql =
                    format!("SELECT {COLUMNS} FROM links WHERE source = $1 ORDER BY source_id");
                on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(source)
                    .fetch_all(pool)
                    .await?)
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM links ORDER BY source, source_id");
                on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await?)
            }
        };
        convert(rows)
    }

    /// Removes the link of one source identity; `true` if there was one.
    pub async fn link_remove(&self, source: &str, source_id: &str) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query("DELETE FROM links WHERE source = $1 AND source_id = $2")
            .bind(source)
            .bind(source_id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n > 0)
    }
}
