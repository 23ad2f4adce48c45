//! Credentials and OAuth 2.0 token handling. Every secret is a `SecretString`; the only place a secret is
//! exposed is where a header or the token request body is built.
//!
//! OAuth refresh tokens rotate: each refresh returns a new one and disables the old one (reusing an old one is
//! tolerated for a short leeway, then kills every token). So a refresh is single-flight, and the rotated tokens are
//! saved to the [`TokenStore`] *before* the new access token is used: after a crash the store holds either the
//! new refresh token, or the old one still inside the leeway.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Credential, Error, Result};

/// A boxed error from a token store.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// Basic auth: Atlassian account email + API token (classic, or scoped through the gateway).
#[derive(Clone)]
pub(crate) struct BasicAuth {
    pub email: String,
    pub token: SecretString,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("email", &self.email)
            .field("token", &"[REDACTED]")
            .finish()
    }
}

impl BasicAuth {
    pub(crate) fn header(&self) -> Result<HeaderValue> {
        let raw = format!("{}:{}", self.email, self.token.expose_secret());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
        sensitive(&format!("Basic {encoded}"), Credential::ApiToken)
    }
}

/// A bearer header marked sensitive (so hyper and reqwest never print it).
pub(crate) fn bearer(secret: &SecretString, credential: Credential) -> Result<HeaderValue> {
    sensitive(&format!("Bearer {}", secret.expose_secret()), credential)
}

fn sensitive(value: &str, credential: Credential) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        Error::config(format!(
            "the {credential} contains characters not allowed in a header"
        ))
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// OAuth tokens as persisted: the access token, the (rotating) refresh token and when the access token expires.
#[derive(Clone, Debug)]
pub struct TokenSet {
    /// Access token (1 hour on Atlassian).
    pub access_token: SecretString,
    /// Refresh token; `None` without `offline_access`.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// Granted scopes, space-separated.
    pub scope: Option<String>,
}

/// Where OAuth tokens live between runs. `save` must be durable when it returns: the client saves a rotated
/// refresh token before it uses the access token that came with it.
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// The last saved tokens, if any.
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>, StoreError>>;
    /// Persists `tokens`, replacing what was there.
    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// An in-memory [`TokenStore`] (tests, short-lived tools).
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Option<TokenSet>>,
    saves: std::sync::atomic::AtomicU64,
}

impl MemoryTokenStore {
    /// A store holding `initial`.
    pub fn new(initial: Option<TokenSet>) -> Self {
        Self {
            tokens: Mutex::new(initial),
            saves: Default::default(),
        }
    }

    /// What the store holds now.
    pub fn current(&self) -> Option<TokenSet> {
        match self.tokens.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// How many times `save` was called.
    pub fn saves(&self) -> u64 {
        self.saves.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>, StoreError>> {
        let current = self.current();
        Box::pin(async move { Ok(current) })
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            match self.tokens.lock() {
                Ok(mut g) => *g = Some(tokens.clone()),
                Err(p) => *p.into_inner() = Some(tokens.clone()),
            }
            self.saves
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
    }
}

/// OAuth 2.0 (3LO) client settings.
#[derive(Clone)]
pub struct OAuthConfig {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: SecretString,
    /// Where tokens are persisted.
    pub store: Arc<dyn TokenStore>,
    /// Refresh this long before the access token expires.
    pub refresh_leeway: Duration,
}

impl OAuthConfig {
    /// Settings with a 60-second refresh leeway.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            store,
            refresh_leeway: Duration::from_secs(60),
        }
    }
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("store", &self.store)
            .field("refresh_leeway", &self.refresh_leeway)
            .finish()
    }
}

/// The client's OAuth state: the current tokens behind an async mutex, so refreshes are single-flight.
#[derive(Debug)]
pub(crate) struct OAuthState {
    pub config: OAuthConfig,
    pub current: tokio::sync::Mutex<Option<TokenSet>>,
}

impl OAuthState {
    pub(crate) fn new(config: OAuthConfig) -> Self {
        Self {
            config,
            current: tokio::sync::Mutex::new(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_sensitive_and_debug_redacts() {
        let b = BasicAuth {
            email: "a@example.com".into(),
            token: SecretString::from("tok-123".to_string()),
        };
        let h = b.header().unwrap_or_else(|_| HeaderValue::from_static("x"));
        assert!(h.is_sensitive());
        assert!(!format!("{b:?}").contains("tok-123"));
        assert!(!format!("{h:?}").contains("tok-123"));
    }
}
