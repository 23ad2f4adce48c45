//! The one error type of the store, and the redaction of connection targets it relies on.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened or created; `target` has any password replaced by `***`.
    #[error("cannot open the store at {target}: {source}")]
    Open {
        /// The file path or URL, with any password redacted.
        target: String,
        /// Why it failed.
        #[source]
        source: sqlx::Error,
    },
    /// A query failed.
    #[error("store query failed: {0}")]
    Db(#[source] sqlx::Error),
    /// The embedded migrations could not be applied.
    #[error("store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The write contradicts what is already stored (e.g. the same plan id with another hash).
    #[error("conflict: {what}")]
    Conflict {
        /// What clashed, in words.
        what: String,
    },
    /// The row the call refers to does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// A stored row cannot be turned back into its type (bad JSON, unknown status, time out of range).
    #[error("corrupt row: {what}")]
    Corrupt {
        /// Which row and column, and why.
        what: String,
    },
    /// An argument the store refuses before it reaches the database (e.g. a plan id prefix that is too short).
    #[error("invalid argument: {what}")]
    Invalid {
        /// What was wrong with it.
        what: String,
    },
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(e)
    }
}

/// Turns a foreign-key violation on a row that refers to a plan into [`Error::NotFound`] naming that plan.
pub(crate) fn plan_ref(plan_id: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => Error::NotFound {
            what: format!("plan {plan_id}"),
        },
        _ => Error::Db(e),
    }
}

/// Replaces the password in a URL-like target (`scheme://user:password@host`, `?password=...`) with `***`.
///
/// Works on the raw text, so a target too malformed to parse is still redacted.
pub fn redact_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    let rest = match target.find("://") {
        Some(i) => {
            let (scheme, after) = target.split_at(i + 3);
            out.push_str(scheme);
            // User info ends at the last '@': a raw password may hold '/', '?' or '@', and redacting too much
            // (an '@' later in the query) only hides more of an error message, never a password.
            match after.rfind('@') {
                Some(at) => {
                    let userinfo = &after[..at];
                    match userinfo.find(':') {
                        Some(colon) => {
                            out.push_str(&userinfo[..colon]);
                            out.push_str(":***");
                        }
                        None => out.push_str(userinfo),
                    }
                    out.push('@');
                    &after[at + 1..]
                }
                None => after,
            }
        }
        None => target,
    };
    out.push_str(&redact_password_params(rest));
    out
}

/// Redacts the value of every `password=` query parameter.
fn redact_password_params(s: &str) -> String {
    let Some(q) = s.find('?') else {
        return s.to_string();
    };
    let (path, query) = s.split_at(q + 1);
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect();
    format!("{path}{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redact_target;

    #[test]
    fn redacts_url_passwords() {
        assert_eq!(
            redact_target("postgres://jsm:s3cret@db:5432/x?sslmode=require"),
            "postgres://jsm:***@db:5432/x?sslmode=require"
        );
        assert_eq!(
            redact_target("postgresql://jsm:p@ss@db/x"),
            "postgresql://jsm:***@db/x"
        );
        assert_eq!(
            redact_target("postgres://db/x?user=a&password=hunter2&options=-c"),
            "postgres://db/x?user=a&password=***&options=-c"
        );
        assert_eq!(redact_target("postgres://jsm@db/x"), "postgres://jsm@db/x");
        assert_eq!(redact_target("/var/lib/state.db"), "/var/lib/state.db");
        assert_eq!(
            redact_target("postgres://jsm:a/b?c@db/x"),
            "postgres://jsm:***@db/x"
        );
        assert_eq!(
            redact_target("postgres://u:pw@host:notaport/db"),
            "postgres://u:***@host:notaport/db"
        );
    }
}
