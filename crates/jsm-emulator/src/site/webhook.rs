//! Webhook registrations (admin webhooks and app webhooks) and the outbox of user events waiting to be
//! delivered. Every change to an account, through any surface, calls [`Site::record_user_event`]; the
//! emulator drains the outbox after each request (see `crate::webhooks`).

use std::collections::BTreeMap;

use jsm_proto::jira::{AccountType, AvatarUrls};
use serde::{Deserialize, Serialize};

use super::{AccountKey, Redacted, Site};

/// Lifetime of an app (dynamic) webhook; `PUT /rest/api/3/webhook/refresh` extends it.
pub const APP_WEBHOOK_LIFETIME_MS: i64 = 30 * 24 * 3600 * 1000;
/// Most events the outbox holds between two drains; older ones are dropped first.
pub const OUTBOX_CAPACITY: usize = 10_000;

/// A user event Jira sends to admin webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserEventKind {
    /// `user_created`: a new account got access to the site (REST `POST /user`, JSM `POST /customer`, SCIM).
    #[serde(rename = "user_created")]
    Created,
    /// `user_updated`: profile or active state changed (privacy, SCIM `PUT`/`PATCH`, activation).
    #[serde(rename = "user_updated")]
    Updated,
    /// `user_deleted`: the account lost the site (REST `DELETE /user`, admin API directory removal).
    #[serde(rename = "user_deleted")]
    Deleted,
}

impl UserEventKind {
    /// The `webhookEvent` name.
    pub fn name(self) -> &'static str {
        match self {
            UserEventKind::Created => "user_created",
            UserEventKind::Updated => "user_updated",
            UserEventKind::Deleted => "user_deleted",
        }
    }
}

/// The account as it was when the event happened; the payload's `self` link is added on delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSnapshot {
    pub account_id: String,
    pub account_type: AccountType,
    pub email_address: Option<String>,
    pub avatar_urls: AvatarUrls,
    pub display_name: String,
    pub active: bool,
    pub time_zone: String,
}

/// An event waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    pub kind: UserEventKind,
    pub user: UserSnapshot,
}

/// A webhook registered by an administrator (`/rest/webhooks/1.0/webhook`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdminWebhook {
    pub id: u64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
    #[serde(default)]
    pub exclude_body: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Signs deliveries (`X-Hub-Signature`); never shown by the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Redacted>,
    pub last_updated: i64,
    #[serde(default)]
    pub last_updated_by: String,
}

fn yes() -> bool {
    true
}

/// A webhook an OAuth app registered through `/rest/api/3/webhook`; it expires after 30 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppWebhook {
    pub id: u64,
    /// The OAuth client id of the app that owns it.
    pub client_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub jql_filter: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ids_filter: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_property_keys_filter: Option<Vec<String>>,
    pub expires_at: i64,
}

/// Every webhook of the site, and the outbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Webhooks {
    #[serde(default)]
    pub admin: Vec<AdminWebhook>,
    #[serde(default)]
    pub app: Vec<AppWebhook>,
    #[serde(default = "first_id")]
    pub next_id: u64,
    #[serde(skip)]
    pub outbox: Vec<PendingEvent>,
}

fn first_id() -> u64 {
    1
}

impl Webhooks {
    /// An id for a new webhook.
    pub fn allocate_id(&mut self) -> u64 {
        if self.next_id == 0 {
            self.next_id = 1;
        }
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Whether any enabled admin webhook listens for `event`.
    pub fn listens(&self, event: &str) -> bool {
        self.admin
            .iter()
            .any(|h| h.enabled && h.events.iter().any(|e| e == event))
    }
}

impl Site {
    /// Records a user event for delivery to the webhooks that listen for it. Call it after the change, with
    /// the account in its new state (for `Deleted`, the state after removal). Nothing is kept when no webhook
    /// listens, so call sites need no checks of their own.
    pub fn record_user_event(&mut self, kind: UserEventKind, key: AccountKey) {
        if !self.webhooks.listens(kind.name()) {
            return;
        }
        let Some(account) = self.accounts.get(key as usize) else {
            return;
        };
        let user = UserSnapshot {
            account_id: account.account_id.clone(),
            account_type: account.account_type,
            email_address: account.visible_email().map(str::to_string),
            avatar_urls: crate::routes::views::avatar_urls(self, key),
            display_name: account.display_name.clone(),
            active: account.active && account.site_access,
            time_zone: account.time_zone().to_string(),
        };
        if self.webhooks.outbox.len() >= OUTBOX_CAPACITY {
            self.webhooks.outbox.remove(0);
        }
        self.webhooks.outbox.push(PendingEvent { kind, user });
    }

    /// Takes every pending event out of the outbox.
    pub fn take_user_events(&mut self) -> Vec<PendingEvent> {
        std::mem::take(&mut self.webhooks.outbox)
    }
}
