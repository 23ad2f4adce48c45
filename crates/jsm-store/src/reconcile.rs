//! What the reconcile engine keeps between runs: each source's watermark (where its last read ended, and when
//! its last full read was), a lease-style lock so two runs for one site never overlap, and facts learned about a
//! site that no API shows (a desk open to every customer refuses removals).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::{Error, Result};
use crate::rows::{ms, ms_opt};

/// Where a source's last applied read ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// The source, as the engine names it (its spec without secrets).
    pub source: String,
    /// The source's own watermark (file hash, max `meta.lastModified`, max `modifyTimestamp`/`uSNChanged`).
    pub watermark: Option<String>,
    /// When the last full (complete) read was applied.
    pub full_at: Option<DateTime<Utc>>,
    /// When this row last changed.
    pub updated_at: DateTime<Utc>,
}

/// Who holds a site's run lock, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLock {
    /// The site.
    pub site: String,
    /// Who holds it (actor and process).
    pub holder: String,
    /// Since when.
    pub acquired_at: DateTime<Utc>,
    /// When the lease runs out and another run may take it.
    pub expires_at: DateTime<Utc>,
}

/// Something learned about a site that its APIs do not show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteFact {
    /// The site.
    pub site: String,
    /// What kind of fact (e.g. `open_desk`).
    pub kind: String,
    /// What it is about (e.g. a desk id).
    pub key: String,
    /// How it was learned, for people.
    pub detail: String,
    /// When.
    pub learned_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct WatermarkRow {
    source: String,
    watermark: Option<String>,
    full_at: Option<i64>,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct LockRow {
    site: String,
    holder: String,
    acquired_at: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct FactRow {
    site: String,
    kind: String,
    fact_key: String,
    detail: String,
    learned_at: i64,
}

fn time(ms: i64, what: &str) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| Error::Corrupt {
        what: format!("{what}: {ms} is not a representable unix-millisecond time"),
    })
}

impl TryFrom<WatermarkRow> for Watermark {
    type Error = Error;
    fn try_from(r: WatermarkRow) -> Result<Self> {
        let what = format!("watermark {}", r.source);
        Ok(Watermark {
            full_at: r.full_at.map(|t| time(t, &what)).transpose()?,
            updated_at: time(r.updated_at, &what)?,
            watermark: r.watermark,
            source: r.source,
        })
    }
}

impl TryFrom<LockRow> for RunLock {
    type Error = Error;
    fn try_from(r: LockRow) -> Result<Self> {
        let what = format!("run lock {}", r.site);
        Ok(RunLock {
            acquired_at: time(r.acquired_at, &what)?,
            expires_at: time(r.expires_at, &what)?,
            holder: r.holder,
            site: r.site,
        })
    }
}

impl TryFrom<FactRow> for SiteFact {
    type Error = Error;
    fn try_from(r: FactRow) -> Result<Self> {
        let what = format!("site fact {}/{}/{}", r.site, r.kind, r.fact_key);
        Ok(SiteFact {
            learned_at: time(r.learned_at, &what)?,
            site: r.site,
            kind: r.kind,
            key: r.fact_key,
            detail: r.detail,
        })
    }
}

impl Store {
    /// The watermark of a source, if a read of it was ever applied.
    pub async fn watermark(&self, source: &str) -> Result<Option<Watermark>> {
        let row: Option<WatermarkRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT source, watermark, full_at, updated_at FROM watermarks WHERE source = $1",
        )
        .bind(source)
        .fetch_optional(pool)
        .await?);
        row.map(Watermark::try_from).transpose()
    }

    /// Sets a source's watermark; a `full_at` of `None` keeps the one stored (an incremental read does not
    /// move the time of the last full read).
    pub async fn watermark_put(&self, w: &Watermark) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO watermarks (source, watermark, full_at, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (source) DO UPDATE SET watermark = excluded.watermark, \
               full_at = COALESCE(excluded.full_at, watermarks.full_at), updated_at = excluded.updated_at",
        )
        .bind(&w.source)
        .bind(&w.watermark)
        .bind(ms_opt(w.full_at))
        .bind(ms(w.updated_at))
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Forgets a source's watermark (the next incremental run reads everything); `true` if there was one.
    pub async fn watermark_remove(&self, source: &str) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query("DELETE FROM watermarks WHERE source = $1")
            .bind(source)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n > 0)
    }

    /// Takes the run lock of `site` for `holder` until `expires_at`, unless another holder has it and its lease
    /// has not run out: then `Err(Conflict)` naming the holder and until when. Taking a lock one already holds
    /// renews it. One statement, so two runs racing for it cannot both win.
    pub async fn run_lock_acquire(
        &self,
        site: &str,
        holder: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<RunLock> {
        let row: Option<LockRow> = on_pool!(self, pool => sqlx::query_as(
            "INSERT INTO run_locks (site, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (site) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, \
               expires_at = excluded.expires_at \
             WHERE run_locks.holder = excluded.holder OR run_locks.expires_at <= excluded.acquired_at \
             RETURNING site, holder, acquired_at, expires_at",
        )
        .bind(site)
        .bind(holder)
        .bind(ms(now))
        .bind(ms(expires_at))
        .fetch_optional(pool)
        .await?);
        if let Some(row) = row {
            return RunLock::try_from(row);
        }
        let held = self.run_lock(site).await?;
        Err(Error::Conflict {
            what: match held {
                Some(l) => format!(
                    "a reconcile of {site} is already running (held by {} since {}, lease until {})",
                    l.holder,
                    l.acquired_at.to_rfc3339(),
                    l.expires_at.to_rfc3339()
                ),
                None => {
                    format!("the run lock of {site} changed hands while it was taken: try again")
                }
            },
        })
    }

    /// Who holds the run lock of `site`, if anyone (a lease that ran out is still shown until taken over).
    pub async fn run_lock(&self, site: &str) -> Result<Option<RunLock>> {
        let row: Option<LockRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT site, holder, acquired_at, expires_at FROM run_locks WHERE site = $1",
        )
        .bind(site)
        .fetch_optional(pool)
        .await?);
        row.map(RunLock::try_from).transpose()
    }

    /// Releases the run lock of `site` if `holder` holds it; `true` if it did.
    pub async fn run_lock_release(&self, site: &str, holder: &str) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query("DELETE FROM run_locks WHERE site = $1 AND holder = $2")
            .bind(site)
            .bind(holder)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n > 0)
    }

    /// Records a fact about a site (a later one with the same site, kind and key replaces it).
    pub async fn site_fact_put(&self, fact: &SiteFact) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO site_facts (site, kind, fact_key, detail, learned_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (site, kind, fact_key) DO UPDATE SET detail = excluded.detail, \
               learned_at = excluded.learned_at",
        )
        .bind(&fact.site)
        .bind(&fact.kind)
        .bind(&fact.key)
        .bind(&fact.detail)
        .bind(ms(fact.learned_at))
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// The facts of one kind about a site, by key.
    pub async fn site_facts(&self, site: &str, kind: &str) -> Result<Vec<SiteFact>> {
        let rows: Vec<FactRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT site, kind, fact_key, detail, learned_at FROM site_facts \
             WHERE site = $1 AND kind = $2 ORDER BY fact_key",
        )
        .bind(site)
        .bind(kind)
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(SiteFact::try_from).collect()
    }
}
