//! Credential metadata (kind, owner, expiry, last use): never the secret, only where it lives.

use crate::Store;
use crate::error::Result;
use crate::model::CredentialMeta;
use crate::rows::{CredentialRow, convert, ms, ms_opt};

const COLUMNS: &str =
    "name, kind, owner, created_at, expires_at, last_used_at, last_verified_at, secret_ref";

impl Store {
    /// Inserts or replaces the metadata of the credential `meta.name` (every field, so a rotated credential's
    /// new `created_at` and `expires_at` take effect).
    pub async fn credential_put(&self, meta: &CredentialMeta) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO credentials \
             (name, kind, owner, created_at, expires_at, last_used_at, last_verified_at, secret_ref) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (name) DO UPDATE SET \
               kind = excluded.kind, owner = excluded.owner, created_at = excluded.created_at, \
               expires_at = excluded.expires_at, last_used_at = excluded.last_used_at, \
               last_verified_at = excluded.last_verified_at, secret_ref = excluded.secret_ref",
        )
        .bind(&meta.name)
        .bind(&meta.kind)
        .bind(&meta.owner)
        .bind(ms(meta.created_at))
        .bind(ms_opt(meta.expires_at))
        .bind(ms_opt(meta.last_used_at))
        .bind(ms_opt(meta.last_verified_at))
        .bind(&meta.secret_ref)
        .execute(pool)
        .await?.rows_affected());
        Ok(())
    }

    /// The metadata of one credential.
    pub async fn credential(&self, name: &str) -> Result<Option<CredentialMeta>> {
        let sql = format!("SELECT {COLUMNS} FROM credentials WHERE name = $1");
        let row: Option<CredentialRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(pool)
            .await?);
        row.map(CredentialMeta::try_from).transpose()
    }

    /// Every credential's metadata, by name.
    pub async fn credentials(&self) -> Result<Vec<CredentialMeta>> {
        let sql = format!("SELECT {COLUMNS} FROM credentials ORDER BY name");
        let rows: Vec<CredentialRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await?);
        convert(rows)
    }

    /// Forgets a credential's metadata; `true` if it was known.
    pub async fn credential_remove(&self, name: &str) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query("DELETE FROM credentials WHERE name = $1")
            .bind(name)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n > 0)
    }
}
