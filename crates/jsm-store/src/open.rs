//! Opening a store: choosing the backend from the target, creating what is missing, running migrations.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::Store;
use crate::error::{Error, Result, redact_target};

/// Connections a PostgreSQL store keeps at most: enough for one worker's concurrency, small enough that many
/// workers share one server.
const PG_MAX_CONNECTIONS: u32 = 8;
/// Connections a SQLite store keeps at most: WAL lets readers run beside the one writer.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// How long a SQLite statement waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening waits for a first connection (a refused connection is retried until then).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Opens (and creates or migrates) the store at `target`.
    ///
    /// `postgres://…` or `postgresql://…` is a PostgreSQL URL (a schema can be chosen with
    /// `?options=-csearch_path%3Dname` or `?options[search_path]=name`); `:memory:` or `sqlite::memory:` is a
    /// private in-memory SQLite database; anything else is a SQLite file path, optionally prefixed `sqlite:` or
    /// `sqlite://`, whose file and parent directories are created if missing.
    pub async fn open(target: &str) -> Result<Store> {
        let store = if is_postgres_url(target) {
            Store::Postgres(open_postgres(target).await?)
        } else if target == ":memory:" || target == "sqlite::memory:" {
            Store::Sqlite(open_sqlite_memory(target).await?)
        } else {
            Store::Sqlite(open_sqlite_file(target).await?)
        };
        match &store {
            Store::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(store)
    }

    /// The default SQLite file: `$XDG_STATE_HOME/jsmctl/state.db`, else `~/.local/state/jsmctl/state.db`.
    pub fn default_path() -> Option<PathBuf> {
        default_path_from(std::env::var_os("XDG_STATE_HOME"), std::env::var_os("HOME"))
    }

    /// Which backend this store runs on: `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool, waiting for connections in use to be returned (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

fn is_postgres_url(target: &str) -> bool {
    let lower = target.get(..13).unwrap_or(target).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

fn open_error(target: &str, source: sqlx::Error) -> Error {
    Error::Open {
        target: redact_target(target),
        source,
    }
}

async fn open_postgres(target: &str) -> Result<sqlx::PgPool> {
    let options = PgConnectOptions::from_str(target).map_err(|e| open_error(target, e))?;
    PgPoolOptions::new()
        .max_connections(PG_MAX_CONNECTIONS)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| open_error(target, e))
}

/// The file path in a SQLite target: `sqlite://p`, `sqlite:p` or `p`.
fn sqlite_path(target: &str) -> &Path {
    let path = target
        .strip_prefix("sqlite://")
        .or_else(|| target.strip_prefix("sqlite:"))
        .unwrap_or(target);
    Path::new(path)
}

fn sqlite_options() -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
}

async fn open_sqlite_file(target: &str) -> Result<sqlx::SqlitePool> {
    let path = sqlite_path(target);
    if path.as_os_str().is_empty() {
        return Err(open_error(
            target,
            sqlx::Error::Configuration("empty SQLite file path".into()),
        ));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| open_error(target, sqlx::Error::Io(e)))?;
    }
    let options = sqlite_options().filename(path).create_if_missing(true);
    SqlitePoolOptions::new()
        .max_connections(SQLITE_MAX_CONNECTIONS)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| open_error(target, e))
}

/// One connection that is never closed: an in-memory database lives exactly as long as its connection.
async fn open_sqlite_memory(target: &str) -> Result<sqlx::SqlitePool> {
    let options = sqlite_options()
        .filename(":memory:")
        .journal_mode(SqliteJournalMode::Memory);
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(|e| open_error(target, e))
}

fn default_path_from(xdg_state_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    // The XDG spec says a relative $XDG_STATE_HOME is invalid and must be ignored.
    let base = match xdg_state_home.map(PathBuf::from) {
        Some(p) if p.is_absolute() => p,
        _ => PathBuf::from(home.filter(|h| !h.is_empty())?).join(".local/state"),
    };
    Some(base.join("jsmctl").join("state.db"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_prefers_an_absolute_xdg_state_home() {
        assert_eq!(
            default_path_from(Some("/x/state".into()), Some("/home/u".into())),
            Some(PathBuf::from("/x/state/jsmctl/state.db"))
        );
        assert_eq!(
            default_path_from(Some("relative".into()), Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.local/state/jsmctl/state.db"))
        );
        assert_eq!(
            default_path_from(None, Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.local/state/jsmctl/state.db"))
        );
        assert_eq!(default_path_from(None, None), None);
    }

    #[test]
    fn recognises_backends() {
        assert!(is_postgres_url("postgres://u@h/db"));
        assert!(is_postgres_url("PostgreSQL://u@h/db"));
        assert!(!is_postgres_url("/tmp/postgres://x"));
        assert!(!is_postgres_url("state.db"));
        assert_eq!(sqlite_path("sqlite:///var/a.db"), Path::new("/var/a.db"));
        assert_eq!(sqlite_path("sqlite:a.db"), Path::new("a.db"));
        assert_eq!(sqlite_path("a.db"), Path::new("a.db"));
    }
}
