//! Operators of `jsmctl serve` and their page sessions. The store keeps only SHA-256 hashes of bearer tokens
//! and session cookies: someone who reads the database cannot log in with what they read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::{Error, Result};
use crate::rows::ms;

/// An operator: a person or program allowed to use the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operator {
    /// Unique name, recorded as the actor of everything they do.
    pub name: String,
    /// Hex SHA-256 of their bearer token.
    pub token_sha256: String,
    /// When the operator was added.
    pub created_at: DateTime<Utc>,
    /// Who added them.
    pub created_by: String,
    /// When they were disabled; a disabled operator cannot authenticate.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A logged-in page session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Hex SHA-256 of the session cookie's value.
    pub id_sha256: String,
    /// Who is logged in.
    pub operator: String,
    /// When they logged in.
    pub created_at: DateTime<Utc>,
    /// After this instant the session is no longer valid.
    pub expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OperatorRow {
    name: String,
    token_sha256: String,
    created_at: i64,
    created_by: String,
    disabled_at: Option<i64>,
}

fn at(what: &str, v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| Error::Corrupt {
        what: format!("{what}: {v} is not a time"),
    })
}

impl TryFrom<OperatorRow> for Operator {
    type Error = Error;

    fn try_from(r: OperatorRow) -> Result<Self> {
        let what = format!("operator {}", r.name);
        Ok(Operator {
            created_at: at(&what, r.created_at)?,
            disabled_at: r.disabled_at.map(|v| at(&what, v)).transpose()?,
            name: r.name,
            token_sha256: r.token_sha256,
            created_by: r.created_by,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_sha256: String,
    operator: String,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<SessionRow> for Session {
    type Error = Error;

    fn try_from(r: SessionRow) -> Result<Self> {
        let what = format!("session of {}", r.operator);
        Ok(Session {
            created_at: at(&what, r.created_at)?,
            expires_at: at(&what, r.expires_at)?,
            id_sha256: r.id_sha256,
            operator: r.operator,
        })
    }
}

const OPERATOR_COLUMNS: &str = "name, token_sha256, created_at, created_by, disabled_at";

impl Store {
    /// Adds an operator; [`Error::Conflict`] when the name (or, against all odds, the token hash) is taken.
    pub async fn operator_add(&self, op: &Operator) -> Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO operators (name, token_sha256, created_at, created_by, disabled_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&op.name)
        .bind(&op.token_sha256)
        .bind(ms(op.created_at))
        .bind(&op.created_by)
        .bind(op.disabled_at.map(ms))
        .execute(pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Error::Conflict {
                what: format!("operator {} already exists", op.name),
            },
            _ => Error::Db(e),
        })?
        .rows_affected());
        Ok(())
    }

    /// The enabled operator whose token hashes to `token_sha256`.
    pub async fn operator_by_token(&self, token_sha256: &str) -> Result<Option<Operator>> {
        let sql = format!(
            "SELECT {OPERATOR_COLUMNS} FROM operators WHERE token_sha256 = $1 AND disabled_at IS NULL"
        );
        let row: Option<OperatorRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(token_sha256)
            .fetch_optional(pool)
            .await?);
        row.map(Operator::try_from).transpose()
    }

    /// Every operator, by name.
    pub async fn operators(&self) -> Result<Vec<Operator>> {
        let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY name");
        let rows: Vec<OperatorRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(Operator::try_from).collect()
    }

    /// Disables an operator and ends their sessions; `false` when there is no enabled operator of that name.
    pub async fn operator_disable(&self, name: &str, now: DateTime<Utc>) -> Result<bool> {
        let n = on_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let n = sqlx::query(
                "UPDATE operators SET disabled_at = $2 WHERE name = $1 AND disabled_at IS NULL",
            )
            .bind(name)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM sessions WHERE operator = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            n
        });
        Ok(n == 1)
    }

    /// Stores a new session (and forgets sessions that expired before `session.created_at`).
    pub async fn session_put(&self, session: &Session) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(ms(session.created_at))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (id_sha256, operator, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&session.id_sha256)
            .bind(&session.operator)
            .bind(ms(session.created_at))
            .bind(ms(session.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => Error::NotFound {
                    what: format!("operator {}", session.operator),
                },
                _ => Error::Db(e),
            })?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The session whose cookie hashes to `id_sha256`, if it is valid at `now` and its operator is enabled.
    pub async fn session(&self, id_sha256: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let row: Option<SessionRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT s.id_sha256, s.operator, s.created_at, s.expires_at FROM sessions s \
             JOIN operators o ON o.name = s.operator \
             WHERE s.id_sha256 = $1 AND s.expires_at > $2 AND o.disabled_at IS NULL",
        )
        .bind(id_sha256)
        .bind(ms(now))
        .fetch_optional(pool)
        .await?);
        row.map(Session::try_from).transpose()
    }

    /// Ends a session (logout); `true` if it existed.
    pub async fn session_remove(&self, id_sha256: &str) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE id_sha256 = $1")
            .bind(id_sha256)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n > 0)
    }
}
