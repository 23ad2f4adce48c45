//! The crate's one error type. No variant carries a secret: the SCIM token travels in a header and never in a
//! URL (a URL with user info is refused), and the LDAP password is only ever handed to the bind call.

use std::fmt;
use std::path::PathBuf;

/// `Result` with this crate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How many row errors one [`Error::BadRows`] lists before it only counts the rest.
pub const MAX_ROW_ERRORS: usize = 20;

/// Everything reading a source or a mapping can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: cannot read: {source}", path = path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// One or more rows of a desired-state file are invalid; nothing of the file is used.
    #[error("{origin}: {}", RowsSummary { errors, more: *more })]
    BadRows {
        /// The file.
        origin: String,
        /// The first [`MAX_ROW_ERRORS`] bad rows, in file order.
        errors: Vec<RowError>,
        /// How many more bad rows there were.
        more: usize,
    },
    /// The CSV header names a column this format does not have.
    #[error("{origin}: unknown column `{column}` (column {position}; known: {known})", known = crate::file::COLUMNS.join(", "))]
    UnknownColumn {
        /// The file.
        origin: String,
        /// The column as the header spells it.
        column: String,
        /// Its 1-based position in the header.
        position: usize,
    },
    /// A required CSV column is missing from the header.
    #[error("{origin}: the header has no `{column}` column")]
    MissingColumn {
        /// The file.
        origin: String,
        /// The missing column.
        column: &'static str,
    },
    /// A file is not the format it claims (not UTF-8, not CSV, bad JSON, not an array, empty).
    #[error("{origin}: {message}")]
    Format {
        /// The file.
        origin: String,
        /// What is wrong, with its line or JSON path.
        message: String,
    },
    /// A `--source` spec could not be understood.
    #[error("invalid source `{spec}`: {reason}")]
    SourceSpec {
        /// The spec as given.
        spec: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A needed environment variable is not set.
    #[error("{name} is not set: {why}")]
    MissingEnv {
        /// The variable.
        name: &'static str,
        /// What needs it.
        why: &'static str,
    },
    /// A mapping file is invalid; the message names the key and its line.
    #[error("{origin}: {message}")]
    Mapping {
        /// The mapping file.
        origin: String,
        /// What is wrong, where.
        message: String,
    },
    /// The SCIM server could not be reached (connection refused, DNS, TLS, timeout).
    #[error("{url}: cannot reach the SCIM server: {message}")]
    ScimUnreachable {
        /// The URL requested.
        url: String,
        /// The transport error and its causes.
        message: String,
    },
    /// The SCIM server refused the bearer token (401) or its permissions (403).
    #[error("{url}: the SCIM server answered {status}: {}", if *status == 401 { "the bearer token (JSMCTL_SOURCE_SCIM_TOKEN) is missing, invalid or expired" } else { "the bearer token is not allowed to read this" })]
    ScimAuth {
        /// The URL requested.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// The SCIM server answered another error status.
    #[error("{url}: the SCIM server answered {status}: {detail}")]
    ScimStatus {
        /// The URL requested.
        url: String,
        /// HTTP status.
        status: u16,
        /// The SCIM error `detail`, or the start of the body.
        detail: String,
    },
    /// A SCIM answer is not the JSON it should be; `path` names where it failed.
    #[error("{url}: cannot decode the SCIM answer at `{path}`: {message}")]
    ScimDecode {
        /// The URL requested.
        url: String,
        /// JSON path of the failure, e.g. `Resources[3].active`.
        path: String,
        /// The decoder's message.
        message: String,
    },
    /// A listing could not be proven complete (server totals that do not add up, paging that stopped early).
    #[error("{url}: the listing is incomplete: {reason}")]
    Truncated {
        /// The URL or LDAP search.
        url: String,
        /// Why completeness could not be proven.
        reason: String,
    },
    /// The LDAP server could not be reached or the connection broke.
    #[error("{url}: cannot reach the LDAP server: {message}")]
    LdapUnreachable {
        /// The server URL.
        url: String,
        /// The connection error and its causes.
        message: String,
    },
    /// The LDAP bind was refused (bad credentials, locked account). Never carries the password.
    #[error("{url}: bind as `{bind_dn}` failed: {text} (LDAP result {rc})")]
    LdapBind {
        /// The server URL.
        url: String,
        /// The bind DN (from JSMCTL_LDAP_BIND_DN).
        bind_dn: String,
        /// LDAP result code (49 = invalid credentials).
        rc: u32,
        /// The server's diagnostic, or the code's name.
        text: String,
    },
    /// An LDAP search failed.
    #[error("{url}: search under `{base}` with `{filter}` failed: {text} (LDAP result {rc})")]
    LdapSearch {
        /// The server URL.
        url: String,
        /// Search base.
        base: String,
        /// Search filter.
        filter: String,
        /// LDAP result code.
        rc: u32,
        /// The server's diagnostic, or the code's name.
        text: String,
    },
    /// A watermark handed to an incremental read is not one this source produces.
    #[error("invalid watermark `{watermark}`: {reason}")]
    Watermark {
        /// The watermark given.
        watermark: String,
        /// What was expected.
        reason: String,
    },
}

/// One bad row of a desired-state file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Where: `line 7` for CSV (the physical line the record starts on), `[3]` for JSON.
    pub location: String,
    /// The column or JSON field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            // JSON locations read as paths: `[3].kind`.
            Some(field) if self.location.starts_with('[') => {
                write!(f, "{}.{field}: {}", self.location, self.message)
            }
            Some(field) => write!(f, "{}, column `{field}`: {}", self.location, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

struct RowsSummary<'a> {
    errors: &'a [RowError],
    more: usize,
}

impl fmt::Display for RowsSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.errors.len() + self.more;
        write!(
            f,
            "{total} bad row{}, nothing read:",
            if total == 1 { "" } else { "s" }
        )?;
        for e in self.errors {
            write!(f, "\n  {e}")?;
        }
        if self.more > 0 {
            write!(f, "\n  … and {} more", self.more)?;
        }
        Ok(())
    }
}

/// The error and its causes in one line (`a: b: c`), skipping causes the previous message already contains.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let msg = e.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = e.source();
    }
    out
}
