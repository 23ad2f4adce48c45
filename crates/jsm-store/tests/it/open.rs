use jsm_store::{Error, PlanStatus, Store};

use crate::support::{drop_schema, fresh_schema, plan, postgres_url, with_schema};

#[tokio::test]
async fn opening_a_path_in_a_missing_dir_creates_it_and_keeps_data() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("not").join("yet").join("state.db");
    let store = Store::open(&path.display().to_string()).await?;
    assert_eq!(store.backend(), "sqlite");
    assert!(path.is_file(), "{} was not created", path.display());
    store.put_plan(&plan("p-1", "h", 0)).await?;

    // The connection settings the crate promises.
    if let Store::Sqlite(pool) = &store {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await?;
        assert_eq!(mode, "wal");
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await?;
        assert_eq!(sync, 1, "synchronous=NORMAL");
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(pool)
            .await?;
        assert_eq!(busy, 5000);
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await?;
        assert_eq!(fk, 1);
    }
    store.close().await;

    // Reopened (migrations already applied) through the sqlite: prefix: the plan is still there.
    let again = Store::open(&format!("sqlite:{}", path.display())).await?;
    assert_eq!(
        again.plan("p-1").await?.map(|p| p.status),
        Some(PlanStatus::AwaitingApproval)
    );
    again.close().await;
    Ok(())
}

#[tokio::test]
async fn an_in_memory_store_works_for_quick_tests() -> anyhow::Result<()> {
    let store = Store::open("sqlite::memory:").await?;
    store.put_plan(&plan("p-1", "h", 0)).await?;
    assert_eq!(store.plans(None).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_bad_postgres_url_is_an_open_error_without_its_password() -> anyhow::Result<()> {
    let err = Store::open("postgres://jsm:s3cr3t-pw@127.0.0.1:notaport/test")
        .await
        .err();
    let Some(err @ Error::Open { .. }) = err else {
        anyhow::bail!("expected Error::Open, got {err:?}");
    };
    let shown = err.to_string();
    assert!(!shown.contains("s3cr3t-pw"), "{shown}");
    assert!(
        shown.contains("postgres://jsm:***@127.0.0.1:notaport/test"),
        "{shown}"
    );
    assert!(!format!("{err:?}").contains("s3cr3t-pw"), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn a_refused_postgres_login_is_an_open_error_without_its_password() -> anyhow::Result<()> {
    let Some(base) = postgres_url() else {
        return Ok(());
    };
    // Same server, a role that does not exist: the server refuses at once.
    let host = base
        .split_once('@')
        .map_or(base.trim_start_matches("postgres://"), |(_, host)| host);
    let target = format!("postgresql://jsm_no_such_role:s3cr3t-pw@{host}");
    let err = Store::open(&target).await.err();
    let Some(err @ Error::Open { .. }) = err else {
        anyhow::bail!("expected Error::Open, got {err:?}");
    };
    let shown = err.to_string();
    assert!(!shown.contains("s3cr3t-pw"), "{shown}");
    assert!(shown.contains("jsm_no_such_role:***@"), "{shown}");
    Ok(())
}

#[tokio::test]
async fn a_file_where_the_directory_should_be_is_an_open_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, b"not a directory")?;
    let err = Store::open(&blocker.join("state.db").display().to_string())
        .await
        .err();
    assert!(matches!(err, Some(Error::Open { .. })), "{err:?}");
    Ok(())
}

#[test]
fn the_default_path_is_a_state_db_under_jsmctl() {
    if let Some(p) = Store::default_path() {
        assert!(p.ends_with("jsmctl/state.db"), "{}", p.display());
    }
}

#[tokio::test]
async fn postgres_with_sslmode_require_connects_over_tls() -> anyhow::Result<()> {
    let Some(base) = postgres_url() else {
        return Ok(());
    };
    let (admin, schema) = fresh_schema(&base).await?;
    let target = format!("{}&sslmode=require", with_schema(&base, &schema));
    let result = async {
        let store = Store::open(&target).await?;
        assert_eq!(store.backend(), "postgres");
        store.put_plan(&plan("p-1", "h", 0)).await?;
        let Store::Postgres(pool) = &store else {
            anyhow::bail!("not a PostgreSQL store");
        };
        let tls: bool =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(pool)
                .await?;
        assert!(tls, "the connection is not encrypted");
        let path: String = sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(pool)
            .await?;
        assert_eq!(path, schema, "search_path from the URL options");
        store.close().await;
        Ok(())
    }
    .await;
    drop_schema(admin, &schema).await?;
    result
}
