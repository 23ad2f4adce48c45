//! Credential metadata (kind, owner, expiry, last use) and kind-specific facts (an OAuth grant's consent and
//! rotation, a matched token id): never the secret, only where it lives.

use chrono::{DateTime, Utc};

use crate::Store;
use crate::error::{Error, Result};
use crate::model::CredentialMeta;
use crate::rows::{CredentialRow, convert, json_text, ms, ms_opt};

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

    /// Forgets a credential's metadata and facts; `true` if it was known.
    pub async fn credential_remove(&self, name: &str) -> Result<bool> {
        on_pool!(self, pool => sqlx::query("DELETE FROM credential_facts WHERE name = $1")
            .bind(name)
            .execute(pool)
            .await?
            .rows_affected());
        let n = on_pool!(self, pool => sqlx::query("DELETE FROM credentials WHERE name = $1")
            .bind(name)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n > 0)
    }

    /// Replaces the kind-specific facts of a credential (a JSON object the caller builds from a type with no
    /// secret in it). The credential's metadata must exist.
    pub async fn credential_facts_put(
        &self,
        name: &str,
        facts: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<()> {
        if self.credential(name).await?.is_none() {
            return Err(Error::NotFound {
                what: format!("credential {name}"),
            });
        }
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO credential_facts (name, facts, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET facts = excluded.facts, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(json_text(facts))
        .bind(ms(at))
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// The facts of a credential, if any were recorded.
    pub async fn credential_facts(&self, name: &str) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT facts FROM credential_facts WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(pool)
        .await?);
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| Error::Corrupt {
                what: format!("credential {name} facts: not JSON ({e})"),
            })
        })
        .transpose()
    }
}
