//! Incremental runs and the run lock. A run records a watermark per source once its plan is applied; an
//! `--incremental` run reads only what changed since (a file's hash, SCIM `meta.lastModified`, LDAP
//! `modifyTimestamp`/`uSNChanged`), unless the last full read is older than `reconcile.full_every_hours`, so a
//! periodic full run still catches deletions. Two runs for one site never overlap: a lease in the store.

use chrono::{DateTime, Duration, Utc};
use jsm_store::{RunLock, Watermark};

use crate::engine::Engine;
use crate::error::Result;

/// Where an incremental read starts, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// The watermark to read from; none: a full read.
    pub since: Option<String>,
    /// For people: why this read is full or incremental.
    pub why: String,
}

/// Decides where a read starts: `incremental` asked, the stored watermark, the policy's full-read period.
pub fn start(
    incremental: bool,
    stored: Option<&Watermark>,
    full_every_hours: u32,
    now: DateTime<Utc>,
) -> Start {
    if !incremental {
        return Start {
            since: None,
            why: "full read".into(),
        };
    }
    let Some(w) = stored else {
        return Start {
            since: None,
            why: "full read: no earlier run of this source was applied".into(),
        };
    };
    let Some(since) = w.watermark.clone() else {
        return Start {
            since: None,
            why: "full read: the source gave no watermark last time".into(),
        };
    };
    if full_every_hours > 0 {
        let due = w
            .full_at
            .is_none_or(|t| now - t >= Duration::hours(i64::from(full_every_hours)));
        if due {
            return Start {
                since: None,
                why: format!(
                    "full read: the last one is older than reconcile.full_every_hours = {full_every_hours}"
                ),
            };
        }
    }
    Start {
        since: Some(since),
        why: "incremental read since the last applied run".into(),
    }
}

/// A held run lock; give it back with [`Engine::unlock_site`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteLock {
    /// The lock as stored.
    pub lock: RunLock,
}

impl Engine {
    /// Takes the site's run lock for this run (lease: `reconcile.lock_minutes`); fails naming the holder when
    /// another run has it.
    pub async fn lock_site(&self) -> Result<SiteLock> {
        let now = self.client.clock().now();
        let holder = format!(
            "{}@{}:{}",
            self.actor,
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let expires = now + Duration::minutes(i64::from(self.policy.reconcile.lock_minutes.max(1)));
        let lock = self
            .store
            .run_lock_acquire(&self.site, &holder, now, expires)
            .await?;
        Ok(SiteLock { lock })
    }

    /// Gives the run lock back.
    pub async fn unlock_site(&self, lock: SiteLock) -> Result<()> {
        self.store
            .run_lock_release(&lock.lock.site, &lock.lock.holder)
            .await?;
        Ok(())
    }

    /// Records where a source's read ended, once its plan is applied.
    pub async fn save_watermark(&self, watermark: &Watermark) -> Result<()> {
        Ok(self.store.watermark_put(watermark).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(full_hours_ago: Option<i64>, now: DateTime<Utc>) -> Watermark {
        Watermark {
            source: "s".into(),
            watermark: Some("w1".into()),
            full_at: full_hours_ago.map(|h| now - Duration::hours(h)),
            updated_at: now,
        }
    }

    #[test]
    fn incremental_unless_a_full_read_is_due() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(start(false, Some(&w(Some(1), now)), 24, now).since, None);
        assert_eq!(start(true, None, 24, now).since, None);
        assert_eq!(
            start(true, Some(&w(Some(1), now)), 24, now)
                .since
                .as_deref(),
            Some("w1")
        );
        let due = start(true, Some(&w(Some(25), now)), 24, now);
        assert!(due.since.is_none() && due.why.contains("full_every_hours"));
        assert_eq!(
            start(true, Some(&w(Some(1000), now)), 0, now)
                .since
                .as_deref(),
            Some("w1")
        );
    }
}
