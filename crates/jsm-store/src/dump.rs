//! A text dump of every table, so a test can prove that no secret is stored anywhere.

use sqlx::Row;

use crate::error::Result;
use crate::{Store, postgres, sqlite};

/// `name` as a double-quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    /// Every table (migration bookkeeping included) with every row rendered as `column=value, …` text
    /// (`NULL` for null, blobs as hex), tables by name.
    pub async fn tables_dump(&self) -> Result<Vec<(String, Vec<String>)>> {
        let (tables_sql, columns_sql, as_text): (_, _, fn(&str) -> String) = match self {
            Store::Sqlite(_) => (sqlite::TABLES, sqlite::COLUMNS, sqlite::column_as_text),
            Store::Postgres(_) => (
                postgres::TABLES,
                postgres::COLUMNS,
                postgres::column_as_text,
            ),
        };
        let tables: Vec<String> =
            on_pool!(self, pool => sqlx::query_scalar(tables_sql).fetch_all(pool).await?);
        let mut out = Vec::with_capacity(tables.len());
        for table in tables {
            let columns: Vec<String> = on_pool!(self, pool => sqlx::query_scalar(columns_sql)
                .bind(&table)
                .fetch_all(pool)
                .await?);
            let select: Vec<String> = columns.iter().map(|c| as_text(&quote_ident(c))).collect();
            let sql = format!("SELECT {} FROM {}", select.join(", "), quote_ident(&table));
            let rendered: Vec<String> = on_pool!(self, pool => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
                let mut rendered = Vec::with_capacity(rows.len());
                for row in rows {
                    let mut cells = Vec::with_capacity(columns.len());
                    for (i, column) in columns.iter().enumerate() {
                        let value: Option<String> = row.try_get(i)?;
                        cells.push(format!("{column}={}", value.as_deref().unwrap_or("NULL")));
                    }
                    rendered.push(cells.join(", "));
                }
                rendered
            });
            out.push((table, rendered));
        }
        Ok(out)
    }
}
