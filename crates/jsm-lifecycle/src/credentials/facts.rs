//! The kind-specific facts kept beside a credential's metadata: never a secret (the type has no field for one).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What jsmctl knows about a credential beyond the common metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialFacts {
    /// OAuth: the app's client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// OAuth: when the user consented (the grant dies a year later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consented_at: Option<DateTime<Utc>>,
    /// OAuth: when the refresh token last rotated (it dies after 90 idle days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// OAuth: rotations saved by jsmctl.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rotations: u64,
    /// API token: Atlassian's id of the token this credential was matched to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atlassian_token_id: Option<String>,
    /// The owner's account id, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_account_id: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl CredentialFacts {
    /// As stored.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Reads stored facts (unknown fields from a newer jsmctl are an error rather than lost).
    pub fn from_json(v: serde_json::Value) -> Result<Self> {
        serde_json::from_value(v).map_err(crate::error::Error::encode)
    }

    /// Loads the facts of `name`, or empty ones.
    pub async fn load(store: &jsm_store::Store, name: &str) -> Result<Self> {
        match store.credential_facts(name).await? {
            Some(v) => Self::from_json(v),
            None => Ok(Self::default()),
        }
    }
}
