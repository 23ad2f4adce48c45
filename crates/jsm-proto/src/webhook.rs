//! Webhook registration types: admin webhooks (`/rest/webhooks/1.0/webhook`, user events) and app webhooks
//! (`/rest/api/3/webhook`, issue and comment events, 30-day expiry).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A time Atlassian sends either as epoch milliseconds or as a Jira timestamp string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    /// Epoch milliseconds.
    Millis(i64),
    /// `2019-06-01T12:42:30.000+0000`.
    Text(String),
}

/// Body of `POST`/`PUT /rest/webhooks/1.0/webhook`; `Debug` hides the secret.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAdminWebhook {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: BTreeMap<String, String>,
    #[serde(default)]
    pub exclude_body: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// HMAC key for `X-Hub-Signature`; omitted on update keeps the old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl std::fmt::Debug for NewAdminWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAdminWebhook")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("filters", &self.filters)
            .field("exclude_body", &self.exclude_body)
            .field("enabled", &self.enabled)
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// An admin webhook as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminWebhook {
    #[serde(rename = "self")]
    pub self_url: String,
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
    #[serde(default)]
    pub exclude_body: bool,
    #[serde(default = "default_true")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<Timestamp>,
}

fn default_true() -> bool {
    true
}

impl AdminWebhook {
    /// The id, the last segment of `self`.
    pub fn id(&self) -> Option<&str> {
        self.self_url.rsplit('/').next().filter(|s| !s.is_empty())
    }
}

/// One webhook of an app registration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDetails {
    pub events: Vec<String>,
    pub jql_filter: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ids_filter: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_property_keys_filter: Option<Vec<String>>,
}

/// Body of `POST /rest/api/3/webhook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookRegistration {
    pub url: String,
    pub webhooks: Vec<WebhookDetails>,
}

/// Answer of `POST /rest/api/3/webhook`: one result per webhook, each succeeding or failing on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRegistrationResults {
    pub webhook_registration_result: Vec<WebhookRegistrationResult>,
}

/// The id of a created webhook, or why it was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRegistrationResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_webhook_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// An app webhook as `GET /rest/api/3/webhook` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppWebhook {
    pub id: i64,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub jql_filter: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ids_filter: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_property_keys_filter: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<Timestamp>,
}

/// Body of `DELETE /rest/api/3/webhook` and `PUT /rest/api/3/webhook/refresh`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookIds {
    pub webhook_ids: Vec<i64>,
}

/// Answer of `PUT /rest/api/3/webhook/refresh`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRefresh {
    pub expiration_date: Timestamp,
}
