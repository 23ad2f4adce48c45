//! The `[credentials]` section of the policy: how early `check` warns, and the lifetimes Atlassian documents
//! (or the organization configured) where no API says when a credential expires.

use serde::Deserialize;

/// `[credentials]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CredentialsPolicy {
    /// Days before expiry that `check` warns (`--warn-days` overrides it).
    pub warn_days: u32,
    /// API tokens last at most this long from creation (Atlassian: one year).
    pub api_token_days: u32,
    /// An OAuth refresh token dies after this many days unused (Atlassian: 90; each rotation resets it).
    pub refresh_idle_days: u32,
    /// An OAuth grant dies this many days after consent, used or not (Atlassian: 365).
    pub refresh_absolute_days: u32,
    /// Lifetime of SCIM directory keys, when the organization sets one (none by default).
    pub scim_key_days: Option<u32>,
    /// Lifetime of organization admin API keys, when the organization sets one.
    pub admin_key_days: Option<u32>,
}

impl Default for CredentialsPolicy {
    fn default() -> Self {
        Self {
            warn_days: 30,
            api_token_days: 365,
            refresh_idle_days: 90,
            refresh_absolute_days: 365,
            scim_key_days: None,
            admin_key_days: None,
        }
    }
}

impl CredentialsPolicy {
    /// What is wrong with the values, naming the key.
    pub fn problem(&self) -> Option<String> {
        if self.api_token_days == 0
            || self.refresh_idle_days == 0
            || self.refresh_absolute_days == 0
        {
            return Some(
                "credentials.api_token_days, refresh_idle_days and refresh_absolute_days must be at least 1"
                    .into(),
            );
        }
        None
    }
}
