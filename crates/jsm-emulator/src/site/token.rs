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
}

/// Why Basic credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Unknown,
    Expired,
    Revoked,
    Inactive,
}
