use serde::{Deserialize, Serialize};

use super::AccountKey;

/// An API token: owned by one account, with an expiry date (Atlassian's are at most a year).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: String,
    #[serde(skip)]
    pub account: AccountKey,
    pub secret: String,
    pub label: String,
    pub created: i64,
    pub expires_at: i64,
    #[serde(default)]
    pub revoked: bool,
    /// A scoped token (the new token UI): works only through the gateway `/ex/jira/{cloudId}`, and only for
    /// operations its `scopes` allow.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scoped: bool,
    /// The classic scopes of a scoped token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// Why Basic credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Unknown,
    Expired,
    Revoked,
    Inactive,
}

impl super::Site {
    /// The API token with this secret, if any (live or not).
    pub fn token_by_secret(&self, secret: &str) -> Option<&ApiToken> {
        self.token_by_secret
            .get(secret)
            .and_then(|idx| self.tokens.get(*idx))
    }
}
