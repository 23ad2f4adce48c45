//! `jsm-store`: the state of jsmctl behind one type, [`Store`], on SQLite (the default, one file) or
//! PostgreSQL (many workers on one database).
//!
//! It holds plans and their approvals and rejections, the apply journal (one row per plan item, so a crashed
//! apply resumes without repeating or losing a change), the append-only hash-chained audit log, links from
//! source identities to Atlassian accounts, credential metadata, and for `jsmctl serve` the job queue, worker
//! heartbeats, operators, page sessions and the webhook deliveries already seen. It never stores a secret: credentials are
//! kept as metadata plus a reference to where the secret lives.
//!
//! Times are parameters (callers pass `now`) and are kept as unix milliseconds, so a `DateTime` with a finer
//! part reads back truncated to the millisecond. JSON values are stored as their canonical text
//! ([`canonical_json`]).
//!
//! ```no_run
//! # async fn demo() -> jsm_store::Result<()> {
//! let store = jsm_store::Store::open("/var/lib/jsmctl/state.db").await?;
//! let pending = store.plans(Some(jsm_store::PlanStatus::AwaitingApproval)).await?;
//! # let _ = pending; Ok(()) }
//! ```

#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use sqlx::{PgPool, SqlitePool};

/// Runs one body against whichever pool the store has; the body is compiled once per backend, so SQL that is
/// the same on both (`$N` placeholders, `ON CONFLICT`, `RETURNING`) is written once.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite($pool) => $body,
            $crate::Store::Postgres($pool) => $body,
        }
    };
}

mod approvals;
mod audit;
mod canonical;
mod credentials;
mod dump;
mod error;
mod jobs;
mod journal;
mod links;
mod model;
mod open;
mod operators;
mod plans;
mod postgres;
mod reconcile;
mod rows;
mod schedule_fires;
mod sqlite;
mod tamper;
mod webhook_deliveries;

pub use canonical::{GENESIS_HASH, canonical_json, record_hash, sha256_hex};
pub use error::{Error, Result, redact_target};
pub use jobs::{Job, JobState, NewJob, WorkerBeat};
pub use model::{
    Approval, AuditDraft, AuditRecord, CredentialMeta, JournalEntry, JournalState, Link,
    PlanRecord, PlanStatus, Rejection, VerifyError, VerifyReport,
};
pub use operators::{Operator, Session};
pub use plans::MIN_PLAN_PREFIX;
pub use reconcile::{RunLock, SiteFact, Watermark};
pub use tamper::Tamper;
pub use webhook_deliveries::{DeliveryOutcome, WebhookDelivery};

/// The store: a connection pool to one SQLite file or one PostgreSQL database (schema), migrated on open.
///
/// Cloning is cheap and shares the pool.
#[derive(Debug, Clone)]
pub enum Store {
    /// A SQLite file (WAL, `synchronous=NORMAL`, 5 s busy timeout).
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

impl Store {
    /// The statement that opens a transaction which will write: SQLite takes its write lock up front.
    pub(crate) fn begin_write(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => sqlite::BEGIN_WRITE,
            Store::Postgres(_) => postgres::BEGIN_WRITE,
        }
    }
}
