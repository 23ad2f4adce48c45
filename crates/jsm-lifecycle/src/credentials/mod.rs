//! Credentials: every secret an integration uses (API tokens, SCIM directory keys, organization admin API keys,
//! OAuth 2.0 grants, LDAP bind accounts) registered by name, with metadata in the store and the secret left in
//! the environment or in a file only its owner can read; a check that says, before anything fails, which are
//! fine, which expire soon and which are already dead; and the OAuth token store that persists rotated refresh
//! tokens before they are used.

mod check;
mod facts;
mod oauth;
pub mod policy;
pub mod secret;

pub(crate) use check::server_time;
pub use check::{CheckOptions, CheckReport, CredentialCheck, Severity, State, Targets, check};
pub use facts::CredentialFacts;
pub use oauth::{OAuthFile, StoreTokenStore};
pub use policy::CredentialsPolicy;
pub use secret::SecretRef;

use chrono::{DateTime, NaiveDate, Utc};
use jsm_store::{CredentialMeta, Store};

use crate::error::{Error, Result};

/// What kind of credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An Atlassian API token (Basic auth with its owner's email).
    ApiToken,
    /// A SCIM directory API key.
    ScimKey,
    /// An organization admin API key.
    AdminKey,
    /// An OAuth 2.0 (3LO) grant: client credentials and rotating refresh token.
    OAuth,
    /// An LDAP bind account (for an LDAP source).
    Ldap,
}

impl Kind {
    /// Every kind, in the order `--kind` lists them.
    pub const ALL: [Kind; 5] = [
        Kind::ApiToken,
        Kind::ScimKey,
        Kind::AdminKey,
        Kind::OAuth,
        Kind::Ldap,
    ];

    /// The kind as the command line and the store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ApiToken => "api-token",
            Kind::ScimKey => "scim-key",
            Kind::AdminKey => "admin-key",
            Kind::OAuth => "oauth",
            Kind::Ldap => "ldap",
        }
    }

    /// Parses [`Kind::as_str`] (also with underscores, as older records may have it).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.replace('_', "-");
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `jsmctl credentials add`.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// The name jsmctl knows it by.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// The owning account's email (API tokens, OAuth grants) or the team responsible.
    pub owner: Option<String>,
    /// When it expires, when known.
    pub expires: Option<NaiveDate>,
    /// Where the secret is; `None` to track metadata only.
    pub secret: Option<SecretRef>,
}

fn invalid(field: &str, detail: impl Into<String>) -> Error {
    Error::InvalidInput {
        field: field.into(),
        detail: detail.into(),
    }
}

/// Registers a credential: checks the name, the secret's location (a file must be 0600 or narrower; an OAuth
/// grant needs a token file, since its refresh token rotates) and writes the metadata, nothing else.
pub async fn add(store: &Store, reg: &Registration, now: DateTime<Utc>) -> Result<CredentialMeta> {
    let name = reg.name.trim();
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(invalid(
            "--name",
            format!("{:?} is not a name (no spaces)", reg.name),
        ));
    }
    if store.credential(name).await?.is_some() {
        return Err(invalid(
            "--name",
            format!(
                "a credential named {name} is registered already: jsmctl credentials remove {name} first"
            ),
        ));
    }
    if let Some(owner) = &reg.owner
        && reg.kind == Kind::ApiToken
        && !owner.contains('@')
    {
        return Err(invalid(
            "--owner",
            format!("{owner:?}: an API token's owner is the email of the account it belongs to"),
        ));
    }
    if reg.kind == Kind::ApiToken && reg.owner.is_none() {
        return Err(invalid(
            "--owner",
            "an API token needs --owner EMAIL: the account it belongs to (a deactivated owner kills it)",
        ));
    }
    let mut facts = CredentialFacts::default();
    match (&reg.secret, reg.kind) {
        (Some(SecretRef::File(path)), Kind::OAuth) => {
            let file = OAuthFile::read(path)?;
            facts.client_id = Some(file.client_id.clone());
            facts.consented_at = Some(file.consented_at.unwrap_or(now));
            facts.rotated_at = Some(file.consented_at.unwrap_or(now));
        }
        (_, Kind::OAuth) => {
            return Err(invalid(
                "--secret-file",
                "an OAuth grant needs --secret-file PATH (a 0600 JSON file with client_id, client_secret and the \
                 tokens): its refresh token rotates on every use, so it must be written back",
            ));
        }
        (Some(secret), _) => {
            secret.read()?;
        }
        (None, _) => {}
    }
    let expires_at = reg
        .expires
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let meta = CredentialMeta {
        name: name.to_string(),
        kind: reg.kind.as_str().to_string(),
        owner: reg.owner.clone(),
        created_at: now,
        expires_at,
        last_used_at: None,
        last_verified_at: None,
        secret_ref: reg.secret.as_ref().map(SecretRef::to_stored),
    };
    store.credential_put(&meta).await?;
    if facts != CredentialFacts::default() {
        store
            .credential_facts_put(name, &facts.to_json(), now)
            .await?;
    }
    Ok(meta)
}

impl crate::Engine {
    /// Checks every registered credential with this engine's client, store and `[credentials]` policy.
    pub async fn check_credentials(&self, opts: &CheckOptions) -> Result<CheckReport> {
        check(
            &self.store,
            Some(&self.client),
            self.caps,
            &self.policy.credentials,
            self.client.clock().clone(),
            opts,
        )
        .await
    }
}

/// Every registered credential.
pub async fn list(store: &Store) -> Result<Vec<CredentialMeta>> {
    Ok(store.credentials().await?)
}

/// Forgets a credential (its secret stays where it is); fails when the name is unknown.
pub async fn remove(store: &Store, name: &str) -> Result<()> {
    if store.credential_remove(name).await? {
        Ok(())
    } else {
        Err(Error::not_found(format!("credential {name}")))
    }
}
