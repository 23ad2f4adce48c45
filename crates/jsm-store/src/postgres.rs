//! SQL that only PostgreSQL speaks this way: row locks shared by every process on the database, catalog queries.

/// A plain transaction: the locks below do the serialising.
pub(crate) const BEGIN_WRITE: &str = "BEGIN";

/// Marks the oldest usable approval used. `FOR UPDATE SKIP LOCKED` lets a concurrent consumer take the next
/// approval instead of waiting, and the outer `used_at IS NULL` is re-checked after a wait, so two consumers
/// can never both get the same approval.
pub(crate) const CONSUME_APPROVAL: &str = "UPDATE approvals SET used_at = $3 \
     WHERE id = (SELECT id FROM approvals \
                 WHERE plan_id = $1 AND plan_hash = $2 AND used_at IS NULL AND expires_at > $3 \
                 ORDER BY approved_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
       AND used_at IS NULL \
     RETURNING plan_id, plan_hash, approver, approved_at, expires_at, used_at";

/// The chain head, locked until the transaction ends: appenders in every process queue here.
pub(crate) const LOCK_AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";

/// Every table of the current schema, migrations bookkeeping included.
pub(crate) const TABLES: &str = "SELECT table_name::text FROM information_schema.tables \
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name";

/// The columns of table `$1` in the current schema, in order.
pub(crate) const COLUMNS: &str = "SELECT column_name::text FROM information_schema.columns \
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position";

/// A column rendered as text (bytea comes out as `\x` hex).
pub(crate) fn column_as_text(quoted: &str) -> String {
    format!("CAST({quoted} AS TEXT)")
}
