//! The harness: gives each test a fresh store on either backend and cleans up after it, even on failure.

use std::future::Future;
use std::io::Write;
use std::sync::Once;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use jsm_store::{AuditDraft, PlanRecord, PlanStatus, Store};

/// The environment variable naming the PostgreSQL database the PG half runs in.
pub const PG_ENV: &str = "JSMCTL_TEST_POSTGRES_URL";

/// A store under test and the target it was opened from (to open a second pool on the same data).
pub struct Db {
    pub store: Store,
    pub target: String,
}

/// Generates, for each listed `async fn name(db: Db) -> anyhow::Result<()>`, a module `name` with two tests,
/// `sqlite` and `postgres`, so both backends run exactly the same assertions.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() -> anyhow::Result<()> {
                    $crate::support::on_sqlite(super::$name).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() -> anyhow::Result<()> {
                    $crate::support::on_postgres(super::$name).await
                }
            }
        )*
    };
}

/// Runs `test` as its own task, so a failed assertion still lets the caller clean up before it is re-raised.
async fn isolated<F, Fut>(test: F, db: Db) -> std::thread::Result<anyhow::Result<()>>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    match tokio::spawn(test(db)).await {
        Ok(result) => Ok(result),
        Err(e) if e.is_panic() => Err(e.into_panic()),
        Err(e) => Ok(Err(anyhow::anyhow!("test task did not finish: {e}"))),
    }
}

/// Runs `test` on a store in a fresh temp file.
pub async fn on_sqlite<F, Fut>(test: F) -> anyhow::Result<()>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let dir = tempfile::tempdir()?;
    let target = dir.path().join("state.db").display().to_string();
    let store = Store::open(&target).await?;
    let outcome = isolated(
        test,
        Db {
            store: store.clone(),
            target,
        },
    )
    .await;
    store.close().await;
    drop(dir);
    match outcome {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The PostgreSQL URL to test against, or `None` (after one printed notice) when it is unset.
pub fn postgres_url() -> Option<String> {
    static NOTICE: Once = Once::new();
    match std::env::var(PG_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            NOTICE.call_once(|| {
                // Straight to stderr, past the test harness's capture, so the skip is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "notice: {PG_ENV} is unset; skipping the PostgreSQL half of the jsm-store tests"
                );
            });
            None
        }
    }
}

/// `base` with its `search_path` set to `schema`, in the form `Store::open` accepts.
pub fn with_schema(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

/// Creates a schema with a random name in the test database; returns the connection to drop it with.
pub async fn fresh_schema(base: &str) -> anyhow::Result<(sqlx::PgPool, String)> {
    let schema = format!("jsm_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(base)
        .await
        .with_context(|| format!("connecting to {PG_ENV}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await?;
    Ok((admin, schema))
}

/// Drops a schema made by [`fresh_schema`] and everything in it.
pub async fn drop_schema(admin: sqlx::PgPool, schema: &str) -> anyhow::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await?;
    admin.close().await;
    Ok(())
}

/// Runs one SQL statement on the store's own pool, behind its back (to damage rows on purpose).
pub async fn exec_raw(store: &Store, sql: &'static str) -> anyhow::Result<u64> {
    Ok(match store {
        Store::Sqlite(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
        Store::Postgres(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
    })
}

/// Runs `test` on a store in a fresh schema of the test database, dropped afterwards.
pub async fn on_postgres<F, Fut>(test: F) -> anyhow::Result<()>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let Some(base) = postgres_url() else {
        return Ok(());
    };
    let (admin, schema) = fresh_schema(&base).await?;
    let target = with_schema(&base, &schema);
    let outcome = match Store::open(&target).await {
        Ok(store) => {
            let outcome = isolated(
                test,
                Db {
                    store: store.clone(),
                    target,
                },
            )
            .await;
            store.close().await;
            outcome
        }
        Err(e) => Ok(Err(e.into())),
    };
    drop_schema(admin, &schema).await?;
    match outcome {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A fixed instant, on a whole millisecond, that every test counts from.
pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_780_000_000_123).unwrap_or_default()
}

/// `t0` plus `secs` seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// A plan with the given id and hash, created at `at(created)`.
pub fn plan(id: &str, hash: &str, created: i64) -> PlanRecord {
    PlanRecord {
        id: id.into(),
        hash: hash.into(),
        kind: "provision".into(),
        requester: "alice@example.com".into(),
        created_at: at(created),
        status: PlanStatus::AwaitingApproval,
        body: serde_json::json!({"items": [{"op": "create_customer", "email": "bob@example.com"}], "v": 1}),
    }
}

/// An audit event numbered `n` (in its target and detail).
pub fn draft(n: u32) -> AuditDraft {
    AuditDraft {
        at: at(i64::from(n)),
        actor: "jsmctl-worker".into(),
        kind: "write".into(),
        plan_id: Some("plan-1".into()),
        item_key: Some(format!("item-{n}")),
        action: "create_customer".into(),
        target: format!("user-{n}@example.com"),
        outcome: "created".into(),
        request_id: n.is_multiple_of(2).then(|| format!("req-{n}")),
        detail: serde_json::json!({"n": n, "z": [1, 2.5, null], "a": {"nested": true}}),
    }
}
