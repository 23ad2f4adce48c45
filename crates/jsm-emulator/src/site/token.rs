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
    /// When the token last authenticated a request (the admin API's `lastActiveAt`); absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<i64>,
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

/// Minimum time between two `last_used` writes of one token, so requests rarely take the write lock.
const TOKEN_TOUCH_EVERY_MS: i64 = 60_000;

impl super::Site {
    /// Whether the token with this secret needs its `last_used` moved to `now`.
    pub fn token_use_is_stale(&self, secret: &str, now: i64) -> bool {
        self.token_by_secret(secret).is_some_and(|t| {
            t.last_used
                .is_none_or(|at| now - at >= TOKEN_TOUCH_EVERY_MS)
        })
    }

    /// Records that the token with this secret authenticated a request at `now`.
    pub fn mark_token_used(&mut self, secret: &str, now: i64) {
        if let Some(idx) = self.token_by_secret.get(secret).copied()
            && let Some(t) = self.tokens.get_mut(idx)
        {
            t.last_used = Some(t.last_used.map_or(now, |at| at.max(now)));
        }
    }

    /// The API token with this secret, if any (live or not).
    pub fn token_by_secret(&self, secret: &str) -> Option<&ApiToken> {
        self.token_by_secret
            .get(secret)
            .and_then(|idx| self.tokens.get(*idx))
    }
}
