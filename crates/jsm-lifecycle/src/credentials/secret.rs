//! Where a credential's secret lives: an environment variable or a file only its owner can read. The store
//! keeps this reference, never the secret; a file readable by anyone else is refused.

use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::error::{Error, Result};

/// A reference to a secret, as the store keeps it (`env:VAR`, `file:/path`).
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// A file (mode 0600 or narrower).
    File(PathBuf),
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_stored())
    }
}

impl SecretRef {
    /// The text the store keeps.
    pub fn to_stored(&self) -> String {
        match self {
            SecretRef::Env(v) => format!("env:{v}"),
            SecretRef::File(p) => format!("file:{}", p.display()),
        }
    }

    /// Reads a stored reference back.
    pub fn parse(stored: &str) -> Option<Self> {
        if let Some(v) = stored.strip_prefix("env:") {
            Some(SecretRef::Env(v.to_string()))
        } else {
            stored
                .strip_prefix("file:")
                .map(|p| SecretRef::File(PathBuf::from(p)))
        }
    }

    /// The flag a user gives it with, for messages.
    pub fn flag(&self) -> &'static str {
        match self {
            SecretRef::Env(_) => "--secret-env",
            SecretRef::File(_) => "--secret-file",
        }
    }

    /// Reads the secret (for `--verify` and OAuth); a file must be readable by its owner only.
    pub fn read(&self) -> Result<SecretString> {
        match self {
            SecretRef::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(SecretString::from(v)),
                _ => Err(Error::InvalidInput {
                    field: "--secret-env".into(),
                    detail: format!("environment variable {var} is not set"),
                }),
            },
            SecretRef::File(path) => {
                check_file(path)?;
                let text = std::fs::read_to_string(path).map_err(|e| Error::InvalidInput {
                    field: "--secret-file".into(),
                    detail: format!("cannot read {}: {e}", path.display()),
                })?;
                let text = text.trim_end_matches(['\n', '\r']).to_string();
                if text.is_empty() {
                    return Err(Error::InvalidInput {
                        field: "--secret-file".into(),
                        detail: format!("{} is empty", path.display()),
                    });
                }
                Ok(SecretString::from(text))
            }
        }
    }
}

/// Refuses a secret file that is not a regular file, or that anyone but its owner may read, write or run.
pub fn check_file(path: &Path) -> Result<()> {
    let refuse = |detail: String| Error::InvalidInput {
        field: "--secret-file".into(),
        detail,
    };
    let meta = std::fs::metadata(path)
        .map_err(|e| refuse(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(refuse(format!("{} is not a regular file", path.display())));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & !0o600 != 0 {
            return Err(refuse(format!(
                "{} has mode {mode:04o}, wider than 0600: other users on this machine could read the secret; \
                 run `chmod 600 {}` and try again",
                path.display(),
                path.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip_and_debug_shows_no_secret() {
        for r in [
            SecretRef::Env("ATLASSIAN_API_TOKEN".into()),
            SecretRef::File("/etc/jsmctl/scim.key".into()),
        ] {
            assert_eq!(SecretRef::parse(&r.to_stored()), Some(r.clone()));
        }
        assert_eq!(SecretRef::parse("plain"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SecretRef::File(path.clone())
            .read()
            .unwrap_err()
            .to_string();
        assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let secret = SecretRef::File(path).read().unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&secret), "s3cret");
        assert!(!format!("{secret:?}").contains("s3cret"));
    }
}
