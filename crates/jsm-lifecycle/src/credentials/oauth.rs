//! OAuth 2.0 grants: the token file (0600 JSON: client id and secret, access and refresh tokens, consent date)
//! and the client's [`TokenStore`] on it. A rotated refresh token is written to the file (a temp file, synced,
//! renamed over the old one, directory synced) and its metadata to the store (rotation time and count, last
//! use, the grant's expiry) before `save` returns, so the client uses a new access token only once the refresh
//! token that came with it is durable. The store never holds a token.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use jsm_client::{Clock, StoreError, TokenSet, TokenStore};
use jsm_store::Store;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::facts::CredentialFacts;
use super::policy::CredentialsPolicy;
use super::secret::check_file;
use crate::error::{Error, Result};

/// The token file of an OAuth grant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthFile {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: SecretString,
    /// The current access token.
    #[serde(default)]
    pub access_token: Option<SecretString>,
    /// The current (rotating) refresh token.
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    /// When the access token expires.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Granted scopes.
    #[serde(default)]
    pub scope: Option<String>,
    /// When the user consented.
    #[serde(default)]
    pub consented_at: Option<DateTime<Utc>>,
}

fn bad_file(path: &Path, detail: impl std::fmt::Display) -> Error {
    Error::InvalidInput {
        field: "--secret-file".into(),
        detail: format!("{}: {detail}", path.display()),
    }
}

impl OAuthFile {
    /// Reads and checks the file (0600 or narrower; every field named on error).
    pub fn read(path: &Path) -> Result<Self> {
        check_file(path)?;
        let text = std::fs::read_to_string(path).map_err(|e| bad_file(path, e))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            bad_file(
                path,
                format!("not an OAuth token file at {}: {}", e.path(), e.inner()),
            )
        })
    }

    /// The tokens the client works with, when the file has an access token.
    pub fn tokens(&self) -> Option<TokenSet> {
        Some(TokenSet {
            access_token: self.access_token.clone()?,
            refresh_token: self.refresh_token.clone(),
            expires_at: self.expires_at.unwrap_or_default(),
            scope: self.scope.clone(),
        })
    }

    /// Writes the file atomically with mode 0600: temp file, sync, rename, sync the directory.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let expose = |s: &Option<SecretString>| s.as_ref().map(|s| s.expose_secret().to_string());
        let body = json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose_secret(),
            "access_token": expose(&self.access_token),
            "refresh_token": expose(&self.refresh_token),
            "expires_at": self.expires_at,
            "scope": self.scope,
            "consented_at": self.consented_at,
        });
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = dir.join(format!(
            ".{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("oauth")
        ));
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            f.write_all(body.to_string().as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The client's token store for one registered OAuth credential: tokens in its 0600 file, rotation metadata in
/// the store.
#[derive(Debug, Clone)]
pub struct StoreTokenStore {
    store: Store,
    name: String,
    path: PathBuf,
    clock: Arc<dyn Clock>,
    policy: CredentialsPolicy,
}

impl StoreTokenStore {
    /// The token store of the registered OAuth credential `name` (its `secret_ref` must be a file).
    pub async fn open(
        store: Store,
        name: &str,
        clock: Arc<dyn Clock>,
        policy: CredentialsPolicy,
    ) -> Result<Self> {
        let meta = store
            .credential(name)
            .await?
            .ok_or_else(|| Error::not_found(format!("credential {name}")))?;
        let path = match meta.secret_ref.as_deref().and_then(super::SecretRef::parse) {
            Some(super::SecretRef::File(p))
                if super::Kind::parse(&meta.kind) == Some(super::Kind::OAuth) =>
            {
                p
            }
            _ => {
                return Err(Error::InvalidInput {
                    field: "NAME".into(),
                    detail: format!("{name} is not an OAuth credential with a token file"),
                });
            }
        };
        Ok(Self {
            store,
            name: name.to_string(),
            path,
            clock,
            policy,
        })
    }

    /// The client id and secret of the grant (to configure the client).
    pub fn client(&self) -> Result<(String, SecretString)> {
        let f = OAuthFile::read(&self.path)?;
        Ok((f.client_id, f.client_secret))
    }

    async fn persist(&self, tokens: &TokenSet) -> Result<()> {
        let path = self.path.clone();
        let mut file = OAuthFile::read(&path)?;
        let rotated = match (&file.refresh_token, &tokens.refresh_token) {
            (Some(old), Some(new)) => old.expose_secret() != new.expose_secret(),
            (None, Some(_)) => true,
            _ => false,
        };
        file.access_token = Some(tokens.access_token.clone());
        file.refresh_token = tokens.refresh_token.clone().or(file.refresh_token);
        file.expires_at = Some(tokens.expires_at);
        file.scope = tokens.scope.clone().or(file.scope);
        let now = self.clock.now();
        if file.consented_at.is_none() {
            file.consented_at = Some(now);
        }
        let to_write = file.clone();
        tokio::task::spawn_blocking(move || to_write.write(&path))
            .await
            .map_err(|e| Error::Encode(format!("token file writer stopped: {e}")))?
            .map_err(|e| bad_file(&self.path, format!("cannot write: {e}")))?;
        let mut facts = CredentialFacts::load(&self.store, &self.name).await?;
        facts.client_id = Some(file.client_id.clone());
        facts.consented_at = facts.consented_at.or(file.consented_at);
        if rotated {
            facts.rotated_at = Some(now);
            facts.rotations += 1;
        }
        if let Some(mut meta) = self.store.credential(&self.name).await? {
            meta.last_used_at = Some(now);
            meta.expires_at = grant_expiry(&facts, &self.policy);
            self.store.credential_put(&meta).await?;
        }
        self.store
            .credential_facts_put(&self.name, &facts.to_json(), now)
            .await?;
        Ok(())
    }
}

/// When an OAuth grant dies: 90 idle days after its last rotation, or a year after consent, whichever first.
pub fn grant_expiry(facts: &CredentialFacts, policy: &CredentialsPolicy) -> Option<DateTime<Utc>> {
    let idle = facts
        .rotated_at
        .map(|r| r + Duration::days(i64::from(policy.refresh_idle_days)));
    let absolute = facts
        .consented_at
        .map(|c| c + Duration::days(i64::from(policy.refresh_absolute_days)));
    match (idle, absolute) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl TokenStore for StoreTokenStore {
    fn load(&self) -> BoxFuture<'_, std::result::Result<Option<TokenSet>, StoreError>> {
        Box::pin(async move {
            let file = OAuthFile::read(&self.path).map_err(|e| Box::new(e) as StoreError)?;
            Ok(file.tokens())
        })
    }

    fn save<'a>(
        &'a self,
        tokens: &'a TokenSet,
    ) -> BoxFuture<'a, std::result::Result<(), StoreError>> {
        Box::pin(async move {
            self.persist(tokens)
                .await
                .map_err(|e| Box::new(e) as StoreError)
        })
    }
}
