//! One entry point over the three sources: parse a `--source` spec, then read.

use std::fmt;

use secrecy::SecretString;

use crate::error::{Error, Result};
use crate::file::FileSource;
use crate::ldap::LdapSource;
use crate::mapping::Mapping;
use crate::model::Snapshot;
use crate::scim::ScimSource;

/// Environment variable holding the upstream SCIM server's bearer token.
pub const ENV_SCIM_TOKEN: &str = "JSMCTL_SOURCE_SCIM_TOKEN";
/// Environment variable holding the LDAP bind DN (unset: anonymous).
pub const ENV_LDAP_BIND_DN: &str = "JSMCTL_LDAP_BIND_DN";
/// Environment variable holding the LDAP bind password.
pub const ENV_LDAP_PASSWORD: &str = "JSMCTL_LDAP_PASSWORD";

/// A source of desired state.
#[derive(Debug, Clone)]
pub enum Source {
    /// A CSV or JSON file.
    File(FileSource),
    /// An upstream SCIM 2.0 server.
    Scim(ScimSource),
    /// An LDAP directory or Active Directory.
    Ldap(LdapSource),
}

impl Source {
    /// Parses `file:PATH`, `scim:URL` or `ldap://HOST:PORT/BASE_DN` / `ldaps://…`, with default settings;
    /// secrets come from `env` ([`ENV_SCIM_TOKEN`], [`ENV_LDAP_BIND_DN`], [`ENV_LDAP_PASSWORD`]).
    pub fn parse(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Source> {
        Self::parse_with(spec, &Mapping::default(), env)
    }

    /// Like [`Source::parse`], with the mapping's `[scim]` and `[ldap]` settings.
    pub fn parse_with(
        spec: &str,
        mapping: &Mapping,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Source> {
        let bad = |reason: &str| Error::SourceSpec {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let set = |name: &str| env(name).filter(|v| !v.is_empty());
        if let Some(path) = spec.strip_prefix("file:") {
            if path.is_empty() {
                return Err(bad("file: needs a path, e.g. file:people.csv"));
            }
            return Ok(Source::File(FileSource::new(path)));
        }
        if let Some(url) = spec.strip_prefix("scim:") {
            let token = set(ENV_SCIM_TOKEN).map(SecretString::from);
            return Ok(Source::Scim(ScimSource::new(
                url,
                token,
                mapping.scim.clone(),
            )?));
        }
        if spec.starts_with("ldap://") || spec.starts_with("ldaps://") {
            let parsed =
                url::Url::parse(spec).map_err(|e| bad(&format!("not an LDAP URL: {e}")))?;
            if !parsed.username().is_empty() || parsed.password().is_some() {
                return Err(bad(
                    "put no credentials in the URL: use JSMCTL_LDAP_BIND_DN and JSMCTL_LDAP_PASSWORD",
                ));
            }
            let host = parsed
                .host_str()
                .filter(|h| !h.is_empty())
                .ok_or_else(|| bad("the LDAP URL has no host"))?;
            let port = parsed
                .port()
                .unwrap_or(if parsed.scheme() == "ldaps" { 636 } else { 389 });
            let base = parsed.path().trim_start_matches('/');
            let base_dn =
                url::form_urlencoded::parse(format!("x={}", base.replace('+', "%2B")).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
            if base_dn.trim().is_empty() {
                return Err(bad(
                    "the LDAP URL needs a base DN: ldap://HOST:PORT/dc=example,dc=com",
                ));
            }
            let bind = match (set(ENV_LDAP_BIND_DN), env(ENV_LDAP_PASSWORD)) {
                (Some(dn), Some(pw)) => Some((dn, SecretString::from(pw))),
                (Some(_), None) => {
                    return Err(Error::MissingEnv {
                        name: ENV_LDAP_PASSWORD,
                        why: "JSMCTL_LDAP_BIND_DN is set, so the bind needs a password",
                    });
                }
                (None, _) => None,
            };
            let server = format!("{}://{}:{port}", parsed.scheme(), bracket_host(host));
            return Ok(Source::Ldap(LdapSource::new(
                &server,
                &base_dn,
                bind,
                mapping.ldap.clone(),
            )?));
        }
        Err(bad(
            "expected file:PATH, scim:URL, ldap://HOST:PORT/BASE_DN or ldaps://HOST:PORT/BASE_DN",
        ))
    }

    /// Reads the source; `since` is the watermark of an earlier read, for an incremental read where the source
    /// can do one (the snapshot says whether it is `complete`).
    pub async fn read(&self, since: Option<&str>) -> Result<Snapshot> {
        match self {
            Source::File(s) => s.read(since).await,
            Source::Scim(s) => s.read(since).await,
            Source::Ldap(s) => s.read(since).await,
        }
    }

    /// `file`, `scim` or `ldap`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::File(_) => "file",
            Source::Scim(_) => "scim",
            Source::Ldap(_) => "ldap",
        }
    }
}

fn bracket_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// The spec the source was built from, without secrets (for logs, plans and the journal).
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(s) => write!(f, "file:{}", s.path().display()),
            Source::Scim(s) => write!(f, "scim:{}", s.base_url()),
            Source::Ldap(s) => write!(f, "{}/{}", s.url(), s.base_dn()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn parses_the_three_kinds() {
        let none = env_of(&[]);
        let s = Source::parse("file:people.csv", &none).unwrap();
        assert_eq!(s.to_string(), "file:people.csv");
        let s = Source::parse("scim:https://idp.example.test/scim/v2", &none).unwrap();
        assert_eq!(s.kind(), "scim");
        assert_eq!(s.to_string(), "scim:https://idp.example.test/scim/v2/");

        let env = env_of(&[
            (ENV_LDAP_BIND_DN, "cn=reader,dc=example,dc=test"),
            (ENV_LDAP_PASSWORD, "pw-secret"),
        ]);
        let s = Source::parse(
            "ldap://127.0.0.1:3890/ou=People,%20dc=example,dc=test",
            &env,
        )
        .unwrap();
        let Source::Ldap(l) = &s else { panic!() };
        assert_eq!(l.url(), "ldap://127.0.0.1:3890");
        assert_eq!(l.base_dn(), "ou=People, dc=example,dc=test");
        assert!(!format!("{s:?}").contains("pw-secret"));
        let s = Source::parse("ldaps://dc1.corp.test/DC=corp,DC=test", &none).unwrap();
        assert_eq!(s.to_string(), "ldaps://dc1.corp.test:636/DC=corp,DC=test");
    }

    #[test]
    fn bad_specs_say_why() {
        let none = env_of(&[]);
        for (spec, needle) in [
            ("people.csv", "expected file:PATH"),
            ("file:", "needs a path"),
            ("ldap://127.0.0.1:389", "needs a base DN"),
            ("ldap://u:p@127.0.0.1:389/dc=x", "no credentials"),
            ("scim:ftp://x", "http"),
        ] {
            let e = Source::parse(spec, &none).unwrap_err().to_string();
            assert!(e.contains(needle), "{spec}: {e}");
        }
        let dn_only = env_of(&[(ENV_LDAP_BIND_DN, "cn=x")]);
        let e = Source::parse("ldap://h/dc=x", &dn_only).unwrap_err();
        assert!(
            matches!(
                e,
                Error::MissingEnv {
                    name: ENV_LDAP_PASSWORD,
                    ..
                }
            ),
            "{e}"
        );
    }
}
