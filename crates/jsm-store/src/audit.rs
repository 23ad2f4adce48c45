//! The audit log: append-only, hash-chained, with the chain head kept apart so a deleted tail shows.

use futures::TryStreamExt;

use crate::canonical::{GENESIS_HASH, record_hash};
use crate::error::{Error, Result};
use crate::model::{AuditDraft, AuditRecord, VerifyError, VerifyReport};
use crate::rows::{AuditRow, convert, json_text, ms, truncate_ms};
use crate::{Store, postgres, sqlite};

const INSERT: &str = "INSERT INTO audit_log \
     (seq, prev_hash, hash, occurred_at, actor, kind, plan_id, item_key, action, target, outcome, request_id, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

const SET_HEAD: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";

const READ_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";

const COLUMNS: &str = "seq, prev_hash, hash, occurred_at, actor, kind, plan_id, item_key, action, target, \
     outcome, request_id, detail";

impl Store {
    /// Appends one event: gives it the next `seq` (from 1), links it to the previous record's hash and hashes
    /// it ([`record_hash`]). Safe with any number of concurrent appenders, across processes too.
    ///
    /// `draft.at` is truncated to the millisecond, as stored.
    pub async fn audit_append(&self, draft: AuditDraft) -> Result<AuditRecord> {
        let mut records = self.audit_append_many(vec![draft]).await?;
        records.pop().ok_or_else(|| Error::Corrupt {
            what: "audit append returned no record".into(),
        })
    }

    /// Appends several events, in order, in one transaction: all get consecutive `seq`s or none is written.
    pub async fn audit_append_many(&self, drafts: Vec<AuditDraft>) -> Result<Vec<AuditRecord>> {
        if drafts.is_empty() {
            return Ok(Vec::new());
        }
        let lock_head = match self {
            Store::Sqlite(_) => sqlite::LOCK_AUDIT_HEAD,
            Store::Postgres(_) => postgres::LOCK_AUDIT_HEAD,
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let (mut seq, mut prev): (i64, String) =
                sqlx::query_as(lock_head).fetch_one(&mut *tx).await?;
            let mut out = Vec::with_capacity(drafts.len());
            for mut draft in drafts {
                draft.at = truncate_ms(draft.at);
                seq = seq.checked_add(1).ok_or_else(|| Error::Corrupt {
                    what: "audit sequence overflow".into(),
                })?;
                let hash = record_hash(&prev, &draft, seq);
                sqlx::query(INSERT)
                    .bind(seq)
                    .bind(&prev)
                    .bind(&hash)
                    .bind(ms(draft.at))
                    .bind(&draft.actor)
                    .bind(&draft.kind)
                    .bind(&draft.plan_id)
                    .bind(&draft.item_key)
                    .bind(&draft.action)
                    .bind(&draft.target)
                    .bind(&draft.outcome)
                    .bind(&draft.request_id)
                    .bind(json_text(&draft.detail))
                    .execute(&mut *tx)
                    .await?;
                let prev_hash = std::mem::replace(&mut prev, hash.clone());
                out.push(AuditRecord { seq, prev_hash, hash, draft });
            }
            sqlx::query(SET_HEAD).bind(seq).bind(&prev).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Up to `limit` records with `seq > after_seq`, in seq order (page with the last seq seen).
    pub async fn audit_list(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows: Vec<AuditRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?);
        convert(rows)
    }

    /// How many records the log holds.
    pub async fn audit_count(&self) -> Result<u64> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(pool)
            .await?);
        u64::try_from(n).map_err(|_| Error::Corrupt {
            what: format!("audit count {n}"),
        })
    }

    /// Walks the whole log in seq order (streamed, not loaded) and checks it against itself and the chain head.
    ///
    /// Detects a changed record (its hash no longer matches), a deleted one (a gap, or for the last one the
    /// head), a reordered pair, and a rewritten last record. The outer `Result` is a failure to read; the
    /// inner one the verdict. Records appended while it runs are not checked (the head is read first).
    /// An attacker who rewrites every record from some point on *and* the head is not detectable from the
    /// database alone: export [`VerifyReport::head`] somewhere else to anchor it.
    pub async fn audit_verify(&self) -> Result<Result<VerifyReport, VerifyError>> {
        let (head_seq, head_hash): (i64, String) =
            on_pool!(self, pool => sqlx::query_as(READ_HEAD).fetch_one(pool).await?);
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq <= $1 ORDER BY seq");
        let mut walk = ChainWalk::new();
        on_pool!(self, pool => {
            let mut rows = sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql))
                .bind(head_seq)
                .fetch(pool);
            while let Some(row) = rows.try_next().await? {
                if let Err(broken) = walk.check(row)? {
                    return Ok(Err(broken));
                }
            }
        });
        Ok(walk.finish(head_seq, &head_hash))
    }
}

/// The verify state between records: the one place the chain rules live.
struct ChainWalk {
    expected: i64,
    prev_hash: String,
}

impl ChainWalk {
    fn new() -> Self {
        ChainWalk {
            expected: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }

    fn broken(seq: i64, reason: impl Into<String>) -> VerifyError {
        VerifyError::Broken {
            seq,
            reason: reason.into(),
        }
    }

    /// Checks the next row; `Err` inside is the first break found.
    fn check(&mut self, row: AuditRow) -> Result<Result<(), VerifyError>> {
        let seq = row.seq;
        if seq != self.expected {
            return Ok(Err(Self::broken(
                self.expected,
                format!("sequence gap: {} missing", self.expected),
            )));
        }
        let record = match AuditRecord::try_from(row) {
            Ok(r) => r,
            Err(Error::Corrupt { what }) => return Ok(Err(Self::broken(seq, what))),
            Err(e) => return Err(e),
        };
        if record_hash(&record.prev_hash, &record.draft, seq) != record.hash {
            return Ok(Err(Self::broken(seq, "hash does not match its content")));
        }
        if record.prev_hash != self.prev_hash {
            let reason = if seq == 1 {
                "prev_hash of the first record is not the genesis hash".to_string()
            } else {
                format!("prev_hash does not match record {}", seq - 1)
            };
            return Ok(Err(Self::broken(seq, reason)));
        }
        self.prev_hash = record.hash;
        self.expected += 1;
        Ok(Ok(()))
    }

    /// Compares where the walk ended with the chain head.
    fn finish(self, head_seq: i64, head_hash: &str) -> Result<VerifyReport, VerifyError> {
        let last = self.expected - 1;
        if last < head_seq {
            return Err(Self::broken(
                self.expected,
                format!(
                    "sequence gap: {} missing (the chain head says the log ends at {head_seq})",
                    self.expected
                ),
            ));
        }
        if self.prev_hash != head_hash {
            return Err(Self::broken(last, "hash does not match the chain head"));
        }
        Ok(VerifyReport {
            records: u64::try_from(last).unwrap_or(0),
            head: (last > 0).then_some(self.prev_hash),
        })
    }
}
