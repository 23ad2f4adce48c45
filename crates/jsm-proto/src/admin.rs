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

/// A directory of the organization (`GET /admin/v2/orgs/{orgId}/directories`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminDirectory {
    pub directory_id: String,
    #[serde(default)]
    pub name: String,
}

/// A user's roles on one resource (v2 `role-assignments`): which roles, and how each was assigned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRoleAssignment {
    /// The resource's ARI, e.g. `ari:cloud:jira-servicedesk::site/{cloudId}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_owner: Option<String>,
    /// Deprecated by Atlassian in favour of `roleAssignments`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default)]
    pub role_assignments: Vec<RoleAssignment>,
    /// Null for platform roles (site admin, org admin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_id: Option<String>,
    /// `active`, `suspended` or `no_membership`; null for platform roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_directory_status: Option<String>,
}

/// One role and the methods that assigned it: `group_direct`, `direct`, `inferred`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default)]
    pub role_assignment_methods: Vec<String>,
}

/// `GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LastActivePage {
    #[serde(default)]
    pub data: LastActiveDates,
    #[serde(default)]
    pub links: AdminLinks,
}

/// Products used, with the date of last use; `added_to_org` only on centralized user management.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LastActiveDates {
    #[serde(default)]
    pub product_access: Vec<ProductLastActive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_to_org: Option<String>,
}

/// One product's last-active date (`yyyy-MM-dd`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductLastActive {
    #[serde(default)]
    pub id: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<String>,
}

/// A user API token as the admin API-access API lists it (`GET /admin/api-access/v1/orgs/{orgId}/api-tokens`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgApiToken {
    pub id: String,
    #[serde(default)]
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_at: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<TokenOwner>,
}

/// The account that owns an API token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenOwner {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A live API token of one account, as the user management API lists it (`ApiTokenModel`: no expiry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserApiToken {
    pub id: String,
    #[serde(default)]
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_access: Option<String>,
}
