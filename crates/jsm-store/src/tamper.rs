//! Deliberate damage to the audit log, for tests that prove [`Store::audit_verify`] catches it.

use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::{Error, Result};

/// A change to the audit log that bypasses the chain, as anyone with write access to the database could make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tamper {
    /// Rewrites one record's `outcome` without fixing its hash.
    ChangeOutcome {
        /// The record changed.
        seq: i64,
        /// Its new outcome.
        outcome: String,
    },
    /// Deletes one record.
    Delete {
        /// The record deleted.
        seq: i64,
    },
    /// Swaps the positions of two records (each keeps its content and hash, under the other's seq).
    Swap {
        /// One record.
        a: i64,
        /// The other.
        b: i64,
    },
}

impl Store {
    /// Applies `t` directly with SQL, bypassing every rule of the log.
    ///
    /// This exists only so tests can prove that [`Store::audit_verify`] detects tampering; it grants nothing an
    /// attacker with database access lacks. Never call it outside tests. [`Error::NotFound`] if a named record
    /// does not exist.
    pub async fn tamper_audit_for_test(&self, t: Tamper) -> Result<()> {
        let missing = |seq: i64| Error::NotFound {
            what: format!("audit record {seq}"),
        };
        match t {
            Tamper::ChangeOutcome { seq, outcome } => {
                let n = on_pool!(self, pool => sqlx::query("UPDATE audit_log SET outcome = $1 WHERE seq = $2")
                    .bind(&outcome)
                    .bind(seq)
                    .execute(pool)
                    .await?
                    .rows_affected());
                if n == 0 {
                    return Err(missing(seq));
                }
            }
            Tamper::Delete { seq } => {
                let n = on_pool!(self, pool => sqlx::query("DELETE FROM audit_log WHERE seq = $1")
                    .bind(seq)
                    .execute(pool)
                    .await?
                    .rows_affected());
                if n == 0 {
                    return Err(missing(seq));
                }
            }
            Tamper::Swap { a, b } => on_pool!(self, pool => {
                let mut tx = pool.begin_with(self.begin_write()).await?;
                // Through a free seq (0 is never used), since seq is the primary key.
                for (from, to) in [(a, 0), (b, a), (0, b)] {
                    let n = sqlx::query("UPDATE audit_log SET seq = $1 WHERE seq = $2")
                        .bind(to)
                        .bind(from)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 0 {
                        return Err(missing(if from == 0 { a } else { from }));
                    }
                }
                tx.commit().await?;
            }),
        }
        Ok(())
    }
}
