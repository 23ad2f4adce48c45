//! Who is asking: an operator's bearer token (the API), or a page session cookie. Tokens and cookies are random,
//! shown once, and stored only as SHA-256 hashes. Every form post carries a CSRF token derived from the session
//! cookie (so no server key is needed and any worker can check it); the login form uses a double-submit cookie.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::Duration;
use jsm_store::{Operator, Session, sha256_hex};

use crate::error::{Error, Result};
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "jsmctl_session";
/// Name of the login form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "jsmctl_login";
/// Header that carries the CSRF token on API writes made with a session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Prefix of operator tokens.
pub const TOKEN_PREFIX: &str = "jsmo_";

/// A fresh random value: 244 bits from two v4 UUIDs (the OS's random source), hex.
pub fn random_hex() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A new operator token (shown once) and the hash the store keeps.
pub fn new_token() -> (String, String) {
    let token = format!("{TOKEN_PREFIX}{}", random_hex());
    let hash = sha256_hex(token.as_bytes());
    (token, hash)
}

/// Adds an operator and returns their token; the only time it is ever shown.
pub async fn add_operator(
    store: &jsm_store::Store,
    name: &str,
    by: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(Error::BadRequest(format!(
            "operator name {name:?}: use 1 to 64 letters, digits, '.', '_', '-' or '@'"
        )));
    }
    let (token, hash) = new_token();
    store
        .operator_add(&Operator {
            name: name.to_string(),
            token_sha256: hash,
            created_at: now,
            created_by: by.to_string(),
            disabled_at: None,
        })
        .await?;
    Ok(token)
}

/// The CSRF token of a session: derived from the cookie, never stored.
pub fn csrf_for(session_cookie: &str) -> String {
    sha256_hex(format!("jsmctl-csrf\n{session_cookie}").as_bytes())
}

/// Compares two strings in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name`.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Path=/`, and `Secure` unless turned off.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<i64>,
    secure: bool,
) -> Option<HeaderValue> {
    let mut v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        v.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        v.push_str("; Secure");
    }
    HeaderValue::from_str(&v).ok()
}

/// Starts a session for `operator`; returns the cookie value.
pub async fn login(state: &AppState, operator: &str) -> Result<String> {
    let value = random_hex();
    let now = state.now();
    let ttl = Duration::from_std(state.config().session_ttl).unwrap_or(Duration::hours(8));
    state
        .store()
        .session_put(&Session {
            id_sha256: sha256_hex(value.as_bytes()),
            operator: operator.to_string(),
            created_at: now,
            expires_at: now + ttl,
        })
        .await?;
    Ok(value)
}

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer` with an operator token.
    Bearer,
    /// The page's session cookie; `csrf` is the token its forms must carry.
    Session {
        /// The session's CSRF token.
        csrf: String,
        /// The cookie's value (to log out).
        cookie: String,
    },
}

/// An authenticated operator.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The operator's name: the actor of everything this request does.
    pub name: String,
    /// How they authenticated.
    pub via: Via,
}

impl Caller {
    /// The CSRF token forms must carry (empty for bearer callers, who post no forms).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Bearer => "",
        }
    }

    /// Checks a CSRF token presented with a form or in [`CSRF_HEADER`]; bearer callers need none (their
    /// credential is not sent by browsers on their own).
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<()> {
        match &self.via {
            Via::Bearer => Ok(()),
            Via::Session { csrf, .. } => match presented {
                Some(p) if same(p, csrf) => Ok(()),
                _ => Err(Error::Forbidden(
                    "missing or wrong CSRF token: reload the page and try again".into(),
                )),
            },
        }
    }
}

/// Resolves the caller from the headers; `None` when there is no valid credential.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                Error::Unauthorized("Authorization must be 'Bearer <operator token>'".into())
            })?;
        let op = state
            .store()
            .operator_by_token(&sha256_hex(token.as_bytes()))
            .await?;
        return match op {
            Some(op) => Ok(Some(Caller {
                name: op.name,
                via: Via::Bearer,
            })),
            None => Err(Error::Unauthorized(
                "unknown or disabled operator token".into(),
            )),
        };
    }
    if let Some(value) = cookie(headers, SESSION_COOKIE) {
        let session = state
            .store()
            .session(&sha256_hex(value.as_bytes()), state.now())
            .await?;
        if let Some(s) = session {
            return Ok(Some(Caller {
                name: s.operator,
                via: Via::Session {
                    csrf: csrf_for(value),
                    cookie: value.to_string(),
                },
            }));
        }
    }
    Ok(None)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let caller = caller(state, &parts.headers).await?.ok_or_else(|| {
            Error::Unauthorized(
                "authenticate with 'Authorization: Bearer <operator token>' (jsmctl operators add NAME)".into(),
            )
        })?;
        // An API write through a browser session must prove it came from our page.
        if !parts.method.is_safe() {
            caller.check_csrf(parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()))?;
        }
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cookies_and_csrf() {
        let (token, hash) = new_token();
        assert!(token.starts_with(TOKEN_PREFIX) && token.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(hash, sha256_hex(token.as_bytes()));
        assert_ne!(new_token().0, token);
        assert_ne!(csrf_for("a"), csrf_for("b"));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; jsmctl_session=s3; y=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("s3"));
        assert_eq!(cookie(&h, "z"), None);
        let c = set_cookie(SESSION_COOKIE, "v", Some(60), true).unwrap();
        let c = c.to_str().unwrap();
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"),
            "{c}"
        );
        let caller = Caller {
            name: "a".into(),
            via: Via::Session {
                csrf: "t".into(),
                cookie: "c".into(),
            },
        };
        assert!(caller.check_csrf(Some("t")).is_ok());
        assert!(caller.check_csrf(Some("u")).is_err());
        assert!(caller.check_csrf(None).is_err());
    }
}
