//! Organizations admin API types (`/admin/v1/orgs/{orgId}`): managed users, cursor pages, messages and errors.

use serde::{Deserialize, Serialize};

/// A cursor page: `data`, optional `meta.total`, and `links.next` only when another page exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminPage<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<AdminPageMeta>,
    #[serde(default)]
    pub links: AdminLinks,
}

/// Metadata of a cursor page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdminPageMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// Links of a cursor page; `next` is a cursor or a URL carrying `cursor=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdminLinks {
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A managed account of an organization; `email` is absent when restricted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminUser {
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_status: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_billable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<String>,
    #[serde(default)]
    pub product_access: Vec<ProductAccess>,
}

/// A product an account can use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductAccess {
    pub key: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<String>,
}

/// `{"message": "..."}`, the answer of most directory operations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdminMessage {
    #[serde(default)]
    pub message: String,
}

/// Body of `POST /directory/groups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAdminGroup {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Body of `POST /directory/groups/{groupId}/memberships`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminMembership {
    pub account_id: String,
}

/// Body of the lifecycle `disable` call; the message is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LifecycleMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Admin API error body: a list of coded errors such as `ADMIN-404-8`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdminErrors {
    #[serde(default)]
    pub errors: Vec<AdminError>,
}

/// One coded admin API error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdminError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
