//! SQL that only SQLite speaks this way: locking by `BEGIN IMMEDIATE`, catalog queries.

/// Opens a write transaction up front, so a read-then-write never meets another writer half-way (SQLite
/// would fail such an upgrade at once instead of waiting out the busy timeout).
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Marks the oldest usable approval used; one UPDATE statement holds the write lock from its start.
pub(crate) const CONSUME_APPROVAL: &str = "UPDATE approvals SET used_at = $3 \
     WHERE id = (SELECT id FROM approvals \
                 WHERE plan_id = $1 AND plan_hash = $2 AND used_at IS NULL AND expires_at > $3 \
                 ORDER BY approved_at, id LIMIT 1) \
       AND used_at IS NULL \
     RETURNING plan_id, plan_hash, approver, approved_at, expires_at, used_at";

/// The chain head; the write lock is already held by [`BEGIN_WRITE`].
pub(crate) const LOCK_AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";

/// Every table, migrations bookkeeping included.
pub(crate) const TABLES: &str = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";

/// The columns of table `$1`, in order.
pub(crate) const COLUMNS: &str = "SELECT name FROM pragma_table_info($1) ORDER BY cid";

/// A column rendered as text: blobs as hex (they need not be UTF-8).
pub(crate) fn column_as_text(quoted: &str) -> String {
    format!(
        "CASE WHEN typeof({quoted}) = 'blob' THEN hex({quoted}) ELSE CAST({quoted} AS TEXT) END"
    )
}
